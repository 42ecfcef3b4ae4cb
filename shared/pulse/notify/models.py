"""Notification routing and delivery: routes (matchers, grouping, throttle), channels as the API shows
them, deliveries with their attempts, and what the workflow's route and deliver steps return.

Channel configs and secrets themselves are ``pulse.notify.channels.models``; this module never holds
a secret value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pulse.notify.channels.models import ChannelType
from pulse.rules.model import Severity

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]

# What happened to the alert, as a route names it: the event name without "Alert", lower case.
AlertEventKind = Literal[
    "opened",
    "reopened",
    "acknowledged",
    "unacknowledged",
    "snoozed",
    "unsnoozed",
    "assigned",
    "commented",
    "escalated",
    "resolved",
    "closed",
]
DEFAULT_EVENTS: tuple[AlertEventKind, ...] = ("opened", "reopened", "escalated", "resolved")
GroupField = Literal["rule_id", "site_id", "device_id", "severity", "fingerprint"]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"
    SUPPRESSED = "suppressed"  # silenced, repeat interval, channel disabled: nothing is sent
    THROTTLED = "throttled"  # the route's throttle window was full
    QUOTA_EXCEEDED = "quota_exceeded"  # the tenant's daily delivery quota was used up


# --- routes ------------------------------------------------------------------------------------------


class RouteMatchers(BaseModel):
    """Every matcher given must match; an empty list (or no severity) matches anything."""

    model_config = ConfigDict(extra="forbid")

    severity_at_least: Severity | None = Field(default=None, description="this severity or worse")
    events: list[AlertEventKind] = Field(
        default_factory=lambda: list(DEFAULT_EVENTS), min_length=1, description="which alert events"
    )
    rule_ids: list[Id] = Field(default_factory=list, max_length=100)
    site_ids: list[Id] = Field(default_factory=list, max_length=100)
    tags: dict[str, str] = Field(default_factory=dict, description="all of these tags are on the device")
    device_id_prefixes: list[Id] = Field(default_factory=list, max_length=100)


class Throttle(BaseModel):
    """At most ``limit`` notifications of the route per fixed window of ``window_s`` seconds."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(ge=1, le=100_000)
    window_s: int = Field(ge=60, le=86_400)


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name
    matchers: RouteMatchers = Field(default_factory=RouteMatchers)
    channel_ids: list[Id] = Field(default_factory=list, max_length=20)
    escalation_policy_id: Id | None = Field(
        default=None, description="an opened (or reopened) alert the route takes starts this escalation policy"
    )
    continue_: bool = Field(
        default=False, alias="continue", description="also try the routes after this one when it matches"
    )
    group_by: list[GroupField] = Field(
        default_factory=list,
        description="events with equal values of these fields are sent together; empty: no grouping",
    )
    group_wait_s: int = Field(default=30, ge=0, le=3600, description="a new group's first notification waits this long")
    group_interval_s: int = Field(default=300, ge=0, le=86_400, description="a group sends again at most this often")
    repeat_interval_s: int = Field(
        default=0, ge=0, le=604_800, description="the same event of the same alert is not sent again this soon; 0: off"
    )
    throttle: Throttle | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> RouteIn:
        if not self.channel_ids and self.escalation_policy_id is None:
            raise ValueError("a route needs channel_ids, an escalation_policy_id, or both")
        if len(set(self.channel_ids)) != len(self.channel_ids):
            raise ValueError("channel_ids must not repeat")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by fields must not repeat")
        return self


class RouteCreate(RouteIn):
    position: int | None = Field(default=None, ge=0, description="where in the order; default: last")


class Route(RouteIn):
    id: str
    position: int
    version: int
    created_at: datetime
    updated_at: datetime


class RouteOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route_ids: list[Id] = Field(description="every route of the tenant, in the new order")


# --- channels as the API shows them --------------------------------------------------------------------


class ChannelIn(BaseModel):
    """``config`` and ``secrets`` are validated against ``type`` (``pulse.notify.channels.models``)."""

    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    name: Name
    config: dict[str, Any] = Field(default_factory=dict, description="non-secret settings of the type")
    secrets: dict[str, Any] | None = Field(
        default=None, description="write-only: sealed when stored, never returned; on update omit to keep"
    )
    enabled: bool = True


class SecretRotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signing_secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] = Field(
        description="the new webhook signing secret (write-only)"
    )
    grace_s: int = Field(default=86_400, ge=0, le=7 * 86_400, description="the old secret also signs this long")


