"""Saved fleet filters (who sees and deletes which, validated against GET /devices) and bulk tagging
(counts, unknown ids reported, one audit row per changed device)."""

from __future__ import annotations

import pytest

from tests.builders import ApiHarness, make_device

pytestmark = pytest.mark.integration
ADMIN = ("customer_admin", "acme")
VIEWER = ("customer_viewer", "acme")


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("globex")
    yield harness
    harness.close()


def _as_user(api, role: str, tenant: str, sub: str) -> dict[str, str]:
    """Headers of one particular user (the harness's default subject is one per role and tenant)."""
    return {"Authorization": f"Bearer {api.issuer.token(role=role, tenant=tenant, sub=sub)}"}


def _save(api, name: str, *, scope: str = "personal", query: dict | None = None, as_=ADMIN, headers=None):
    body = {"name": name, "scope": scope, "query": query if query is not None else {"status": ["active"]}}
    return api.request("POST", "/saved-filters", json=body, as_=as_, headers=headers)


def _names(api, **kwargs) -> list[str]:
    response = api.request("GET", "/saved-filters", **kwargs)
    assert response.status_code == 200, response.json()
    return [f["name"] for f in response.json()["items"]]


# --- saved filters ----------------------------------------------------------------------------------


def test_a_viewer_saves_a_personal_filter_that_only_they_see(api):
    alice = _as_user(api, "customer_viewer", "acme", "alice")
    bob = _as_user(api, "customer_viewer", "acme", "bob")

    created = _save(api, "My pumps", query={"q": "pump", "tag": ["env:prod"], "sort": "last_seen_at"}, headers=alice)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["scope"] == "personal" and body["can_delete"] is True
    assert body["query"] == {
        "status": [],
        "site_id": [],
        "model": [],
        "firmware_version": [],
        "tag": ["env:prod"],
        "q": "pump",
        "sort": "last_seen_at",
        "order": "asc",
    }
    assert _names(api, headers=alice) == ["My pumps"]
    assert _names(api, headers=bob) == []


def test_a_viewer_may_not_share_a_filter_with_the_tenant(api):
    response = _save(api, "Everyone's view", scope="tenant", as_=VIEWER)

    assert response.status_code == 403
    assert response.json()["detail"].startswith("scope:")


def test_a_shared_filter_is_seen_by_everyone_in_the_tenant_and_no_one_else(api):
    assert _save(api, "Offline gateways", scope="tenant").status_code == 201
    bob = _as_user(api, "customer_viewer", "acme", "bob")

    listed = api.request("GET", "/saved-filters", headers=bob).json()["items"]

    assert [(f["name"], f["scope"], f["can_delete"]) for f in listed] == [("Offline gateways", "tenant", False)]
    assert _names(api, as_=("customer_admin", "globex")) == []
    assert _names(api, as_=("customer_viewer", "globex")) == []


def test_tenant_b_cannot_delete_tenant_a_filters(api):
    created = _save(api, "Mine", scope="tenant").json()

    response = api.request("DELETE", f"/saved-filters/{created['id']}", as_=("customer_admin", "globex"))

    assert response.status_code == 404
    assert _names(api) == ["Mine"]


