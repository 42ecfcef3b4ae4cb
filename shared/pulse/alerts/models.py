"""Alerts: the stored alert and its timeline, the changes the evaluator causes, action inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from pulse.rules.model import Severity

Source = Literal["stream", "schedule", "backtest"]
AlertValue = float | bool | None
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

SEVERITY_RANK: dict[Severity, int] = {
    Severity.INFO: 1,
    Severity.WARNING: 2,
    Severity.MINOR: 3,
    Severity.MAJOR: 4,
    Severity.CRITICAL: 5,
}


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.SNOOZED)


class EventType(StrEnum):
    """Names of the events written to the outbox (``detail-type`` on the bus)."""

    OPENED = "AlertOpened"
    REOPENED = "AlertReopened"
    ACKNOWLEDGED = "AlertAcknowledged"
    UNACKNOWLEDGED = "AlertUnacknowledged"
    SNOOZED = "AlertSnoozed"
    UNSNOOZED = "AlertUnsnoozed"
    ASSIGNED = "AlertAssigned"
    COMMENTED = "AlertCommented"
    ESCALATED = "AlertEscalated"  # an escalation step ran (pulse.escalation)
    RESOLVED = "AlertResolved"
    CLOSED = "AlertClosed"
    SILENCE_EXPIRED = "SilenceExpired"


def fingerprint(rule_id: str, device_id: str) -> str:
    """One alert identity per (rule, device); '/' is in neither id, so the pair is unambiguous."""
    return f"{rule_id}/{device_id}"


class Alert(BaseModel):
    id: str
    fingerprint: str
    rule_id: str
    rule_version: int
    rule_name: str
    device_id: str
    site_id: str | None
    severity: Severity
    state: AlertState
    source: Source
    latched: bool
    silenced: bool
    silence_id: str | None
    snoozed_until: datetime | None
    assignee: str | None
    count: int
    first_value: AlertValue
    last_value: AlertValue
    opened_at: datetime
    episode_started_at: datetime
    last_fired_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    condition_cleared_at: datetime | None
    resolve_due_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    closed_at: datetime | None
    updated_at: datetime
    version: int


class AlertDetail(Alert):
    """One alert with the explanation captured when it fired (rule, condition tree, twin, connectivity)."""

    explanation: dict[str, Any]


class TimelineEntry(BaseModel):
    id: int
    at: datetime
    action: str
    actor: str
    note: str
    detail: dict[str, Any]


class AlertFilter(BaseModel):
    state: list[AlertState] = Field(default_factory=list)
    severity_at_least: Severity | None = None
    rule_id: str | None = None
    device_id: str | None = None
    site_id: str | None = None
    silenced: bool | None = None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What ``apply_transitions`` did for one transition.

    ``action``: ``opened`` / ``reopened`` / ``repeated`` / ``resolved`` / ``resolve_deferred`` /
    ``latched`` (condition cleared, the alert waits for an acknowledgement) / ``suppressed``
    (maintenance: nothing raised) / ``ignored`` (a resolve with no active alert).
    ``event_type`` is the outbox event written, None when none was.
    """

    action: str
    at: datetime
    alert_id: str | None = None
    event_type: EventType | None = None
    silenced: bool = False
    reason: str = ""


# --- action inputs ---------------------------------------------------------------------------------


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note = ""


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class SnoozeIn(NoteIn):
    until: AwareDatetime = Field(description="the alert wakes up (open again) at this time")


class AssignIn(NoteIn):
    assignee: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        description="who owns the alert; null unassigns"
    )
