"""The simulator against a real MQTT broker (amqtt on 127.0.0.1): plain TCP, mutual TLS, SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from amqtt.broker import Broker
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from pulse.connect.envelope import EnvelopeV1
from pulse.connect.topics import TopicKind, parse_topic, thing_name
from pulse_sim import FleetConfig, InboundMessage, Outbox, TransportMode, Window, run_fleet
from pulse_sim.config import default_device_ids
from pulse_sim.fleet import SIM_FIRMWARE

ANONYMOUS = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MutualTlsBroker(Broker):
    """amqtt asks for a client certificate but accepts a client without one; IoT Core requires it."""

    @staticmethod
    def _create_ssl_context(listener: Any) -> ssl.SSLContext:
        context = Broker._create_ssl_context(listener)
        context.verify_mode = ssl.CERT_REQUIRED
        return context


@contextmanager
def running_broker(listeners: dict[str, dict[str, Any]], broker_class: type[Broker] = Broker) -> Iterator[None]:
    """An amqtt broker on its own event loop thread, stopped on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    brokers: list[Broker] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            broker = broker_class({"listeners": listeners, "plugins": ANONYMOUS})
            await broker.start()
            brokers.append(broker)

        loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(brokers[0].shutdown())
        loop.close()

    thread = threading.Thread(target=serve, name="amqtt", daemon=True)
    thread.start()
    assert started.wait(10), "the broker did not start"
    try:
        yield
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


class Subscriber:
    """A paho client on ``#`` that records every message (the cloud side of the test)."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-cloud")
        self.client.on_message = self._record
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("tenant/#", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def _record(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, condition: Callable[[list[tuple[str, bytes]]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.snapshot()):
            assert time.monotonic() < deadline, f"timed out; received {len(self.snapshot())} messages"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


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


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def test_devices_connect_with_their_certificates_over_mutual_tls(tmp_path, plain_port):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("pulse-test-ca", ca_key, None, ca=True)
    ca = (ca_cert.subject, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    _write(tmp_path / "broker", _certificate("localhost", server_key, ca, server=True), server_key)
    credentials = tmp_path / "devices"
    credentials.mkdir()
    (credentials / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls_port = free_port()
    for device_id in ("sim-01", "sim-02"):
        device_key = ec.generate_private_key(ec.SECP256R1())
        _write(credentials / device_id, _certificate(thing_name("acme", device_id), device_key, ca), device_key)
        (credentials / device_id / "device.json").write_text(
            json.dumps(
                {
                    "tenant_id": "acme",
                    "device_id": device_id,
                    "thing_name": thing_name("acme", device_id),
                    "host": "localhost",
                    "port": tls_port,
                }
            )
        )
    listeners = {
        "default": {"type": "tcp", "bind": f"127.0.0.1:{free_port()}"},
        "mtls": {
            "type": "tcp",
            "bind": f"127.0.0.1:{tls_port}",
            "ssl": True,
            "cafile": str(credentials / "ca.pem"),
            "certfile": str(tmp_path / "broker" / "cert.pem"),
            "keyfile": str(tmp_path / "broker" / "key.pem"),
        },
    }
    with running_broker(listeners, MutualTlsBroker):
        cloud = Subscriber(int(listeners["default"]["bind"].rsplit(":", 1)[1]))
        try:
            report = run_fleet(
                FleetConfig(
                    device_ids=("sim-01", "sim-02"),
                    seed=2,
                    rate_per_s=20.0,
                    duration_s=1.0,
                    random_drops=False,
                    clock_skew=False,
                    credentials_dir=credentials,
                )
            )
            cloud.wait_for(lambda messages: len(messages) >= sum(report.published.values()))
        finally:
            cloud.close()
    devices = {parse_topic(topic).device_id for topic, _ in cloud.snapshot()}
    assert devices == {"sim-01", "sim-02"}
    assert all(parse_topic(topic).tenant_id == "acme" for topic, _ in cloud.snapshot())


def test_sigterm_exits_0_promptly_while_the_broker_is_unreachable():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse_sim",
            "--insecure-plain",
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
            "--devices",
            "25",
            "--no-uplink-drops",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # through refused connection attempts and their backoff
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert time.monotonic() - signalled < 5
    assert "connection attempt failed, retrying with backoff" in stderr
