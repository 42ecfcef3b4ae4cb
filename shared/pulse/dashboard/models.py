"""Dashboard and saved fleet filter models: what the API accepts (``*In``) kept apart from what it returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from pulse.noc.models import ConnectivityCounts, FeedEvent, IngestRate, SeverityCounts
from pulse.registry.fleet import FleetSort
from pulse.registry.models import DeviceStatus


class TenantDashboard(BaseModel):
    tenant_id: str
    generated_at: datetime
    devices: ConnectivityCounts
    open_alerts: SeverityCounts
    ingest: IngestRate
    recent_events: list[FeedEvent] = Field(description="alert lifecycle steps and presence changes, newest first")


FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=128)]
FilterValues = Annotated[list[FilterValue], Field(max_length=50)]
FilterName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
FilterScope = Literal["personal", "tenant"]


class FleetFilter(BaseModel):
    """The query parameters of ``GET /devices`` that make a filter (not ``limit`` or ``cursor``), under the
    same names: a client puts them in the URL as they are."""

    model_config = ConfigDict(extra="forbid")

    status: Annotated[list[DeviceStatus], Field(max_length=3)] = Field(default_factory=list)
    site_id: FilterValues = Field(default_factory=list)
    model: FilterValues = Field(default_factory=list)
    firmware_version: FilterValues = Field(default_factory=list)
    tag: FilterValues = Field(default_factory=list, description="key:value, all must match")
    q: str | None = Field(default=None, max_length=100, description="substring of the device name or id")
    sort: FleetSort = FleetSort.NAME
    order: Literal["asc", "desc"] = "asc"

    @field_validator("tag")
    @classmethod
    def _tags_are_pairs(cls, value: list[str]) -> list[str]:
        for item in value:
            key, sep, _ = item.partition(":")
            if not sep or not key:
                raise ValueError(f"{item[:80]!r} must be key:value")
        return value


class SavedFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FilterName
    scope: FilterScope = Field(
        default="personal", description="personal: only you see it; tenant: everyone in the tenant (admins only)"
    )
    query: FleetFilter


class SavedFilter(BaseModel):
    id: str
    name: str
    scope: FilterScope
    query: FleetFilter
    created_by: str
    created_at: datetime
    can_delete: bool = Field(description="the caller may delete it (their own, or shared and the caller is an admin)")
