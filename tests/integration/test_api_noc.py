"""NOC: gauges, time series, the 7 x 24 alert heatmap, the live event feed and its cursor, the service
health strip; across tenants or one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.builders import ApiHarness
from tests.integration.test_api_dashboard import alert, device, messages, presence, timeline
from tests.integration.test_api_operator_console import quarantined

pytestmark = pytest.mark.integration
OPERATOR = ("operator", None)
_ids = itertools.count(1)


def dead_letter(sql: psycopg.Connection, tenant: str, at: datetime, *, error: str = "HTTP 500") -> str:
    """A delivery that ended dead at ``at`` after one failed attempt."""
    delivery_id = f"dlv-{next(_ids)}"
    sql.execute(
        """INSERT INTO deliveries (tenant_id, id, event_id, event_name, channel_id, status, send_at, attempts,
                                   last_error, created_at, dead_at)
           VALUES (%s, %s, %s, 'AlertOpened', 'chn-1', 'dead', %s, 1, %s, %s, %s)""",
        (tenant, delivery_id, f"ev-{delivery_id}", at, error, at, at),
    )
    attempt(sql, tenant, delivery_id, at, "permanent", 1)
    return delivery_id


def delivered(sql: psycopg.Connection, tenant: str, at: datetime, *, failures: int = 0) -> None:
    """A delivery that succeeded at ``at`` after ``failures`` retryable attempts."""
    delivery_id = f"dlv-{next(_ids)}"
    sql.execute(
        """INSERT INTO deliveries (tenant_id, id, event_id, event_name, channel_id, status, send_at, attempts,
                                   created_at, delivered_at)
           VALUES (%s, %s, %s, 'AlertOpened', 'chn-1', 'delivered', %s, %s, %s, %s)""",
        (tenant, delivery_id, f"ev-{delivery_id}", at, failures + 1, at, at),
    )
    for n in range(failures):
        attempt(sql, tenant, delivery_id, at, "retryable", n + 1)
    attempt(sql, tenant, delivery_id, at, "delivered", failures + 1)


def attempt(sql: psycopg.Connection, tenant: str, delivery_id: str, at: datetime, status: str, n: int) -> None:
    sql.execute(
        """INSERT INTO delivery_attempts (tenant_id, delivery_id, attempt_no, started_at, finished_at, status)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (tenant, delivery_id, n, at, at, status),
    )


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("globex")
    yield harness
    harness.close()


