"""Escalation over the API: contact methods checked and audited, an SMS send-test through SNS (moto),
the personal policy under If-Match, escalation policies CRUD, a route starting one, and an alert's
escalation after a tick; problem bodies for every refusal; another person's contacts are theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database
from pulse.escalation.engine import tick
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.service import route_event
from tests.builders import ApiHarness, make_device
from tests.builders_alerts import raise_alert
from tests.integration.notify_fixtures import DirectStarter, NoMail, RecordingMqtt, alert_event, sealer

pytestmark = pytest.mark.integration
ALICE = ("customer_viewer", "acme")  # sub and username: user-customer_viewer-acme
ALICE_NAME = "user-customer_viewer-acme"


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
    harness.key = sealer()
    harness.mqtt = RecordingMqtt()
    app = harness.client.app
    app.state.notify_sealer = harness.key
    app.state.notify_senders = SenderPorts(mailer=NoMail(), mqtt=harness.mqtt, email_from="pulse@example.com")
    harness.ingest = Database(database_url, "pulse_ingest")
    yield harness
    harness.ingest.close()
    harness.close()


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_contact_methods_are_checked_owned_and_audited(api, sql):
    sms = api.request(
        "POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "sms", "address": "+49 151 1234567"}
    )
    assert sms.status_code == 201, sms.text
    assert sms.json()["address"] == "+491511234567" and sms.json()["username"] == ALICE_NAME
    bad = api.request("POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "sms", "address": "0151 1234"})
    assert "address" in _problem(bad, 422)["detail"]
    mail = api.request("POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "email", "address": "a@b"})
    assert "address" in _problem(mail, 422)["detail"]
    slack = api.request("POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "slack", "address": "U0123ABCD"})
    assert "slack_webhook_url" in _problem(slack, 422)["detail"]
    again = api.request(
        "POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "sms", "address": "+491511234567"}
    )
    _problem(again, 409)

    other = api.request("GET", f"/users/{ALICE_NAME}/contact-methods", as_=("customer_viewer", "acme"), headers={})
    assert [m["kind"] for m in other.json()] == ["sms"]
    _problem(api.request("GET", "/users/bob/contact-methods", as_=ALICE), 403)
    assert api.request("GET", f"/users/{ALICE_NAME}/contact-methods").json()[0]["id"] == sms.json()["id"]  # admin
    assert api.request("GET", "/users/me/contact-methods", as_=("customer_admin", "globex")).json() == []
    # a person's contact method is theirs: not listed, read or deleted as a team channel
    assert sms.json()["id"] not in [c["id"] for c in api.request("GET", "/channels").json()["items"]]
    _problem(api.request("GET", f"/channels/{sms.json()['id']}"), 404)
    _problem(api.request("DELETE", f"/channels/{sms.json()['id']}", headers={"If-Match": '"1"'}), 404)

    test = api.request("POST", f"/users/me/contact-methods/{sms.json()['id']}/test", as_=ALICE)
    assert test.status_code == 200 and test.json()["status"] == "delivered", test.text  # SNS publish (moto)
    audit = sql.execute("SELECT action FROM audit_log WHERE tenant_id = 'acme' ORDER BY id").fetchall()
    assert ("contact_method.create",) in audit and ("channel.test",) in audit


def test_personal_policy_names_own_methods_and_replaces_under_if_match(api):
    sms = api.request("POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "sms", "address": "+491511234567"})
    mail = api.request(
        "POST", "/users/me/contact-methods", as_=ALICE, json={"kind": "email", "address": "alice@example.com"}
    )
    _problem(api.request("GET", "/users/me/notification-policy", as_=ALICE), 404)
    rules = {
        "default": [
            {"contact_method_id": sms.json()["id"]},
            {"contact_method_id": mail.json()["id"], "wait_minutes": 5},
        ]
    }
    put = api.request("PUT", "/users/me/notification-policy", as_=ALICE, json=rules)
    assert put.status_code == 200 and put.headers["ETag"] == '"1"', put.text
    _problem(api.request("PUT", "/users/me/notification-policy", as_=ALICE, json=rules), 428)
    foreign = {"default": [{"contact_method_id": "chn_someone_else"}]}
    _problem(
        api.request("PUT", "/users/me/notification-policy", as_=ALICE, json=foreign, headers={"If-Match": '"1"'}), 422
    )
    in_use = api.request("DELETE", f"/users/me/contact-methods/{mail.json()['id']}", as_=ALICE)
    _problem(in_use, 409)


def test_a_route_starts_a_policy_and_the_alert_shows_its_escalation(api, sql, database_url):
    channel = api.request(
        "POST", "/channels", json={"type": "mqtt", "name": "Ops", "config": {"topic": "tenant/acme/out/ops"}}
    )
    policy_body = {
        "name": "Night shift",
        "steps": [{"kind": "notify_channels", "channel_ids": [channel.json()["id"]]}, {"kind": "wait", "minutes": 10}],
        "repeat_count": 1,
    }
    bad = api.request(
        "POST",
        "/escalation-policies",
        json={**policy_body, "steps": [{"kind": "notify_channels", "channel_ids": ["nope"]}], "repeat_count": 0},
    )
    assert "nope" in _problem(bad, 400)["detail"]
    created = api.request("POST", "/escalation-policies", json=policy_body)
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    _problem(api.request("POST", "/escalation-policies", json=policy_body), 409)
    _problem(api.request("PUT", f"/escalation-policies/{policy_id}", json=policy_body), 428)
    renamed = api.request(
        "PUT", f"/escalation-policies/{policy_id}", json={**policy_body, "name": "Nights"}, headers={"If-Match": '"1"'}
    )
    assert renamed.json()["version"] == 2
    route = api.request("POST", "/notification-routes", json={"name": "Page", "escalation_policy_id": policy_id})
    assert route.status_code == 201, route.text
    _problem(api.request("DELETE", f"/escalation-policies/{policy_id}"), 409)
    _problem(api.request("POST", "/notification-routes", json={"name": "Nothing"}), 422)

    make_device(sql)
    at = datetime.now(UTC) - timedelta(minutes=1)
    alert_id = raise_alert(database_url, at=at)
    route_event(api.ingest, alert_event(alert_id=alert_id, at=at), now=at)
    starter = DirectStarter(api.ingest, api.client.app.state.notify_senders, api.key)
    tick(api.ingest, now=datetime.now(UTC), starter=starter)
    shown = api.request("GET", f"/alerts/{alert_id}/escalation", as_=ALICE)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["phase"] == "escalating" and body["policy_name"] == "Nights"
    assert [(d["kind"], d["step"], d["repeat"], d["deliveries"]) for d in body["done"]] == [
        ("notify_channels", 0, 0, 1)
    ]
    assert len(api.mqtt.published) == 1
    _problem(api.request("GET", f"/alerts/{alert_id}/escalation", as_=("customer_admin", "globex")), 404)
