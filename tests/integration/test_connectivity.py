"""Presence events through the twin Lambda, the scheduled sweep, and the rule in SQL and Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse import runtime
from pulse.connectivity.service import sweep_connectivity
from pulse.connectivity.status import Presence, connectivity_status
from pulse.connectivity.store import SWEEP_LOCK_KEY
from pulse.db import Database
from tests.builders import FakeLambdaContext, lifecycle_event, make_device, make_tenant

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


@pytest.fixture
def twin_lambda(lambda_env, sql, monkeypatch):
    monkeypatch.setenv("PULSE_DB_ROLE", "pulse_app")
    runtime.reset()
    for tenant in ("acme", "globex"):
        make_tenant(sql, tenant)
        make_device(sql, tenant, "dev-1")
    make_device(sql, "acme", "dev-2")
    from functions.twin.handler import lambda_handler

    return lambda handler_event: lambda_handler(handler_event, FakeLambdaContext())


def history(sql: psycopg.Connection, device: str = "dev-1", tenant: str = "acme") -> list[tuple]:
    return sql.execute(
        """SELECT kind, coalesce(status, reason), session_id FROM device_connectivity_events
           WHERE tenant_id = %s AND device_id = %s ORDER BY id""",
        (tenant, device),
    ).fetchall()


def presence(sql: psycopg.Connection, device: str = "dev-1") -> tuple:
    return sql.execute(
        """SELECT connected, session_id, disconnect_reason, status FROM device_connectivity
           WHERE tenant_id = 'acme' AND device_id = %s""",
        (device,),
    ).fetchone()


def test_connect_and_disconnect_are_recorded_with_the_reason_and_move_the_status(twin_lambda, sql):
    now = datetime.now(UTC).replace(microsecond=0)
    connect = lifecycle_event("acme--dev-1", "connected", at=now - timedelta(seconds=2))
    assert twin_lambda(connect) == {"presence": "applied"}
    assert presence(sql) == (True, "s-1", None, "ONLINE")
    drop = lifecycle_event(
        "acme--dev-1", "disconnected", at=now - timedelta(seconds=1), reason="MQTT_KEEP_ALIVE_TIMEOUT"
    )
    assert twin_lambda(drop) == {"presence": "applied"}
    assert presence(sql) == (False, "s-1", "MQTT_KEEP_ALIVE_TIMEOUT", "OFFLINE")
    assert history(sql) == [
        ("connected", None, "s-1"),
        ("status", "ONLINE", ""),
        ("disconnected", "MQTT_KEEP_ALIVE_TIMEOUT", "s-1"),
        ("status", "OFFLINE", ""),
    ]
    # the reason of the last disconnect outlives the next connect
    twin_lambda(lifecycle_event("acme--dev-1", "connected", at=now, session="s-2", version=2))
    assert presence(sql) == (True, "s-2", "MQTT_KEEP_ALIVE_TIMEOUT", "ONLINE")


def test_a_late_disconnect_is_history_but_does_not_override_a_newer_connect(twin_lambda, sql):
    now = datetime.now(UTC).replace(microsecond=0)
    assert twin_lambda(lifecycle_event("acme--dev-1", "connected", at=now, session="s-2", version=2)) == {
        "presence": "applied"
    }
    late = lifecycle_event("acme--dev-1", "disconnected", at=now - timedelta(seconds=5), reason="CONNECTION_LOST")
    assert twin_lambda(late) == {"presence": "late"}
    assert presence(sql) == (True, "s-2", None, "ONLINE")
    assert [row[0] for row in history(sql)] == ["connected", "status", "disconnected"]  # as received


def test_a_disconnect_in_the_same_millisecond_as_its_connect_wins(twin_lambda, sql):
    now = datetime.now(UTC).replace(microsecond=0)
    twin_lambda(lifecycle_event("acme--dev-1", "disconnected", at=now, reason="DUPLICATE_CLIENTID", version=3))
    assert twin_lambda(lifecycle_event("acme--dev-1", "connected", at=now, version=3)) == {"presence": "late"}
    assert presence(sql)[0] is False


def test_a_redelivered_event_is_stored_once(twin_lambda, sql):
    event = {**lifecycle_event("acme--dev-1", "connected"), "received_at": 1_700_000_000_000}
    assert twin_lambda(event) == {"presence": "applied"}
    assert twin_lambda(event) == {"presence": "duplicate"}
    assert [row[0] for row in history(sql)] == ["connected", "status"]
    detail = sql.execute("SELECT detail FROM device_connectivity_events WHERE kind = 'connected'").fetchone()[0]
    assert detail == {
        "client_id": "acme--dev-1",
        "version": 1,
        "principal": "a1b2c3d4e5",
        "received_at": "2023-11-14T22:13:20+00:00",
    }


def test_unknown_clients_and_malformed_events_are_ignored_without_rows(twin_lambda, sql):
    assert twin_lambda(lifecycle_event("iotconsole-1700000000-0", "connected")) == {"presence": "unknown_client"}
    assert twin_lambda({"eventType": "connected", "clientId": "acme--dev-1"}) == {"presence": "invalid"}
    assert sql.execute("SELECT count(*) FROM device_connectivity_events").fetchone() == (0,)
    assert sql.execute("SELECT count(*) FROM device_connectivity").fetchone() == (0,)


def test_the_sweep_writes_history_only_when_a_status_changes(twin_lambda, sql):
    now = datetime.now(UTC)
    sql.execute("UPDATE devices SET heartbeat_interval_s = 60, last_seen_at = %s WHERE id = 'dev-1'", (now,))
    assert twin_lambda({"task": "sweep_connectivity"}) == {"changed": 2}  # acme and globex dev-1; dev-2 never seen
    assert twin_lambda({"task": "sweep_connectivity"}) == {"changed": 0}
    sql.execute(
        "UPDATE devices SET last_seen_at = %s WHERE tenant_id = 'acme' AND id = 'dev-1'",
        (now - timedelta(seconds=120),),
    )
    assert twin_lambda({"task": "sweep_connectivity"}) == {"changed": 1}
    sql.execute(
        "UPDATE devices SET last_seen_at = %s WHERE tenant_id = 'acme' AND id = 'dev-1'", (now - timedelta(hours=1),)
    )
    assert twin_lambda({"task": "sweep_connectivity"}) == {"changed": 1}
    assert twin_lambda({"task": "sweep_connectivity"}) == {"changed": 0}
    assert history(sql) == [("status", "ONLINE", ""), ("status", "STALE", ""), ("status", "OFFLINE", "")]
    assert history(sql, "dev-2") == []


def test_a_sweep_that_finds_another_running_does_nothing(twin_lambda, sql, database_url, owner_db):
    sql.execute("UPDATE devices SET last_seen_at = now()")
    other = Database(database_url, "pulse_app")
    try:
        with owner_db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SWEEP_LOCK_KEY,))
            assert sweep_connectivity(other, datetime.now(UTC)) == -1
        assert sweep_connectivity(other, datetime.now(UTC)) == 3
    finally:
        other.close()


def test_another_tenant_reads_nothing_and_customers_write_nothing(twin_lambda, sql, database_url):
    twin_lambda(lifecycle_event("acme--dev-1", "connected"))
    with psycopg.connect(database_url) as conn:
        conn.execute("SET ROLE pulse_app")
        conn.execute("SELECT set_config('app.tenant_id', 'globex', false)")
        assert conn.execute("SELECT count(*) FROM device_connectivity").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM device_connectivity_events").fetchone() == (0,)
        conn.execute("SELECT set_config('app.tenant_id', 'acme', false)")
        assert conn.execute("SELECT count(*) FROM device_connectivity_events").fetchone() == (2,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE device_connectivity SET status = 'ONLINE'")


_times = st.one_of(st.none(), st.integers(min_value=-4000, max_value=4000))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seen=_times,
    presence_at=_times,
    connected=st.one_of(st.none(), st.booleans()),
    heartbeat=st.sampled_from([10, 60, 61, 300, 1000]),
    now_offset=st.integers(min_value=-10, max_value=5000),
)
def test_the_sql_rule_and_the_python_rule_agree(sql, seen, presence_at, connected, heartbeat, now_offset):
    """Offsets in half-seconds around T0, so the 1.5x and 3x boundaries are hit exactly."""

    def at(half_seconds: int | None) -> datetime | None:
        return None if half_seconds is None else T0 + timedelta(milliseconds=500 * half_seconds)

    now = T0 + timedelta(milliseconds=500 * now_offset)
    presence = Presence(connected, at(presence_at) or T0) if connected is not None else None
    sql_presence_at = presence.at if presence else None
    expected = connectivity_status(now, last_seen_at=at(seen), heartbeat_interval_s=heartbeat, presence=presence)
    row = sql.execute(
        "SELECT pulse_connectivity_status(%s, %s, %s, %s, %s)", (at(seen), heartbeat, connected, sql_presence_at, now)
    ).fetchone()
    assert row == (expected.value,)