def _get(api, path, **params):
    response = api.request("GET", path, as_=OPERATOR, params=params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_customers_get_403_on_noc_endpoints(api):
    paths = ["/noc/summary", "/noc/timeseries", "/noc/heatmap", "/noc/events", "/noc/health"]
    refused = {
        (role, path): api.request("GET", path, as_=(role, "acme"), params={"tenant_id": "acme"}).status_code
        for role in ("customer_viewer", "customer_admin")
        for path in paths
    }

    assert set(refused.values()) == {403}


# --- summary, series, heatmap -----------------------------------------------------------------------


def test_summary_gauges_across_tenants_and_for_one(api, sql):
    now = datetime.now(UTC)
    device(sql, "acme", "a-1", seen_ago=10)
    device(sql, "acme", "a-2", seen_ago=10)
    device(sql, "acme", "a-3", seen_ago=7200)
    device(sql, "globex", "g-1", seen_ago=None)
    alert(sql, "acme", "a-1", severity="critical")
    alert(sql, "globex", "g-1", severity="info", state="acknowledged")
    messages(sql, "acme", "a-1", now - timedelta(seconds=30), n=90)
    messages(sql, "globex", "g-1", now - timedelta(seconds=30), n=30)
    messages(sql, "acme", "a-1", now - timedelta(minutes=3), n=500)  # not the last minute
    dead_letter(sql, "acme", now - timedelta(minutes=10))
    dead_letter(sql, "acme", now - timedelta(hours=2))  # before the last hour
    delivered(sql, "globex", now - timedelta(minutes=5), failures=2)

    everyone = _get(api, "/noc/summary")
    globex = _get(api, "/noc/summary", tenant_id="globex")

    assert everyone["devices"] == {"total": 4, "online": 2, "stale": 0, "offline": 1, "never": 1}
    assert everyone["online_percent"] == 50.0
    assert everyone["ingest_per_second"] == 2.0
    assert everyone["open_alerts"]["total"] == 2 and everyone["open_alerts"]["critical"] == 1
    assert everyone["delivery_failures_last_hour"] == {"failed_attempts": 3, "dead_letters": 1}
    assert globex["online_percent"] == 0.0 and globex["ingest_per_second"] == 0.5
    assert globex["delivery_failures_last_hour"] == {"failed_attempts": 2, "dead_letters": 0}


def test_summary_of_an_empty_platform_has_no_online_percent(api):
    body = _get(api, "/noc/summary")

    assert body["online_percent"] is None and body["devices"]["total"] == 0


@pytest.mark.parametrize(("minutes", "points", "bucket"), [(60, 60, 60), (360, 72, 300), (1440, 96, 900)])
def test_timeseries_buckets_by_window(api, sql, minutes, points, bucket):
    device(sql, "acme", "a-1", seen_ago=10)
    at = datetime.now(UTC) - timedelta(minutes=minutes // 2)
    messages(sql, "acme", "a-1", at, n=4)
    alert(sql, "acme", "a-1", opened_at=at)
    delivered(sql, "acme", at, failures=1)
    dead_letter(sql, "acme", at)

    body = _get(api, "/noc/timeseries", minutes=minutes)

    assert body["bucket_seconds"] == bucket and len(body["points"]) == points
    starts = [datetime.fromisoformat(p["at"]) for p in body["points"]]
    assert all(b - a == timedelta(seconds=bucket) for a, b in itertools.pairwise(starts))
    [hit] = [p for p in body["points"] if p["ingest_messages"]]
    assert hit == {
        "at": hit["at"],
        "ingest_messages": 4,
        "alerts_opened": 1,
        "deliveries_succeeded": 1,
        "deliveries_failed": 2,
        "dead_letters": 1,
    }
    assert datetime.fromisoformat(hit["at"]) <= at < datetime.fromisoformat(hit["at"]) + timedelta(seconds=bucket)


def test_timeseries_for_one_tenant_and_only_the_offered_windows(api, sql):
    device(sql, "globex", "g-1", seen_ago=10)
    messages(sql, "globex", "g-1", datetime.now(UTC) - timedelta(minutes=10), n=3)

    acme = _get(api, "/noc/timeseries", tenant_id="acme")

    assert sum(p["ingest_messages"] for p in acme["points"]) == 0
    assert api.request("GET", "/noc/timeseries", as_=OPERATOR, params={"minutes": 30}).status_code == 422


def test_heatmap_is_a_full_7_by_24_matrix_of_alerts_opened(api, sql):
    device(sql, "acme", "a-1", seen_ago=10)
    now = datetime.now(UTC)
    days_back = (now - timedelta(days=k) for k in range(8))
    wednesday_14h = next(
        d
        for d in (day.replace(hour=14, minute=5, second=0, microsecond=0) for day in days_back)
        if d.weekday() == 2 and now - timedelta(days=7) < d <= now
    )
    for _ in range(3):
        alert(sql, "acme", "a-1", opened_at=wednesday_14h)
    alert(sql, "acme", "a-1", opened_at=now - timedelta(days=20))

    week = _get(api, "/noc/heatmap")
    month = _get(api, "/noc/heatmap", days=28)

    assert week["day_labels"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert len(week["matrix"]) == 7 and all(len(row) == 24 for row in week["matrix"])
    assert week["matrix"][2][14] == 3 and week["total"] == 3 and week["max"] == 3
    assert month["total"] == 4
    assert _get(api, "/noc/heatmap", tenant_id="globex")["total"] == 0
    assert api.request("GET", "/noc/heatmap", as_=OPERATOR, params={"days": 5}).status_code == 422


# --- the event feed ---------------------------------------------------------------------------------


def test_events_are_newest_first_across_kinds_and_tenants(api, sql):
    device(sql, "acme", "a-1", seen_ago=10)
    device(sql, "globex", "g-1", seen_ago=10)
    now = datetime.now(UTC)
    al = alert(sql, "acme", "a-1", severity="critical", opened_at=now - timedelta(minutes=4))
    timeline(sql, "acme", al, "commented", now - timedelta(minutes=3))
    quarantined(sql, "globex", "malformed_json", at=now - timedelta(minutes=3))
    dead_letter(sql, "acme", now - timedelta(minutes=2), error="HTTP 410 Gone")
    presence(sql, "globex", "g-1", "OFFLINE", now - timedelta(minutes=1))

    body = _get(api, "/noc/events")

    assert [(e["kind"], e["event"], e["tenant_id"]) for e in body["items"]] == [
        ("presence", "offline", "globex"),
        ("dead_letter", "dead_letter", "acme"),
        ("quarantine", "malformed_json", "globex"),
        ("alert", "opened", "acme"),
    ]
    assert "HTTP 410 Gone" in body["items"][1]["summary"] and body["has_more"] is False
    only = _get(api, "/noc/events", tenant_id="acme", kind=["alert", "dead_letter"])
    assert [e["kind"] for e in only["items"]] == ["dead_letter", "alert"]


def test_events_cursor_returns_only_newer_events(api, sql):
    device(sql, "acme", "a-1", seen_ago=10)
    now = datetime.now(UTC)
    alert(sql, "acme", "a-1", opened_at=now - timedelta(minutes=5))
    first = _get(api, "/noc/events")
    assert len(first["items"]) == 1

    assert _get(api, "/noc/events", after=first["cursor"])["items"] == []
    late = now - timedelta(minutes=10)  # stamped earlier than what was shown, stored after it
    presence(sql, "acme", "a-1", "STALE", late)
    quarantined(sql, "acme", "bad_metric", at=now - timedelta(seconds=1))
    dead_letter(sql, "acme", now)

    second = _get(api, "/noc/events", after=first["cursor"])

    assert [e["kind"] for e in second["items"]] == ["dead_letter", "quarantine", "presence"]
    assert _get(api, "/noc/events", after=second["cursor"])["items"] == []


def test_events_poll_in_chunks_when_more_than_limit_are_newer(api, sql):
    device(sql, "acme", "a-1", seen_ago=10)
    start = _get(api, "/noc/events")["cursor"]
    base = datetime.now(UTC) - timedelta(minutes=30)
    for n in range(5):
        presence(sql, "acme", "a-1", "ONLINE", base + timedelta(minutes=n))

    seen: list[str] = []
    cursor, more = start, True
    while more:
        page = _get(api, "/noc/events", after=cursor, limit=2)
        seen += [e["id"] for e in reversed(page["items"])]
        cursor, more = page["cursor"], page["has_more"]

    assert len(seen) == 5 and len(set(seen)) == 5


def test_a_cursor_from_elsewhere_is_a_400(api):
    response = api.request("GET", "/noc/events", as_=OPERATOR, params={"after": "bm90LWEtY3Vyc29y"})

    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "after"


# --- service health ---------------------------------------------------------------------------------


def test_health_lists_every_service_with_its_measure_and_thresholds(api, sql):
    device(sql, "acme", "a-1", seen_ago=20)

    body = _get(api, "/noc/health")

    services = {s["service"]: s for s in body["services"]}
    assert list(services) == ["ingest", "evaluator", "outbox", "delivery", "escalation", "connectivity_sweep"]
    assert body["status"] == "ok" and {s["status"] for s in services.values()} == {"ok"}
    assert 15 <= services["ingest"]["measure"] < 120
    assert (services["ingest"]["degraded_at"], services["ingest"]["down_at"]) == (300, 900)
    assert services["delivery"]["unit"] == "count" and services["delivery"]["measure"] == 0


def test_health_turns_degraded_or_down_from_what_the_database_shows(api, sql):
    now = datetime.now(UTC)
    device(sql, "acme", "a-1", seen_ago=400)  # ingest quiet for 400 s: degraded
    sql.execute(  # the device is still ONLINE (400 s <= 1.5 x 300 s), as stored: the sweep is not behind
        """INSERT INTO device_connectivity (tenant_id, device_id, status, status_since)
           VALUES ('acme', 'a-1', 'ONLINE', now() - interval '1 hour')"""
    )
    sql.execute(
        """INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail, created_at)
           VALUES ('acme', 'AlertOpened', 'c-1', %s, '{}', %s)""",
        (now - timedelta(minutes=15), now - timedelta(minutes=15)),
    )
    for _ in range(25):
        dead_letter(sql, "globex", now - timedelta(minutes=5))

    body = _get(api, "/noc/health")
    acme = _get(api, "/noc/health", tenant_id="acme")

    services = {s["service"]: s for s in body["services"]}
    assert services["ingest"]["status"] == "degraded"
    assert services["outbox"]["status"] == "down" and services["outbox"]["measure"] >= 900
    assert services["delivery"]["status"] == "down" and services["delivery"]["measure"] == 25
    assert services["connectivity_sweep"]["status"] == "ok"
    assert body["status"] == "down"
    assert {s["service"]: s["status"] for s in acme["services"]}["delivery"] == "ok"


def test_health_sees_a_connectivity_sweep_that_fell_behind(api, sql):
    device(sql, "acme", "a-1", seen_ago=1500)  # OFFLINE since 1500 - 900 = 600 s, still stored ONLINE
    sql.execute(
        """INSERT INTO device_connectivity (tenant_id, device_id, status, status_since)
           VALUES ('acme', 'a-1', 'ONLINE', now() - interval '1 hour')"""
    )

    sweep = {s["service"]: s for s in _get(api, "/noc/health")["services"]}["connectivity_sweep"]

    assert sweep["status"] == "degraded" and 590 <= sweep["measure"] < 700
    assert sweep["detail"].startswith("1 device")
