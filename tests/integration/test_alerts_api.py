"""Alerts over the API: list filters and paging, detail with explanation, every action's allowed
transitions and 409s, timeline + audit + outbox per action, tenant isolation, problem bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.rules import Explanation, Resolved
from tests.builders import ApiHarness, make_device
from tests.builders_alerts import make_rule, raise_alert

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        make_device(sql, tenant, "dev-1")
        make_device(sql, tenant, "dev-2")
    yield harness
    harness.close()


def _post(api, alert_id, action, body=None, **kwargs):
    return api.request("POST", f"/alerts/{alert_id}/{action}", json=body, **kwargs)


def _events(sql, alert_id):
    return [
        r[0]
        for r in sql.execute("SELECT event_type FROM events_outbox WHERE correlation_id = %s ORDER BY id", (alert_id,))
    ]


def test_list_is_newest_first_with_filters_and_keyset_pages(api, database_url):
    t0 = datetime.now(UTC) - timedelta(hours=1)
    first = raise_alert(database_url, device_id="dev-1", at=t0)
    second = raise_alert(database_url, device_id="dev-2", at=t0 + timedelta(minutes=1))
    critical = raise_alert(database_url, rule=make_rule("smoke", severity="critical"), at=t0 + timedelta(minutes=2))

    page = api.request("GET", "/alerts", params={"limit": 2}).json()
    assert [a["id"] for a in page["items"]] == [critical, second]
    rest = api.request("GET", "/alerts", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [a["id"] for a in rest["items"]] == [first] and rest["next_cursor"] is None

    assert [a["id"] for a in api.request("GET", "/alerts", params={"severity": "critical"}).json()["items"]] == [
        critical
    ]
    by_device = api.request("GET", "/alerts", params={"device_id": "dev-2"}).json()["items"]
    assert [a["id"] for a in by_device] == [second]
    assert len(api.request("GET", "/alerts", params={"rule_id": "hot", "state": "open"}).json()["items"]) == 2
    assert api.request("GET", "/alerts", params={"silenced": "true"}).json()["items"] == []


def test_detail_carries_the_explanation_and_an_etag(api, database_url):
    alert_id = raise_alert(database_url)

    response = api.request("GET", f"/alerts/{alert_id}")

    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    body = response.json()
    assert body["state"] == "open" and body["explanation"]["condition"]["summary"] == "temp_c > 30"
    assert body["explanation"]["rule"]["id"] == "hot"


def test_acknowledge_records_timeline_audit_and_event_with_the_token_actor(api, database_url, sql):
    alert_id = raise_alert(database_url)

    response = _post(api, alert_id, "acknowledge", {"note": "on my way"}, as_=("customer_admin", "acme"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "customer_admin@acme.example"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    timeline = api.request("GET", f"/alerts/{alert_id}/timeline").json()["items"]
    assert [(e["action"], e["actor"], e["note"]) for e in timeline][-1] == (
        "acknowledged",
        "customer_admin@acme.example",
        "on my way",
    )
    [audit] = sql.execute(
        "SELECT action, before->>'state', after->>'state' FROM audit_log WHERE entity_id = %s", (alert_id,)
    ).fetchall()
    assert audit == ("alert.acknowledge", "open", "acknowledged")
    assert _events(sql, alert_id) == ["AlertOpened", "AlertAcknowledged"]


def test_each_action_moves_the_alert_and_refuses_what_its_state_does_not_allow(api, database_url, sql):
    alert_id = raise_alert(database_url)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    steps = [
        ("unacknowledge", None, 409, "open"),
        ("acknowledge", None, 200, "acknowledged"),
        ("acknowledge", None, 409, "acknowledged"),
        ("unacknowledge", None, 200, "open"),
        ("snooze", {"until": until}, 200, "snoozed"),
        ("snooze", {"until": until}, 409, "snoozed"),
        ("assign", {"assignee": "kim"}, 200, "snoozed"),
        ("comment", {"note": "vendor called"}, 200, "snoozed"),
        ("resolve", {"note": "fixed the fan"}, 200, "resolved"),
        ("resolve", None, 409, "resolved"),
        ("close", None, 200, "closed"),
        ("acknowledge", None, 409, "closed"),
        ("assign", {"assignee": "lee"}, 409, "closed"),
        ("comment", {"note": "post-mortem done"}, 200, "closed"),
        ("reopen", {"note": "it is back"}, 200, "open"),
    ]
    for action, body, status, state in steps:
        response = _post(api, alert_id, action, body)
        assert response.status_code == status, (action, response.json())
        if status == 409:
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["status"] == 409 and action in problem["detail"]
        assert api.request("GET", f"/alerts/{alert_id}").json()["state"] == state, action

    assert api.request("GET", f"/alerts/{alert_id}").json()["assignee"] == "kim"
    assert _events(sql, alert_id) == [
        "AlertOpened",
        "AlertAcknowledged",
        "AlertUnacknowledged",
        "AlertSnoozed",
        "AlertAssigned",
        "AlertCommented",
        "AlertResolved",
        "AlertClosed",
        "AlertCommented",
        "AlertReopened",
    ]
    actions = [
        e["action"] for e in api.request("GET", f"/alerts/{alert_id}/timeline", params={"limit": 500}).json()["items"]
    ]
    assert actions == [
        "opened",
        "acknowledged",
        "unacknowledged",
        "snoozed",
        "assigned",
        "commented",
        "resolved",
        "closed",
        "commented",
        "reopened",
    ]
    audited = [r[0] for r in sql.execute("SELECT action FROM audit_log WHERE entity_id = %s ORDER BY id", (alert_id,))]
    assert audited == [f"alert.{a}" for a, _, status, _ in steps if status == 200]


def test_reopen_is_refused_while_another_alert_of_the_same_rule_and_device_is_active(api, database_url):
    old = raise_alert(database_url, at=datetime.now(UTC) - timedelta(hours=2))
    assert _post(api, old, "close").status_code == 200
    raise_alert(database_url)  # the condition fired again: a new alert

    response = _post(api, old, "reopen")

    assert response.status_code == 409 and "active" in response.json()["detail"]


def test_stale_if_match_is_refused_without_a_change(api, database_url):
    alert_id = raise_alert(database_url)

    response = _post(api, alert_id, "acknowledge", headers={"If-Match": '"7"'})

    assert response.status_code == 412
    assert api.request("GET", f"/alerts/{alert_id}").json()["state"] == "open"
    assert _post(api, alert_id, "acknowledge", headers={"If-Match": '"1"'}).status_code == 200


def test_acknowledging_a_latched_alert_whose_condition_cleared_resolves_it(api, database_url, sql):
    from pulse.alerts import apply_transitions
    from pulse.db import Database

    rule = make_rule(latch=True)
    at = datetime.now(UTC) - timedelta(minutes=10)
    alert_id = raise_alert(database_url, rule=rule, at=at)
    ingest = Database(database_url, "pulse_ingest")
    with ingest.transaction() as conn:
        cleared = Resolved(at + timedelta(minutes=5), Explanation("clear", True, "temp_c back to 20"))
        apply_transitions(conn, tenant_id="acme", device_id="dev-1", rule=rule, transitions=[cleared])
    ingest.close()
    assert api.request("GET", f"/alerts/{alert_id}").json()["state"] == "open"

    body = _post(api, alert_id, "acknowledge").json()

    assert body["state"] == "resolved" and body["resolved_by"] == "customer_admin@acme.example"
    assert _events(sql, alert_id) == ["AlertOpened", "AlertAcknowledged", "AlertResolved"]


def test_latch_releaser_of_the_rules_plane_decides_when_the_condition_state_is_its_own(api, database_url):
    calls = []

    def releaser(conn, *, tenant_id, rule_id, device_id, at):
        calls.append((tenant_id, rule_id, device_id))
        return [Resolved(at, Explanation("latch", True, "released"), "released")]

    api.client.app.state.latch_releaser = releaser
    alert_id = raise_alert(database_url, rule=make_rule(latch=True))

    assert _post(api, alert_id, "acknowledge").json()["state"] == "resolved"
    assert calls == [("acme", "hot", "dev-1")]


def test_another_tenant_cannot_see_or_act_on_an_alert(api, database_url):
    alert_id = raise_alert(database_url, "acme")
    globex = ("customer_admin", "globex")

    assert api.request("GET", "/alerts", as_=globex).json()["items"] == []
    assert api.request("GET", f"/alerts/{alert_id}", as_=globex).status_code == 404
    assert api.request("GET", f"/alerts/{alert_id}/timeline", as_=globex).status_code == 404
    assert _post(api, alert_id, "acknowledge", as_=globex).status_code == 404
    assert api.request("GET", f"/alerts/{alert_id}").json()["state"] == "open"


def test_viewers_read_but_cannot_act(api, database_url):
    alert_id = raise_alert(database_url)
    viewer = ("customer_viewer", "acme")

    assert api.request("GET", f"/alerts/{alert_id}", as_=viewer).status_code == 200
    assert _post(api, alert_id, "acknowledge", as_=viewer).status_code == 403


def test_bad_input_gets_problem_bodies_naming_the_field(api, database_url):
    alert_id = raise_alert(database_url)

    past = _post(api, alert_id, "snooze", {"until": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()})
    assert past.status_code == 400 and past.json()["errors"][0]["field"] == "until"
    naive = _post(api, alert_id, "snooze", {"until": "2030-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "until"
    empty_comment = _post(api, alert_id, "comment", {"note": "  "})
    assert empty_comment.status_code == 422 and empty_comment.json()["errors"][0]["field"] == "note"
    assert api.request("GET", "/alerts", params={"severity": "loud"}).status_code == 422
    assert api.request("GET", "/alerts", params={"cursor": "garbage"}).status_code == 400
    missing = api.request("GET", "/alerts/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
