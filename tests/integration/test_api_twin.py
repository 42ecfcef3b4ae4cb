"""The twin over the API: read with an ETag, set desired under If-Match, history, settings, audit."""

from __future__ import annotations

import pytest

from tests.builders import ApiHarness, RecordingPublisher

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        sql.execute(
            "INSERT INTO devices (tenant_id, id, name, thing_name) VALUES (%s, 'pump-1', 'Pump', %s)",
            (tenant, f"{tenant}--pump-1"),
        )
    harness.publisher = RecordingPublisher()  # type: ignore[attr-defined]
    harness.client.app.state.twin_publisher = harness.publisher  # type: ignore[attr-defined]
    yield harness
    harness.close()


def _set(api, desired, version, **kwargs):
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return api.request("PATCH", "/devices/pump-1/twin", json={"state": {"desired": desired}}, headers=headers, **kwargs)


def test_a_new_device_has_an_empty_twin_at_version_0(api):
    response = api.request("GET", "/devices/pump-1/twin")
    assert response.status_code == 200, response.json()
    assert response.headers["ETag"] == '"0"'
    assert response.json()["version"] == 0


def test_setting_desired_returns_the_delta_and_sends_it_to_the_device(api):
    response = _set(api, {"fan": {"speed": 3}}, 0)
    assert response.status_code == 200, response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.json()["state"]["delta"] == {"fan": {"speed": 3}}
    [message] = api.publisher.sent
    assert message.topic == "tenant/acme/device/pump-1/twin/delta"
    assert message.payload["state"] == {"fan": {"speed": 3}} and message.payload["version"] == 1


def test_if_match_is_required_and_a_stale_one_is_refused_without_a_write(api):
    assert _set(api, {"mode": "eco"}, None).status_code == 428
    assert _set(api, {"mode": "eco"}, 0).status_code == 200
    stale = _set(api, {"mode": "boost"}, 0)
    assert stale.status_code == 409 and stale.json()["title"] == "Twin version conflict"
    assert stale.headers["content-type"].startswith("application/problem+json")
    twin = api.request("GET", "/devices/pump-1/twin").json()
    assert twin["state"]["desired"] == {"mode": "eco"} and twin["version"] == 1


def test_oversize_too_deep_and_false_predicate_are_refused_with_problem_bodies(api):
    assert _set(api, {"blob": "x" * 9000}, 0).status_code == 413
    deep = _set(api, {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}, 0)
    assert deep.status_code == 400
    assert deep.json()["errors"][0]["field"].startswith("state.desired.a.b.c.d.e.f")
    conditional = api.request(
        "PATCH",
        "/devices/pump-1/twin",
        json={"state": {"desired": {"mode": "eco"}}, "if": {"reported.mode": "boost"}},
        headers={"If-Match": '"0"'},
    )
    assert conditional.status_code == 412
    assert api.request("GET", "/devices/pump-1/twin").json()["version"] == 0
    assert api.publisher.sent == []


def test_viewers_read_but_may_not_set_desired(api):
    assert _set(api, {"mode": "eco"}, 0, as_=("customer_viewer", "acme")).status_code == 403
    assert api.request("GET", "/devices/pump-1/twin", as_=("customer_viewer", "acme")).status_code == 200


def test_another_tenants_device_twin_is_not_found(api, sql):
    sql.execute("DELETE FROM devices WHERE tenant_id = 'acme'")
    assert api.request("GET", "/devices/pump-1/twin").status_code == 404
    assert _set(api, {"mode": "eco"}, 0).status_code == 404
    assert api.request("GET", "/devices/pump-1/twin", as_=("customer_admin", "globex")).json()["version"] == 0


def test_history_pages_back_and_past_revisions_are_readable(api):
    for version, mode in enumerate(["eco", "boost", "off"]):
        assert _set(api, {"mode": mode}, version).status_code == 200
    first = api.request("GET", "/devices/pump-1/twin/history", params={"limit": 2}).json()
    assert [r["version"] for r in first["items"]] == [3, 2]
    rest = api.request(
        "GET", "/devices/pump-1/twin/history", params={"limit": 2, "before_version": first["next_before_version"]}
    ).json()
    assert [r["version"] for r in rest["items"]] == [1] and rest["next_before_version"] is None
    assert rest["items"][0]["source"] == "api"
    old = api.request("GET", "/devices/pump-1/twin", params={"revision": 2}).json()
    assert old["state"]["desired"] == {"mode": "boost"}


def test_desired_changes_and_settings_are_audited(api):
    _set(api, {"mode": "eco"}, 0)
    put = api.request("PUT", "/twin-settings", json={"auto_clear": True, "convergence_minutes": 5})
    assert put.status_code == 200, put.json()
    assert api.request("GET", "/twin-settings").json() == {"auto_clear": True, "convergence_minutes": 5}
    actions = {e["action"]: e for e in api.request("GET", "/audit").json()["items"]}
    assert actions["twin.desired.update"]["after"] == {"version": 1, "desired": {"mode": "eco"}}
    assert actions["twin.settings.update"]["before"] == {"auto_clear": False, "convergence_minutes": None}
    assert api.request("PUT", "/twin-settings", json={}, as_=("customer_viewer", "acme")).status_code == 403
