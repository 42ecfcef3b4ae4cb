"""Webhook channel against a real receiver on 127.0.0.1 that verifies what the README tells customers
to verify: the HMAC signature, a fresh timestamp, no replayed (timestamp, signature) pair, and one
processing per Idempotency-Key. Also how failures are classified and what the egress guard refuses."""

from __future__ import annotations

import itertools
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, SenderPorts, egress, send
from pulse.notify.channels.ports import default_http_client
from pulse.notify.channels.secrets import WebhookSecrets
from pulse.notify.channels.ssrf import parse_allow_list
from tests.notify_receivers import HttpBehaviour, HttpReceiver, ReceiverCertificate, alert_event_detail

SECRET = "whsec-current-0123456789"
OLD_SECRET = "whsec-previous-0123456789"


def ports(
    clock: Callable[[], datetime] | None = None, allow: tuple[str, ...] = ("127.0.0.1/32",), **kw: Any
) -> SenderPorts:
    return SenderPorts(
        mailer=None,  # type: ignore[arg-type]
        mqtt=None,  # type: ignore[arg-type]
        email_from="",
        egress_allow=parse_allow_list(allow),
        clock=clock or (lambda: datetime.now(UTC)),
        portal_url="https://pulse.example.com",
        **kw,
    )


def webhook(url: str, timeout_s: float = 5.0) -> Any:
    return CHANNEL_CONFIG.validate_python({"type": "webhook", "url": url, "timeout_s": timeout_s})


def secrets(current: str = SECRET, previous: str | None = None, until: datetime | None = None) -> WebhookSecrets:
    document: dict[str, Any] = {"type": "webhook", "signing_secret": current}
    if previous is not None:
        document |= {"previous": previous, "previous_valid_until": until}
    result = CHANNEL_SECRETS.validate_python(document)
    assert isinstance(result, WebhookSecrets)
    return result


def opened(event_id: int = 42, channel_id: str = "ch-web") -> Notification:
    return Notification.from_event(alert_event_detail(event_id=event_id), channel_id)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver(HttpBehaviour(webhook_secrets=[SECRET.encode()])) as server:
        yield server


def test_signed_event_is_accepted_by_a_verifying_receiver(receiver: HttpReceiver) -> None:
    result = send(webhook(receiver.url), secrets(), opened(), ports=ports())

    assert (result.status, result.response_code, result.error) == ("delivered", 200, "")
    [request] = receiver.requests
    assert request.status == 200
    assert request.headers["idempotency-key"] == "42:ch-web"
    assert request.headers["x-pulse-event"] == "AlertOpened"
    body = request.json()
    assert body["id"] == "42"
    assert body["summary"] == "CRITICAL: Supply temperature high on dev-1 (opened)"
    assert body["alert"]["fingerprint"] == "hot/dev-1"
    assert body["url"] == "https://pulse.example.com/alerts/alr-1"


def test_retry_of_the_same_event_is_processed_once(receiver: HttpReceiver) -> None:
    start = datetime.now(UTC)
    ticks = itertools.count()
    clock = lambda: start + timedelta(seconds=30 * next(ticks))  # noqa: E731 - retries come 30 s apart

    first = send(webhook(receiver.url), secrets(), opened(), ports=ports(clock))
    retry = send(webhook(receiver.url), secrets(), opened(), ports=ports(clock))

    assert (first.status, retry.status) == ("delivered", "delivered")
    assert [r.reason for r in receiver.requests] == ["ok", "duplicate ignored"]
    assert list(receiver.processed) == ["42:ch-web"]


def test_replayed_request_is_refused_by_the_receiver(receiver: HttpReceiver) -> None:
    send(webhook(receiver.url), secrets(), opened(), ports=ports())
    [original] = receiver.requests

    replay = httpx.post(
        receiver.url,
        content=original.body,
        headers={
            k: v
            for k, v in original.headers.items()
            if k.startswith("x-pulse") or k in ("content-type", "idempotency-key")
        },
    )

    assert (replay.status_code, replay.text) == (401, "replayed request")


def test_tampered_body_fails_the_signature(receiver: HttpReceiver) -> None:
    send(webhook(receiver.url), secrets(), opened(), ports=ports())
    [original] = receiver.requests
    headers = {k: v for k, v in original.headers.items() if k.startswith("x-pulse")}

    tampered = httpx.post(receiver.url, content=original.body.replace(b"critical", b"info"), headers=headers)

    assert (tampered.status_code, tampered.text) == (401, "bad signature")


