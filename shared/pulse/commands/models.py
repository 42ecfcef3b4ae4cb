"""Commands: what a caller sends (input), what is stored (domain/output), what a device acks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CommandStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


OPEN = (CommandStatus.QUEUED, CommandStatus.SENT, CommandStatus.ACCEPTED)
CANCELLABLE = (CommandStatus.QUEUED, CommandStatus.SENT)
COMMAND_EXPIRED = "CommandExpired"
MAX_TTL_S = 7 * 24 * 3600


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
    params: dict[str, Any] = Field(default_factory=dict)
    ttl_s: int = Field(default=300, ge=1, le=MAX_TTL_S, description="unacknowledged after this: expired")


class BulkCommandIn(CommandIn):
    device_ids: list[str] = Field(min_length=1, max_length=500)


class Command(BaseModel):
    id: str
    device_id: str
    name: str
    params: dict[str, Any]
    status: CommandStatus
    expires_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    created_by: str
    created_at: datetime
    sent_at: datetime | None = None
    acked_at: datetime | None = None
    finished_at: datetime | None = None

    def device_message(self) -> dict[str, Any]:
        """What the device receives on ``commands``."""
        return {"id": self.id, "name": self.name, "params": self.params, "expires_at": self.expires_at.isoformat()}


class CommandAck(BaseModel):
    """The device's answer on ``commands/{id}/ack``."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["accepted", "succeeded", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = Field(default=None, max_length=2000)
