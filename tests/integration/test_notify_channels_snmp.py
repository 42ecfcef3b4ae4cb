"""SNMP channel against pysnmp's notification receiver on 127.0.0.1: v2c with a community, v3
authPriv (SHA and SHA-256 with AES-128) under the engine id Pulse announces, informs, and the
varbinds resolved by name from the shipped PULSE-ALERTS-MIB (parsed from its assignments)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from pulse.notify.channels import CHANNEL_CONFIG, CHANNEL_SECRETS, Notification, SenderPorts, send
from pulse.notify.channels.models import SnmpConfig
from pulse.notify.channels.senders.snmp import MIB_FILE, engine_id
from pulse.notify.channels.ssrf import parse_allow_list
from tests.notify_receivers import alert_event_detail, free_port
from tests.snmp_receiver import TrapReceiver, V3User, mib_oids

LOOPBACK = SenderPorts(mailer=None, mqtt=None, email_from="", egress_allow=parse_allow_list(["127.0.0.1/32"]))  # type: ignore[arg-type]
COMMUNITY = "pulse-community-7"
AUTH_KEY = "auth-passphrase-1"
PRIV_KEY = "priv-passphrase-1"


def snmp(port: int, **fields: Any) -> SnmpConfig:
    config = CHANNEL_CONFIG.validate_python({"type": "snmp", "host": "127.0.0.1", "port": port, **fields})
    assert isinstance(config, SnmpConfig)
    return config


def v3(port: int, auth: str = "SHA", **fields: Any) -> SnmpConfig:
    return snmp(
        port,
        version="v3",
        user="pulse-nms",
        security_level="authPriv",
        auth_protocol=auth,
        priv_protocol="AES-128",
        **fields,
    )


V2C_SECRETS = CHANNEL_SECRETS.validate_python({"type": "snmp", "community": COMMUNITY})
V3_SECRETS = CHANNEL_SECRETS.validate_python({"type": "snmp", "auth_key": AUTH_KEY, "priv_key": PRIV_KEY})


def named(trap: Any) -> dict[str, str]:
    """Varbinds by MIB object name (instance suffix .0 dropped), values as text."""
    names = mib_oids(MIB_FILE) | {"1.3.6.1.2.1.1.3": "sysUpTime", "1.3.6.1.6.3.1.1.4.1": "snmpTrapOID"}
    result = {}
    for oid, value in trap.varbinds:
        name = names[oid.removesuffix(".0")]
        text = value.prettyPrint()
        result[name] = names.get(text, text)
    return result


def test_v2c_trap_carries_the_alert_under_the_pulse_mib() -> None:
    notification = Notification.from_event(alert_event_detail(), "ch-snmp")
    with TrapReceiver(community=COMMUNITY) as receiver:
        result = send(snmp(receiver.port, version="v2c"), V2C_SECRETS, notification, ports=LOOPBACK)
        [trap] = receiver.wait_for(1)

    assert result.status == "delivered"
    assert (trap.security_model, trap.security_name) == (2, "pulse-test-area")
    assert {name: value for name, value in named(trap).items() if name != "sysUpTime"} == {
        "snmpTrapOID": "pulseAlertRaised",
        "pulseAlertEventName": "AlertOpened",
        "pulseAlertId": "alr-1",
        "pulseAlertSeverity": "1",  # critical(1)
        "pulseAlertState": "1",  # open(1)
        "pulseAlertDeviceId": "dev-1",
        "pulseAlertRuleId": "hot",
        "pulseAlertSummary": "CRITICAL: Supply temperature high on dev-1 (opened)",
        "pulseAlertTenantId": "acme",
        "pulseAlertEventId": "42",
    }


@pytest.mark.parametrize("auth", ["SHA", "SHA-256"])
def test_v3_authpriv_trap_is_accepted_by_a_receiver_knowing_the_user(auth: str) -> None:
    notification = Notification.from_event(alert_event_detail("AlertResolved", state="resolved"), "ch-snmp3")
    port = free_port(socket.SOCK_DGRAM)
    config = v3(port, auth)
    user = V3User("pulse-nms", AUTH_KEY, PRIV_KEY, engine_id(config, "ch-snmp3"), auth=auth)
    with TrapReceiver(users=[user]) as receiver:
        result = send(v3(receiver.port, auth), V3_SECRETS, notification, ports=LOOPBACK)
        [trap] = receiver.wait_for(1)

    assert result.status == "delivered"
    assert (trap.security_model, trap.security_name, trap.security_level) == (3, "pulse-nms", 3)  # 3 = authPriv
    assert named(trap)["snmpTrapOID"] == "pulseAlertCleared"
    assert named(trap)["pulseAlertState"] == "4"  # resolved(4)


def test_v3_trap_with_the_wrong_privacy_key_is_dropped_by_the_receiver() -> None:
    notification = Notification.from_event(alert_event_detail(), "ch-snmp3")
    config = v3(free_port(socket.SOCK_DGRAM))
    user = V3User("pulse-nms", AUTH_KEY, "another-priv-key", engine_id(config, "ch-snmp3"))
    with TrapReceiver(users=[user]) as receiver:
        send(v3(receiver.port), V3_SECRETS, notification, ports=LOOPBACK)
        traps = receiver.wait_for(1, timeout_s=1.0)

    assert traps == []


def test_v2c_trap_with_another_community_is_dropped_by_the_receiver() -> None:
    notification = Notification.from_event(alert_event_detail(), "ch-snmp")
    with TrapReceiver(community="something-else") as receiver:
        send(snmp(receiver.port, version="v2c"), V2C_SECRETS, notification, ports=LOOPBACK)
        traps = receiver.wait_for(1, timeout_s=1.0)

    assert traps == []


def test_inform_is_delivered_once_acknowledged_and_retryable_without_a_receiver() -> None:
    notification = Notification.from_event(alert_event_detail("AlertAcknowledged", state="acknowledged"), "ch-snmp")
    with TrapReceiver(community=COMMUNITY) as receiver:
        acknowledged = send(
            snmp(receiver.port, version="v2c", notification="inform"), V2C_SECRETS, notification, ports=LOOPBACK
        )
        [trap] = receiver.wait_for(1)
    unanswered = send(
        snmp(free_port(socket.SOCK_DGRAM), version="v2c", notification="inform", timeout_s=0.2),
        V2C_SECRETS,
        notification,
        ports=LOOPBACK,
    )

    assert acknowledged.status == "delivered"
    assert named(trap)["snmpTrapOID"] == "pulseAlertUpdated"
    assert unanswered.status == "retryable"
    assert "No SNMP response" in unanswered.error


def test_channel_test_notification_uses_its_own_trap() -> None:
    from datetime import UTC, datetime

    notification = Notification.channel_test("acme", "ch-snmp", datetime.now(UTC), "t1")
    with TrapReceiver(community=COMMUNITY) as receiver:
        send(snmp(receiver.port, version="v2c"), V2C_SECRETS, notification, ports=LOOPBACK)
        [trap] = receiver.wait_for(1)

    assert named(trap)["snmpTrapOID"] == "pulseChannelTest"
    assert named(trap)["pulseAlertSummary"].startswith("[TEST]")


def test_trap_receiver_on_a_private_address_is_refused() -> None:
    notification = Notification.from_event(alert_event_detail(), "ch-snmp")
    config = CHANNEL_CONFIG.validate_python({"type": "snmp", "host": "10.0.0.9", "version": "v2c"})

    result = send(config, V2C_SECRETS, notification, ports=LOOPBACK)

    assert result.status == "permanent"
    assert "10.0.0.9 is a private address" in result.error


def test_v3_channel_without_keys_is_a_permanent_failure() -> None:
    notification = Notification.from_event(alert_event_detail(), "ch-snmp3")
    no_keys = CHANNEL_SECRETS.validate_python({"type": "snmp", "community": COMMUNITY})

    result = send(v3(162), no_keys, notification, ports=LOOPBACK)

    assert result.status == "permanent"
    assert "auth_key and priv_key" in result.error


def test_shipped_mib_defines_every_object_and_notification_the_sender_uses() -> None:
    from pulse.notify.channels.senders import snmp as sender

    names = mib_oids(MIB_FILE)
    assert names[sender.PULSE_ALERTS_MIB] == "pulseAlertsMIB"
    assert {names[oid] for oid in sender.TRAPS.values()} == {
        "pulseAlertRaised",
        "pulseAlertUpdated",
        "pulseAlertCleared",
        "pulseChannelTest",
    }
    sent = {names[f"{sender.OBJECTS}.{column}"] for column in sender.COLUMNS.values()}
    text = MIB_FILE.read_text()
    for notification in ("pulseAlertRaised", "pulseAlertUpdated", "pulseAlertCleared", "pulseChannelTest"):
        objects = text.split(f"{notification} NOTIFICATION-TYPE")[1].split("}")[0]
        assert {name.strip() for name in objects.split("{")[1].split(",")} == sent
