"""The twin Lambda with AWS-shaped rule events: replies reach the device's topics through moto iot-data."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pulse import runtime
from pulse.twin.publishing import default_publisher
from tests.builders import FakeLambdaContext, make_device, make_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def twin_lambda(lambda_env, aws, sql, monkeypatch):
    monkeypatch.setenv("PULSE_DB_ROLE", "pulse_app")
    # The legacy regional data host: one moto serves (it does not route account-specific hosts).
    monkeypatch.setenv("PULSE_IOT_ENDPOINT", "data-ats.iot.eu-west-1.amazonaws.com")
    runtime.reset()
    default_publisher.cache_clear()
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    make_device(sql, "acme", "dev-2")
    make_device(sql, "acme", "old-1", status="decommissioned")
    from functions.twin.handler import lambda_handler

    yield lambda_handler
    default_publisher.cache_clear()


def published() -> list[tuple[str, dict]]:
    from moto.iotdata.models import iotdata_backends

    return [(t, orjson.loads(p)) for t, p in iotdata_backends["123456789012"]["eu-west-1"].published_payloads]


def rule_event(device: str, kind: str, payload: bytes | dict, *, client_id: str | None = None) -> dict:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return {
        "payload_b64": base64.b64encode(raw).decode(),
        "topic": f"tenant/acme/device/{device}/{kind}",
        "client_id": client_id or f"acme--{device}",
        "principal": "cert-abc",
        "received_at": int(datetime.now(UTC).timestamp() * 1000),
    }


def test_a_reported_update_is_accepted_on_the_devices_accepted_topic(twin_lambda):
    event = rule_event("dev-1", "twin/update", {"state": {"reported": {"fw": "1.2"}}, "clientToken": "t1"})
    assert twin_lambda(event, FakeLambdaContext()) == {"replies": ["twin/update/accepted"]}
    [(topic, body)] = published()
    assert topic == "tenant/acme/device/dev-1/twin/update/accepted"
    assert body["state"] == {"reported": {"fw": "1.2"}} and body["clientToken"] == "t1" and body["version"] == 1


def test_malformed_and_conflicting_updates_are_rejected_with_their_code(twin_lambda):
    twin_lambda(rule_event("dev-1", "twin/update", b"{not json"), FakeLambdaContext())
    twin_lambda(
        rule_event("dev-1", "twin/update", {"state": {"reported": {"a": 1}}, "version": 9}), FakeLambdaContext()
    )
    codes = [(t.rsplit("/", 1)[-1], b["code"]) for t, b in published()]
    assert codes == [("rejected", 400), ("rejected", 409)]


def test_get_answers_with_the_full_document(twin_lambda):
    twin_lambda(rule_event("dev-1", "twin/update", {"state": {"desired": {"mode": "eco"}}}), FakeLambdaContext())
    twin_lambda(rule_event("dev-1", "twin/get", b""), FakeLambdaContext())
    topic, body = published()[-1]
    assert topic == "tenant/acme/device/dev-1/twin/get/accepted"
    assert body["state"]["delta"] == {"mode": "eco"}


def test_another_devices_client_and_a_decommissioned_device_get_no_reply(twin_lambda, sql):
    spoof = rule_event("dev-1", "twin/update", {"state": {"reported": {"a": 1}}}, client_id="acme--dev-2")
    assert twin_lambda(spoof, FakeLambdaContext()) == {"replies": []}
    old = rule_event("old-1", "twin/update", {"state": {"reported": {"a": 1}}})
    assert twin_lambda(old, FakeLambdaContext()) == {"replies": []}
    assert published() == []
    assert sql.execute("SELECT count(*) FROM device_twins").fetchone() == (0,)


def test_the_schedule_raises_twin_not_converged_once(twin_lambda, sql):
    twin_lambda(rule_event("dev-1", "twin/update", {"state": {"desired": {"mode": "eco"}}}), FakeLambdaContext())
    sql.execute("UPDATE twin_pending_desired SET set_at = %s", (datetime.now(UTC) - timedelta(hours=1),))
    assert twin_lambda({"task": "find_unconverged"}, FakeLambdaContext()) == {"raised": 1}
    assert twin_lambda({"task": "find_unconverged"}, FakeLambdaContext()) == {"raised": 0}
    assert sql.execute("SELECT event_name FROM twin_events").fetchall() == [("TwinNotConverged",)]


def test_a_command_ack_is_recorded_and_an_unanswered_command_expires_on_schedule(twin_lambda, sql):
    now = datetime.now(UTC)
    for command_id, expires in (("c-acked", now + timedelta(hours=1)), ("c-silent", now - timedelta(seconds=1))):
        sql.execute(
            """INSERT INTO commands (tenant_id, id, device_id, name, status, expires_at, created_at, updated_at)
               VALUES ('acme', %s, 'dev-1', 'reboot', 'sent', %s, %s, %s)""",
            (command_id, expires, now, now),
        )
    ack = rule_event("dev-1", "commands/c-acked/ack", {"status": "failed", "error": "busy"})
    assert twin_lambda(ack, FakeLambdaContext()) == {"replies": []}
    assert twin_lambda({"task": "expire_commands"}, FakeLambdaContext()) == {"expired": 1}
    rows = sql.execute("SELECT id, status, error FROM commands ORDER BY id").fetchall()
    assert rows == [("c-acked", "failed", "busy"), ("c-silent", "expired", None)]
