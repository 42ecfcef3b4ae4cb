"""The rule model: one versioned JSON document, conditions composable with ``all`` / ``any`` / ``not``.

A condition is a tree. Leaves read telemetry (``threshold``, ``window``, ``absence``, ``anomaly``)
or the device twin (``twin``, ``twin_not_converged``); inner nodes combine (``all``, ``any``,
``not``) or add time (``for``, ``keep_firing_for``, ``repeat``). Comparison operands may be
numbers or references to device attributes and twin values: ``{"ref": "attributes.max_temp"}``.

Durations are accepted as seconds, ``"90s" / "5m" / "2h" / "1d"`` or ISO 8601 and are written
back as ISO 8601. Every refusal is a pydantic ``ValidationError`` whose location names the field.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pulse.connect.envelope import MetricName
from pulse.registry.models import DeviceId, TenantId

RULE_SCHEMA_VERSION: Literal[1] = 1
MAX_DURATION = timedelta(days=7)
MAX_NODES = 64
REF_PATTERN = r"^(attributes|twin\.reported|twin\.desired)(\.[A-Za-z0-9_\-]{1,64}){1,8}$"
TWIN_PATH_PATTERN = r"^[A-Za-z0-9_\-]{1,64}(\.[A-Za-z0-9_\-]{1,64}){0,7}$"
_SHORT_DURATION = re.compile(r"^(\d{1,7})(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_duration(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a duration is seconds, '5m' or ISO 8601, not a boolean")  # noqa: TRY004
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _SHORT_DURATION.match(value)):
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


def _bounded_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    if value > MAX_DURATION:
        raise ValueError(f"must be at most {MAX_DURATION.days} days")
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration), AfterValidator(_bounded_duration)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"


class Ref(BaseModel):
    """A dynamic operand: a device attribute or a twin value, read at evaluation time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: Annotated[str, StringConstraints(pattern=REF_PATTERN)]


