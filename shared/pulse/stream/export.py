"""Streaming export of raw telemetry as CSV or JSON Lines, with memory flat in the size of the range.

Rows come through a server-side cursor ``chunk_rows`` at a time and leave as one encoded chunk per
fetch. The generators run their query on first ``next()`` and must be consumed inside the caller's
``tenant_transaction`` (a server-side cursor lives in a transaction); closing the generator early
closes the cursor.

CSV: header ``ts,device_id,metric,value``, RFC 4180 (CRLF line ends). JSON Lines: one object per
line with the same keys. Timestamps are RFC 3339 in UTC with microseconds (``2026-01-05T10:00:00.250000Z``).
Rows are ordered by (ts, device_id, metric).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from pulse.errors import RequestInvalid
from pulse.stream.query import MAX_LATEST_DEVICES, validate_metrics, validate_window

CSV_HEADER = ("ts", "device_id", "metric", "value")
DEFAULT_CHUNK_ROWS = 5000
MAX_EXPORT_RANGE = timedelta(days=366)

Row = tuple[datetime, str, str, float]

_EXPORT = """
SELECT ts, device_id, metric, value
FROM telemetry
WHERE tenant_id = %(tenant)s AND ts >= %(start)s AND ts < %(end)s
  AND (%(all_devices)s OR device_id = ANY(%(devices)s::text[]))
  AND (%(all_metrics)s OR metric = ANY(%(metrics)s::text[]))
ORDER BY ts, device_id, metric, value
"""


def rfc3339_utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _validated(
    device_ids: Sequence[str] | None,
    metrics: Sequence[str] | None,
    start: datetime,
    end: datetime,
    chunk_rows: int,
) -> dict[str, Any]:
    validate_window(start, end, MAX_EXPORT_RANGE)
    if chunk_rows < 1:
        raise RequestInvalid("chunk_rows must be at least 1")
    devices = None if device_ids is None else list(dict.fromkeys(device_ids))
    if devices is not None and not 1 <= len(devices) <= MAX_LATEST_DEVICES:
        raise RequestInvalid(f"name between 1 and {MAX_LATEST_DEVICES} devices, or none for all")
    names = None if metrics is None else validate_metrics(metrics)
    return {
        "start": start,
        "end": end,
        "all_devices": devices is None,
        "devices": devices or [],
        "all_metrics": names is None,
        "metrics": names or [],
    }


def export_rows(
    conn: psycopg.Connection,
    tenant_id: str,
    device_ids: Sequence[str] | None,
    metrics: Sequence[str] | None,
    *,
    start: datetime,
    end: datetime,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[list[Row]]:
    """Lists of at most ``chunk_rows`` rows of [start, end) of the devices and metrics (None: all)."""
    params = _validated(device_ids, metrics, start, end, chunk_rows) | {"tenant": tenant_id}
    return _fetch_chunks(conn, params, chunk_rows)


def _fetch_chunks(conn: psycopg.Connection, params: dict[str, Any], chunk_rows: int) -> Iterator[list[Row]]:
    with conn.cursor(name=f"pulse_export_{uuid.uuid4().hex[:12]}") as cur:
        cur.itersize = chunk_rows
        cur.execute(_EXPORT, params)
        while rows := cur.fetchmany(chunk_rows):
            yield rows


def export_csv(
    conn: psycopg.Connection,
    tenant_id: str,
    device_ids: Sequence[str] | None,
    metrics: Sequence[str] | None,
    *,
    start: datetime,
    end: datetime,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[bytes]:
    """UTF-8 CSV chunks: the header first, then one chunk per ``chunk_rows`` rows."""
    chunks = export_rows(conn, tenant_id, device_ids, metrics, start=start, end=end, chunk_rows=chunk_rows)
    return _csv_chunks(chunks)


def _csv_chunks(chunks: Iterator[list[Row]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue().encode()
    for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows((rfc3339_utc(ts), device, metric, repr(value)) for ts, device, metric, value in rows)
        yield buffer.getvalue().encode()


def export_jsonl(
    conn: psycopg.Connection,
    tenant_id: str,
    device_ids: Sequence[str] | None,
    metrics: Sequence[str] | None,
    *,
    start: datetime,
    end: datetime,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[bytes]:
    """JSON Lines chunks, one per ``chunk_rows`` rows: ``{"ts":..,"device_id":..,"metric":..,"value":..}``."""
    chunks = export_rows(conn, tenant_id, device_ids, metrics, start=start, end=end, chunk_rows=chunk_rows)
    return _jsonl_chunks(chunks)


def _jsonl_chunks(chunks: Iterator[list[Row]]) -> Iterator[bytes]:
    for rows in chunks:
        yield b"".join(
            orjson.dumps({"ts": rfc3339_utc(ts), "device_id": device, "metric": metric, "value": value}) + b"\n"
            for ts, device, metric, value in rows
        )
