"""Envelope v1, the telemetry message a device publishes (ARCHITECTURE §5).

``{"v":1, "ts":..., "seq":..., "msg_id":..., "site_id":..., "metrics":{name: number|bool}, "lat":..., "lng":...}``

``ts`` is epoch milliseconds or an RFC 3339 timestamp with an offset. Validation that needs no
database (size, JSON, version, schema, metric names and values, clock window) happens in
``validate_envelope``; every failure becomes a named ``QuarantineReason``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
)

from pulse.connect.quarantine import QuarantineReason

SUPPORTED_VERSION = 1
METRIC_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$"

MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN)]
MetricValue = StrictBool | Annotated[float, Field(strict=True, allow_inf_nan=False)]
EpochMillis = Annotated[int, Field(strict=True, ge=0, le=32_503_680_000_000)]


class EnvelopeV1(BaseModel):
    """One telemetry message. Unknown fields are refused so that typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"$id": "pulse/envelope/v1"})

    v: Literal[1]
    ts: EpochMillis | AwareDatetime = Field(description="epoch milliseconds or RFC 3339 with offset")
    seq: Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)] | None = None
    msg_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] | None = None
    site_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    metrics: dict[MetricName, MetricValue] = Field(default_factory=dict)
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lng: Annotated[float, Field(ge=-180, le=180)] | None = None

    @field_validator("ts")
    @classmethod
    def _as_utc(cls, value: int | datetime) -> datetime:
        if isinstance(value, int):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        return value.astimezone(UTC)

    @property
    def timestamp(self) -> datetime:
        assert isinstance(self.ts, datetime)
        return self.ts


class EnvelopeError(ValueError):
    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def message_key(envelope: EnvelopeV1, payload: bytes) -> str:
    """The dedup key: msg_id, else seq, else a digest of the exact payload (a redelivery is identical)."""
    if envelope.msg_id is not None:
        return envelope.msg_id
    if envelope.seq is not None:
        return f"seq:{envelope.seq}"
    return "sha:" + hashlib.blake2b(payload, digest_size=12).hexdigest()


def _first_error(exc: ValidationError) -> tuple[QuarantineReason, str]:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    reason = (
        QuarantineReason.BAD_METRIC
        if err["loc"][:1] == ("metrics",) and len(err["loc"]) > 1
        else QuarantineReason.SCHEMA_VIOLATION
    )
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return reason, f"{loc}: {err['msg']}{more}"


def _defect(payload: bytes, max_metrics: int) -> EnvelopeError:
    """Names what is wrong with a payload that failed validation (the slow path, for refusals only)."""
    try:
        doc: Any = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return EnvelopeError(QuarantineReason.MALFORMED_JSON, f"not valid JSON: {exc}")
    if not isinstance(doc, dict):
        return EnvelopeError(QuarantineReason.SCHEMA_VIOLATION, "the envelope must be a JSON object")
    version = doc.get("v")
    if version != SUPPORTED_VERSION:
        if isinstance(version, int) and not isinstance(version, bool):
            return EnvelopeError(
                QuarantineReason.UNSUPPORTED_VERSION,
                f"envelope version {version} is not supported (supported: {SUPPORTED_VERSION})",
            )
        return EnvelopeError(QuarantineReason.SCHEMA_VIOLATION, "v: an integer envelope version is required")
    metrics = doc.get("metrics")
    if isinstance(metrics, dict) and len(metrics) > max_metrics:
        return EnvelopeError(
            QuarantineReason.TOO_MANY_METRICS, f"{len(metrics)} metrics in one message; the limit is {max_metrics}"
        )
    try:
        EnvelopeV1.model_validate(doc)
    except ValidationError as exc:
        return EnvelopeError(*_first_error(exc))
    return EnvelopeError(QuarantineReason.SCHEMA_VIOLATION, "the envelope is not valid JSON for Envelope v1")


def validate_envelope(
    payload: bytes, *, now: datetime, max_bytes: int, max_metrics: int, max_skew: timedelta, max_age: timedelta
) -> EnvelopeV1:
    """Parses and checks one payload; raises EnvelopeError with the quarantine reason.

    Valid payloads take one pass of pydantic's JSON validator; only a refused payload is parsed
    again to name its defect, so the common case stays cheap.
    """
    if len(payload) > max_bytes:
        raise EnvelopeError(
            QuarantineReason.PAYLOAD_TOO_LARGE, f"payload is {len(payload)} bytes; the limit is {max_bytes}"
        )
    try:
        envelope = EnvelopeV1.model_validate_json(payload)
    except ValidationError:
        raise _defect(payload, max_metrics) from None
    if len(envelope.metrics) > max_metrics:
        raise EnvelopeError(
            QuarantineReason.TOO_MANY_METRICS,
            f"{len(envelope.metrics)} metrics in one message; the limit is {max_metrics}",
        )
    ts = envelope.timestamp
    if ts > now + max_skew:
        raise EnvelopeError(
            QuarantineReason.TIMESTAMP_OUT_OF_RANGE,
            f"ts {ts.isoformat()} is more than {int(max_skew.total_seconds())} s in the future",
        )
    if ts < now - max_age:
        raise EnvelopeError(
            QuarantineReason.TIMESTAMP_OUT_OF_RANGE,
            f"ts {ts.isoformat()} is older than {int(max_age.total_seconds())} s",
        )
    return envelope
