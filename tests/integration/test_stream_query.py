"""Raw ranges with keyset pages, latest values, and tenant isolation of the telemetry tables."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from pulse.db import Database, tenant_transaction
from pulse.errors import RequestInvalid
from pulse.stream.models import Bucket, RawCursor
from pulse.stream.query import bucketed, latest, raw_range
from pulse.stream.rollups import refresh_dirty_rollups
from tests.builders import make_device, make_tenant, store_points

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def store(sql: psycopg.Connection, tenant_id: str, device_id: str, points: Iterable[tuple[datetime, str, float]]):
    store_points(sql, tenant_id, device_id, points)


def all_pages(conn, tenant_id, device_id, metrics, start, end, limit):
    points, after, pages = [], None, 0
    while True:
        page = raw_range(conn, tenant_id, device_id, metrics, start=start, end=end, limit=limit, after=after)
        points += page.points
        pages += 1
        if page.next_cursor is None:
            return points, pages
        after = RawCursor.decode(page.next_cursor.encode())


def test_raw_pages_walk_the_range_in_ts_metric_order_without_losing_tied_rows(sql, owner_db):
    # Given two metrics every 10 s, and a redelivered message under another id (same ts, same metric, twice)
    rows = [(T0 + timedelta(seconds=10 * i), m, float(i)) for i in range(20) for m in ("temp_c", "rh")]
    rows += [(T0 + timedelta(seconds=30), "temp_c", 3.0), (T0 + timedelta(seconds=30), "temp_c", 99.0)]
    rows += [(T0 + timedelta(seconds=5), "door", 1.0), (T0 - timedelta(seconds=1), "temp_c", -1.0)]
    store(sql, "acme", "dev-1", rows)
    store(sql, "other", "dev-1", [(T0 + timedelta(seconds=10), "temp_c", 500.0)])
    start, end = T0, T0 + timedelta(seconds=150)

    # When the range is read three points at a time
    with tenant_transaction(owner_db, "acme") as conn:
        points, pages = all_pages(conn, "acme", "dev-1", ["temp_c", "rh"], start, end, limit=3)

    # Then every row of the range, metrics and tenant is there once, in (ts, metric) order
    expected = sorted((ts, m, v) for ts, m, v in rows if start <= ts < end and m in ("temp_c", "rh"))
    assert [(p.ts, p.metric, p.value) for p in points] == expected
    assert len(expected) == 32
    assert pages >= 10
    assert {p.device_id for p in points} == {"dev-1"}


_tenants = itertools.count()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=st.lists(
        st.tuples(
            st.integers(0, 5).map(lambda s: T0 + timedelta(seconds=s)),  # few distinct ts: many ties
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 3).map(float),
        ),
        max_size=40,
    ),
    limit=st.integers(1, 6),
)
def test_any_page_size_walks_every_row_once(sql, owner_db, points, limit):
    tenant = f"pages-{next(_tenants)}"
    store(sql, tenant, "dev-1", points)

    with tenant_transaction(owner_db, tenant) as conn:
        got, _ = all_pages(conn, tenant, "dev-1", ["a", "b", "c"], T0, T0 + timedelta(minutes=1), limit=limit)

    assert [(p.ts, p.metric, p.value) for p in got] == sorted(points)


def test_raw_page_holds_a_whole_group_of_identical_keys(sql, owner_db):
    store(
        sql,
        "acme",
        "dev-1",
        [(T0, "temp_c", float(v)) for v in range(5)] + [(T0 + timedelta(seconds=1), "temp_c", 9.0)],
    )

    with tenant_transaction(owner_db, "acme") as conn:
        first = raw_range(conn, "acme", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(minutes=1), limit=2)
        second = raw_range(
            conn,
            "acme",
            "dev-1",
            ["temp_c"],
            start=T0,
            end=T0 + timedelta(minutes=1),
            limit=2,
            after=first.next_cursor,
        )

    assert [p.value for p in first.points] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert first.next_cursor == RawCursor(ts=T0, metric="temp_c")
    assert [p.value for p in second.points] == [9.0]
    assert second.next_cursor is None


def test_invalid_requests_are_refused_with_typed_errors(owner_db):
    with tenant_transaction(owner_db, "acme") as conn:
        with pytest.raises(RequestInvalid, match="before end"):
            raw_range(conn, "acme", "dev-1", ["temp_c"], start=T0, end=T0)
        with pytest.raises(RequestInvalid, match="limit"):
            raw_range(conn, "acme", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(hours=1), limit=0)
        with pytest.raises(RequestInvalid, match="bucket"):
            bucketed(conn, "acme", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(hours=1), bucket="2m")
        with pytest.raises(RequestInvalid, match="buckets requested"):
            bucketed(
                conn,
                "acme",
                "dev-1",
                ["temp_c", "rh"],
                start=T0,
                end=T0 + timedelta(days=7),
                bucket=Bucket.MINUTE,
            )


def test_latest_reads_each_devices_newest_metrics_of_the_tenant_only(sql, owner_db):
    make_tenant(sql, "acme")
    make_tenant(sql, "other")
    for tenant, device in (("acme", "dev-1"), ("acme", "dev-2"), ("acme", "silent"), ("other", "dev-1")):
        make_device(sql, tenant, device)
    sql.execute(
        "UPDATE devices SET last_msg_ts = %s, last_seen_at = %s, last_metrics = %s "
        "WHERE tenant_id = 'acme' AND id = 'dev-1'",
        (T0, T0 + timedelta(seconds=2), Jsonb({"temp_c": 21.5, "door_open": True, "count": 3})),
    )
    sql.execute(
        "UPDATE devices SET last_msg_ts = %s, last_metrics = %s WHERE id = 'dev-2' OR tenant_id = 'other'",
        (T0, Jsonb({"temp_c": 7.0})),
    )

    with tenant_transaction(owner_db, "acme") as conn:
        everything = latest(conn, "acme")
        chosen = latest(conn, "acme", ["dev-2", "missing"])

    assert [d.device_id for d in everything] == ["dev-1", "dev-2"]  # "silent" never reported
    assert everything[0].metrics == {"temp_c": 21.5, "door_open": True, "count": 3.0}
    assert everything[0].metrics["door_open"] is True
    assert everything[0].last_msg_ts == T0
    assert everything[0].last_seen_at == T0 + timedelta(seconds=2)
    assert [(d.device_id, d.metrics) for d in chosen] == [("dev-2", {"temp_c": 7.0})]


def test_pulse_app_sees_only_its_tenants_telemetry_even_without_a_where_clause(sql, database_url, owner_db):
    # Given rows, rollups and dirty hours of two tenants
    store(sql, "acme", "dev-1", [(T0, "temp_c", 1.0)])
    store(sql, "other", "dev-1", [(T0, "temp_c", 2.0), (T0 + timedelta(minutes=1), "temp_c", 3.0)])
    with owner_db.transaction() as conn:
        refresh_dirty_rollups(conn)
    store(sql, "other", "dev-1", [(T0 + timedelta(minutes=2), "temp_c", 4.0)])

    # When pulse_app reads the tables with no filter at all
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'acme', true)")
        seen = {
            table: conn.execute(f"SELECT DISTINCT tenant_id FROM {table}").fetchall()
            for table in ("telemetry", "telemetry_1m", "telemetry_1h", "telemetry_dirty_hours")
        }

    # Then it sees acme's rows only (acme's dirty hour was refreshed, other's is not visible)
    assert seen == {
        "telemetry": [("acme",)],
        "telemetry_1m": [("acme",)],
        "telemetry_1h": [("acme",)],
        "telemetry_dirty_hours": [],
    }


def test_queries_through_a_pulse_app_database_cannot_reach_another_tenant(sql, database_url):
    store(sql, "other", "dev-1", [(T0, "temp_c", 2.0)])
    app_db = Database(database_url, role="pulse_app")
    try:
        with tenant_transaction(app_db, "acme") as conn:
            # A caller that passed the wrong tenant id still gets nothing: RLS holds the line.
            page = raw_range(conn, "other", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(hours=1))
            series = bucketed(conn, "other", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(hours=1), bucket="1h")
        with tenant_transaction(app_db, "other") as conn:
            own = raw_range(conn, "other", "dev-1", ["temp_c"], start=T0, end=T0 + timedelta(hours=1))
    finally:
        app_db.close()
    assert page.points == []
    assert series.stats == []
    assert [p.value for p in own.points] == [2.0]
