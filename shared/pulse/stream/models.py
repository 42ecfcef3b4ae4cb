"""Models of the stream plane's read side: bucket widths, raw points, bucket statistics, latest values."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, StrictBool, ValidationError

from pulse.errors import RequestInvalid


class Bucket(StrEnum):
    """The bucket widths a caller may ask for; a bucket starts on a multiple of its width since the epoch."""

    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"
    HOUR = "1h"
    SIX_HOURS = "6h"
    DAY = "1d"

    @property
    def width(self) -> timedelta:
        return _WIDTHS[self]


_WIDTHS = {
    Bucket.MINUTE: timedelta(minutes=1),
    Bucket.FIVE_MINUTES: timedelta(minutes=5),
    Bucket.FIFTEEN_MINUTES: timedelta(minutes=15),
    Bucket.HOUR: timedelta(hours=1),
    Bucket.SIX_HOURS: timedelta(hours=6),
    Bucket.DAY: timedelta(days=1),
}


class RawPoint(BaseModel):
    """One stored metric value of one message."""

    model_config = ConfigDict(frozen=True)

    ts: AwareDatetime
    device_id: str
    metric: str
    value: float


class RawCursor(BaseModel):
    """Keyset position in a raw range: the (ts, metric) of the last point already returned."""

    model_config = ConfigDict(frozen=True)

    ts: AwareDatetime
    metric: str

    def encode(self) -> str:
        """An opaque, URL-safe token for an API's ``next`` link."""
        return base64.urlsafe_b64encode(self.model_dump_json().encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> RawCursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return cls.model_validate_json(raw)
        except (binascii.Error, ValueError, ValidationError) as exc:
            raise RequestInvalid("the page cursor is not valid; start again without one") from exc


class RawPage(BaseModel):
    """Points in (ts, metric) order; ``next_cursor`` is set when more points follow."""

    points: list[RawPoint]
    next_cursor: RawCursor | None = None


class BucketStat(BaseModel):
    """Aggregates of one metric over one bucket; ``last`` is the value at the newest ts in the bucket."""

    model_config = ConfigDict(frozen=True)

    metric: str
    bucket: AwareDatetime
    count: int
    avg: float
    min: float
    max: float
    last: float
    last_ts: AwareDatetime


class BucketedSeries(BaseModel):
    """Buckets holding data, ordered by (metric, bucket); empty buckets are not returned.

    ``source`` is ``rollup_1h`` when the hourly rollup answered for the range's whole, refreshed hours
    (raw rows for the rest), ``raw`` when raw rows alone did; both give the same numbers.
    """

    bucket: Bucket
    source: Literal["raw", "rollup_1h"]
    stats: list[BucketStat]


class DeviceLatest(BaseModel):
    """The newest value of every metric a device has reported, as ingest folds them into the device row.

    ``last_msg_ts`` is the timestamp of the newest message; a metric absent from that message keeps
    the value of the newest message that carried it (per-metric timestamps are not tracked).
    """

    device_id: str
    last_msg_ts: AwareDatetime
    last_seen_at: AwareDatetime | None
    metrics: dict[str, StrictBool | float]
