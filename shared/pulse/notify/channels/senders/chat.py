"""Slack and Teams: the rendered payload POSTed to the secret webhook URL through the egress guard."""

from __future__ import annotations

import orjson

from pulse.notify.channels.egress import post_json
from pulse.notify.channels.message import Notification
from pulse.notify.channels.models import SlackConfig, TeamsConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.render.chat import mention_member, slack_payload, teams_payload
from pulse.notify.channels.result import SendResult
from pulse.notify.channels.secrets import SlackSecrets, TeamsSecrets

CHAT_TIMEOUT_S = 10.0


def send_slack(
    config: SlackConfig, secrets: SlackSecrets, notification: Notification, ports: SenderPorts
) -> SendResult:
    payload = slack_payload(notification, mention=config.mention, portal_url=ports.portal_url)
    if config.member_id:  # a person's contact method: they are pinged by name on every message
        payload = mention_member(payload, config.member_id)
    body = orjson.dumps(payload)
    return post_json(secrets.webhook_url.get_secret_value(), body, headers={}, timeout_s=CHAT_TIMEOUT_S, ports=ports)


def send_teams(
    config: TeamsConfig, secrets: TeamsSecrets, notification: Notification, ports: SenderPorts
) -> SendResult:
    body = orjson.dumps(teams_payload(notification, portal_url=ports.portal_url))
    return post_json(secrets.webhook_url.get_secret_value(), body, headers={}, timeout_s=CHAT_TIMEOUT_S, ports=ports)