Operand = Number | Ref
ORDERING_OPS = frozenset({">", ">=", "<", "<="})
EQUALITY_OPS = frozenset({"==", "!="})
RANGE_OPS = frozenset({"between", "outside"})
Op = Literal[">", ">=", "<", "<=", "==", "!=", "between", "outside"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Comparison(_Node):
    """``op`` with ``value``, or ``between`` / ``outside`` with ``low`` and ``high`` (inclusive).

    ``hysteresis`` widens the comparison while the alert is open, so a value that wobbles around
    the threshold does not resolve and reopen it.
    """

    op: Op
    value: Number | bool | str | Ref | None = Field(default=None, validate_default=True)
    low: Operand | None = Field(default=None, validate_default=True)
    high: Operand | None = Field(default=None, validate_default=True)
    hysteresis: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op in RANGE_OPS:
            if value is not None:
                raise ValueError(f"'{op}' takes low and high, not value")
        elif op is not None and value is None:
            raise ValueError(f"required for op '{op}'")
        elif op in ORDERING_OPS and isinstance(value, bool | str):
            raise ValueError(f"op '{op}' compares numbers; give a number or a ref")
        return value

    @field_validator("low", "high")
    @classmethod
    def _bounds_fit_op(cls, bound: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op in RANGE_OPS and bound is None:
            raise ValueError(f"required for op '{op}'")
        if op is not None and op not in RANGE_OPS and bound is not None:
            raise ValueError(f"only for 'between' and 'outside', not '{op}'")
        low = info.data.get("low")
        if info.field_name == "high" and isinstance(low, float) and isinstance(bound, float) and bound < low:
            raise ValueError(f"high ({bound:g}) is below low ({low:g})")
        return bound

    @field_validator("hysteresis")
    @classmethod
    def _hysteresis_needs_order(cls, hysteresis: float, info: ValidationInfo) -> float:
        if hysteresis and info.data.get("op") in EQUALITY_OPS:
            raise ValueError("hysteresis needs an ordering op, not '==' or '!='")
        return hysteresis


class Threshold(Comparison):
    """The latest value of ``metric`` compared with a constant or a reference.

    The value holds until the next one arrives; pair with ``absence`` to act on stale data.
    """

    kind: Literal["threshold"]
    metric: MetricName


class Aggregate(StrEnum):
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    RATE = "rate"  # (last - first) / minutes between them, over the samples in the window


class Window(Comparison):
    """An aggregate of ``metric`` over the samples of the last ``window`` compared like a threshold."""

    kind: Literal["window"]
    metric: MetricName
    agg: Aggregate
    window: Duration


class Absence(_Node):
    """No message (``metric`` null) or no value of ``metric`` for ``duration``; fires on the clock."""

    kind: Literal["absence"]
    metric: MetricName | None = None
    duration: Duration


class Anomaly(_Node):
    """EWMA z-score of each new value against the device's own history.

    Unknown (never true) until ``warmup`` values have been seen.
    """

    kind: Literal["anomaly"]
    metric: MetricName
    alpha: Annotated[float, Field(gt=0, le=1)] = 0.1
    z: Annotated[float, Field(gt=0, le=1000)] = 3.0
    warmup: Annotated[int, Field(ge=2, le=100_000)] = 30
    direction: Literal["both", "up", "down"] = "both"


class Twin(Comparison):
    """A value of the device twin (reported or desired) at a dotted ``path``."""

    kind: Literal["twin"]
    side: Literal["reported", "desired"]
    path: Annotated[str, StringConstraints(pattern=TWIN_PATH_PATTERN)]


class TwinNotConverged(_Node):
    """Desired differs from reported at ``path`` (or anywhere in desired when ``path`` is null) past
    the tenant's convergence deadline: true from when the twin's convergence check raises
    ``TwinNotConverged`` for a leaf there until the device reports it or desired changes again.
    (A mismatch at once is a ``twin`` comparison with a ref: ``reported.fw != twin.desired.fw``.)"""

    kind: Literal["twin_not_converged"]
    path: Annotated[str, StringConstraints(pattern=TWIN_PATH_PATTERN)] | None = None


class For(_Node):
    """True once ``condition`` has been true without a break for ``duration`` (Prometheus ``for``)."""

    kind: Literal["for"]
    duration: Duration
    condition: Condition


class KeepFiringFor(_Node):
    """Stays true for ``duration`` after ``condition`` stops being true."""

    kind: Literal["keep_firing_for"]
    duration: Duration
    condition: Condition


class Repeat(_Node):
    """``condition`` became true at least ``count`` times within ``within``."""

    kind: Literal["repeat"]
    count: Annotated[int, Field(ge=1, le=1000)]
    within: Duration
    condition: Condition


class All(_Node):
    kind: Literal["all"]
    conditions: Annotated[list[Condition], Field(min_length=1, max_length=32)]


class AnyOf(_Node):
    kind: Literal["any"]
    conditions: Annotated[list[Condition], Field(min_length=1, max_length=32)]


class Not(_Node):
    kind: Literal["not"]
    condition: Condition


Condition = Annotated[
    Threshold | Window | Absence | Anomaly | Twin | TwinNotConverged | For | KeepFiringFor | Repeat | All | AnyOf | Not,
    Field(discriminator="kind"),
]
for _model in (For, KeepFiringFor, Repeat, All, AnyOf, Not):
    _model.model_rebuild()


def children(node: Condition) -> list[Condition]:
    """The direct sub-conditions of ``node`` (empty for a leaf)."""
    if isinstance(node, All | AnyOf):
        return list(node.conditions)
    if isinstance(node, For | KeepFiringFor | Repeat | Not):
        return [node.condition]
    return []


def count_nodes(node: Condition) -> int:
    return 1 + sum(count_nodes(child) for child in children(node))


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Schedule(_Node):
    """When the rule may open alerts: local ``start``-``end`` on ``weekdays``.

    ``end`` at or before ``start`` runs over midnight into the next day (the weekday is the one the
    window starts on). ``timezone`` null means the device's site timezone (UTC when it has none).
    """

    weekdays: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: time
    end: time
    timezone: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _unique_days(cls, weekdays: list[Weekday]) -> list[Weekday]:
        if len(set(weekdays)) != len(weekdays):
            raise ValueError("each weekday at most once")
        return weekdays

    @field_validator("start", "end")
    @classmethod
    def _naive_minutes(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local wall-clock time without offset; the zone is in timezone")
        return value

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: time, info: ValidationInfo) -> time:
        if info.data.get("start") == end:
            raise ValueError("equals start; use no schedule for always active")
        return end

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value[:60]!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return value


class Scope(_Node):
    """Which devices a rule watches. Empty lists match everything; ``tags`` must all match."""

    tenant_id: TenantId
    site_ids: Annotated[list[str], Field(max_length=500)] = Field(default_factory=list)
    tags: Annotated[dict[str, str], Field(max_length=20)] = Field(default_factory=dict)
    device_ids: Annotated[list[DeviceId], Field(max_length=10_000)] = Field(default_factory=list)
    models: Annotated[list[str], Field(max_length=500)] = Field(default_factory=list)

    def matches(
        self, *, tenant_id: str, device_id: str, site_id: str | None, model: str | None, tags: dict[str, str]
    ) -> bool:
        return (
            tenant_id == self.tenant_id
            and (not self.site_ids or site_id in self.site_ids)
            and (not self.device_ids or device_id in self.device_ids)
            and (not self.models or model in self.models)
            and all(tags.get(key) == value for key, value in self.tags.items())
        )


class Rule(_Node):
    """One version of a rule. ``clear`` null means: resolve when the condition, widened by each
    comparison's hysteresis, is false. ``latch`` keeps the alert open after it clears until released.
    """

    schema_version: Literal[1] = RULE_SCHEMA_VERSION
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
    version: Annotated[int, Field(ge=1)] = 1
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    enabled: bool = True
    scope: Scope
    severity: Severity
    condition: Condition
    clear: Condition | None = None
    schedule: Schedule | None = None
    latch: bool = False

    @model_validator(mode="after")
    def _bounded_tree(self) -> Rule:
        nodes = count_nodes(self.condition) + (count_nodes(self.clear) if self.clear is not None else 0)
        if nodes > MAX_NODES:
            raise ValueError(f"{nodes} condition nodes; the limit is {MAX_NODES}")
        return self