def test_stale_timestamp_is_refused_and_not_retried(receiver: HttpReceiver) -> None:
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)

    result = send(webhook(receiver.url), secrets(), opened(), ports=ports(lambda: ten_minutes_ago))

    assert (result.status, result.response_code) == ("permanent", 401)
    assert "stale timestamp" in result.error
    assert receiver.processed == {}


def test_previous_secret_still_signs_during_the_grace_period() -> None:
    # Given a receiver that still only knows the old secret, and a rotation whose grace lasts an hour
    rotated = secrets(SECRET, previous=OLD_SECRET, until=datetime.now(UTC) + timedelta(hours=1))
    with HttpReceiver(HttpBehaviour(webhook_secrets=[OLD_SECRET.encode()])) as receiver:
        # When Pulse sends during the grace period
        result = send(webhook(receiver.url), rotated, opened(), ports=ports())

    # Then both signatures are offered and the old one verifies
    assert result.status == "delivered"
    assert receiver.requests[0].headers["x-pulse-signature"].count("v1=") == 2


def test_after_the_grace_period_only_the_new_secret_verifies() -> None:
    ended = datetime.now(UTC) - timedelta(seconds=1)
    rotated = secrets(SECRET, previous=OLD_SECRET, until=ended)
    with HttpReceiver(HttpBehaviour(webhook_secrets=[OLD_SECRET.encode()])) as old_receiver:
        refused = send(webhook(old_receiver.url), rotated, opened(), ports=ports())
    with HttpReceiver(HttpBehaviour(webhook_secrets=[SECRET.encode()])) as new_receiver:
        accepted = send(webhook(new_receiver.url), rotated, opened(), ports=ports())

    assert (refused.status, refused.response_code) == ("permanent", 401)
    assert "bad signature" in refused.error
    assert accepted.status == "delivered"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (500, "retryable"),
        (503, "retryable"),
        (429, "retryable"),
        (400, "permanent"),
        (404, "permanent"),
        (410, "permanent"),
    ],
)
def test_receiver_answers_are_classified(answer: int, status: str) -> None:
    with HttpReceiver(HttpBehaviour(status=answer)) as receiver:
        result = send(webhook(receiver.url), secrets(), opened(), ports=ports())

    assert (result.status, result.response_code) == (status, answer)
    assert result.error.startswith(f"HTTP {answer}")
    assert result.latency_ms > 0


def test_rate_limit_answer_keeps_retry_after_in_the_error() -> None:
    with HttpReceiver(HttpBehaviour(status=429, headers={"Retry-After": "120"})) as receiver:
        result = send(webhook(receiver.url), secrets(), opened(), ports=ports())

    assert result.status == "retryable"
    assert "Retry-After: 120" in result.error


def test_timeout_is_retryable() -> None:
    with HttpReceiver(HttpBehaviour(delay_s=2.0)) as receiver:
        result = send(webhook(receiver.url, timeout_s=0.3), secrets(), opened(), ports=ports())

    assert (result.status, result.response_code) == ("retryable", None)
    assert "timed out" in result.error


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    result = send(webhook(f"http://127.0.0.1:{closed_port}/hook"), secrets(), opened(), ports=ports())

    assert result.status == "retryable"
    assert "connection to 127.0.0.1 failed" in result.error


def test_redirect_is_not_followed() -> None:
    with HttpReceiver(HttpBehaviour(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"})) as rx:
        result = send(webhook(rx.url), secrets(), opened(), ports=ports())

    assert (result.status, result.response_code) == ("permanent", 302)
    assert "not followed" in result.error
    assert len(rx.requests) == 1


# --- egress guard -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("https://[::ffff:10.0.0.1]/", "embeds 10.0.0.1, a private address"),
        ("https://100.64.0.1/", "100.64.0.1 is not a public address"),
    ],
)
def test_non_public_destinations_are_refused_permanently(url: str, reason: str) -> None:
    result = send(webhook(url), secrets(), opened(), ports=ports(allow=()))

    assert (result.status, result.response_code) == ("permanent", None)
    assert "refused" in result.error
    assert reason in result.error


