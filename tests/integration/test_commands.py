"""Commands end to end: sent over the API, acked by the device's MQTT message, expired at TTL, cancelled."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pulse.commands.service import expire_due
from pulse.db import Database
from pulse.twin.device_inbound import handle_rule_event
from tests.builders import ApiHarness, RecordingPublisher

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        for device in ("pump-1", "pump-2"):
            sql.execute(
                "INSERT INTO devices (tenant_id, id, name, thing_name) VALUES (%s, %s, 'Pump', %s)",
                (tenant, device, f"{tenant}--{device}"),
            )
    harness.publisher = RecordingPublisher()  # type: ignore[attr-defined]
    harness.client.app.state.twin_publisher = harness.publisher  # type: ignore[attr-defined]
    yield harness
    harness.close()


def device_ack(db: Database, device: str, command_id: str, body: dict, *, client: str | None = None) -> None:
    event = {
        "payload_b64": base64.b64encode(orjson.dumps(body)).decode(),
        "topic": f"tenant/acme/device/{device}/commands/{command_id}/ack",
        "client_id": client or f"acme--{device}",
        "received_at": int(datetime.now(UTC).timestamp() * 1000),
    }
    handle_rule_event(db, event, RecordingPublisher())


def _send(api, device="pump-1", **body):
    return api.request("POST", f"/devices/{device}/commands", json={"name": "reboot", "params": {"delay": 5}, **body})


def test_a_command_goes_out_on_the_devices_commands_topic_and_is_sent(api):
    response = _send(api)
    assert response.status_code == 201, response.json()
    command = response.json()
    assert command["status"] == "sent"
    [message] = api.publisher.sent
    assert message.topic == "tenant/acme/device/pump-1/commands"
    assert message.payload == {
        "id": command["id"],
        "name": "reboot",
        "params": {"delay": 5},
        "expires_at": message.payload["expires_at"],
    }


def test_a_failed_command_keeps_the_devices_error_message(api):
    command_id = _send(api).json()["id"]
    device_ack(api.db, "pump-1", command_id, {"status": "accepted"})
    assert api.request("GET", f"/commands/{command_id}").json()["status"] == "accepted"
    device_ack(api.db, "pump-1", command_id, {"status": "failed", "error": "disk full", "result": {"code": 28}})
    body = api.request("GET", f"/commands/{command_id}").json()
    assert (body["status"], body["error"], body["result"]) == ("failed", "disk full", {"code": 28})
    device_ack(api.db, "pump-1", command_id, {"status": "succeeded"})  # late: a finished command stays as it is
    assert api.request("GET", f"/commands/{command_id}").json()["status"] == "failed"


def test_another_devices_ack_changes_nothing(api):
    command_id = _send(api).json()["id"]
    device_ack(api.db, "pump-2", command_id, {"status": "succeeded"})
    device_ack(api.db, "pump-1", command_id, {"status": "succeeded"}, client="acme--pump-2")
    assert api.request("GET", f"/commands/{command_id}").json()["status"] == "sent"


def test_a_command_never_answered_ends_expired_at_its_ttl_with_one_event(api, sql):
    command_id = _send(api, ttl_s=60).json()["id"]
    assert expire_due(api.owner, datetime.now(UTC) + timedelta(seconds=30)) == []
    [expired] = expire_due(api.owner, datetime.now(UTC) + timedelta(seconds=61))
    assert expired.id == command_id
    assert expire_due(api.owner, datetime.now(UTC) + timedelta(seconds=120)) == []
    assert api.request("GET", f"/commands/{command_id}").json()["status"] == "expired"
    events = sql.execute("SELECT event_name, event_key FROM twin_events").fetchall()
    assert events == [("CommandExpired", command_id)]


def test_cancel_a_sent_command_but_not_a_finished_one(api):
    command_id = _send(api).json()["id"]
    assert api.request("POST", f"/commands/{command_id}/cancel").json()["status"] == "cancelled"
    again = api.request("POST", f"/commands/{command_id}/cancel")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_list_send_is_all_or_nothing(api):
    ok = api.request("POST", "/commands", json={"name": "ping", "device_ids": ["pump-1", "pump-2"]})
    assert ok.status_code == 201 and [c["device_id"] for c in ok.json()] == ["pump-1", "pump-2"]
    missing = api.request("POST", "/commands", json={"name": "ping", "device_ids": ["pump-1", "ghost"]})
    assert missing.status_code == 404
    assert len(api.publisher.sent) == 2


def test_device_history_pages_newest_first(api):
    ids = [_send(api).json()["id"] for _ in range(3)]
    first = api.request("GET", "/devices/pump-1/commands", params={"limit": 2}).json()
    rest = api.request("GET", "/devices/pump-1/commands", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == list(reversed(ids))
    assert rest["next_cursor"] is None


def test_viewers_other_tenants_and_audit(api):
    assert _send(api, device="pump-1", **{}).status_code == 201
    viewer = api.request("POST", "/devices/pump-1/commands", json={"name": "reboot"}, as_=("customer_viewer", "acme"))
    assert viewer.status_code == 403
    command_id = api.request("GET", "/devices/pump-1/commands").json()["items"][0]["id"]
    assert api.request("GET", f"/commands/{command_id}", as_=("customer_admin", "globex")).status_code == 404
    assert api.request("POST", f"/commands/{command_id}/cancel", as_=("customer_admin", "globex")).status_code == 404
    actions = [e["action"] for e in api.request("GET", "/audit").json()["items"]]
    assert "command.send" in actions
