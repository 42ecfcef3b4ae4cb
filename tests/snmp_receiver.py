"""A real SNMP trap receiver on 127.0.0.1 for the SNMP channel tests, and the shipped MIB's names.

- ``TrapReceiver``: a pysnmp notification receiver (v2c community and/or v3 USM authPriv user).
- ``mib_oids``: object names of the shipped MIB by OID, parsed from its assignments (pysmi is not
  installed, so the MIB is not compiled; the parser reads MODULE-IDENTITY, OBJECT IDENTIFIER,
  OBJECT-TYPE and NOTIFICATION-TYPE assignments and resolves them from ``enterprises``).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.notify_receivers import free_port


@dataclass
class ReceivedTrap:
    security_model: int
    security_name: str
    security_level: int
    varbinds: list[tuple[str, Any]]

    def value(self, oid: str) -> Any:
        return next(value for name, value in self.varbinds if name == oid)


@dataclass
class V3User:
    name: str
    auth_key: str
    priv_key: str
    engine_id: bytes
    auth: str = "SHA"


class TrapReceiver:
    """pysnmp's NotificationReceiver on its own event loop thread (UDP 127.0.0.1)."""

    def __init__(self, *, community: str | None = None, users: list[V3User] | None = None) -> None:
        self.community = community
        self.users = users or []
        self.traps: list[ReceivedTrap] = []
        self.port = free_port(socket.SOCK_DGRAM)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="trap-receiver", daemon=True)

    def _serve(self) -> None:
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import ntfrcv
        from pysnmp.hlapi.v3arch import asyncio as hl
        from pysnmp.proto.rfc1902 import OctetString

        asyncio.set_event_loop(self._loop)
        snmp = engine.SnmpEngine()
        config.add_transport(
            snmp, udp.DOMAIN_NAME, udp.UdpAsyncioTransport().open_server_mode(("127.0.0.1", self.port))
        )
        if self.community is not None:
            config.add_v1_system(snmp, "pulse-test-area", self.community)
        for user in self.users:
            config.add_v3_user(
                snmp,
                user.name,
                hl.usmHMACSHAAuthProtocol if user.auth == "SHA" else hl.usmHMAC192SHA256AuthProtocol,
                user.auth_key,
                hl.usmAesCfb128Protocol,
                user.priv_key,
                securityEngineId=OctetString(user.engine_id),
            )

        def received(
            snmp_engine: Any, state: Any, context_engine_id: Any, context_name: Any, varbinds: Any, ctx: Any
        ) -> None:
            execution = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
            self.traps.append(
                ReceivedTrap(
                    security_model=int(execution["securityModel"]),
                    security_name=str(execution["securityName"]),
                    security_level=int(execution["securityLevel"]),
                    varbinds=[(str(name), value) for name, value in varbinds],
                )
            )

        snmp.observer.register_observer(lambda *args: None, "rfc3412.receiveMessage:request")
        self._receiver = ntfrcv.NotificationReceiver(snmp, received)
        snmp.transport_dispatcher.job_started(1)
        self._engine = snmp
        self._loop.call_soon(self._started.set)
        self._loop.run_forever()
        snmp.transport_dispatcher.close_dispatcher()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def __enter__(self) -> TrapReceiver:
        self._thread.start()
        assert self._started.wait(10), "the trap receiver did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedTrap]:
        deadline = time.monotonic() + timeout_s
        while len(self.traps) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.traps)


_ASSIGNMENT = re.compile(
    r"^(?P<name>[a-z][A-Za-z0-9-]*)\s+(?:MODULE-IDENTITY|OBJECT IDENTIFIER|OBJECT-TYPE|NOTIFICATION-TYPE|"
    r"OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE)\b.*?::=\s*\{\s*(?P<parent>[A-Za-z][A-Za-z0-9-]*)\s+(?P<arcs>\d+(?:\s+\d+)*)\s*\}",
    re.MULTILINE | re.DOTALL,
)


def mib_oids(path: Path) -> dict[str, str]:
    """OID (dotted) -> object name for every assignment of the MIB module at ``path``."""
    text = re.sub(r"--[^\n]*", "", path.read_text())
    known = {"enterprises": "1.3.6.1.4.1"}
    pending = [(m["name"], m["parent"], ".".join(m["arcs"].split())) for m in _ASSIGNMENT.finditer(text)]
    while pending:
        unresolved = [(n, p, a) for n, p, a in pending if p not in known]
        for name, parent, arc in pending:
            if parent in known:
                known[name] = f"{known[parent]}.{arc}"
        if len(unresolved) == len(pending):
            raise AssertionError(f"MIB names without a known parent: {unresolved}")
        pending = unresolved
    return {oid: name for name, oid in known.items() if name != "enterprises"}
