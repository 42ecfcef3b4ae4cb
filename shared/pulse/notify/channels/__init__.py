"""Notification channels: config and secret models, message rendering, one sender per type, ``send``.

``send(config, secrets, notification, ports=...)`` makes one delivery attempt and returns a
``SendResult`` whose ``status`` tells the delivery workflow what to do next.
"""

from pulse.notify.channels.dispatch import send
from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import CHANNEL_CONFIG, ChannelConfig, ChannelType
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult, SendStatus
from pulse.notify.channels.secrets import CHANNEL_SECRETS, ChannelSecrets, check_pair, dump_secrets, load_secrets

__all__ = [
    "CHANNEL_CONFIG",
    "CHANNEL_SECRETS",
    "ChannelConfig",
    "ChannelSecrets",
    "ChannelType",
    "Notification",
    "SendResult",
    "SendStatus",
    "SenderPorts",
    "check_pair",
    "dump_secrets",
    "load_secrets",
    "send",
]
