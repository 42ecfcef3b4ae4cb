"""GET /dashboard: what a tenant's landing page shows, counted from the rows as ingest, the evaluator and
the sweeps leave them; only the caller's tenant. The row builders here are shared by the operator console
and NOC suites."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.builders import ApiHarness, make_device

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


# --- row builders (owner connection) ------------------------------------------------------------


def device(sql: psycopg.Connection, tenant: str, device_id: str, *, seen_ago: float | None, **columns: Any) -> None:
    """A device last heard from ``seen_ago`` seconds ago (None: never), heartbeat every 300 s."""
    make_device(sql, tenant, device_id, status=columns.pop("status", "active"))
    seen = datetime.now(UTC) - timedelta(seconds=seen_ago) if seen_ago is not None else None
    sets = {"last_seen_at": seen, **columns}
    sql.execute(
        f"UPDATE devices SET {', '.join(f'{k} = %s' for k in sets)} WHERE tenant_id = %s AND id = %s",
        (*[Jsonb(v) if isinstance(v, dict) else v for v in sets.values()], tenant, device_id),
    )


def messages(sql: psycopg.Connection, tenant: str, device_id: str, received_at: datetime, n: int = 1) -> None:
    """``n`` telemetry messages received at ``received_at`` (device timestamp the same)."""
    sql.execute("SELECT pulse_ensure_day_partition('telemetry_messages', %s)", (received_at.date(),))
    for _ in range(n):
        sql.execute(
            """INSERT INTO telemetry_messages (tenant_id, device_id, msg_key, ts, metric_count, source, received_at)
               VALUES (%s, %s, %s, %s, 1, 'mqtt', %s)""",
            (tenant, device_id, f"m-{next(_ids)}", received_at, received_at),
        )


def alert(
    sql: psycopg.Connection,
    tenant: str,
    device_id: str,
    *,
    severity: str = "major",
    state: str = "open",
    opened_at: datetime | None = None,
) -> str:
    """An alert with its ``opened`` timeline entry; returns its id."""
    rank = {"info": 1, "warning": 2, "minor": 3, "major": 4, "critical": 5}[severity]
    alert_id = f"al-{next(_ids)}"
    at = opened_at or datetime.now(UTC)
    sql.execute(
        """INSERT INTO alerts (tenant_id, id, fingerprint, rule_id, rule_version, rule_name, device_id, severity,
                               severity_rank, state, source, opened_at, episode_started_at, last_fired_at,
                               explanation, updated_at)
           VALUES (%s, %s, %s, 'hot', 1, 'Too hot', %s, %s, %s, %s, 'stream', %s, %s, %s, '{}', %s)""",
        (tenant, alert_id, f"hot/{device_id}/{alert_id}", device_id, severity, rank, state, at, at, at, at),
    )
    timeline(sql, tenant, alert_id, "opened", at)
    return alert_id


def timeline(sql: psycopg.Connection, tenant: str, alert_id: str, action: str, at: datetime) -> None:
    sql.execute(
        "INSERT INTO alert_events (tenant_id, alert_id, at, action, actor) VALUES (%s, %s, %s, %s, 'system')",
        (tenant, alert_id, at, action),
    )


def presence(sql: psycopg.Connection, tenant: str, device_id: str, status: str, at: datetime) -> None:
    sql.execute(
        """INSERT INTO device_connectivity_events (tenant_id, device_id, at, kind, status)
           VALUES (%s, %s, %s, 'status', %s)""",
        (tenant, device_id, at, status),
    )


# --- the dashboard --------------------------------------------------------------------------------


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("globex")
    yield harness
    harness.close()


def test_dashboard_counts_devices_by_connectivity_now(api, sql):
    device(sql, "acme", "d-online", seen_ago=10)
    device(sql, "acme", "d-stale", seen_ago=600)  # 1.5 x 300 s < 600 s <= 3 x 300 s
    device(sql, "acme", "d-offline", seen_ago=7200)
    device(sql, "acme", "d-never", seen_ago=None)
    device(sql, "acme", "d-revoked", seen_ago=10, status="revoked")
    device(sql, "globex", "g-online", seen_ago=10)

    body = api.request("GET", "/dashboard").json()

    assert body["tenant_id"] == "acme"
    assert body["devices"] == {"total": 4, "online": 1, "stale": 1, "offline": 1, "never": 1}


def test_dashboard_counts_open_alerts_by_severity(api, sql):
    for tenant, d in (("acme", "d-1"), ("globex", "g-1")):
        device(sql, tenant, d, seen_ago=10)
    alert(sql, "acme", "d-1", severity="critical")
    alert(sql, "acme", "d-1", severity="critical", state="snoozed")
    alert(sql, "acme", "d-1", severity="major", state="acknowledged")
    alert(sql, "acme", "d-1", severity="minor", state="resolved")
    alert(sql, "globex", "g-1", severity="critical")

    body = api.request("GET", "/dashboard").json()

    assert body["open_alerts"] == {"total": 3, "critical": 2, "major": 1, "minor": 0, "warning": 0, "info": 0}


def test_dashboard_ingest_rate_is_a_60_minute_series_and_the_last_minutes_rate(api, sql):
    for tenant, d in (("acme", "d-1"), ("globex", "g-1")):
        device(sql, tenant, d, seen_ago=10)
    now = datetime.now(UTC)
    five_ago = now - timedelta(minutes=5)
    messages(sql, "acme", "d-1", five_ago, n=3)
    messages(sql, "acme", "d-1", now - timedelta(seconds=20), n=6)
    messages(sql, "acme", "d-1", now - timedelta(minutes=90), n=4)  # before the window
    messages(sql, "globex", "g-1", five_ago, n=7)

    ingest = api.request("GET", "/dashboard").json()["ingest"]

    assert ingest["bucket_seconds"] == 60 and len(ingest["series"]) == 60
    starts = [datetime.fromisoformat(p["at"]) for p in ingest["series"]]
    assert starts == sorted(starts) and starts[-1] + timedelta(minutes=1) <= now
    bucket = five_ago.replace(second=0, microsecond=0)
    assert {datetime.fromisoformat(p["at"]): p["messages"] for p in ingest["series"]}[bucket] == 3
    assert ingest["per_second_now"] == round(6 / 60, 3)


def test_dashboard_recent_events_are_alert_steps_and_presence_changes_newest_first(api, sql, database_url):
    device(sql, "acme", "d-1", seen_ago=10)
    device(sql, "globex", "g-1", seen_ago=10)
    now = datetime.now(UTC)
    al = alert(sql, "acme", "d-1", severity="critical", opened_at=now - timedelta(minutes=3))
    timeline(sql, "acme", al, "commented", now - timedelta(minutes=2))  # not a lifecycle step
    timeline(sql, "acme", al, "acknowledged", now - timedelta(minutes=1))
    presence(sql, "acme", "d-1", "STALE", now - timedelta(seconds=30))
    alert(sql, "globex", "g-1", opened_at=now)
    presence(sql, "globex", "g-1", "OFFLINE", now)

    events = api.request("GET", "/dashboard").json()["recent_events"]

    assert [(e["kind"], e["event"]) for e in events] == [
        ("presence", "stale"),
        ("alert", "acknowledged"),
        ("alert", "opened"),
    ]
    assert {e["tenant_id"] for e in events} == {"acme"}
    assert events[1]["severity"] == "critical" and events[1]["detail"]["alert_id"] == al


def test_dashboard_recent_events_are_capped_at_20(api, sql):
    device(sql, "acme", "d-1", seen_ago=10)
    start = datetime.now(UTC) - timedelta(hours=1)
    for n in range(25):
        presence(sql, "acme", "d-1", "ONLINE" if n % 2 else "STALE", start + timedelta(minutes=n))

    events = api.request("GET", "/dashboard").json()["recent_events"]

    assert len(events) == 20
    assert events[0]["at"] > events[-1]["at"]


def test_viewers_read_the_dashboard_and_an_empty_tenant_is_all_zeros(api):
    response = api.request("GET", "/dashboard", as_=("customer_viewer", "globex"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["devices"]["total"] == 0 and body["open_alerts"]["total"] == 0
    assert sum(p["messages"] for p in body["ingest"]["series"]) == 0 and body["recent_events"] == []
