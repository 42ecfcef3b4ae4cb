"""Slack (Block Kit through an incoming webhook) and Microsoft Teams (Adaptive Card through a workflow webhook)."""

from __future__ import annotations

from typing import Any

from pulse.notify.channels.message import Notification

SLACK_TEXT_LIMIT = 3000
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_VERSION = "1.4"
SLACK_EMOJI = {
    "critical": ":red_circle:",
    "major": ":large_orange_circle:",
    "minor": ":large_yellow_circle:",
    "warning": ":warning:",
    "info": ":information_source:",
}
TEAMS_COLOUR = {
    "critical": "attention",
    "major": "attention",
    "minor": "warning",
    "warning": "warning",
    "info": "accent",
}
RAISING_EVENTS = frozenset({"AlertOpened", "AlertReopened", "AlertEscalated"})


def _slack_escape(text: str) -> str:
    """Slack mrkdwn control characters; user text must not become mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification, *, mention: str | None = None, portal_url: str = "") -> dict[str, Any]:
    emoji = SLACK_EMOJI.get(notification.severity, ":bell:")
    headline = _slack_escape(notification.summary)
    ping = ""
    if mention and notification.event_name in RAISING_EVENTS and notification.severity in ("critical", "major"):
        ping = f"<!{mention}> "
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{_slack_escape(value)}"[:2000]}
        for label, value in notification.facts()
        if label not in ("Note", "When")
    ][:10]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notification.summary[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{ping}{emoji} {headline}"[:SLACK_TEXT_LIMIT]}},
        {"type": "section", "fields": fields},
    ]
    note = notification.alert.get("note")
    if note:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f">{_slack_escape(str(note))}"[:SLACK_TEXT_LIMIT]}}
        )
    link = notification.portal_link(portal_url)
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in Pulse"}, "url": link}],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"{notification.occurred_at.isoformat()} · event {notification.event_id}"}
            ],
        }
    )
    return {"text": f"{ping}{headline}", "blocks": blocks}


def mention_member(payload: dict[str, Any], member_id: str) -> dict[str, Any]:
    """The payload with ``<@member>`` in front of its text and its headline section (a page for one person).
    ``member_id`` is validated (``SlackConfig``), so it cannot smuggle other markup."""
    blocks = [dict(b) for b in payload["blocks"]]
    headline = blocks[1]
    headline["text"] = {**headline["text"], "text": f"<@{member_id}> {headline['text']['text']}"[:SLACK_TEXT_LIMIT]}
    return {**payload, "text": f"<@{member_id}> {payload['text']}", "blocks": blocks}


def teams_payload(notification: Notification, *, portal_url: str = "") -> dict[str, Any]:
    """A workflow-webhook message wrapping an Adaptive Card (1.4: what Teams renders everywhere)."""
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": [
            {
                "type": "TextBlock",
                "text": notification.summary,
                "weight": "Bolder",
                "size": "Medium",
                "color": TEAMS_COLOUR.get(notification.severity, "default"),
                "wrap": True,
            },
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in notification.facts()],
            },
        ],
    }
    link = notification.portal_link(portal_url)
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Pulse", "url": link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }
