"""Escalation: policies (ordered steps, repeats, a time window, reminders), what the API answers about
an alert's escalation, and the stored cursor the engine advances.

Users are Cognito usernames of the tenant (as ``pulse.identity.users`` and on-call name them).
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator, model_validator

from pulse.oncall.models import Username, check_timezone
from pulse.rules.model import Severity

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_STEPS = 20


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- steps ----------------------------------------------------------------------------------------


class WaitStep(_In):
    kind: Literal["wait"] = "wait"
    minutes: int = Field(ge=1, le=1440, description="the next step is due this long after the previous one")


class NotifyUsersStep(_In):
    kind: Literal["notify_users"] = "notify_users"
    usernames: list[Username] = Field(min_length=1, max_length=20, description="paged through their personal policy")


class NotifyOnCallStep(_In):
    kind: Literal["notify_on_call"] = "notify_on_call"
    schedule_id: Id = Field(description="whoever is on call in this schedule when the step runs")


class NotifyChannelsStep(_In):
    kind: Literal["notify_channels"] = "notify_channels"
    channel_ids: list[Id] = Field(min_length=1, max_length=20)


class RaiseSeverityStep(_In):
    kind: Literal["raise_severity"] = "raise_severity"
    severity: Severity = Field(description="the alert's severity becomes this when it is lower (never lowered)")


Step = Annotated[
    WaitStep | NotifyUsersStep | NotifyOnCallStep | NotifyChannelsStep | RaiseSeverityStep,
    Field(discriminator="kind"),
]


class ActiveWindow(_In):
    """Steps run only inside this window (the policy's time zone); a step due outside waits for its start.
    ``end`` before ``start`` spans midnight (22:00-06:00)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: time
    end: time

    @model_validator(mode="after")
    def _span(self) -> ActiveWindow:
        if self.start == self.end:
            raise ValueError("active_window: start and end must differ")
        if len(set(self.days)) != len(self.days):
            raise ValueError("active_window.days must not repeat")
        return self


class Reminder(_In):
    """While the alert is acknowledged but not resolved, these channels are reminded every so often."""

    every_minutes: int = Field(ge=5, le=1440)
    channel_ids: list[Id] = Field(min_length=1, max_length=20)


class EscalationPolicyIn(_In):
    name: Name
    description: Annotated[str, StringConstraints(max_length=1000)] = ""
    timezone: str = Field(default="UTC", description="IANA time zone of active_window")
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    repeat_count: int = Field(default=0, ge=0, le=10, description="the steps run again this many times")
    active_window: ActiveWindow | None = None
    reminder: Reminder | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _steps(self) -> EscalationPolicyIn:
        if all(isinstance(s, WaitStep) for s in self.steps):
            raise ValueError("steps: at least one step must do something besides waiting")
        if self.repeat_count and not any(isinstance(s, WaitStep) for s in self.steps):
            raise ValueError("steps: a policy that repeats needs a wait step (else every repeat runs at once)")
        return self

    def channel_ids(self) -> set[str]:
        found = {c for s in self.steps if isinstance(s, NotifyChannelsStep) for c in s.channel_ids}
        return found | set(self.reminder.channel_ids if self.reminder else [])

    def schedule_ids(self) -> set[str]:
        return {s.schedule_id for s in self.steps if isinstance(s, NotifyOnCallStep)}


class EscalationPolicy(EscalationPolicyIn):
    id: str
    version: int
    created_at: datetime
    updated_at: datetime


# --- an alert's escalation ---------------------------------------------------------------------------


class EscalationStatus(StrEnum):
    ACTIVE = "active"
    DONE = "done"


class Phase(StrEnum):
    """What the escalation does now, from its status and the alert's state."""

    ESCALATING = "escalating"  # the alert is open: steps run when due
    ACKNOWLEDGED = "acknowledged"  # steps stopped; reminders (if any) run
    SNOOZED = "snoozed"  # paused until the alert wakes up
    EXHAUSTED = "exhausted"  # every step and repeat ran; the alert is still open
    DONE = "done"  # the alert was resolved or closed (or the policy deleted)


class DoneAction(BaseModel):
    """One action the engine took: a step of a repeat, or a reminder."""

    key: str = Field(description="the deliveries' event id: escalation:<alert>:<step>:<repeat> or :reminder:<n>")
    kind: str
    step: int | None
    repeat: int | None
    due_at: datetime
    at: datetime
    targets: list[str] = Field(default_factory=list, description="usernames and channel ids paged")
    deliveries: int = 0
    note: str = ""


class AlertEscalation(BaseModel):
    alert_id: str
    policy_id: str
    policy_name: str | None
    route_id: str | None
    episode: int
    status: EscalationStatus
    phase: Phase
    position: int = Field(description="the index of the next step")
    repeat: int
    next_step_due_at: datetime | None
    next_due_at: datetime | None
    reminders: int
    ended_reason: str | None
    started_at: datetime
    updated_at: datetime
    steps: list[dict[str, Any]] = Field(description="the policy's steps as the engine walks them")
    done: list[DoneAction]


# --- people: contact methods and personal notification policies -------------------------------------


class ContactKind(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    SLACK = "slack"


class ContactMethodIn(_In):
    """``address``: an email address, a phone number in international format (+49...), or a Slack member
    id (U..., W...). Slack also needs the incoming webhook that posts to the person (write-only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    kind: ContactKind
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    slack_webhook_url: SecretStr | None = Field(default=None, description="write-only; Slack only")
    enabled: bool = True


class ContactMethod(BaseModel):
    id: str = Field(description="the channel id: contact methods are channels owned by a person")
    username: str
    kind: ContactKind
    address: str
    label: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PolicyRule(_In):
    contact_method_id: Id
    wait_minutes: int = Field(default=0, ge=0, le=1440, description="after the previous rule (0: together with it)")


def _distinct(rules: list[PolicyRule] | None, what: str) -> None:
    if rules is not None and len({r.contact_method_id for r in rules}) != len(rules):
        raise ValueError(f"{what}: a contact method appears once per list")


class NotificationPolicyIn(_In):
    """How a person is paged by an escalation step: the rules in order, each after its wait."""

    default: list[PolicyRule] = Field(min_length=1, max_length=10)
    critical: list[PolicyRule] | None = Field(
        default=None, min_length=1, max_length=10, description="for critical alerts; null: the default rules"
    )

    @model_validator(mode="after")
    def _rules(self) -> NotificationPolicyIn:
        _distinct(self.default, "default")
        _distinct(self.critical, "critical")
        return self

    def method_ids(self) -> set[str]:
        return {r.contact_method_id for r in [*self.default, *(self.critical or [])]}


class NotificationPolicy(NotificationPolicyIn):
    username: str
    version: int
    updated_by: str
    updated_at: datetime
