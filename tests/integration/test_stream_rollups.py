"""Rollups from dirty hours: late data, concurrent maintenance runs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pulse.db import tenant_transaction
from pulse.stream.query import bucketed
from pulse.stream.rollups import RollupRefresh, refresh_dirty_rollups
from tests.builders import store_points

pytestmark = pytest.mark.integration

H = datetime(2026, 3, 1, 10, tzinfo=UTC)


def store(
    sql: psycopg.Connection,
    tenant_id: str,
    points: Iterable[tuple[datetime, str, float]],
    device_id: str = "dev-1",
) -> None:
    store_points(sql, tenant_id, device_id, points)


def rollup(sql: psycopg.Connection, table: str) -> list[tuple]:
    return sql.execute(
        f"SELECT metric, bucket, count, sum, min, max, last_ts, last_value FROM {table} ORDER BY metric, bucket"
    ).fetchall()


def test_refresh_builds_minutes_from_raw_rows_and_the_hour_from_the_minutes(sql, owner_db):
    store(
        sql,
        "acme",
        [
            (H + timedelta(seconds=5), "temp_c", 20.0),
            (H + timedelta(seconds=50), "temp_c", 22.0),
            (H + timedelta(seconds=50), "temp_c", 21.0),
            (H + timedelta(minutes=7), "temp_c", 30.0),
        ],
    )

    with owner_db.transaction() as conn:
        done = refresh_dirty_rollups(conn)

    assert done == RollupRefresh(hours=1, minute_rows=2, hour_rows=1)
    # The last value at a tied ts is the largest one.
    assert rollup(sql, "telemetry_1m") == [
        ("temp_c", H, 3, 63.0, 20.0, 22.0, H + timedelta(seconds=50), 22.0),
        ("temp_c", H + timedelta(minutes=7), 1, 30.0, 30.0, 30.0, H + timedelta(minutes=7), 30.0),
    ]
    assert rollup(sql, "telemetry_1h") == [("temp_c", H, 4, 93.0, 20.0, 30.0, H + timedelta(minutes=7), 30.0)]
    assert sql.execute("SELECT count(*) FROM telemetry_dirty_hours").fetchone() == (0,)


def test_late_row_makes_its_hour_dirty_again_and_the_next_refresh_corrects_it(sql, owner_db):
    # Given an hour already rolled up
    store(
        sql,
        "acme",
        [(H + timedelta(minutes=10), "temp_c", 20.0), (H + timedelta(minutes=50), "temp_c", 25.0)],
    )
    with owner_db.transaction() as conn:
        refresh_dirty_rollups(conn)

    # When a buffered message arrives late for that hour (a new minimum) and one later in the hour
    store(sql, "acme", [(H + timedelta(minutes=5), "temp_c", -3.0), (H + timedelta(minutes=55), "temp_c", 24.0)])
    with tenant_transaction(owner_db, "acme") as conn:
        while_dirty = bucketed(conn, "acme", "dev-1", ["temp_c"], start=H, end=H + timedelta(hours=1), bucket="1h")
    with owner_db.transaction() as conn:
        again = refresh_dirty_rollups(conn)
    with tenant_transaction(owner_db, "acme") as conn:
        after = bucketed(conn, "acme", "dev-1", ["temp_c"], start=H, end=H + timedelta(hours=1), bucket="1h")

    # Then queries never saw the stale rollup (the dirty hour was read raw), and the refreshed one counts every row
    assert [(s.count, s.min, s.last) for s in while_dirty.stats] == [(4, -3.0, 24.0)]
    assert after.stats == while_dirty.stats
    assert again.hours == 1
    assert rollup(sql, "telemetry_1h") == [("temp_c", H, 4, 66.0, -3.0, 25.0, H + timedelta(minutes=55), 24.0)]
    assert len(rollup(sql, "telemetry_1m")) == 4


def test_wide_buckets_take_clean_whole_hours_from_the_rollup_and_the_rest_from_raw_rows(sql, owner_db):
    # Given three rolled-up hours whose rollups are then tampered with, and the middle hour dirty again
    store(sql, "acme", [(H + timedelta(hours=i, minutes=10), "temp_c", float(i)) for i in range(3)])
    with owner_db.transaction() as conn:
        refresh_dirty_rollups(conn)
    sql.execute("UPDATE telemetry_1h SET count = 100")
    sql.execute("INSERT INTO telemetry_dirty_hours VALUES ('acme', %s)", (H + timedelta(hours=1),))

    # When a day bucket covers part of the first hour, the dirty hour and the whole clean third hour
    with tenant_transaction(owner_db, "acme") as conn:
        day = bucketed(
            conn, "acme", "dev-1", ["temp_c"], start=H + timedelta(minutes=5), end=H + timedelta(hours=3), bucket="1d"
        )

    # Then only the clean whole hour was read from the (tampered) rollup
    assert day.source == "rollup_1h"
    assert [s.count for s in day.stats] == [1 + 1 + 100]


def test_concurrent_refreshes_split_the_dirty_hours_instead_of_waiting_or_repeating(sql, database_url):
    for i in range(3):
        store(sql, "acme", [(H + timedelta(hours=i, minutes=1), "temp_c", float(i))])

    with (
        psycopg.connect(database_url) as first,
        psycopg.connect(database_url) as second,
        first.transaction(),
    ):
        a = refresh_dirty_rollups(first, limit_hours=1)
        # The first run still holds its hour: the second skips it rather than blocking on it.
        with second.transaction():
            b = refresh_dirty_rollups(second, limit_hours=10)

    assert (a.hours, b.hours) == (1, 2)
    assert sql.execute("SELECT count(*), sum(count) FROM telemetry_1h").fetchone() == (3, 3)
    assert sql.execute("SELECT count(*) FROM telemetry_dirty_hours").fetchone() == (0,)


def test_failed_refresh_leaves_its_hours_dirty(sql, owner_db):
    store(sql, "acme", [(H, "temp_c", 1.0)])

    def refresh_then_die() -> None:
        with owner_db.transaction() as conn:
            refresh_dirty_rollups(conn)
            raise RuntimeError("maintenance Lambda died")

    with pytest.raises(RuntimeError):
        refresh_then_die()

    assert sql.execute("SELECT count(*) FROM telemetry_dirty_hours").fetchone() == (1,)
    assert sql.execute("SELECT count(*) FROM telemetry_1h").fetchone() == (0,)
