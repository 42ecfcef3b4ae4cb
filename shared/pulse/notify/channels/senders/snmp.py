"""SNMP: a v2c trap with a community, or a v3 authPriv trap (SHA / SHA-256 with AES-128), or an inform.

Object identifiers come from ``mibs/PULSE-ALERTS-MIB.txt`` (shipped with the package) under the
Pulse enterprise arc ``1.3.6.1.4.1.32473`` (the documentation PEN of RFC 5612, to be replaced by the
operator's IANA Private Enterprise Number). A trap is fire-and-forget: it counts as delivered once
it left the socket. An inform waits for the receiver's acknowledgement, so a missing one is retried.
The receiver's address goes through the same egress guard as HTTP destinations.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pulse.notify.channels.message import TEST_EVENT, Notification
from pulse.notify.channels.models import PULSE_ENTERPRISE_NUMBER, SnmpConfig
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult, clip
from pulse.notify.channels.secrets import SnmpSecrets, check_pair
from pulse.notify.channels.ssrf import DestinationRefused, DestinationUnresolved, check_destination

MIB_FILE = Path(__file__).resolve().parent.parent / "mibs" / "PULSE-ALERTS-MIB.txt"
PULSE_ALERTS_MIB = f"1.3.6.1.4.1.{PULSE_ENTERPRISE_NUMBER}.1"
NOTIFICATIONS = f"{PULSE_ALERTS_MIB}.0"
OBJECTS = f"{PULSE_ALERTS_MIB}.1"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"

TRAPS = {
    "raised": f"{NOTIFICATIONS}.1",
    "updated": f"{NOTIFICATIONS}.2",
    "cleared": f"{NOTIFICATIONS}.3",
    "test": f"{NOTIFICATIONS}.4",
}
RAISED = frozenset({"AlertOpened", "AlertReopened", "AlertUnacknowledged", "AlertUnsnoozed", "AlertEscalated"})
CLEARED = frozenset({"AlertResolved", "AlertClosed"})
# Column numbers under pulseAlertsObjects; each is sent as a scalar instance (.0).
COLUMNS = {
    "event_name": 1,
    "alert_id": 2,
    "severity": 3,
    "state": 4,
    "device_id": 5,
    "rule_id": 6,
    "summary": 7,
    "tenant_id": 8,
    "event_id": 9,
}
SEVERITIES = {"critical": 1, "major": 2, "minor": 3, "warning": 4, "info": 5}
STATES = {"open": 1, "acknowledged": 2, "snoozed": 3, "resolved": 4, "closed": 5}
OTHER = 6
DISPLAY_STRING_MAX = 255

T = TypeVar("T")


def trap_oid(notification: Notification) -> str:
    if notification.event_name == TEST_EVENT:
        return TRAPS["test"]
    if notification.event_name in RAISED:
        return TRAPS["raised"]
    if notification.event_name in CLEARED:
        return TRAPS["cleared"]
    return TRAPS["updated"]


def varbind_values(notification: Notification) -> list[tuple[str, str | int]]:
    """(instance OID, value) pairs after snmpTrapOID, in MIB ``OBJECTS`` order."""
    alert = notification.alert
    values: dict[str, str | int] = {
        "event_name": notification.event_name,
        "alert_id": str(alert.get("alert_id") or ""),
        "severity": SEVERITIES.get(notification.severity, OTHER),
        "state": STATES.get(str(alert.get("state") or ""), OTHER),
        "device_id": notification.device_id,
        "rule_id": str(alert.get("rule_id") or ""),
        "summary": notification.summary,
        "tenant_id": notification.tenant_id,
        "event_id": notification.event_id,
    }
    pairs: list[tuple[str, str | int]] = []
    for name, column in COLUMNS.items():
        value = values[name]
        if isinstance(value, str):
            value = value.encode()[:DISPLAY_STRING_MAX].decode("utf-8", errors="ignore")
        pairs.append((f"{OBJECTS}.{column}.0", value))
    return pairs


def engine_id(config: SnmpConfig, channel_id: str) -> bytes:
    """RFC 3411 snmpEngineID: enterprise arc, format 5 (octets), 8 octets derived from the channel id."""
    if config.engine_id:
        return bytes.fromhex(config.engine_id)
    prefix = (0x80000000 | PULSE_ENTERPRISE_NUMBER).to_bytes(4, "big") + b"\x05"
    return prefix + hashlib.sha256(channel_id.encode()).digest()[:8]


def send_snmp(config: SnmpConfig, secrets: SnmpSecrets, notification: Notification, ports: SenderPorts) -> SendResult:
    started = time.perf_counter()
    try:
        check_pair(config, secrets)
        destination = check_destination(config.host, config.port, resolver=ports.resolver, allow=ports.egress_allow)
    except (ValueError, DestinationRefused) as exc:
        return SendResult("permanent", None, _ms(started), str(exc))
    except DestinationUnresolved as exc:
        return SendResult("retryable", None, _ms(started), str(exc))
    try:
        error = _run(_notify(config, secrets, notification, str(destination.address), destination.address.version))
    except Exception as exc:  # pysnmp raises its own hierarchy and OSError from the socket
        return SendResult("retryable", None, _ms(started), clip(f"SNMP {config.notification} failed: {exc!r}"))
    if error:
        return SendResult("retryable", None, _ms(started), clip(f"SNMP {config.notification}: {error}"))
    return SendResult("delivered", None, _ms(started))


async def _notify(
    config: SnmpConfig, secrets: SnmpSecrets, notification: Notification, address: str, ip_version: int
) -> str:
    from pysnmp.hlapi.v3arch import asyncio as hl
    from pysnmp.proto.rfc1902 import Integer32, ObjectIdentifier, OctetString

    engine = hl.SnmpEngine(snmpEngineID=OctetString(engine_id(config, notification.channel_id)))
    try:
        auth: Any
        if config.version == "v2c":
            community = secrets.community.get_secret_value() if secrets.community else ""  # check_pair: present
            # v2c only where the receiver speaks nothing else; v3 authPriv is the default
            auth = hl.CommunityData(community, mpModel=1)  # noqa: S508
        else:
            auth = hl.UsmUserData(
                config.user or "",
                authKey=secrets.auth_key.get_secret_value() if secrets.auth_key else "",  # check_pair: present
                privKey=secrets.priv_key.get_secret_value() if secrets.priv_key else "",
                authProtocol=hl.usmHMACSHAAuthProtocol
                if config.auth_protocol == "SHA"
                else hl.usmHMAC192SHA256AuthProtocol,
                privProtocol=hl.usmAesCfb128Protocol,
            )
        target_class = hl.UdpTransportTarget if ip_version == 4 else hl.Udp6TransportTarget
        retries = 2 if config.notification == "inform" else 0
        target = await target_class.create((address, config.port), timeout=config.timeout_s, retries=retries)
        varbinds: list[Any] = [
            hl.ObjectType(hl.ObjectIdentity(SNMP_TRAP_OID), ObjectIdentifier(trap_oid(notification)))
        ]
        for oid, value in varbind_values(notification):
            syntax = Integer32(value) if isinstance(value, int) else OctetString(value.encode())
            varbinds.append(hl.ObjectType(hl.ObjectIdentity(oid), syntax))
        error_indication, error_status, error_index, _ = await hl.send_notification(
            engine, auth, target, hl.ContextData(), config.notification, *varbinds, lookupMib=False
        )
        if error_indication:
            return str(error_indication)
        if error_status:
            return f"{error_status.prettyPrint()} at varbind {error_index}"
        return ""
    finally:
        engine.close_dispatcher()


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh event loop; from inside a running loop (an async caller), on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name="pulse-snmp-send")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
