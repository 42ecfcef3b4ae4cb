"""What a channel is asked to say: one alert event for one channel, and its plain-language summary.

A ``Notification`` is built from the ``detail`` of an event on the bus (``{"metadata": ..., "data":
...}``, written by the outbox publisher). ``idempotency_key`` is ``{event_id}:{channel_id}``: every
retry of the same event to the same channel carries it, so receivers can drop duplicates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field

TEST_EVENT = "ChannelTest"

# What the event means for the alert, in words a person reads in a subject line.
EVENT_VERBS: dict[str, str] = {
    "AlertOpened": "opened",
    "AlertReopened": "reopened",
    "AlertAcknowledged": "acknowledged",
    "AlertUnacknowledged": "unacknowledged",
    "AlertSnoozed": "snoozed",
    "AlertUnsnoozed": "woke from snooze",
    "AlertAssigned": "assigned",
    "AlertCommented": "commented",
    "AlertEscalated": "escalated",
    "AlertReminder": "acknowledged, still open",
    "AlertResolved": "resolved",
    "AlertClosed": "closed",
    "SilenceExpired": "silence expired",
    TEST_EVENT: "test",
}


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel_id: str
    event_name: str
    event_id: str
    occurred_at: AwareDatetime
    correlation_id: str | None = None
    alert: dict[str, Any] = Field(default_factory=dict, description="the event's data (alert fields)")
    test: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idempotency_key(self) -> str:
        return f"{self.event_id}:{self.channel_id}"

    @classmethod
    def from_event(cls, detail: dict[str, Any], channel_id: str, *, test: bool = False) -> Notification:
        """From an EventBridge event's ``detail`` (or the whole event, which carries it under ``detail``)."""
        if "detail" in detail and "metadata" not in detail:
            detail = detail["detail"]
        metadata = detail["metadata"]
        return cls(
            tenant_id=metadata["tenant_id"],
            channel_id=channel_id,
            event_name=metadata["event_name"],
            event_id=str(metadata["event_id"]),
            occurred_at=metadata["occurred_at"],
            correlation_id=metadata.get("correlation_id"),
            alert=dict(detail.get("data") or {}),
            test=test,
        )

    @classmethod
    def channel_test(cls, tenant_id: str, channel_id: str, at: datetime, test_id: str) -> Notification:
        """The "send test" message: a made-up info alert, marked as a test everywhere it is shown."""
        return cls(
            tenant_id=tenant_id,
            channel_id=channel_id,
            event_name=TEST_EVENT,
            event_id=f"test-{test_id}",
            occurred_at=at,
            alert={
                "alert_id": f"test-{test_id}",
                "fingerprint": f"pulse-test/{channel_id}",
                "rule_id": "pulse-test",
                "rule_name": "Pulse channel test",
                "device_id": "test-device",
                "site_id": None,
                "severity": "info",
                "state": "open",
                "value": None,
                "at": at.isoformat(),
                "note": "This is a test notification sent from Pulse. No action is needed.",
            },
            test=True,
        )

    # --- what renderers need, in one place

    @property
    def severity(self) -> str:
        return str(self.alert.get("severity") or "info")

    @property
    def verb(self) -> str:
        return EVENT_VERBS.get(self.event_name, self.event_name)

    @property
    def rule_name(self) -> str:
        return str(self.alert.get("rule_name") or self.alert.get("rule_id") or "alert")

    @property
    def device_id(self) -> str:
        return str(self.alert.get("device_id") or "")

    @property
    def summary(self) -> str:
        """One line: ``[TEST] CRITICAL: Supply temperature high on dev-1 (opened)``."""
        where = f" on {self.device_id}" if self.device_id else ""
        prefix = "[TEST] " if self.test else ""
        return f"{prefix}{self.severity.upper()}: {self.rule_name}{where} ({self.verb})"

    def facts(self) -> list[tuple[str, str]]:
        """Label and value pairs every rich format shows, in the same order."""
        alert = self.alert
        rows = [
            ("Event", self.verb),
            ("Severity", self.severity),
            ("State", str(alert.get("state") or "")),
            ("Rule", self.rule_name),
            ("Device", self.device_id),
            ("Site", str(alert.get("site_id") or "")),
            ("Value", "" if alert.get("value") is None else str(alert["value"])),
            ("Opened", str(alert.get("opened_at") or "")),
            ("Assignee", str(alert.get("assignee") or "")),
            ("By", str(alert.get("actor") or "")),
            ("Note", str(alert.get("note") or "")),
            ("When", self.occurred_at.isoformat()),
        ]
        return [(label, value) for label, value in rows if value]

    def portal_link(self, portal_url: str) -> str | None:
        alert_id = self.alert.get("alert_id")
        if not portal_url or not alert_id or self.test:
            return None
        return f"{portal_url.rstrip('/')}/alerts/{alert_id}"

    def body(self, portal_url: str = "") -> dict[str, Any]:
        """The JSON document webhook and MQTT receivers get."""
        return {
            "id": self.event_id,
            "type": self.event_name,
            "tenant_id": self.tenant_id,
            "channel_id": self.channel_id,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id,
            "idempotency_key": self.idempotency_key,
            "test": self.test,
            "summary": self.summary,
            "url": self.portal_link(portal_url),
            "alert": self.alert,
        }
