"""The tenant-isolation matrix over every tenant-scoped endpoint, viewers on writes, operator audit,
and the audit log's query and export."""

from __future__ import annotations

import orjson
import pytest

from tests.builders import ApiHarness

pytestmark = pytest.mark.integration

# (method, path, body): every tenant-scoped endpoint, pointed at tenant B's objects.
READS = [
    ("GET", "/sites/b-site", None),
    ("GET", "/devices/b-dev", None),
]
WRITES = [
    ("PATCH", "/sites/b-site", {"name": "x"}),
    ("DELETE", "/sites/b-site", None),
    ("PATCH", "/devices/b-dev", {"name": "x"}),
    ("POST", "/devices/b-dev/token", None),
    ("POST", "/devices/b-dev/rotate", None),
    ("POST", "/devices/b-dev/revoke", None),
    ("POST", "/devices/b-dev/decommission", None),
    ("POST", "/devices/b-dev/activation-code", None),
]
CREATES = [
    ("POST", "/sites", {"id": "new-site", "name": "New"}),
    ("POST", "/devices", {"id": "new-dev"}),
    ("POST", "/devices/import?dry_run=true", None),
    ("PATCH", "/tenant", {"name": "Renamed"}),
]
LISTS = [
    "/sites",
    "/devices",
    "/devices/counts",
    "/audit",
    "/audit/export",
    "/subscription",
    "/subscription/events",
    "/tenant",
]


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("bravo")
    bravo = ("customer_admin", "bravo")
    assert harness.request("POST", "/sites", as_=bravo, json={"id": "b-site", "name": "B"}).status_code == 201
    assert harness.request("POST", "/devices", as_=bravo, json={"id": "b-dev", "site_id": "b-site"}).status_code == 201
    yield harness
    harness.close()


def _send(api, method, path, body, **kwargs):
    if path.startswith("/devices/import"):
        return api.request(
            method,
            path,
            content=b"id\nz1\n",
            headers={"content-type": "text/csv", **kwargs.pop("headers", {})},
            **kwargs,
        )
    return api.request(method, path, json=body, headers={"If-Match": '"1"', **kwargs.pop("headers", {})}, **kwargs)


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_tenant_a_gets_404_for_tenant_b_objects(api, sql, method, path, body):
    before = sql.execute("SELECT count(*), max(updated_at) FROM devices").fetchone()
    response = _send(api, method, path, body)
    assert response.status_code == 404, (path, response.json())
    assert response.headers["content-type"] == "application/problem+json"
    assert sql.execute("SELECT count(*), max(updated_at) FROM devices").fetchone() == before
    assert sql.execute(
        "SELECT count(*) FROM audit_log WHERE tenant_id = 'bravo' AND actor LIKE '%acme%'"
    ).fetchone() == (0,)


@pytest.mark.parametrize("path", LISTS)
def test_tenant_a_lists_never_show_tenant_b(api, path):
    response = api.request("GET", path)
    assert response.status_code == 200
    assert "bravo" not in response.text and "b-dev" not in response.text and "b-site" not in response.text


@pytest.mark.parametrize(("method", "path", "body"), WRITES + CREATES)
def test_viewer_gets_403_on_every_write(api, sql, method, path, body):
    audit_rows = sql.execute("SELECT count(*) FROM audit_log").fetchone()
    response = _send(api, method, path, body, as_=("customer_viewer", "bravo"))
    assert response.status_code == 403, (path, response.json())
    assert sql.execute("SELECT count(*) FROM audit_log").fetchone() == audit_rows


def test_viewer_reads(api):
    viewer = ("customer_viewer", "bravo")
    assert api.request("GET", "/devices/b-dev", as_=viewer).status_code == 200
    assert api.request("GET", "/sites", as_=viewer).json()["items"][0]["id"] == "b-site"


