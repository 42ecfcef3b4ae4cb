"""A device over MQTT with mutual TLS, as the e2e tests and the latency probe use it (paho-mqtt)."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt


def envelope(metrics: dict[str, float | bool], *, seq: int = 0, msg_id: str | None = None) -> bytes:
    return json.dumps(
        {"v": 1, "ts": int(time.time() * 1000), "seq": seq, "msg_id": msg_id or uuid.uuid4().hex, "metrics": metrics}
    ).encode()


class MqttDevice:
    """Connects as the device whose credentials are in ``<credentials>/<device_id>/``."""

    def __init__(self, credentials: Path, device_id: str) -> None:
        info: dict[str, Any] = json.loads((credentials / device_id / "device.json").read_text())
        self.tenant_id: str = info["tenant_id"]
        self.device_id = device_id
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=info["thing_name"], protocol=mqtt.MQTTv311
        )
        self.client.tls_set(
            ca_certs=str(credentials / "ca.pem"),
            certfile=str(credentials / device_id / "cert.pem"),
            keyfile=str(credentials / device_id / "key.pem"),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        self.client.connect(info["host"], int(info["port"]), keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{device_id} did not connect to {info['host']}:{info['port']}")
            time.sleep(0.02)

    def topic(self, kind: str = "telemetry", device_id: str | None = None) -> str:
        return f"tenant/{self.tenant_id}/device/{device_id or self.device_id}/{kind}"

    def publish(self, payload: bytes, topic: str | None = None) -> None:
        info = self.client.publish(topic or self.topic(), payload, qos=1)
        info.wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> MqttDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