def test_list_filters_by_scope_and_in_pages_by_name(api):
    for name in ("charlie", "alpha", "bravo"):
        assert _save(api, name).status_code == 201
    assert _save(api, "shared", scope="tenant").status_code == 201

    assert _names(api, params={"scope": "tenant"}) == ["shared"]
    first = api.request("GET", "/saved-filters", params={"scope": "personal", "limit": 2}).json()
    second = api.request(
        "GET", "/saved-filters", params={"scope": "personal", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [f["name"] for f in first["items"]] == ["alpha", "bravo"]
    assert [f["name"] for f in second["items"]] == ["charlie"] and second["next_cursor"] is None


BAD_QUERIES = [
    ({"limit": 10}, "query.limit"),
    ({"cursor": "abc"}, "query.cursor"),
    ({"colour": "red"}, "query.colour"),
    ({"status": ["sleeping"]}, "query.status.0"),
    ({"sort": "temperature"}, "query.sort"),
    ({"tag": ["no-colon"]}, "query.tag"),
    ({"q": "x" * 101}, "query.q"),
]


def test_the_stored_query_takes_only_what_the_device_list_accepts(api):
    for query, field in BAD_QUERIES:
        response = _save(api, "bad", query=query)

        assert response.status_code == 422, query
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert _names(api) == []


def test_saved_filter_fields_are_the_device_lists_filter_parameters(api):
    from pulse.dashboard.models import FleetFilter

    spec = api.client.get("/api/v1/openapi.json").json()
    listed = {p["name"] for p in spec["paths"]["/api/v1/devices"]["get"]["parameters"] if p["in"] == "query"}

    assert set(FleetFilter.model_fields) == listed - {"limit", "cursor"}


def test_a_name_is_used_once_per_owner(api):
    assert _save(api, "Pumps").status_code == 201
    assert _save(api, "pumps").status_code == 409
    assert _save(api, "pumps", scope="tenant").status_code == 201  # shared names are their own namespace


def test_who_deletes_which_filter(api, sql):
    alice = _as_user(api, "customer_viewer", "acme", "alice")
    bob = _as_user(api, "customer_viewer", "acme", "bob")
    personal = _save(api, "Alice's", headers=alice).json()["id"]
    shared = _save(api, "Team", scope="tenant").json()["id"]

    assert api.request("DELETE", f"/saved-filters/{personal}", headers=bob).status_code == 404
    assert api.request("DELETE", f"/saved-filters/{personal}", as_=ADMIN).status_code == 404
    assert api.request("DELETE", f"/saved-filters/{shared}", headers=alice).status_code == 403
    assert api.request("DELETE", f"/saved-filters/{personal}", headers=alice).status_code == 204
    assert api.request("DELETE", f"/saved-filters/{shared}", as_=ADMIN).status_code == 204
    assert _names(api) == [] and _names(api, headers=alice) == []
    actions = sql.execute(
        "SELECT action, entity_id FROM audit_log WHERE entity_type = 'saved_filter' ORDER BY id"
    ).fetchall()
    assert actions == [
        ("saved_filter.create", personal),
        ("saved_filter.create", shared),
        ("saved_filter.delete", personal),
        ("saved_filter.delete", shared),
    ]


# --- bulk tagging -----------------------------------------------------------------------------------


@pytest.fixture
def fleet(api, sql):
    for device_id in ("d-1", "d-2", "d-3"):
        make_device(sql, "acme", device_id)
    sql.execute('UPDATE devices SET tags = \'{"old": "x", "room": "1"}\' WHERE tenant_id = \'acme\'')
    make_device(sql, "globex", "g-1")
    return api


def _bulk(api, body, as_=ADMIN, **kwargs):
    return api.request("POST", "/devices:bulk-tag", json=body, as_=as_, **kwargs)


def test_bulk_tag_sets_and_removes_and_reports_unknown_ids(fleet, sql):
    response = _bulk(
        fleet, {"device_ids": ["d-1", "nope", "d-2", "g-1", "d-1"], "set": {"env": "prod"}, "remove": ["old"]}
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "requested": 4,
        "updated": 2,
        "unchanged": 0,
        "not_found": ["nope", "g-1"],
        "refused": [],
    }
    tags = dict(sql.execute("SELECT id, tags FROM devices WHERE tenant_id = 'acme' ORDER BY id").fetchall())
    assert tags == {
        "d-1": {"env": "prod", "room": "1"},
        "d-2": {"env": "prod", "room": "1"},
        "d-3": {"old": "x", "room": "1"},
    }
    assert sql.execute("SELECT tags FROM devices WHERE tenant_id = 'globex'").fetchone()[0] == {}
    listed = fleet.request("GET", "/devices", params={"tag": "env:prod"}).json()["items"]
    assert [d["id"] for d in listed] == ["d-1", "d-2"]


def test_bulk_tag_writes_one_audit_row_and_a_new_version_per_changed_device(fleet, sql):
    _bulk(fleet, {"device_ids": ["d-1"], "set": {"env": "prod"}})

    response = _bulk(fleet, {"device_ids": ["d-1", "d-2"], "set": {"env": "prod"}})

    assert response.json()["updated"] == 1 and response.json()["unchanged"] == 1
    rows = sql.execute(
        "SELECT entity_id, actor_role, before->'tags', after->'tags', after->'version' FROM audit_log "
        "WHERE action = 'device.bulk_tag' ORDER BY id"
    ).fetchall()
    assert rows == [
        ("d-1", "customer_admin", {"old": "x", "room": "1"}, {"old": "x", "room": "1", "env": "prod"}, 2),
        ("d-2", "customer_admin", {"old": "x", "room": "1"}, {"old": "x", "room": "1", "env": "prod"}, 2),
    ]
    assert fleet.request("GET", "/devices/d-1").headers["etag"] == '"2"'


def test_bulk_tag_refuses_a_device_it_would_take_over_50_tags(fleet, sql):
    sql.execute(
        "UPDATE devices SET tags = (SELECT jsonb_object_agg('k' || n, 'v') FROM generate_series(1, 50) n) "
        "WHERE id = 'd-3'"
    )

    body = _bulk(fleet, {"device_ids": ["d-1", "d-3"], "set": {"env": "prod"}}).json()

    assert body["updated"] == 1
    assert [r["device_id"] for r in body["refused"]] == ["d-3"] and "51 tags" in body["refused"][0]["reason"]


@pytest.mark.parametrize(
    "as_",
    [("customer_viewer", "acme"), ("operator", None)],
)
def test_bulk_tag_is_for_administrators(fleet, sql, as_):
    headers = {"X-Pulse-Tenant": "acme"} if as_[0] == "operator" else None

    response = _bulk(fleet, {"device_ids": ["d-1"], "set": {"env": "prod"}}, as_=as_, headers=headers)

    assert response.status_code == 403
    assert sql.execute("SELECT count(*) FROM audit_log WHERE action = 'device.bulk_tag'").fetchone()[0] == 0


BAD_BULK_TAGS = [
    {"device_ids": [f"d-{n}" for n in range(1001)], "set": {"env": "prod"}},
    {"device_ids": [], "set": {"env": "prod"}},
    {"device_ids": ["d-1"]},
    {"device_ids": ["d-1"], "set": {"env": "prod"}, "remove": ["env"]},
    {"device_ids": ["d-1"], "set": {"bad key!": "x"}},
    {"device_ids": ["d-1"], "set": {"env": "prod"}, "tags": {}},
]


def test_bulk_tag_refuses_bad_requests_with_a_problem(fleet, sql):
    for body in BAD_BULK_TAGS:
        response = _bulk(fleet, body)

        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    assert sql.execute("SELECT count(*) FROM audit_log WHERE action = 'device.bulk_tag'").fetchone()[0] == 0
