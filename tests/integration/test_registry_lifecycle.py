"""Subscriptions by date, plans feeding ingest limits, bulk import with dry-run, fleet filters and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.identity.scope import operator_transaction
from pulse.registry.models import Plan, SubscriptionStatus
from pulse.registry.schedule import run_registry_schedule
from pulse.registry.subscriptions import status_at
from tests.builders import ApiHarness

pytestmark = pytest.mark.integration
PLAN = Plan(
    id="p",
    name="P",
    device_limit=1,
    device_rate_per_minute=1,
    retention_days=1,
    api_rate_per_minute=1,
    grace_days=7,
    suspension_days=14,
)


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme", plan_id="trial")
    yield harness
    harness.close()


@pytest.mark.parametrize(
    ("days_after_end", "trial", "expected"),
    [
        (-1, True, "trial"),
        (-1, False, "active"),
        (0, False, "grace"),
        (6, True, "grace"),
        (7, False, "suspended"),
        (20, False, "suspended"),
        (21, False, "expired"),
        (400, True, "expired"),
    ],
)
def test_status_follows_the_dates(days_after_end, trial, expected):
    end = datetime(2026, 1, 1, tzinfo=UTC)
    assert status_at(
        end, trial, PLAN, end + timedelta(days=days_after_end, seconds=1 if days_after_end >= 0 else 0)
    ) is SubscriptionStatus(expected)


def test_new_tenant_is_in_trial_with_the_plan_limits_on_its_row(api, sql):
    assert api.request("GET", "/subscription").json()["status"] == "trial"
    row = sql.execute(
        "SELECT status, device_limit, device_rate_per_minute, api_rate_per_minute FROM tenants WHERE id = 'acme'"
    ).fetchone()
    assert row == ("trial", 50, 60, 600)


def test_schedule_moves_trial_to_grace_suspended_expired_and_ingest_follows(api, sql):
    now = datetime.now(UTC)
    steps = [
        (now + timedelta(days=31), "grace"),
        (now + timedelta(days=38), "suspended"),
        (now + timedelta(days=60), "expired"),
    ]
    for when, expected in steps:
        with operator_transaction(api.owner):
            pass
        result = run_registry_schedule(api.owner, api.identities, when)
        assert result["subscriptions"] == {"acme": expected}
        assert sql.execute("SELECT status FROM tenants WHERE id = 'acme'").fetchone() == (expected,)
    events = api.request("GET", "/subscription/events").json()["items"]
    assert [e["to_status"] for e in events] == ["expired", "suspended", "grace", "trial"]
    assert sql.execute("SELECT count(*) FROM audit_log WHERE action = 'subscription.lifecycle'").fetchone() == (3,)


def test_operator_admin_changes_plan_which_ends_the_trial_and_is_audited(api, sql):
    ends = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    as_op = ("operator_admin", None)
    response = api.request(
        "PUT",
        "/subscription",
        as_=as_op,
        headers={"X-Pulse-Tenant": "acme"},
        json={"plan_id": "enterprise", "ends_at": ends},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active" and response.json()["plan_id"] == "enterprise"
    assert sql.execute("SELECT device_rate_per_minute FROM tenants WHERE id = 'acme'").fetchone() == (1200,)
    audit = sql.execute(
        "SELECT actor, before->>'plan_id', after->>'plan_id' FROM audit_log WHERE action = 'subscription.change'"
    ).fetchone()
    assert audit == ("operator_admin@pulse.example", "trial", "enterprise")
    assert api.request("PUT", "/subscription", json={"plan_id": "enterprise"}).status_code == 403
    assert (
        api.request(
            "PUT", "/subscription", as_=as_op, headers={"X-Pulse-Tenant": "acme"}, json={"plan_id": "gold"}
        ).status_code
        == 404
    )


def test_operator_admin_creates_tenants_and_operators_list_them(api, sql):
    created = api.request("POST", "/tenants", as_=("operator_admin", None), json={"id": "initech", "name": "Initech"})
    assert created.status_code == 201 and created.json()["status"] == "trial"
    assert (
        api.request("POST", "/tenants", as_=("operator_admin", None), json={"id": "initech", "name": "x"}).status_code
        == 409
    )
    assert api.request("POST", "/tenants", as_=("operator", None), json={"id": "x1", "name": "x"}).status_code == 403
    ids = [t["id"] for t in api.request("GET", "/tenants", as_=("operator", None)).json()["items"]]
    assert ids == ["acme", "initech"]
    assert sql.execute(
        "SELECT actor FROM audit_log WHERE action = 'tenant.create' AND tenant_id = 'initech'"
    ).fetchone() == ("operator_admin@pulse.example",)


def test_customer_admin_renames_tenant_with_audit(api, sql):
    assert api.request("PATCH", "/tenant", json={"name": "ACME Corp"}).json()["name"] == "ACME Corp"
    assert sql.execute(
        "SELECT before->>'name', after->>'name' FROM audit_log WHERE action = 'tenant.update'"
    ).fetchone() == ("Acme", "ACME Corp")


CSV = """id,name,model,site_id,lat,tags
ok-1,First,M1,,,floor=1;zone=a
ok-2,Second,M2,,45.5,
bad id!,Broken,M1,,,
ok-3,Far,M1,,123,
ok-1,Dupe,M1,,,
ok-4,Nowhere,M1,mars,,
ok-5,Tags,M1,,,floor
"""


def test_bulk_import_dry_run_reports_each_bad_row_and_creates_nothing(api, sql):
    response = api.request(
        "POST",
        "/devices/import",
        params={"dry_run": "true"},
        content=CSV.encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["total"], report["valid"], report["invalid"], report["created"]) == (7, 2, 5, 0)
    bad = {r["row"]: r["errors"][0] for r in report["rows"] if r["status"] == "invalid"}
    assert set(bad) == {4, 5, 6, 7, 8}
    assert bad[4].startswith("id:") and bad[5].startswith("lat:") and "twice" in bad[6]
    assert bad[7].startswith("site_id:") and bad[8].startswith("tags")
    assert sql.execute("SELECT count(*) FROM devices").fetchone() == (0,)
    assert api.iot_client.list_things()["things"] == []


def test_bulk_import_creates_the_good_rows_with_things_and_audit(api, sql):
    report = api.request("POST", "/devices/import", content=CSV.encode(), headers={"content-type": "text/csv"}).json()
    assert report["created"] == 2
    assert sorted(r[0] for r in sql.execute("SELECT id FROM devices").fetchall()) == ["ok-1", "ok-2"]
    assert {t["thingName"] for t in api.iot_client.list_things()["things"]} == {"acme--ok-1", "acme--ok-2"}
    assert sql.execute("SELECT count(*) FROM audit_log WHERE action = 'device.import'").fetchone() == (2,)


def test_bulk_import_without_id_column_is_a_field_problem(api):
    response = api.request("POST", "/devices/import", content=b"name\nx\n", headers={"content-type": "text/csv"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


def test_bulk_import_past_the_device_limit_is_refused(api, sql):
    sql.execute("UPDATE tenants SET device_limit = 1 WHERE id = 'acme'")
    response = api.request("POST", "/devices/import", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 409 and "importing 2 devices" in response.json()["detail"]


def test_fleet_filters_sorts_pages_and_counts(api, sql):
    api.request("POST", "/sites", json={"id": "plant", "name": "Plant"})
    for i in range(12):
        body = {
            "id": f"dev-{i:02d}",
            "name": f"{'pump' if i % 2 else 'fan'} {i:02d}",
            "model": f"M{i % 3}",
            "firmware_version": "1.0" if i < 6 else "2.0",
            "tags": {"floor": str(i % 2)},
            **({"site_id": "plant"} if i % 4 == 0 else {}),
        }
        assert api.request("POST", "/devices", json={**body, "issue_certificate": False}).status_code == 201
    api.request("POST", "/devices/dev-03/revoke")
    sql.execute(
        "UPDATE devices SET last_seen_at = now() - (id_num || ' minutes')::interval FROM "
        "(SELECT id AS did, substr(id, 5)::int AS id_num FROM devices) x WHERE devices.id = x.did AND "
        "x.id_num % 3 = 0"
    )

    def ids(**params):
        return [d["id"] for d in api.request("GET", "/devices", params=params).json()["items"]]

    assert ids(status="revoked") == ["dev-03"]
    assert ids(site_id="plant", sort="id") == ["dev-00", "dev-04", "dev-08"]
    assert ids(model="M1", firmware_version="2.0", sort="id") == ["dev-07", "dev-10"]
    assert ids(tag="floor:1", q="pump 0", sort="id") == ["dev-01", "dev-03", "dev-05", "dev-07", "dev-09"]
    assert ids(q="DEV-1", sort="id", order="desc") == ["dev-11", "dev-10"]
    for sort in ("name", "model", "site_id", "last_seen_at", "created_at", "status", "firmware_version", "id"):
        for order in ("asc", "desc"):
            full = ids(sort=sort, order=order, limit=500)
            paged, cursor = [], None
            while True:
                params = {"sort": sort, "order": order, "limit": 5, **({"cursor": cursor} if cursor else {})}
                page = api.request("GET", "/devices", params=params).json()
                paged += [d["id"] for d in page["items"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert paged == full and len(full) == 12, (sort, order)
    counts = api.request("GET", "/devices/counts").json()
    assert counts["total"] == 12 and counts["by_status"] == {"active": 11, "revoked": 1}
    assert counts["by_site"] == {"plant": 3, "": 9}
    bad = api.request("GET", "/devices", params={"sort": "secret", "tag": "nocolon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("query")
    cursor = api.request("GET", "/devices", params={"limit": 1}).json()["next_cursor"]
    assert api.request("GET", "/devices", params={"sort": "model", "cursor": cursor}).status_code == 400
