"""Registry models: what the API accepts (``*In``, ``*Patch``) kept apart from what it returns."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
MAX_TAGS = 50

DeviceId = Annotated[str, StringConstraints(pattern=DEVICE_ID_PATTERN)]
TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_tags(tags: dict[str, str] | None) -> dict[str, str] | None:
    """A device's tags: at most ``MAX_TAGS`` keys of letters, digits and ``_ . : / -``, values <= 256 chars."""
    if tags is None:
        return None
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key, value in tags.items():
        if not _TAG_KEY.match(key):
            raise ValueError(f"tag key {key[:70]!r} must be 1-64 of letters, digits, _ . : / -")
        if len(value) > 256:
            raise ValueError(f"tag {key!r}: value longer than 256 characters")
    return tags


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value[:60]!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return value


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    DECOMMISSIONED = "decommissioned"


class SubscriptionStatus(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    GRACE = "grace"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


# --- tenants, plans, subscriptions -----------------------------------------------------------


class Plan(BaseModel):
    id: str
    name: str
    device_limit: int
    device_rate_per_minute: int
    retention_days: int
    api_rate_per_minute: int
    grace_days: int
    suspension_days: int


class TenantIn(_In):
    id: TenantId
    name: Name
    plan_id: str = "trial"
    trial_days: int = Field(default=30, ge=1, le=365)


class TenantPatch(_In):
    name: Name


class Tenant(BaseModel):
    id: str
    name: str
    status: SubscriptionStatus
    device_limit: int | None
    device_rate_per_minute: int | None
    api_rate_per_minute: int | None
    retention_days: int | None
    created_at: datetime


class Subscription(BaseModel):
    tenant_id: str
    plan_id: str
    status: SubscriptionStatus
    is_trial: bool
    started_at: datetime
    ends_at: datetime
    version: int


class SubscriptionChange(_In):
    """Operator change: a new plan and/or a new end of the paid period (ends the trial)."""

    plan_id: str | None = None
    ends_at: datetime | None = None

    @field_validator("ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("ends_at needs a UTC offset")
        return value


class SubscriptionEvent(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    from_status: SubscriptionStatus | None
    to_status: SubscriptionStatus
    plan_id: str
    ends_at: datetime
    detail: str


# --- sites -------------------------------------------------------------------------------------


class SiteIn(_In):
    id: DeviceId
    name: Name
    address: str = Field(default="", max_length=500)
    lat: Latitude | None = None
    lng: Longitude | None = None
    timezone: str = "UTC"

    _tz = field_validator("timezone")(_check_timezone)


class SitePatch(_In):
    name: Name | None = None
    address: str | None = Field(default=None, max_length=500)
    lat: Latitude | None = None
    lng: Longitude | None = None
    timezone: str | None = None

    _tz = field_validator("timezone")(_check_timezone)


class Site(BaseModel):
    id: str
    name: str
    address: str
    lat: float | None
    lng: float | None
    timezone: str
    version: int
    created_at: datetime
    updated_at: datetime


# --- devices -----------------------------------------------------------------------------------


class DeviceFields(_In):
    """Catalogue fields a customer may set at creation and change later."""

    name: Name | None = None
    model: ShortText | None = None
    site_id: DeviceId | None = None
    tags: dict[str, str] | None = None
    attributes: dict[str, Any] | None = None
    firmware_version: ShortText | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    heartbeat_interval_s: int | None = Field(default=None, ge=10, le=7 * 86_400)

    _tags = field_validator("tags")(check_tags)

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > 100:
            raise ValueError("at most 100 attributes")
        return value


class DeviceIn(DeviceFields):
    id: DeviceId
    http_token: bool = Field(default=False, description="also issue an HTTPS device token (gateways)")
    issue_certificate: bool = Field(
        default=True, description="false: the thing only; credentials come later through an activation code"
    )


class DevicePatch(DeviceFields):
    pass


class Device(BaseModel):
    id: str
    name: str
    status: DeviceStatus
    model: str
    site_id: str | None
    tags: dict[str, str]
    attributes: dict[str, Any]
    firmware_version: str
    lat: float | None
    lng: float | None
    heartbeat_interval_s: int
    thing_name: str | None
    certificate_id: str | None
    has_http_token: bool
    last_seen_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class CredentialsBundle(BaseModel):
    """Returned exactly once: the private key and token are never stored or shown again."""

    device_id: str
    thing_name: str
    certificate_id: str
    certificate_pem: str
    private_key: str
    root_ca_url: str
    root_ca_pem: str
    endpoint: str
    topics: dict[str, str]


class ProvisionedDevice(BaseModel):
    device: Device
    credentials: CredentialsBundle | None
    http_token: str | None = None


class DeviceToken(BaseModel):
    device_id: str
    token: str


class ActivationCode(BaseModel):
    device_id: str
    code: str
    expires_at: datetime


class ActivationClaim(_In):
    code: Annotated[str, StringConstraints(min_length=8, max_length=100)]
