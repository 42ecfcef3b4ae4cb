"""Silences and maintenance over the API: validation, effect on what the evaluator raises, ending
early, audit, tenant isolation (also at the database: row-level security as pulse_app)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database, tenant_transaction
from tests.builders import ApiHarness, make_device
from tests.builders_alerts import raise_alert

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        make_device(sql, tenant, "dev-1")
    sql.execute("INSERT INTO sites (tenant_id, id, name) VALUES ('acme', 'plant-a', 'Plant A')")
    sql.execute("UPDATE devices SET site_id = 'plant-a' WHERE tenant_id = 'acme'")
    yield harness
    harness.close()


def _in(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_alert_opened_under_a_silence_is_silenced_and_unsilenced_after_it_ends(api, database_url, sql):
    created = api.request("POST", "/silences", json={"site_id": "plant-a", "ends_at": _in(60), "reason": "works"})
    assert created.status_code == 201, created.json()
    silence = created.json()
    assert silence["created_by"] == "customer_admin@acme.example"

    silenced = raise_alert(database_url)
    assert api.request("GET", f"/alerts/{silenced}").json()["silenced"] is True
    listed = api.request("GET", "/alerts", params={"silenced": "true"}).json()["items"]
    assert [a["id"] for a in listed] == [silenced]

    ended = api.request("DELETE", f"/silences/{silence['id']}")
    assert ended.status_code == 200 and datetime.fromisoformat(ended.json()["ends_at"]) <= datetime.now(UTC)
    assert api.request("DELETE", f"/silences/{silence['id']}").status_code == 409
    assert api.request("GET", "/silences", params={"active": "true"}).json()["items"] == []
    audited = [r[0] for r in sql.execute("SELECT action FROM audit_log WHERE entity_type = 'silence' ORDER BY id")]
    assert audited == ["silence.create", "silence.expire"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_at": "2999-01-01T00:00:00Z"}, "body"),  # no matcher
        ({"site_id": "plant-a", "starts_at": "2999-01-02T00:00:00Z", "ends_at": "2999-01-01T00:00:00Z"}, "body"),
        ({"site_id": "plant-a", "ends_at": "2999-01-01T00:00:00"}, "ends_at"),  # no offset
        ({"severities": ["loud"], "ends_at": "2999-01-01T00:00:00Z"}, "severities.0"),
        ({"site_id": "plant-a", "ends_at": "2999-01-01T00:00:00Z", "colour": "red"}, "colour"),
    ],
)
def test_invalid_silences_are_refused_with_the_field_named(api, body, field):
    response = api.request("POST", "/silences", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


def test_a_silence_that_already_ended_is_refused(api):
    response = api.request("POST", "/silences", json={"rule_id": "hot", "ends_at": _in(-5)})

    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "ends_at"


def test_device_in_maintenance_raises_no_alert_until_the_window_is_ended(api, database_url, sql):
    window = api.request("POST", "/maintenance", json={"device_id": "dev-1", "ends_at": _in(60), "reason": "swap"})
    assert window.status_code == 201, window.json()

    assert raise_alert(database_url) is None
    assert api.request("GET", "/alerts").json()["items"] == []
    active = api.request("GET", "/maintenance", params={"active": "true", "device_id": "dev-1"}).json()["items"]
    assert [w["id"] for w in active] == [window.json()["id"]]

    ended = api.request("POST", f"/maintenance/{window.json()['id']}/end")
    assert ended.status_code == 200 and ended.json()["ended_by"] == "customer_admin@acme.example"
    assert api.request("POST", f"/maintenance/{window.json()['id']}/end").status_code == 409
    raise_alert(database_url)
    assert len(api.request("GET", "/alerts").json()["items"]) == 1


def test_site_maintenance_covers_its_devices(api, database_url):
    assert api.request("POST", "/maintenance", json={"site_id": "plant-a", "ends_at": _in(30)}).status_code == 201

    assert raise_alert(database_url) is None


def test_maintenance_names_exactly_one_known_target(api):
    both = api.request("POST", "/maintenance", json={"device_id": "dev-1", "site_id": "plant-a", "ends_at": _in(5)})
    assert both.status_code == 422
    unknown = api.request("POST", "/maintenance", json={"device_id": "ghost", "ends_at": _in(5)})
    assert unknown.status_code == 404
    other_tenant = api.request(
        "POST", "/maintenance", json={"site_id": "plant-a", "ends_at": _in(5)}, as_=("customer_admin", "globex")
    )
    assert other_tenant.status_code == 404


def test_silences_and_windows_of_another_tenant_are_invisible(api):
    silence = api.request("POST", "/silences", json={"rule_id": "hot", "ends_at": _in(60)}).json()
    globex = ("customer_admin", "globex")

    assert api.request("GET", "/silences", as_=globex).json()["items"] == []
    assert api.request("GET", f"/silences/{silence['id']}", as_=globex).status_code == 404
    assert api.request("DELETE", f"/silences/{silence['id']}", as_=globex).status_code == 404


def test_row_level_security_hides_other_tenants_alert_rows(database_url, sql):
    for tenant in ("acme", "globex"):
        sql.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tenant, tenant))
        make_device(sql, tenant, "dev-1")
    raise_alert(database_url, "acme")
    app_db = Database(database_url, "pulse_app")
    try:
        with tenant_transaction(app_db, "globex") as conn:
            for table in ("alerts", "alert_events", "events_outbox"):
                assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
            updated = conn.execute("UPDATE alerts SET state = 'closed'").rowcount
        with tenant_transaction(app_db, "acme") as conn:
            assert conn.execute("SELECT state FROM alerts").fetchall() == [("open",)]
    finally:
        app_db.close()
    assert updated == 0
