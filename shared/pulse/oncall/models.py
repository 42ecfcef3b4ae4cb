"""On-call: what a caller sends (schedules with layers and rotations, overrides, swap requests) and
what the API answers (stored objects, final-schedule segments, gaps).

Users are Cognito usernames of the tenant, as ``pulse.identity.users`` names them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\s/]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
SegmentSource = Literal["layer", "override", "swap"]
MAX_LAYERS = 20
MAX_USERS = 100


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value[:60]!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RotationKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


class Rotation(_In):
    """Shift ``k`` starts at ``start_date + k * length_days`` at ``handoff_time``, local wall clock in the
    schedule's time zone, and belongs to ``users[k % len(users)]``; it ends where shift ``k + 1`` starts.
    Nobody of this rotation is on call before the first handoff."""

    kind: RotationKind
    length_days: int | None = Field(
        default=None, ge=1, le=365, description="custom rotations only: days per shift (daily = 1, weekly = 7)"
    )
    handoff_time: time = Field(description="local wall-clock time of every handoff, whole minutes (e.g. 09:00)")
    start_date: date = Field(description="local date of the first handoff (for weekly: its weekday repeats)")
    users: Annotated[list[Username], Field(min_length=1, max_length=MAX_USERS)] = Field(
        description="Cognito usernames in rotation order; a name may appear more than once"
    )

    @field_validator("handoff_time")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("whole minutes of local time without an offset, e.g. 09:00")
        return value

    @model_validator(mode="after")
    def _length(self) -> Rotation:
        if self.kind is RotationKind.CUSTOM and self.length_days is None:
            raise ValueError("length_days: a custom rotation needs its shift length in days")
        if self.kind is not RotationKind.CUSTOM and self.length_days not in (None, self.days):
            raise ValueError(f"length_days: a {self.kind.value} rotation lasts {self.days} day(s)")
        return self

    @property
    def days(self) -> int:
        if self.kind is RotationKind.DAILY:
            return 1
        if self.kind is RotationKind.WEEKLY:
            return 7
        assert self.length_days is not None
        return self.length_days


class Restriction(_In):
    """The layer is on call only inside these local windows: ``start`` to ``end`` on each of ``weekdays``
    (0 = Monday); ``end`` 00:00 means midnight at the end of that day."""

    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)] = Field(
        default_factory=lambda: list(range(7))
    )
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Restriction:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError("end: must be after start (00:00 means the end of the day)")
        return self


class LayerIn(_In):
    name: Name
    priority: int = Field(ge=0, le=1000, description="the highest priority layer with someone on call wins")
    rotation: Rotation
    restrictions: Annotated[list[Restriction], Field(max_length=14)] = Field(
        default_factory=list, description="empty: the layer is on call around the clock"
    )


class Layer(LayerIn):
    id: str


class OnCallScheduleIn(_In):
    name: Name
    timezone: str = Field(description="IANA time zone of every handoff and restriction, e.g. Europe/Berlin")
    description: Note = ""
    alert_on_gaps: bool = Field(default=True, description="raise a coverage-gap alert for holes in the next 7 days")
    layers: Annotated[list[LayerIn], Field(max_length=MAX_LAYERS)] = Field(default_factory=list)

    _tz = field_validator("timezone")(check_timezone)

    @model_validator(mode="after")
    def _distinct_priorities(self) -> OnCallScheduleIn:
        priorities = [layer.priority for layer in self.layers]
        if len(set(priorities)) != len(priorities):
            raise ValueError("layers: each layer needs its own priority")
        return self


class OnCallSchedule(BaseModel):
    id: str
    name: str
    timezone: str
    description: str
    alert_on_gaps: bool
    layers: list[Layer]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class OverrideIn(_In):
    username: Username
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: Note = ""

    @model_validator(mode="after")
    def _ordered(self) -> OverrideIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


class Override(BaseModel):
    id: str
    schedule_id: str
    username: str
    starts_at: datetime
    ends_at: datetime
    source: Literal["override", "swap"]
    swap_id: str | None
    note: str
    created_by: str
    created_at: datetime


class OverrideCreated(Override):
    overlaps: list[str] = Field(
        description="earlier overrides this one overlaps; where they overlap, the newest override wins"
    )


class Segment(BaseModel):
    """``[start, end)`` with one person on call (``username``), or nobody (``username`` and ``source`` null)."""

    start: datetime
    end: datetime
    username: str | None
    source: SegmentSource | None
    source_id: str | None = Field(description="the layer or override that decided the segment")


class FinalSchedule(BaseModel):
    schedule_id: str
    timezone: str
    start: datetime
    end: datetime
    segments: list[Segment]


class OnCallNow(BaseModel):
    schedule_id: str
    at: datetime
    username: str | None
    segment: Segment


class Gap(BaseModel):
    start: datetime
    end: datetime


class CoverageGaps(BaseModel):
    schedule_id: str
    start: datetime
    end: datetime
    gaps: list[Gap]


class SwapState(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class SwapIn(_In):
    to_user: Username = Field(description="who is asked to take the shift")
    from_user: Username | None = Field(
        default=None, description="whose shift it is; defaults to the caller (administrators may name another)"
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: Note = ""

    @model_validator(mode="after")
    def _ordered(self) -> SwapIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        if self.from_user is not None and self.from_user == self.to_user:
            raise ValueError("to_user: must be someone else than from_user")
        return self


class Swap(BaseModel):
    id: str
    schedule_id: str
    from_user: str
    to_user: str
    requested_by: str
    starts_at: datetime
    ends_at: datetime
    state: SwapState
    note: str
    override_id: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class IcalToken(BaseModel):
    schedule_id: str
    token: str = Field(description="shown once; the previous token stops working")
    path: str = Field(description="the feed under the API base URL, no bearer token needed")
