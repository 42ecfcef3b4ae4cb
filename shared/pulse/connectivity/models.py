"""Connectivity: the IoT Core lifecycle event (input), a device's current state and its history (output)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConnectivityStatus(StrEnum):
    ONLINE = "ONLINE"
    STALE = "STALE"
    OFFLINE = "OFFLINE"


class LifecycleEvent(BaseModel):
    """What the rule ``SELECT * FROM '$aws/events/presence/+/+'`` delivers, as AWS names it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    client_id: str = Field(alias="clientId", min_length=1, max_length=128)
    timestamp: int = Field(ge=0, description="epoch milliseconds, set by IoT Core")
    event_type: Literal["connected", "disconnected"] = Field(alias="eventType")
    session_id: str = Field(default="", alias="sessionIdentifier", max_length=128)
    principal: str = Field(default="", alias="principalIdentifier", max_length=256)
    disconnect_reason: str | None = Field(default=None, alias="disconnectReason", max_length=128)
    version: int = Field(default=0, alias="versionNumber")
    client_initiated_disconnect: bool | None = Field(default=None, alias="clientInitiatedDisconnect")
    received_at: int | None = Field(default=None, description="the rule's timestamp(): when the rule ran, epoch ms")

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    @property
    def connected(self) -> bool:
        return self.event_type == "connected"

    def order_key(self) -> tuple[datetime, int, int]:
        """Newer wins: time, then IoT Core's per-client version, then a disconnect after its connect."""
        return (self.at, self.version, 0 if self.connected else 1)

    def detail(self) -> dict[str, Any]:
        found: dict[str, Any] = {"client_id": self.client_id, "version": self.version}
        if self.principal:
            found["principal"] = self.principal
        if self.client_initiated_disconnect is not None:
            found["client_initiated"] = self.client_initiated_disconnect
        if self.received_at is not None:
            found["received_at"] = datetime.fromtimestamp(self.received_at / 1000, UTC).isoformat()
        return found


class PresenceOutcome(StrEnum):
    """What recording one lifecycle event did (returned by the handler, counted as a metric)."""

    APPLIED = "applied"  # newest event: current presence changed, history row added
    LATE = "late"  # older than the current presence: history row only
    DUPLICATE = "duplicate"  # redelivered: nothing written
    UNKNOWN_CLIENT = "unknown_client"  # no device has this client id (thing name): nothing written
    INVALID = "invalid"  # not a lifecycle event: nothing written


class Connectivity(BaseModel):
    """A device's connectivity as of ``evaluated_at`` (status computed then, not by the last sweep)."""

    device_id: str
    status: ConnectivityStatus
    evaluated_at: datetime
    last_seen_at: datetime | None = Field(description="last message (telemetry, heartbeat, event) received")
    heartbeat_interval_s: int
    connected: bool | None = Field(description="MQTT session open per the last lifecycle event; null: none yet")
    since: datetime | None = Field(description="time of the last connect or disconnect")
    session_id: str | None
    last_disconnect_reason: str | None
    last_disconnected_at: datetime | None
    stale_at: datetime | None = Field(description="turns STALE at this time unless heard from again")
    offline_at: datetime | None = Field(description="turns OFFLINE at this time unless heard from again")


class ConnectivityEvent(BaseModel):
    id: int
    at: datetime
    kind: Literal["connected", "disconnected", "status"]
    status: ConnectivityStatus | None = Field(description="kind status: the new computed status")
    reason: str | None = Field(description="disconnected: IoT Core's disconnectReason")
    session_id: str
    detail: dict[str, Any]
