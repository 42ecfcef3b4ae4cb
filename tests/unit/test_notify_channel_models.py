"""Channel models refuse bad configuration with messages that name the problem, and secrets never
show up in what models print or serialize."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, check_pair, dump_secrets, load_secrets
from pulse.notify.channels.ssrf import refusal


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"type": "webhook", "url": "http://hooks.example.com/x"}, "must use https"),
        ({"type": "webhook", "url": "https://user:pw@hooks.example.com/x"}, "user name or password"),
        ({"type": "webhook", "url": "ftp://hooks.example.com/x"}, "absolute https:// URL"),
        ({"type": "email", "to": ["ops@example.com", "OPS@example.com"]}, "must not repeat"),
        ({"type": "email", "to": ["not-an-address"]}, "is not an email address"),
        ({"type": "email", "to": ["a@example.com"], "subject_prefix": "x\r\nBcc: evil@example.com"}, "one line"),
        (
            {"type": "snmp", "host": "nms.example.com", "version": "v3", "user": "u", "security_level": "authNoPriv"},
            "authPriv",
        ),
        (
            {
                "type": "snmp",
                "host": "nms.example.com",
                "version": "v3",
                "user": "u",
                "security_level": "authPriv",
                "auth_protocol": "MD5",
                "priv_protocol": "AES-128",
            },
            "auth_protocol",
        ),
        ({"type": "snmp", "host": "nms.example.com", "version": "v2c", "user": "u"}, "SNMP v3 only"),
        ({"type": "snmp", "host": "bad host!"}, "not a host name"),
        ({"type": "mqtt", "topic": "tenant/acme/out/#"}, "wildcards"),
        ({"type": "pagerduty", "events_url": "http://events.pagerduty.com/v2/enqueue"}, "must use https"),
        ({"type": "fax"}, "does not match any of the expected tags"),
    ],
)
def test_invalid_configuration_is_refused_with_a_clear_message(document: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CHANNEL_CONFIG.validate_python(document)


def test_loopback_http_is_accepted_for_test_receivers_only() -> None:
    assert CHANNEL_CONFIG.validate_python({"type": "webhook", "url": "http://127.0.0.1:8080/hook"})
    assert CHANNEL_CONFIG.validate_python({"type": "webhook", "url": "http://[::1]:8080/hook"})


def test_secrets_are_not_shown_in_repr_or_json() -> None:
    secrets = CHANNEL_SECRETS.validate_python(
        {"type": "slack", "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"}
    )

    assert "XXXXSECRET" not in repr(secrets)
    assert "XXXXSECRET" not in secrets.model_dump_json()
    assert load_secrets(dump_secrets(secrets)) == secrets


def test_webhook_rotation_needs_both_previous_secret_and_its_end() -> None:
    with pytest.raises(ValidationError, match="set together"):
        CHANNEL_SECRETS.validate_python({"type": "webhook", "signing_secret": "s" * 16, "previous": "p" * 16})


def test_short_signing_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="a signing secret must be at least 16 characters"):
        CHANNEL_SECRETS.validate_python({"type": "webhook", "signing_secret": "short"})


def test_previous_secret_signs_only_until_its_end() -> None:
    end = datetime(2025, 1, 1, 12, tzinfo=UTC)
    secrets = CHANNEL_SECRETS.validate_python(
        {"type": "webhook", "signing_secret": "n" * 16, "previous": "o" * 16, "previous_valid_until": end}
    )

    assert secrets.signing_keys(end - timedelta(seconds=1)) == [b"n" * 16, b"o" * 16]  # type: ignore[union-attr]
    assert secrets.signing_keys(end) == [b"n" * 16]  # type: ignore[union-attr]


def test_secrets_of_another_type_or_incomplete_snmp_keys_do_not_pair() -> None:
    v2c = CHANNEL_CONFIG.validate_python({"type": "snmp", "host": "nms.example.com", "version": "v2c"})
    with pytest.raises(ValueError, match="needs a community"):
        check_pair(v2c, CHANNEL_SECRETS.validate_python({"type": "snmp"}))
    with pytest.raises(ValueError, match="do not fit"):
        check_pair(v2c, CHANNEL_SECRETS.validate_python({"type": "email"}))


def test_notification_reads_a_whole_eventbridge_event_too() -> None:
    event = {
        "detail-type": "AlertResolved",
        "detail": {
            "metadata": {
                "event_name": "AlertResolved",
                "event_version": 1,
                "event_id": "7",
                "tenant_id": "acme",
                "correlation_id": "c",
                "occurred_at": "2025-01-01T00:00:00+00:00",
            },
            "data": {"alert_id": "a", "rule_name": "Door open", "device_id": "d", "severity": "minor"},
        },
    }

    notification = Notification.from_event(event, "ch-1")

    assert notification.idempotency_key == "7:ch-1"
    assert notification.summary == "MINOR: Door open on d (resolved)"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("192.168.1.1", "a private address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a unique-local address"),
        ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254, a cloud metadata address"),
        ("2002:0a00:0001::1", "embeds 10.0.0.1, a private address"),
    ],
)
def test_egress_guard_names_why_an_address_is_refused(address: str, expected: str | None) -> None:
    import ipaddress

    assert refusal(ipaddress.ip_address(address)) == expected


def test_refused_secret_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ValidationError) as refused:
        CHANNEL_SECRETS.validate_python({"type": "pagerduty", "routing_key": "abc-def-secret-value-123"})

    assert "abc-def-secret-value-123" not in str(refused.value)
    # the API's problem body shows each error's field and message, never its input
    assert all("abc-def-secret-value-123" not in e["msg"] for e in refused.value.errors())
