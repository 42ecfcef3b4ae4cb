"""Device -> MQTT mTLS -> IoT rule -> SQS -> ingest Lambda -> PostgreSQL, in the local emulator.

Another device's topic: the emulator runs with AUTH=false (policies are not evaluated), so the
second line of defence answers: ingest compares the topic with the MQTT client id (the thing
name) and quarantines the message as ``topic_mismatch``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from tests.e2e.device import MqttDevice, envelope
from tests.e2e.latency import publish_to_row_latencies
from tests.e2e.platform import LocalPlatform

WAIT_S = 30.0


def _eventually(query: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = query()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing arrived within {timeout_s} s")


def _quarantined(platform: LocalPlatform, marker: str) -> Callable[[], Any]:
    def query() -> Any:
        with psycopg.connect(platform.database_url) as conn:
            return conn.execute(
                "SELECT reason, device_id, topic FROM quarantine_events WHERE excerpt LIKE %s", (f"%{marker}%",)
            ).fetchone()

    return query


def test_published_telemetry_is_stored(local_platform: LocalPlatform) -> None:
    # Given a provisioned device connected with its certificate
    with MqttDevice(local_platform.credentials, "sim-01") as device:
        # When it publishes an envelope with two metrics
        device.publish(envelope({"temp_c": 21.5, "door_open": True}, msg_id=uuid.uuid4().hex))

    # Then both metrics are rows of the telemetry table
    def rows() -> Any:
        with psycopg.connect(local_platform.database_url) as conn:
            return conn.execute(
                "SELECT metric, value FROM telemetry WHERE tenant_id = 'demo' AND device_id = 'sim-01' "
                "AND metric IN ('temp_c', 'door_open') ORDER BY metric"
            ).fetchall()

    assert _eventually(rows) == [("door_open", 1.0), ("temp_c", 21.5)]


def test_malformed_payload_is_quarantined(local_platform: LocalPlatform) -> None:
    marker = uuid.uuid4().hex
    with MqttDevice(local_platform.credentials, "sim-01") as device:
        device.publish(f'{{"v": 1, "metrics": {{"temp_c": 2{marker}'.encode())
    reason, device_id, _ = _eventually(_quarantined(local_platform, marker))
    assert (reason, device_id) == ("malformed_json", "sim-01")


def test_message_on_another_devices_topic_is_quarantined(local_platform: LocalPlatform) -> None:
    marker = uuid.uuid4().hex
    with MqttDevice(local_platform.credentials, "sim-01") as device:
        device.publish(envelope({"temp_c": 1.0}, msg_id=marker), topic=device.topic(device_id="sim-02"))
    reason, device_id, topic = _eventually(_quarantined(local_platform, marker))
    assert (reason, device_id, topic) == ("topic_mismatch", "sim-02", "tenant/demo/device/sim-02/telemetry")
    with psycopg.connect(local_platform.database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM telemetry_messages WHERE msg_key = %s", (marker,)).fetchone()
    assert stored == (0,)


def test_publish_to_row_latency_is_measurable(local_platform: LocalPlatform) -> None:
    # Speed belongs in `make bench`; here a probe may wait out Lambda cold starts on a loaded machine
    # (a device connect also wakes the twin function through its presence events).
    latencies = publish_to_row_latencies(
        5, credentials=local_platform.credentials, database_url=local_platform.database_url, timeout_s=60.0
    )
    assert len(latencies) == 5
    assert all(ms > 0 for ms in latencies)
