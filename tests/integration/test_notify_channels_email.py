"""Email channel: a multipart text + HTML message through a real SMTP server (aiosmtpd on 127.0.0.1)
and through SES (moto), with refusals classified."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.backends import get_backend

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, SenderPorts, send
from pulse.notify.channels.senders.smtp import SmtpMailer, SmtpSettings
from pulse.platform.aws.ses import SesMailer
from tests.notify_receivers import SmtpReceiver, alert_event_detail, free_port

SENDER = "alerts@pulse.example.com"
CONFIG = CHANNEL_CONFIG.validate_python({"type": "email", "to": ["ops@customer.example", "noc@customer.example"]})
SECRETS = CHANNEL_SECRETS.validate_python({"type": "email"})


def ports(mailer: Any) -> SenderPorts:
    return SenderPorts(mailer=mailer, mqtt=None, email_from=SENDER, portal_url="https://pulse.example.com")  # type: ignore[arg-type]


def opened(**fields: Any) -> Notification:
    return Notification.from_event(alert_event_detail(**fields), "ch-mail")


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


def test_smtp_delivers_one_multipart_message_to_every_recipient(smtp: SmtpReceiver) -> None:
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False, timeout_s=5))

    result = send(CONFIG, SECRETS, opened(rule_name="Temp <script>alert(1)</script>"), ports=ports(mailer))

    assert result.status == "delivered"
    [(mail_from, recipients, message)] = smtp.messages
    assert mail_from == SENDER
    assert recipients == ["ops@customer.example", "noc@customer.example"]
    assert message["Subject"] == "[Pulse] CRITICAL: Temp <script>alert(1)</script> on dev-1 (opened)"
    assert message["X-Pulse-Idempotency-Key"] == "42:ch-mail"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Device:   dev-1" in text
    assert "Open in Pulse: https://pulse.example.com/alerts/alr-1" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert 'href="https://pulse.example.com/alerts/alr-1"' in html


def test_smtp_server_down_is_retryable() -> None:
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, timeout_s=2))

    result = send(CONFIG, SECRETS, opened(), ports=ports(mailer))

    assert result.status == "retryable"
    assert "unreachable" in result.error


def test_starttls_required_but_not_offered_is_permanent(smtp: SmtpReceiver) -> None:
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=True, timeout_s=5))

    result = send(CONFIG, SECRETS, opened(), ports=ports(mailer))

    assert result.status == "permanent"
    assert "STARTTLS" in result.error.upper()
    assert smtp.messages == []


@pytest.fixture
def ses(aws: None) -> Any:
    client = boto3.client("sesv2", region_name="eu-west-1")
    client.create_email_identity(EmailIdentity="pulse.example.com")
    return client


def test_ses_sends_the_same_multipart_message(ses: Any) -> None:
    result = send(CONFIG, SECRETS, opened(), ports=ports(SesMailer(ses)))

    assert result.status == "delivered"
    [sent] = get_backend("ses")["123456789012"]["eu-west-1"].sent_messages
    assert sent.source == SENDER
    # moto adds the To header's addresses to the Destination it was given; SES uses Destination only
    assert set(sent.destinations) == {"noc@customer.example", "ops@customer.example"}
    assert "multipart/alternative" in sent.raw_data
    assert "Subject: [Pulse] CRITICAL: Supply temperature high on dev-1 (opened)" in sent.raw_data


def test_ses_refusing_an_unverified_sender_is_permanent(aws: None) -> None:
    client = boto3.client("sesv2", region_name="eu-west-1")

    result = send(CONFIG, SECRETS, opened(), ports=ports(SesMailer(client)))

    assert result.status == "permanent"
    assert "SES MessageRejected" in result.error


def test_missing_sender_address_is_a_permanent_configuration_error() -> None:
    no_sender = SenderPorts(mailer=None, mqtt=None, email_from="")  # type: ignore[arg-type]

    result = send(CONFIG, SECRETS, opened(), ports=no_sender)

    assert (result.status, result.error) == ("permanent", "no sender address configured (notify_email_from)")
