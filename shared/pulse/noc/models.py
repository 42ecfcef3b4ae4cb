"""What the tenant dashboard, the operator console and the NOC answer (output models only)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from pulse.registry.models import SubscriptionStatus


class ConnectivityState(StrEnum):
    """A device's connectivity now; ``never``: no message and no MQTT connect ever."""

    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"
    NEVER = "never"


class ConnectivityCounts(BaseModel):
    """Active devices by their connectivity now (revoked and decommissioned devices are not counted)."""

    total: int = 0
    online: int = 0
    stale: int = 0
    offline: int = 0
    never: int = 0

    def __add__(self, other: ConnectivityCounts) -> ConnectivityCounts:
        return ConnectivityCounts(**{k: getattr(self, k) + getattr(other, k) for k in ConnectivityCounts.model_fields})


class SeverityCounts(BaseModel):
    """Open alerts (open, acknowledged or snoozed) by severity."""

    total: int = 0
    critical: int = 0
    major: int = 0
    minor: int = 0
    warning: int = 0
    info: int = 0

    def __add__(self, other: SeverityCounts) -> SeverityCounts:
        return SeverityCounts(**{k: getattr(self, k) + getattr(other, k) for k in SeverityCounts.model_fields})


class RatePoint(BaseModel):
    at: datetime = Field(description="start of the bucket (UTC)")
    messages: int


class IngestRate(BaseModel):
    per_second_now: float = Field(description="messages received in the last 60 seconds / 60")
    bucket_seconds: int
    series: list[RatePoint] = Field(description="complete buckets, oldest first; the last ends when this one began")


FeedKind = Literal["alert", "presence", "quarantine", "dead_letter"]


class FeedEvent(BaseModel):
    """One platform event: an alert lifecycle step, a presence change, a quarantined message, a dead letter."""

    id: str = Field(description="<kind>:<id of the source row>, unique in the feed")
    kind: FeedKind
    event: str = Field(
        description="alert: the timeline action (opened, acknowledged, resolved, ...); presence: connected, "
        "disconnected, online, stale, offline; quarantine: the reason; dead_letter: dead_letter"
    )
    at: datetime
    tenant_id: str | None
    device_id: str | None
    severity: str | None = Field(default=None, description="alert events: the alert's severity")
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


class EventFeed(BaseModel):
    items: list[FeedEvent] = Field(description="newest first")
    cursor: str = Field(description="pass as ?after= to get only events newer than these")
    has_more: bool = Field(description="more newer events are waiting than limit allowed: poll again now")


# --- operator console ----------------------------------------------------------------------------


class TenantHealth(BaseModel):
    tenant_id: str
    name: str
    plan_id: str | None
    subscription_status: SubscriptionStatus
    subscription_ends_at: datetime | None
    devices: int = Field(description="devices that are not decommissioned")
    online: int
    open_alerts: SeverityCounts
    ingest_per_minute_5m: float = Field(description="messages per minute, average of the last 5 minutes")
    ingest_per_minute_60m: float = Field(description="messages per minute, average of the last 60 minutes")
    quarantined_24h: int


class OperatorDevice(BaseModel):
    tenant_id: str
    id: str
    name: str
    status: str
    model: str
    site_id: str | None
    firmware_version: str
    tags: dict[str, str]
    last_seen_at: datetime | None
    connectivity: ConnectivityState


class QuarantinedMessage(BaseModel):
    id: int
    received_at: datetime
    reason: str
    detail: str
    tenant_id: str | None = Field(description="null when the topic named no known tenant")
    device_id: str | None
    topic: str
    source: str
    payload_size: int = Field(description="bytes of the refused payload")
    payload_excerpt: str = Field(
        description="its first bytes as UTF-8 text (at most 512 bytes; undecodable bytes and control "
        "characters escaped as \\xNN)"
    )
    excerpt_truncated: bool


class ReasonCount(BaseModel):
    reason: str
    count: int


class QuarantineReasons(BaseModel):
    since: datetime
    until: datetime
    total: int
    reasons: list[ReasonCount] = Field(description="every known reason (zeros included), most frequent first")


class TenantLimits(BaseModel):
    device_limit: int | None
    device_rate_per_minute: int | None
    api_rate_per_minute: int | None
    retention_days: int | None


class OperatorSubscription(BaseModel):
    tenant_id: str
    tenant_name: str
    plan_id: str
    plan_name: str
    status: SubscriptionStatus
    is_trial: bool
    started_at: datetime
    ends_at: datetime
    version: int
    limits: TenantLimits
    devices: int = Field(description="devices that are not decommissioned (what the device limit counts)")


# --- NOC ---------------------------------------------------------------------------------------------


class SeriesWindow(IntEnum):
    """Minutes of a NOC time series: 1-minute buckets for an hour, 5-minute for 6 hours, 15-minute for a day."""

    HOUR = 60
    SIX_HOURS = 360
    DAY = 1440


class HeatmapWindow(IntEnum):
    """Days of the alert heatmap."""

    WEEK = 7
    FOUR_WEEKS = 28


class DeliveryFailures(BaseModel):
    failed_attempts: int = Field(description="attempts that ended retryable or permanent")
    dead_letters: int


class NocSummary(BaseModel):
    generated_at: datetime
    tenant_id: str | None
    devices: ConnectivityCounts
    online_percent: float | None = Field(description="online / active devices x 100; null without devices")
    ingest_per_second: float = Field(description="messages received in the last minute / 60")
    open_alerts: SeverityCounts
    delivery_failures_last_hour: DeliveryFailures


class NocPoint(BaseModel):
    at: datetime = Field(description="start of the bucket (UTC)")
    ingest_messages: int
    alerts_opened: int
    deliveries_succeeded: int = Field(description="attempts that delivered")
    deliveries_failed: int = Field(description="attempts that failed (retryable or permanent)")
    dead_letters: int


class NocTimeseries(BaseModel):
    tenant_id: str | None
    minutes: int
    bucket_seconds: int
    points: list[NocPoint] = Field(description="complete buckets, oldest first, zeros included")


class Heatmap(BaseModel):
    tenant_id: str | None
    days: int
    since: datetime
    until: datetime
    day_labels: list[str] = Field(description="row labels: Mon .. Sun (ISO weekday order)")
    matrix: list[list[int]] = Field(description="7 rows (Mon..Sun) x 24 columns (hour 0..23 UTC): alerts opened")
    total: int
    max: int


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class ServiceHealth(BaseModel):
    service: Literal["ingest", "evaluator", "outbox", "delivery", "escalation", "connectivity_sweep"]
    status: HealthStatus
    measure: float | None = Field(description="null: nothing to measure (e.g. nothing is due)")
    unit: Literal["seconds", "count"]
    degraded_at: float = Field(description="measure >= this is degraded")
    down_at: float = Field(description="measure >= this is down")
    detail: str


class NocHealth(BaseModel):
    generated_at: datetime
    tenant_id: str | None
    status: HealthStatus = Field(description="the worst of the services")
    services: list[ServiceHealth]