def test_loopback_receiver_is_not_contacted_without_the_operator_allow_list(receiver: HttpReceiver) -> None:
    result = send(webhook(receiver.url), secrets(), opened(), ports=ports(allow=()))

    assert result.status == "permanent"
    assert receiver.requests == []


def test_hostname_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.customer.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    result = send(webhook("https://hooks.customer.example/pulse"), secrets(), opened(), ports=ports(allow=()))

    assert result.status == "permanent"
    assert "hooks.customer.example (10.20.30.40) refused: 10.20.30.40 is a private address" in result.error


def test_dns_rebinding_cannot_redirect_the_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given a name whose first answer is an admitted address (127.0.0.1 stands in for a public one)
    # and every later answer 127.0.0.2, where another receiver with a valid certificate listens
    name = "hooks.rebind.test"
    certificate = ReceiverCertificate(name, tmp_path)
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    behaviour = HttpBehaviour(webhook_secrets=[SECRET.encode()])
    with (
        HttpReceiver(behaviour, "127.0.0.1", tls=certificate.server_context()) as good,
        HttpReceiver(HttpBehaviour(), "127.0.0.2", tls=certificate.server_context()) as evil,
    ):
        url = f"https://{name}:{good.port}/hook"

        # When the webhook is sent (TLS verified against the name, connection to the checked address)
        result = send(
            webhook(url), secrets(), opened(), ports=ports(allow=("127.0.0.1/32",), http_client=certificate.http_client)
        )

    # Then the name was resolved once and only the checked address received the request
    assert result.status == "delivered"
    assert lookups == [name]
    assert len(good.requests) == 1
    assert good.requests[0].headers["host"] == f"{name}:{good.port}"
    assert evil.requests == []


def test_certificate_for_another_name_is_not_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            if host == "hooks.other.test"
            else real(host, port, *a, **k)
        ),
    )
    certificate = ReceiverCertificate("hooks.rebind.test", tmp_path)
    with HttpReceiver(HttpBehaviour(), tls=certificate.server_context()) as receiver:
        result = send(
            webhook(f"https://hooks.other.test:{receiver.port}/"),
            secrets(),
            opened(),
            ports=ports(http_client=certificate.http_client),
        )

    assert result.status == "retryable"
    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert receiver.requests == []


def test_default_client_follows_no_redirects_and_ignores_proxy_variables() -> None:
    client = default_http_client(5.0)

    assert client.follow_redirects is False
    assert client.trust_env is False


def test_egress_clients_share_one_verifying_tls_context_and_follow_no_redirects() -> None:
    first, second = egress.http_client(5.0), egress.http_client(30.0)

    assert egress.tls_context() is egress.tls_context()
    assert egress.tls_context().check_hostname is True
    assert egress.tls_context().verify_mode == ssl.CERT_REQUIRED
    assert (first.follow_redirects, first.trust_env) == (False, False)
    assert (first.timeout.connect, second.timeout.read) == (5.0, 30.0)


def test_egress_client_refuses_a_certificate_no_public_authority_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a receiver whose certificate names the host but is self-signed
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            if host == "hooks.self-signed.test"
            else real(host, port, *a, **k)
        ),
    )
    certificate = ReceiverCertificate("hooks.self-signed.test", tmp_path)
    with HttpReceiver(HttpBehaviour(), tls=certificate.server_context()) as receiver:
        # When it is sent twice through the production client (one shared TLS context)
        results = [
            send(
                webhook(f"https://hooks.self-signed.test:{receiver.port}/"),
                secrets(),
                opened(),
                ports=ports(http_client=egress.http_client),
            )
            for _ in range(2)
        ]

    # Then both sends verified the certificate and refused it; nothing reached the receiver
    assert [r.status for r in results] == ["retryable", "retryable"]
    assert all("CERTIFICATE_VERIFY_FAILED" in r.error for r in results)
    assert receiver.requests == []


def test_each_send_through_egress_clients_reaches_the_receiver(receiver: HttpReceiver) -> None:
    results = [
        send(webhook(receiver.url), secrets(), opened(event_id=n), ports=ports(http_client=egress.http_client))
        for n in (1, 2, 3)
    ]

    assert [r.status for r in results] == ["delivered"] * 3
    assert len(receiver.requests) == 3