class SecretState(BaseModel):
    rotating: bool = Field(description="a previous secret still signs deliveries")
    previous_valid_until: datetime | None


class Channel(BaseModel):
    id: str
    type: ChannelType
    name: str
    config: dict[str, Any]
    enabled: bool
    secret_set: bool
    secret_rotation: SecretState
    version: int
    created_at: datetime
    updated_at: datetime


# --- deliveries ---------------------------------------------------------------------------------------


class DeliveryAttempt(BaseModel):
    attempt_no: int
    workflow_attempt: int
    execution_id: str | None
    started_at: datetime
    finished_at: datetime
    status: Literal["delivered", "retryable", "permanent"]
    response_code: int | None
    latency_ms: int | None
    error: str | None


class Delivery(BaseModel):
    id: str
    event_id: str
    event_name: str
    alert_id: str | None
    channel_id: str
    route_id: str | None
    notification_id: str | None
    status: DeliveryStatus
    reason: str
    send_at: datetime
    attempts: int
    last_error: str | None
    last_response_code: int | None
    execution_id: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


class DeliveryDetail(Delivery):
    history: list[DeliveryAttempt] = Field(description="every attempt, first to last (redrives included)")
    events: list[dict[str, Any]] = Field(description="the events the notification carries (one unless grouped)")


class DeliveryFilter(BaseModel):
    status: list[DeliveryStatus] = Field(default_factory=list)
    channel_id: str | None = None
    event_id: str | None = None
    alert_id: str | None = None


class DeadLetterFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: str | None = None
    alert_id: str | None = None
    since: AwareDatetime | None = Field(default=None, description="dead at or after")
    until: AwareDatetime | None = Field(default=None, description="dead before")


class RedriveIn(BaseModel):
    """Either the ids of dead deliveries, or every dead delivery matching ``all_matching``."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Id] | None = Field(default=None, min_length=1, max_length=500)
    all_matching: DeadLetterFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> RedriveIn:
        if (self.ids is None) == (self.all_matching is None):
            raise ValueError("send either ids or all_matching")
        return self


class RedriveResult(BaseModel):
    count: int = Field(description="dead deliveries reset to pending and started again")
    execution_ids: list[str]


class TestResult(BaseModel):
    delivery_id: str
    status: Literal["delivered", "retryable", "permanent"]
    response_code: int | None
    latency_ms: int | None
    error: str | None


# --- what the workflow's steps return -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    delivery_id: str
    channel_id: str
    route_id: str | None
    send_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedDelivery:
    """A delivery the router recorded but will not run, and why."""

    delivery_id: str
    channel_id: str
    status: DeliveryStatus
    reason: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What ``route_event`` decided for one event.

    ``deliveries`` are the ones to run (status pending), each not before its ``send_at`` (a grouped
    notification waits for its group). ``recorded`` were written with a final status and are not
    run. ``grouped_into`` names open notifications the event joined (their deliveries, planned by an
    earlier event, carry it). ``replayed``: the event had been routed before; the plan is rebuilt
    from what was stored then and nothing new was written.
    """

    event_id: str
    tenant_id: str
    outcome: str
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    recorded: list[RecordedDelivery] = field(default_factory=list)
    grouped_into: list[str] = field(default_factory=list)
    replayed: bool = False

    @property
    def delivery_ids(self) -> list[str]:
        return [d.delivery_id for d in self.deliveries]

    @property
    def wait_until(self) -> datetime | None:
        """The latest ``send_at`` of the deliveries to run (None when there are none)."""
        return max((d.send_at for d in self.deliveries), default=None)

    def to_output(self) -> dict[str, Any]:
        """The route step's result: ``deliveries`` is the Map's item list (ids)."""
        wait = self.wait_until
        return {
            "event_id": self.event_id,
            "tenant_id": self.tenant_id,
            "outcome": self.outcome,
            "deliveries": self.delivery_ids,
            "send_at": {d.delivery_id: d.send_at.isoformat() for d in self.deliveries},
            "wait_until": wait.isoformat() if wait else None,
            "replayed": self.replayed,
        }


OutcomeStatus = Literal["delivered", "retryable", "permanent", "duplicate"]


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one ``deliver`` call did. ``duplicate``: already delivered, nothing was sent."""

    delivery_id: str
    status: OutcomeStatus
    response_code: int | None = None
    error: str = ""
    latency_ms: int | None = None
    attempt_no: int | None = None

    def to_output(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "status": self.status,
            "response_code": self.response_code,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "attempt_no": self.attempt_no,
        }
