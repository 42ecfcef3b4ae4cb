"""Silences and maintenance windows: what a caller sends and what is stored.

A silence matches an alert when every matcher it names matches (site, device, rule, all of its
tags on the device, the alert's severity among ``severities``); it needs at least one matcher.
A maintenance window covers one device or one whole site.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pulse.registry.models import DeviceId
from pulse.rules.model import Severity

ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: ObjectId | None = None
    device_id: DeviceId | None = None
    rule_id: ObjectId | None = None
    tags: Annotated[dict[str, str], Field(max_length=20)] = Field(default_factory=dict)
    severities: Annotated[list[Severity], Field(max_length=5)] = Field(default_factory=list)
    starts_at: AwareDatetime | None = Field(default=None, description="defaults to now")
    ends_at: AwareDatetime
    reason: Reason = ""

    @model_validator(mode="after")
    def _bounded(self) -> SilenceIn:
        if not (self.site_id or self.device_id or self.rule_id or self.tags or self.severities):
            raise ValueError("name at least one matcher: site_id, device_id, rule_id, tags or severities")
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Silence(BaseModel):
    id: str
    site_id: str | None
    device_id: str | None
    rule_id: str | None
    tags: dict[str, str]
    severities: list[Severity]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    expiry_notified_at: datetime | None = None


class MaintenanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: DeviceId | None = None
    site_id: ObjectId | None = None
    starts_at: AwareDatetime | None = Field(default=None, description="defaults to now")
    ends_at: AwareDatetime
    reason: Reason = ""

    @model_validator(mode="after")
    def _one_target(self) -> MaintenanceIn:
        if (self.device_id is None) == (self.site_id is None):
            raise ValueError("name exactly one of device_id or site_id")
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceWindow(BaseModel):
    id: str
    device_id: str | None
    site_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    ended_by: str | None = None
