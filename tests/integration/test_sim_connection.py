"""The simulator's connections to a real MQTT broker (amqtt on 127.0.0.1): devices on mutual TLS with their
certificates, and SIGTERM while the broker cannot be reached."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pulse.connect.topics import parse_topic, thing_name
from pulse_sim import FleetConfig, run_fleet
from tests.integration.sim_broker import MutualTlsBroker, Subscriber, free_port, running_broker


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


def test_devices_connect_with_their_certificates_over_mutual_tls(tmp_path):
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