@pytest.mark.parametrize(("method", "path", "body"), READS + [("GET", p, None) for p in LISTS])
def test_operator_reads_are_in_the_operator_audit_log(api, sql, method, path, body):
    response = api.request(
        method,
        path,
        as_=("operator", None),
        headers={"X-Pulse-Tenant": "bravo", "User-Agent": "noc-console/2", "X-Request-Id": "op-req"},
    )
    assert response.status_code == 200, response.json()
    row = sql.execute(
        "SELECT tenant_id, operator, role, method, path, ip, user_agent, request_id "
        "FROM operator_audit ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row[:5] == ("bravo", "operator@pulse.example", "operator", method, "/api/v1" + path)
    assert row[5] and row[6] == "noc-console/2" and row[7] == "op-req"


def test_operator_must_name_an_existing_tenant(api):
    assert api.request("GET", "/devices", as_=("operator", None)).status_code == 400
    assert (
        api.request("GET", "/devices", as_=("operator", None), headers={"X-Pulse-Tenant": "nobody"}).status_code == 404
    )


def test_operator_writes_are_audited_as_the_operator(api, sql):
    response = api.request(
        "PATCH",
        "/devices/b-dev",
        as_=("operator", None),
        json={"name": "fixed"},
        headers={"X-Pulse-Tenant": "bravo", "If-Match": '"2"'},
    )
    assert response.status_code == 200, response.json()
    assert sql.execute("SELECT actor, actor_role FROM audit_log WHERE action = 'device.update'").fetchone() == (
        "operator@pulse.example",
        "operator",
    )


def test_operator_audit_is_listed_for_operators_and_visible_to_the_tenant(api):
    api.request("GET", "/devices", as_=("operator", None), headers={"X-Pulse-Tenant": "bravo"})
    listed = api.request("GET", "/operator-audit", as_=("operator", None), params={"tenant_id": "bravo"}).json()
    assert [e["path"] for e in listed["items"]] == ["/api/v1/devices"]
    assert api.request("GET", "/operator-audit").status_code == 403


def test_every_site_and_device_write_has_its_audit_row(api, sql):
    acme = ("customer_admin", "acme")
    api.request("POST", "/sites", as_=acme, json={"id": "s1", "name": "S"})
    api.request("PATCH", "/sites/s1", as_=acme, json={"timezone": "Europe/Paris"}, headers={"If-Match": '"1"'})
    api.request("POST", "/devices", as_=acme, json={"id": "d1", "site_id": "s1"})
    api.request(
        "PATCH", "/devices/d1", as_=acme, json={"site_id": None, "tags": {"a": "b"}}, headers={"If-Match": '"2"'}
    )
    assert api.request("DELETE", "/sites/s1", as_=acme, headers={"If-Match": '"2"'}).status_code == 204
    rows = sql.execute(
        "SELECT action, entity_id, before->>'timezone', after->>'timezone', after->'tags' "
        "FROM audit_log WHERE tenant_id = 'acme' AND entity_type IN ('site', 'device') ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == ["site.create", "site.update", "device.create", "device.update", "site.delete"]
    assert rows[1][2:4] == ("UTC", "Europe/Paris") and rows[3][4] == {"a": "b"}


def test_site_with_devices_cannot_be_deleted(api):
    bravo = ("customer_admin", "bravo")
    response = api.request("DELETE", "/sites/b-site", as_=bravo, headers={"If-Match": '"1"'})
    assert response.status_code == 409


def test_audit_query_filters_pages_and_exports(api):
    bravo = ("customer_admin", "bravo")
    for i in range(3):
        api.request("POST", "/sites", as_=bravo, json={"id": f"s{i}", "name": "S"})
    page = api.request("GET", "/audit", as_=bravo, params={"action": "site.create", "limit": 2}).json()
    assert [e["entity_id"] for e in page["items"]] == ["s2", "s1"]
    rest = api.request(
        "GET", "/audit", as_=bravo, params={"action": "site.create", "cursor": page["next_cursor"], "limit": 2}
    ).json()
    assert [e["entity_id"] for e in rest["items"]] == ["s0", "b-site"] and rest["next_cursor"] is None
    only = api.request("GET", "/audit", as_=bravo, params={"entity_type": "device", "entity_id": "b-dev"}).json()
    assert [e["action"] for e in only["items"]] == ["device.create"]
    export = api.request("GET", "/audit/export", as_=bravo, params={"entity_type": "site"})
    assert export.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in export.content.splitlines()]
    assert [e["entity_id"] for e in lines] == ["b-site", "s0", "s1", "s2"]
    assert api.request("GET", "/audit", as_=bravo, params={"since": "yesterday"}).status_code == 422
