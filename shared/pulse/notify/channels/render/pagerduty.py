"""PagerDuty Events API v2: trigger, acknowledge and resolve one incident per alert fingerprint."""

from __future__ import annotations

from typing import Any, Literal

from pulse.notify.channels.message import TEST_EVENT, Notification

PdAction = Literal["trigger", "acknowledge", "resolve"]
PD_SEVERITY = {"critical": "critical", "major": "error", "minor": "warning", "warning": "warning", "info": "info"}
PD_ACTIONS: dict[str, PdAction] = {
    "AlertOpened": "trigger",
    "AlertReopened": "trigger",
    "AlertUnacknowledged": "trigger",
    "AlertUnsnoozed": "trigger",
    "AlertEscalated": "trigger",
    TEST_EVENT: "trigger",
    "AlertAcknowledged": "acknowledge",
    "AlertSnoozed": "acknowledge",
    "AlertResolved": "resolve",
    "AlertClosed": "resolve",
}
SUMMARY_LIMIT = 1024


def pagerduty_action(notification: Notification) -> PdAction | None:
    """None: the event changes nothing PagerDuty tracks (assignment, comment, silence expiry)."""
    return PD_ACTIONS.get(notification.event_name)


def dedup_key(notification: Notification) -> str:
    return str(notification.alert.get("fingerprint") or notification.alert.get("alert_id") or notification.event_id)


def pagerduty_event(
    notification: Notification, action: PdAction, *, routing_key: str, portal_url: str = ""
) -> dict[str, Any]:
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key(notification)}
    if action != "trigger":
        return event
    alert = notification.alert
    event["payload"] = {
        "summary": notification.summary[:SUMMARY_LIMIT],
        "source": notification.device_id or "pulse",
        "severity": PD_SEVERITY.get(notification.severity, "info"),
        "timestamp": notification.occurred_at.isoformat(),
        "component": notification.rule_name,
        "group": str(alert.get("site_id") or ""),
        "class": str(alert.get("rule_id") or ""),
        "custom_details": dict(notification.facts()),
    }
    event["client"] = "Pulse"
    link = notification.portal_link(portal_url)
    if link:
        event["client_url"] = link
        event["links"] = [{"href": link, "text": "Open in Pulse"}]
    return event
