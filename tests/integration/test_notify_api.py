"""Notifications over the API: channel CRUD with If-Match, write-only secrets and rotation, send-test
in the delivery log, routes CRUD and reorder, delivery log and dead-letter redrive, tenant isolation
(also at the database, as pulse_app), and problem bodies for every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database
from pulse.notify.service import deliver, route_event
from pulse.platform.aws.iot_data import IotDataError
from tests.builders import ApiHarness
from tests.integration.notify_fixtures import DirectStarter, RecordingMqtt, alert_event, sealer, sender_ports

pytestmark = pytest.mark.integration
SECRET = "s3cret-signing-key-0001"
WEBHOOK = {
    "type": "webhook",
    "name": "Ops hook",
    "config": {"url": "https://hooks.example.com/pulse"},
    "secrets": {"signing_secret": SECRET},
}
MQTT = {"type": "mqtt", "name": "Ops topic", "config": {"topic": "tenant/acme/out/alerts"}}


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
    harness.key = sealer()
    harness.mqtt = RecordingMqtt()
    app = harness.client.app
    app.state.notify_sealer = harness.key
    app.state.notify_senders = sender_ports(harness.mqtt)
    harness.ingest = Database(database_url, "pulse_ingest")
    app.state.notify_starter = DirectStarter(harness.ingest, sender_ports(harness.mqtt), harness.key)
    yield harness
    harness.ingest.close()
    harness.close()


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_channel_crud_keeps_secrets_write_only_and_audited_without_them(api, sql):
    created = api.request("POST", "/channels", json=WEBHOOK)
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["secret_set"] is True and "secrets" not in channel and SECRET not in created.text
    assert channel["secret_rotation"] == {"rotating": False, "previous_valid_until": None}
    assert created.headers["ETag"] == '"1"'

    read = api.request("GET", f"/channels/{channel['id']}")
    assert read.json() == channel and SECRET not in read.text
    _problem(api.request("PUT", f"/channels/{channel['id']}", json={**WEBHOOK, "name": "Renamed"}), 428)
    _problem(
        api.request("PUT", f"/channels/{channel['id']}", json={**WEBHOOK, "name": "x"}, headers={"If-Match": '"9"'}),
        412,
    )
    body = {k: v for k, v in WEBHOOK.items() if k != "secrets"} | {"name": "Renamed", "enabled": False}
    updated = api.request("PUT", f"/channels/{channel['id']}", json=body, headers={"If-Match": '"1"'})
    assert updated.status_code == 200 and updated.json()["version"] == 2 and updated.json()["secret_set"] is True

    [stored] = sql.execute("SELECT sealed_secret FROM channels").fetchone()
    assert stored.startswith("local1:") and SECRET not in stored
    audits = sql.execute("SELECT action, before::text, after::text FROM audit_log WHERE entity_type = 'channel'")
    rows = audits.fetchall()
    assert [r[0] for r in rows] == ["channel.create", "channel.update"]
    assert all(SECRET not in (r[1] or "") + (r[2] or "") for r in rows)

    assert api.request("DELETE", f"/channels/{channel['id']}", headers={"If-Match": '"2"'}).status_code == 204
    _problem(api.request("GET", f"/channels/{channel['id']}"), 404)


def test_channel_refusals_are_problems_naming_the_field(api):
    bad_url = api.request("POST", "/channels", json={**WEBHOOK, "config": {"url": "http://example.com"}})
    assert "config.url" in _problem(bad_url, 422)["detail"]
    missing = api.request("POST", "/channels", json={k: v for k, v in WEBHOOK.items() if k != "secrets"})
    assert "secrets" in _problem(missing, 422)["detail"]
    other_tenant = api.request("POST", "/channels", json={**MQTT, "config": {"topic": "tenant/globex/out/x"}})
    assert "tenant/acme/out/" in _problem(other_tenant, 422)["detail"]
    assert api.request("POST", "/channels", json=MQTT).status_code == 201
    _problem(api.request("POST", "/channels", json={**MQTT, "name": "OPS TOPIC"}), 409)
    _problem(api.request("POST", "/channels", json=MQTT, as_=("customer_viewer", "acme")), 403)


def test_rotating_a_webhook_secret_keeps_the_old_one_signing_for_the_grace_period(api, sql):
    channel = api.request("POST", "/channels", json=WEBHOOK).json()
    mqtt = api.request("POST", "/channels", json=MQTT).json()

    rotated = api.request(
        "POST", f"/channels/{channel['id']}/rotate-secret", json={"signing_secret": "n" * 20, "grace_s": 3600}
    )

    assert rotated.status_code == 200 and "n" * 20 not in rotated.text
    state = rotated.json()["secret_rotation"]
    assert state["rotating"] is True and datetime.fromisoformat(state["previous_valid_until"]) > datetime.now(UTC)
    from pulse.notify.delivery import channel_secrets
    from pulse.notify.store import get_channel

    row = get_channel(sql, "acme", channel["id"])
    secrets = channel_secrets(row, api.key, datetime.now(UTC))
    assert [k.decode() for k in secrets.signing_keys(datetime.now(UTC))] == ["n" * 20, SECRET]
    assert secrets.signing_keys(datetime.now(UTC) + timedelta(hours=2)) == [b"n" * 20]
    _problem(api.request("POST", f"/channels/{mqtt['id']}/rotate-secret", json={"signing_secret": "m" * 20}), 409)


def test_send_test_goes_through_the_delivery_path_and_is_logged(api):
    channel = api.request("POST", "/channels", json=MQTT).json()

    result = api.request("POST", f"/channels/{channel['id']}/test")

    assert result.status_code == 200, result.text
    body = result.json()
    assert body["status"] == "delivered" and body["error"] is None
    [(topic, payload)] = api.mqtt.published
    assert topic == "tenant/acme/out/alerts" and b'"test":true' in payload
    detail = api.request("GET", f"/deliveries/{body['delivery_id']}").json()
    assert detail["status"] == "delivered" and detail["event_name"] == "ChannelTest"
    assert [a["status"] for a in detail["history"]] == ["delivered"]


def test_a_failing_send_test_answers_the_error_and_ends_dead(api):
    channel = api.request("POST", "/channels", json=MQTT).json()
    api.mqtt.failures.append(IotDataError("broker unavailable"))

    body = api.request("POST", f"/channels/{channel['id']}/test").json()

    assert body["status"] == "retryable" and "broker unavailable" in body["error"]
    assert api.request("GET", f"/deliveries/{body['delivery_id']}").json()["status"] == "dead"


def test_routes_crud_and_reorder(api):
    channel = api.request("POST", "/channels", json=MQTT).json()["id"]

    def create(name, **extra):
        response = api.request("POST", "/notification-routes", json={"name": name, "channel_ids": [channel], **extra})
        assert response.status_code == 201, response.text
        return response.json()

    first = create("critical", matchers={"severity_at_least": "critical"}, **{"continue": True})
    second = create("all", group_by=["rule_id"], throttle={"limit": 10, "window_s": 600})
    top = create("night shift", position=0)
    assert first["continue"] is True and second["throttle"] == {"limit": 10, "window_s": 600}

    listed = api.request("GET", "/notification-routes").json()["items"]
    assert [(r["name"], r["position"]) for r in listed] == [("night shift", 0), ("critical", 1), ("all", 2)]
    page = api.request("GET", "/notification-routes", params={"limit": 2}).json()
    rest = api.request("GET", "/notification-routes", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["name"] for r in rest["items"]] == ["all"]

    reordered = api.request(
        "POST", "/notification-routes:reorder", json={"route_ids": [second["id"], top["id"], first["id"]]}
    )
    assert [r["name"] for r in reordered.json()] == ["all", "night shift", "critical"]
    _problem(api.request("POST", "/notification-routes:reorder", json={"route_ids": [top["id"]]}), 400)

    current = api.request("GET", f"/notification-routes/{first['id']}")
    etag = current.headers["ETag"]
    change = {**{k: current.json()[k] for k in ("name", "channel_ids", "matchers")}, "enabled": False}
    _problem(api.request("PUT", f"/notification-routes/{first['id']}", json=change), 428)
    updated = api.request("PUT", f"/notification-routes/{first['id']}", json=change, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.json()["enabled"] is False

    _problem(api.request("POST", "/notification-routes", json={"name": "x", "channel_ids": ["chn_nope"]}), 400)
    _problem(api.request("DELETE", f"/channels/{channel}"), 409)  # routes still use it
    assert api.request("DELETE", f"/notification-routes/{top['id']}").status_code == 204
    assert [r["position"] for r in api.request("GET", "/notification-routes").json()["items"]] == [0, 1]


def test_delivery_log_filters_and_dead_letters_redrive(api, sql):
    channel = api.request("POST", "/channels", json=MQTT).json()["id"]
    api.request("POST", "/notification-routes", json={"name": "all", "channel_ids": [channel]})
    now = datetime.now(UTC)
    ok_event, bad_event = alert_event(alert_id="al-ok"), alert_event(alert_id="al-bad", device_id="dev-2")
    [ok] = route_event(api.ingest, ok_event, now=now).delivery_ids
    [bad] = route_event(api.ingest, bad_event, now=now + timedelta(seconds=1)).delivery_ids
    ports = sender_ports(RecordingMqtt(IotDataError("not authorized", retryable=False)))
    deliver(api.ingest, bad, attempt=1, sealer=api.key, ports=ports, now=now + timedelta(seconds=2))
    deliver(api.ingest, ok, attempt=1, sealer=api.key, ports=sender_ports(RecordingMqtt()), now=now)

    listed = api.request("GET", "/deliveries").json()["items"]
    assert [d["id"] for d in listed] == [bad, ok]
    assert [d["id"] for d in api.request("GET", "/deliveries", params={"status": "dead"}).json()["items"]] == [bad]
    assert [d["id"] for d in api.request("GET", "/deliveries", params={"alert_id": "al-ok"}).json()["items"]] == [ok]
    by_event = api.request("GET", "/deliveries", params={"event_id": bad_event["metadata"]["event_id"]}).json()
    assert [d["id"] for d in by_event["items"]] == [bad]
    dead = api.request("GET", "/dead-letters").json()["items"]
    assert [(d["id"], d["last_error"]) for d in dead] == [(bad, "not authorized")]

    _problem(api.request("POST", "/dead-letters/redrive", json={"ids": [ok]}), 404)
    _problem(api.request("POST", "/dead-letters/redrive", json={}), 422)
    redriven = api.request("POST", "/dead-letters/redrive", json={"all_matching": {"channel_id": channel}})

    assert redriven.status_code == 200 and redriven.json()["count"] == 1
    detail = api.request("GET", f"/deliveries/{bad}").json()
    assert detail["status"] == "delivered" and [a["status"] for a in detail["history"]] == ["permanent", "delivered"]
    assert api.request("GET", "/dead-letters").json()["items"] == []


def test_another_tenant_sees_nothing_even_at_the_database(api, database_url):
    channel = api.request("POST", "/channels", json=MQTT).json()
    api.request("POST", "/notification-routes", json={"name": "all", "channel_ids": [channel["id"]]})
    api.request("POST", f"/channels/{channel['id']}/test")
    globex = ("customer_admin", "globex")

    assert api.request("GET", "/channels", as_=globex).json()["items"] == []
    _problem(api.request("GET", f"/channels/{channel['id']}", as_=globex), 404)
    _problem(api.request("POST", f"/channels/{channel['id']}/test", as_=globex), 404)
    assert api.request("GET", "/notification-routes", as_=globex).json()["items"] == []
    assert api.request("GET", "/deliveries", as_=globex).json()["items"] == []
    other = api.request("POST", "/notification-routes", json={"name": "x", "channel_ids": [channel["id"]]}, as_=globex)
    _problem(other, 400)

    app_db = Database(database_url, "pulse_app")
    try:
        with app_db.transaction() as conn:
            conn.execute("SELECT set_config('app.tenant_id', 'globex', true)")
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("channels", "notification_routes", "deliveries", "delivery_attempts", "notifications")
            ]
    finally:
        app_db.close()
    assert counts == [0, 0, 0, 0, 0]
