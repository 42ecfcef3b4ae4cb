"""The simulator against a real MQTT broker (amqtt on 127.0.0.1) over plain TCP: envelopes, commands, twin, SIGTERM.

Mutual TLS and an unreachable broker are in test_sim_connection.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from pulse.connect.envelope import EnvelopeV1
from pulse.connect.topics import TopicKind, parse_topic
from pulse_sim import FleetConfig, InboundMessage, Outbox, TransportMode, Window, run_fleet
from pulse_sim.config import default_device_ids
from pulse_sim.fleet import SIM_FIRMWARE
from tests.integration.sim_broker import Subscriber, free_port, running_broker


@pytest.fixture(scope="module")
def plain_port() -> Iterator[int]:
    port = free_port()
    with running_broker({"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}}):
        yield port


@pytest.fixture
def cloud(plain_port: int) -> Iterator[Subscriber]:
    subscriber = Subscriber(plain_port)
    yield subscriber
    subscriber.close()


def by_device(messages: list[tuple[str, bytes]]) -> dict[tuple[str, TopicKind], list[EnvelopeV1]]:
    grouped: dict[tuple[str, TopicKind], list[EnvelopeV1]] = defaultdict(list)
    for topic, payload in messages:
        parsed = parse_topic(topic)
        if parsed.kind in (TopicKind.TELEMETRY, TopicKind.HEARTBEAT):
            grouped[(parsed.device_id, parsed.kind)].append(EnvelopeV1.model_validate_json(payload))
    return grouped


def test_three_devices_publish_valid_envelopes_on_their_topics_over_plain_tcp(plain_port, cloud, tmp_path):
    config = FleetConfig(
        device_ids=default_device_ids(3),
        tenant_id="acme",
        seed=11,
        rate_per_s=30.0,
        credentials_dir=tmp_path,
        duration_s=2.0,
        heartbeat_s=0.5,
        random_drops=False,
        clock_skew=False,
        drops=(Window("sim-02", 0.6, 0.5),),
        transport=TransportMode.MQTT_PLAIN,
        host="127.0.0.1",
        port=plain_port,
    )
    report = run_fleet(config)
    sent = sum(report.published.values())
    assert report.published["telemetry"] >= 50
    assert report.unsent_backlog == 0
    cloud.wait_for(lambda messages: len({(t, p) for t, p in messages}) >= sent)

    topics = {topic for topic, _ in cloud.snapshot()}
    kinds = ("telemetry", "heartbeat", "twin/update", "twin/get")  # twin: initial state reported, twin asked for
    assert topics == {f"tenant/acme/device/sim-0{i}/{kind}" for i in (1, 2, 3) for kind in kinds}
    grouped = by_device(cloud.snapshot())
    for device_id in ("sim-01", "sim-02", "sim-03"):
        telemetry = grouped[(device_id, TopicKind.TELEMETRY)]
        assert len(telemetry) >= 15
        assert all(e.metrics and e.msg_id for e in telemetry)
        seqs = [e.seq for e in telemetry]
        assert seqs == sorted(seqs)  # in order on the topic, the drop's backlog included
        every = sorted({e.seq for key, envelopes in grouped.items() if key[0] == device_id for e in envelopes})
        assert every == list(range(1, len(every) + 1))  # nothing lost across the drop and reconnect


class Recorder:
    def __init__(self) -> None:
        self.received: list[InboundMessage] = []

    def handle(self, message: InboundMessage, outbox: Outbox) -> None:
        self.received.append(message)
        if message.kind is TopicKind.COMMANDS:
            command = json.loads(message.payload)
            outbox.publish(TopicKind.COMMAND_ACK, b'{"status":"done"}', command_id=command["id"])


def test_devices_receive_their_commands_and_twin_deltas_and_can_answer(plain_port, cloud, tmp_path):
    recorder = Recorder()
    stop = threading.Event()
    config = FleetConfig(
        device_ids=("sim-01", "sim-02"),
        seed=1,
        rate_per_s=10.0,
        random_drops=False,
        credentials_dir=tmp_path,
        clock_skew=False,
        transport=TransportMode.MQTT_PLAIN,
        host="127.0.0.1",
        port=plain_port,
    )
    runner = threading.Thread(target=run_fleet, args=(config,), kwargs={"inbound": recorder, "stop": stop})
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len({m.kind for m in recorder.received}) < 2:  # until subscribed: the first ones may go nowhere
            assert time.monotonic() < deadline, "the device never received its messages"
            cloud.client.publish("tenant/demo/device/sim-02/commands", b'{"id":"cmd-7","name":"reboot"}', qos=1)
            cloud.client.publish("tenant/demo/device/sim-02/twin/delta", b'{"state":{"interval_s":10}}', qos=1)
            cloud.client.publish("tenant/demo/device/sim-01/twin/other", b'{"state":{}}', qos=1)
            time.sleep(0.2)
        cloud.wait_for(lambda messages: any(t == "tenant/demo/device/sim-02/commands/cmd-7/ack" for t, _ in messages))
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()
    assert {(m.device.device_id, m.kind) for m in recorder.received} == {
        ("sim-02", TopicKind.COMMANDS),
        ("sim-02", TopicKind.TWIN_DELTA),
    }


def reports(messages: list[tuple[str, bytes]], device_id: str) -> list[dict[str, Any]]:
    return [
        json.loads(p)["state"]["reported"] for t, p in messages if t == f"tenant/twin/device/{device_id}/twin/update"
    ]


def test_fleet_devices_report_their_state_apply_deltas_and_answer_commands(plain_port, cloud, tmp_path):
    stop = threading.Event()
    config = FleetConfig(
        device_ids=("sim-01", "sim-02"),
        tenant_id="twin",
        seed=5,
        rate_per_s=2.0,
        random_drops=False,
        clock_skew=False,
        command_failure_rate=0.0,
        credentials_dir=tmp_path,
        transport=TransportMode.MQTT_PLAIN,
        host="127.0.0.1",
        port=plain_port,
    )
    runner = threading.Thread(target=run_fleet, args=(config,), kwargs={"stop": stop})
    runner.start()
    base = "tenant/twin/device"
    try:
        # Given every device has reported its initial state and asked for its twin (so it is subscribed)
        cloud.wait_for(
            lambda m: {t for t, _ in m if t.endswith("/twin/get")} >= {f"{base}/sim-0{i}/twin/get" for i in (1, 2)}
        )
        assert reports(cloud.snapshot(), "sim-01")[0]["firmware"] == SIM_FIRMWARE
        # When the cloud answers sim-01's get with a pending delta and sends sim-02 a delta and a command
        get_reply = {"state": {"desired": {"heartbeat_s": 30}, "delta": {"heartbeat_s": 30}}, "version": 2}
        cloud.client.publish(f"{base}/sim-01/twin/get/accepted", json.dumps(get_reply), qos=1)
        delta = {"state": {"telemetry_period_s": 10}, "version": 3}
        cloud.client.publish(f"{base}/sim-02/twin/delta", json.dumps(delta), qos=1)
        command = {"id": "cmd-1", "name": "reboot", "params": {"delay_s": 1}}
        cloud.client.publish(f"{base}/sim-02/commands", json.dumps(command), qos=1)
        # Then each applies its delta and reports it back, and the command is acked accepted then succeeded
        cloud.wait_for(lambda m: {"heartbeat_s": 30} in reports(m, "sim-01"))
        cloud.wait_for(lambda m: {"telemetry_period_s": 10} in reports(m, "sim-02"))
        ack_topic = f"{base}/sim-02/commands/cmd-1/ack"
        cloud.wait_for(lambda m: sum(t == ack_topic for t, _ in m) == 2)
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()
    acks = [json.loads(p) for t, p in cloud.snapshot() if t == ack_topic]
    assert acks == [
        {"status": "accepted"},
        {"status": "succeeded", "result": {"name": "reboot", "params": {"delay_s": 1}}},
    ]


def test_sigterm_disconnects_every_device_and_exits_0(plain_port, cloud, tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse_sim",
            "--insecure-plain",
            "--host",
            "127.0.0.1",
            "--port",
            str(plain_port),
            "--devices",
            "2",
            "--rate",
            "20/s",
            "--tenant",
            "sigterm",
            "--no-uplink-drops",
            "--credentials",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        cloud.wait_for(
            lambda messages: (
                {parse_topic(t).device_id for t, _ in messages if t.startswith("tenant/sigterm/")}
                == {"sim-01", "sim-02"}
            )
        )
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "fleet stopped" in stderr
    assert "Traceback" not in stderr
