"""Real receivers on 127.0.0.1 for the notification channel tests.

- ``HttpReceiver``: an http.server in a thread. As a webhook endpoint it does what the README asks
  of customers: verify ``X-Pulse-Signature`` against the secrets it knows, refuse timestamps older
  than five minutes and (timestamp, signature) pairs it saw, and process each ``Idempotency-Key``
  once. As a Slack/Teams/PagerDuty sink it validates the payload shape with a given function.
- ``SmtpReceiver``: aiosmtpd's controller keeping the messages it received.
- The SNMP trap receiver and the MIB's names are in ``tests/snmp_receiver.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

MAX_SIGNATURE_AGE_S = 300


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    reason: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpBehaviour:
    """What the receiver answers; ``validate`` returns problems with the payload (empty: fine)."""

    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    webhook_secrets: list[bytes] | None = None
    validate: Callable[[Any], list[str]] | None = None
    success_status: int = 200


class HttpReceiver:
    def __init__(
        self, behaviour: HttpBehaviour | None = None, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> None:
        self.behaviour = behaviour or HttpBehaviour()
        self.requests: list[ReceivedRequest] = []
        self.processed: dict[str, Any] = {}
        self._seen_signatures: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reason = receiver._answer(headers, body)
                with receiver._lock:
                    receiver.requests.append(ReceivedRequest(self.path, headers, body, status, reason))
                if receiver.behaviour.delay_s:
                    time.sleep(receiver.behaviour.delay_s)
                payload = reason.encode()
                self.send_response(status)
                for name, value in receiver.behaviour.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-receiver", daemon=True)

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        b = self.behaviour
        if b.webhook_secrets is not None:
            refused = self._check_signature(headers, body, b.webhook_secrets)
            if refused:
                return 401, refused
        try:
            document = json.loads(body)
        except ValueError:
            return 400, "invalid_payload: not JSON"
        if b.validate is not None:
            problems = b.validate(document)
            if problems:
                return 400, "invalid_payload: " + "; ".join(problems)
        if b.status >= 300:
            return b.status, f"configured answer {b.status}"
        key = headers.get("idempotency-key")
        with self._lock:
            if key is not None and key in self.processed:
                return b.success_status, "duplicate ignored"
            self.processed[key or f"#{len(self.processed)}"] = document
        return b.success_status, "ok"

    def _check_signature(self, headers: dict[str, str], body: bytes, secrets: list[bytes]) -> str:
        timestamp = headers.get("x-pulse-timestamp", "")
        signature = headers.get("x-pulse-signature", "")
        if not timestamp.isdigit() or not signature:
            return "missing timestamp or signature"
        if abs(time.time() - int(timestamp)) > MAX_SIGNATURE_AGE_S:
            return "stale timestamp"
        offered = [part.strip().removeprefix("v1=") for part in signature.split(",") if part.strip().startswith("v1=")]
        signed = timestamp.encode() + b"." + body
        expected = [hmac.new(secret, signed, hashlib.sha256).hexdigest() for secret in secrets]
        if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
            return "bad signature"
        with self._lock:
            if (timestamp, signature) in self._seen_signatures:
                return "replayed request"
            self._seen_signatures.add((timestamp, signature))
        return ""


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1; ``messages`` holds (envelope sender, recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = message_from_bytes(envelope.original_content, policy=policy.default)
                assert isinstance(message, EmailMessage)
                receiver.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
                return "250 Message accepted for delivery"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alert_event_detail(
    event: str = "AlertOpened",
    *,
    tenant_id: str = "acme",
    event_id: int = 42,
    severity: str = "critical",
    state: str = "open",
    rule_name: str = "Supply temperature high",
    device_id: str = "dev-1",
    note: str = "",
    at: datetime | None = None,
) -> dict[str, Any]:
    """An event ``detail`` as the outbox publisher puts it on the bus, built with the alerts module's own code."""
    from pulse.alerts.explain import event_data
    from pulse.alerts.models import Alert, AlertState, EventType
    from pulse.outbox.publisher import envelope
    from pulse.outbox.store import OutboxRow
    from pulse.rules.model import Severity

    at = at or datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    alert = Alert(
        id="alr-1",
        fingerprint=f"hot/{device_id}",
        rule_id="hot",
        rule_version=3,
        rule_name=rule_name,
        device_id=device_id,
        site_id="plant-1",
        severity=Severity(severity),
        state=AlertState(state),
        source="stream",
        latched=False,
        silenced=False,
        silence_id=None,
        snoozed_until=None,
        assignee=None,
        count=2,
        first_value=35.0,
        last_value=36.5,
        opened_at=at,
        episode_started_at=at,
        last_fired_at=at,
        acknowledged_at=None,
        acknowledged_by=None,
        condition_cleared_at=None,
        resolve_due_at=None,
        resolved_at=None,
        resolved_by=None,
        closed_at=None,
        updated_at=at,
        version=1,
    )
    data = event_data(alert, EventType(event), at, "system:rules", note)
    row = OutboxRow(event_id, tenant_id, event, "corr-1", at, data, 0)
    return envelope(row)


@dataclass
class ReceiverCertificate:
    """A self-signed server certificate for ``hostname`` and the client context that trusts only it."""

    hostname: str
    directory: Path

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.hostname)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(self.hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.cert_file = self.directory / f"{self.hostname}.pem"
        self.key_file = self.directory / f"{self.hostname}.key"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_file))

    def http_client(self, timeout_s: float) -> Any:
        """What ``SenderPorts.http_client`` builds, trusting this certificate instead of the system's."""
        import httpx

        return httpx.Client(verify=self.client_context(), timeout=timeout_s, follow_redirects=False, trust_env=False)
