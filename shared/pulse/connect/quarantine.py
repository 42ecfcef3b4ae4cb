"""Why a message was refused. Every refusal has a reason and lands in ``quarantine_events``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class QuarantineReason(StrEnum):
    MALFORMED_JSON = "malformed_json"
    SCHEMA_VIOLATION = "schema_violation"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_DEVICE = "unknown_device"
    REVOKED_DEVICE = "revoked_device"
    TOPIC_MISMATCH = "topic_mismatch"
    BAD_TOKEN = "bad_token"  # noqa: S105 - a reason name, not a secret
    INACTIVE_TENANT = "inactive_tenant"
    RATE_LIMITED = "rate_limited"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    TOO_MANY_METRICS = "too_many_metrics"
    BAD_METRIC = "bad_metric"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused message, ready to be written to the quarantine."""

    reason: QuarantineReason
    detail: str
    topic: str
    source: str
    payload: bytes
    received_at: datetime
    tenant_id: str | None = None
    device_id: str | None = None

    def excerpt(self, limit: int) -> str:
        """The first ``limit`` bytes of the payload as text (undecodable bytes escaped)."""
        text = self.payload[:limit].decode("utf-8", errors="backslashreplace")
        return text + ("…" if len(self.payload) > limit else "")
