"""The production adapters of the notification plane, built once per container from the settings.

The API resolves each from ``app.state`` first (``notify_sealer``, ``notify_senders``,
``notify_starter``: tests and other entry points put fakes there), else from here. Each is built on
first use, so an endpoint that needs none (listing channels) never asks for a key or a client.
"""

from __future__ import annotations

from functools import lru_cache

from pulse.errors import ConfigurationError
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.deadletters import DeliveryStarter
from pulse.notify.sealing import SecretSealer, sealer_from_settings
from pulse.settings import Settings


@lru_cache(maxsize=2)
def default_sealer(settings: Settings) -> SecretSealer:
    return sealer_from_settings(settings)


@lru_cache(maxsize=2)
def default_senders(settings: Settings) -> SenderPorts:
    return SenderPorts.from_settings(settings)


def default_starter(settings: Settings) -> DeliveryStarter:
    if not settings.delivery_state_machine_arn:
        raise ConfigurationError("set PULSE_DELIVERY_STATE_MACHINE_ARN to the delivery workflow's state machine")
    return _starter(settings.delivery_state_machine_arn)


@lru_cache(maxsize=2)
def _starter(state_machine_arn: str) -> DeliveryStarter:
    from pulse.platform.aws.stepfunctions import delivery_starter

    return delivery_starter(state_machine_arn)
