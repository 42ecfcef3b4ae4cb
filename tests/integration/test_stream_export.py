"""Streaming CSV / JSON Lines export: the same rows as raw_range, chunk by chunk from a server-side cursor."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pulse.db import tenant_transaction
from pulse.errors import RequestInvalid
from pulse.stream.export import export_csv, export_jsonl
from pulse.stream.query import raw_range

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)  # the range crosses a day partition
START, END = T0, T0 + timedelta(minutes=3)


@pytest.fixture
def stored(sql):
    rows = [
        ("acme", device, T0 + timedelta(seconds=7 * i, microseconds=250_000), metric, i + 0.5)
        for i in range(25)
        for device in ("dev-1", "dev-2")
        for metric in ("temp_c", "rh")
    ]
    rows.append(("other", "dev-1", T0 + timedelta(seconds=1), "temp_c", 99.0))
    for day in (T0.date(), T0.date() + timedelta(days=1)):
        sql.execute("SELECT pulse_ensure_day_partition('telemetry', %s)", (day,))
    sql.cursor().executemany("INSERT INTO telemetry VALUES (%s, %s, %s, %s, %s)", rows)
    return rows


def _raw(conn, device_id):
    page = raw_range(conn, "acme", device_id, ["temp_c", "rh"], start=START, end=END, limit=5000)
    assert page.next_cursor is None
    return [
        (p.ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), p.device_id, p.metric, p.value) for p in page.points
    ]


def test_csv_export_streams_the_rows_raw_range_returns_in_chunks(stored, owner_db):
    with tenant_transaction(owner_db, "acme") as conn:
        chunks = list(export_csv(conn, "acme", ["dev-1"], ["temp_c", "rh"], start=START, end=END, chunk_rows=8))
        expected = _raw(conn, "dev-1")

    body = b"".join(chunks).decode()
    assert body.startswith("ts,device_id,metric,value\r\n")
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header == ["ts", "device_id", "metric", "value"]
    assert [(ts, d, m, float(v)) for ts, d, m, v in rows] == expected
    assert len(expected) == 50
    assert len(chunks) == 1 + 7  # the header, then 8 rows per chunk
    assert rows[0][0] == "2026-03-01T23:59:00.250000Z"


def test_jsonl_export_of_all_devices_matches_raw_range_per_device(stored, owner_db):
    with tenant_transaction(owner_db, "acme") as conn:
        chunks = list(export_jsonl(conn, "acme", None, None, start=START, end=END, chunk_rows=10))
        expected = sorted(_raw(conn, "dev-1") + _raw(conn, "dev-2"))

    lines = [orjson.loads(line) for line in b"".join(chunks).splitlines()]
    assert [(o["ts"], o["device_id"], o["metric"], o["value"]) for o in lines] == expected
    assert len(lines) == 100
    assert len(chunks) == 10


def test_export_reads_through_a_server_side_cursor(stored, owner_db):
    with tenant_transaction(owner_db, "acme") as conn:
        stream = export_jsonl(conn, "acme", None, None, start=START, end=END, chunk_rows=5)
        next(stream)
        open_cursors = conn.execute("SELECT name FROM pg_cursors").fetchall()
        stream.close()
        after_close = conn.execute("SELECT name FROM pg_cursors").fetchall()

    assert [name.startswith("pulse_export_") for (name,) in open_cursors] == [True]
    assert after_close == []


def test_export_validates_before_streaming(owner_db):
    with tenant_transaction(owner_db, "acme") as conn, pytest.raises(RequestInvalid, match="before end"):
        export_csv(conn, "acme", None, None, start=END, end=START)
