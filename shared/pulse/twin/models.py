"""The twin's HTTP shapes (input and output kept apart); the rules live in ``request``/``document``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class DesiredState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desired: dict[str, Any] | None = Field(
        description="partial deep merge into desired; null deletes a key, null clears the section"
    )


class DesiredPatch(BaseModel):
    """``PATCH /devices/{id}/twin``: the portal sets desired only; the version comes from If-Match."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    state: DesiredState
    client_token: str | None = Field(default=None, alias="clientToken", max_length=64)
    condition: dict[str, Any] | None = Field(
        default=None, alias="if", description='predicate on the current twin, e.g. {"reported.mode": "eco"}'
    )

    def to_request(self, version: int) -> dict[str, Any]:
        body = self.model_dump(by_alias=True, exclude_unset=True)
        body["version"] = version
        return body


class TwinState(BaseModel):
    desired: dict[str, Any] | None = None
    reported: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _sections_present(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Empty sections are absent, as in AWS's document."""
        return {k: v for k, v in handler(self).items() if v is not None}


class TwinView(BaseModel):
    """The document as AWS's GetThingShadow returns it (sections absent when empty)."""

    state: TwinState
    metadata: dict[str, Any]
    version: int
    timestamp: int
    client_token: str | None = Field(default=None, alias="clientToken")


class TwinRevisionView(BaseModel):
    version: int
    at: datetime
    source: str
    actor: str
    client_token: str | None
    request: dict[str, Any]
    document: TwinView


class TwinHistoryPage(BaseModel):
    items: list[TwinRevisionView]
    next_before_version: int | None = Field(description="pass as before_version for the next (older) page")


class TwinSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_clear: bool = False
    convergence_minutes: int | None = Field(default=None, ge=1, le=10080, description="null: platform default")
