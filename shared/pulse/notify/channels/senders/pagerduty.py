"""PagerDuty Events API v2 through the egress guard; events PagerDuty does not track are not sent."""

from __future__ import annotations

import orjson

from pulse.notify.channels.egress import post_json
from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import PagerDutyConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.render.pagerduty import pagerduty_action, pagerduty_event
from pulse.notify.channels.result import SendResult
from pulse.notify.channels.secrets import PagerDutySecrets

PAGERDUTY_TIMEOUT_S = 10.0


def send_pagerduty(
    config: PagerDutyConfig, secrets: PagerDutySecrets, notification: Notification, ports: SenderPorts
) -> SendResult:
    action = pagerduty_action(notification)
    if action is None:
        return SendResult("delivered", None, 0.0, f"{notification.event_name} has no PagerDuty action; nothing sent")
    event = pagerduty_event(
        notification, action, routing_key=secrets.routing_key.get_secret_value(), portal_url=ports.portal_url
    )
    return post_json(config.events_url, orjson.dumps(event), headers={}, timeout_s=PAGERDUTY_TIMEOUT_S, ports=ports)
