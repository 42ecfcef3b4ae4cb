"""Connectivity over the API: the status now, the history in keyset pages, 404 problem bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.connectivity.service import record_presence, sweep_connectivity
from tests.builders import ApiHarness, lifecycle_event

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        sql.execute(
            """INSERT INTO devices (tenant_id, id, name, thing_name, heartbeat_interval_s)
               VALUES (%s, 'pump-1', 'Pump', %s, 60)""",
            (tenant, f"{tenant}--pump-1"),
        )
    yield harness
    harness.close()


def test_a_connected_device_is_online_with_its_session_and_deadlines(api):
    now = datetime.now(UTC).replace(microsecond=0)
    record_presence(api.owner, lifecycle_event("acme--pump-1", "connected", at=now, session="s-9"))
    response = api.request("GET", "/devices/pump-1/connectivity")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ONLINE" and body["connected"] is True and body["session_id"] == "s-9"
    assert body["heartbeat_interval_s"] == 60 and body["last_seen_at"] is None
    assert datetime.fromisoformat(body["since"]) == now
    assert datetime.fromisoformat(body["stale_at"]) - now == timedelta(seconds=90, microseconds=1)


def test_a_disconnected_device_is_offline_with_the_reason(api):
    now = datetime.now(UTC).replace(microsecond=0)
    record_presence(api.owner, lifecycle_event("acme--pump-1", "connected", at=now - timedelta(seconds=5)))
    record_presence(
        api.owner, lifecycle_event("acme--pump-1", "disconnected", at=now, reason="SERVER_INITIATED_DISCONNECT")
    )
    body = api.request("GET", "/devices/pump-1/connectivity", as_=("customer_viewer", "acme")).json()
    assert body["status"] == "OFFLINE" and body["connected"] is False
    assert body["last_disconnect_reason"] == "SERVER_INITIATED_DISCONNECT"
    assert body["stale_at"] is None and body["offline_at"] is None


def test_a_device_never_heard_from_is_offline(api):
    body = api.request("GET", "/devices/pump-1/connectivity").json()
    assert body["status"] == "OFFLINE" and body["connected"] is None and body["since"] is None


def test_unknown_and_other_tenants_devices_are_404_problems(api):
    record_presence(api.owner, lifecycle_event("globex--pump-1", "connected"))
    for path in ("/devices/nope/connectivity", "/devices/nope/connectivity/history"):
        response = api.request("GET", path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 404
    history = api.request("GET", "/devices/pump-1/connectivity/history").json()
    assert history == {"items": [], "next_cursor": None}


def test_history_pages_newest_first_by_event_time(api):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    for i in range(5):
        record_presence(
            api.owner,
            lifecycle_event(
                "acme--pump-1", "connected", at=start + timedelta(minutes=2 * i), session=f"s-{i}", version=i
            ),
        )
        record_presence(
            api.owner,
            lifecycle_event(
                "acme--pump-1",
                "disconnected",
                at=start + timedelta(minutes=2 * i, seconds=30),
                session=f"s-{i}",
                version=i,
            ),
        )
    sweep_connectivity(api.owner, datetime.now(UTC))
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", "/devices/pump-1/connectivity/history", params=params).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    lifecycle = [(e["kind"], e["session_id"]) for e in seen if e["kind"] != "status"]
    assert lifecycle == [(kind, f"s-{i}") for i in reversed(range(5)) for kind in ("disconnected", "connected")]
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    assert len({e["id"] for e in seen}) == len(seen)
    assert seen[-1]["reason"] is None and seen[-2]["reason"] == "CONNECTION_LOST"


def test_a_cursor_from_another_list_is_a_400_problem(api):
    bad = api.request("GET", "/devices/pump-1/connectivity/history", params={"cursor": "bm9wZQ"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
