"""How messages leave a device: the ``Link`` port, an in-memory transport and a dry-run printer.

The fleet talks to one ``Link`` per device and never to paho directly, so the same scheduling
code drives MQTT (``pulse_sim.mqtt``), tests (``MemoryTransport``, with a simulated clock) and
``--dry-run`` (JSON lines on stdout, no broker needed).
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from pulse.connect.topics import TopicKind, build_topic
from pulse_sim.clock import Clock
from pulse_sim.credentials import DeviceIdentity
from pulse_sim.inbound import InboundHandler, InboundMessage, dispatch, dispatch_connected


class Link(Protocol):
    """One device's connection. ``publish`` never blocks on the network (QoS 1 is queued)."""

    def connect(self) -> None: ...

    def publish(self, topic: str, payload: bytes) -> None: ...

    def disconnect(self) -> None:
        """Goes dark (uplink drop, power off); ``connect`` brings the link back."""
        ...

    def close(self, deadline: float) -> None:
        """Final shutdown: waits (until ``time.monotonic()`` reaches ``deadline``) for acks, then disconnects."""
        ...


class Transport(Protocol):
    def open(self, identity: DeviceIdentity, inbound: InboundHandler) -> Link:
        """A link for the device; raises ``CredentialsError`` before any connection is attempted."""
        ...


class LinkOutbox:
    """Lets an inbound handler answer as the device, on the device's own topics."""

    def __init__(self, identity: DeviceIdentity, link: Link) -> None:
        self._identity = identity
        self._link = link

    def publish(self, kind: TopicKind, payload: bytes, command_id: str | None = None) -> None:
        topic = build_topic(self._identity.tenant_id, self._identity.device_id, kind, command_id)
        self._link.publish(topic, payload)


@dataclass(frozen=True, slots=True)
class Published:
    device_id: str
    topic: str
    payload: bytes
    at: float  # the fleet clock when published

    def envelope(self) -> dict[str, object]:
        document: dict[str, object] = json.loads(self.payload)
        return document


@dataclass(slots=True)
class MemoryLink:
    """Records what a device publishes and whether it is connected; ``deliver`` plays the cloud."""

    identity: DeviceIdentity
    inbound: InboundHandler
    transport: MemoryTransport
    connected: bool = False
    transitions: list[tuple[float, bool]] = field(default_factory=list)

    def connect(self) -> None:
        """Connected and subscribed at once: the handler's connect hook runs before this returns."""
        self.connected = True
        self.transitions.append((self.transport.now(), True))
        dispatch_connected(self.inbound, self.identity, LinkOutbox(self.identity, self))

    def publish(self, topic: str, payload: bytes) -> None:
        if not self.connected:
            raise RuntimeError(f"{self.identity.device_id} published while disconnected")
        self.transport.record(Published(self.identity.device_id, topic, payload, self.transport.now()))

    def disconnect(self) -> None:
        self.connected = False
        self.transitions.append((self.transport.now(), False))

    def close(self, deadline: float) -> None:
        if self.connected:
            self.disconnect()

    def deliver(self, kind: TopicKind, payload: bytes) -> None:
        """The cloud publishes ``payload`` on the device's ``kind`` topic."""
        topic = build_topic(self.identity.tenant_id, self.identity.device_id, kind)
        dispatch(self.inbound, InboundMessage(self.identity, kind, topic, payload), LinkOutbox(self.identity, self))


class MemoryTransport:
    """Keeps every published message in order; for tests and for generating data programmatically."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self.published: list[Published] = []
        self.links: dict[str, MemoryLink] = {}

    def open(self, identity: DeviceIdentity, inbound: InboundHandler) -> MemoryLink:
        link = MemoryLink(identity, inbound, self)
        self.links[identity.device_id] = link
        return link

    def now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def record(self, message: Published) -> None:
        self.published.append(message)


class _PrintLink:
    def __init__(self, out: TextIO, lock: threading.Lock) -> None:
        self._out = out
        self._lock = lock

    def connect(self) -> None:
        """Nothing to connect to: a dry run only prints."""

    def publish(self, topic: str, payload: bytes) -> None:
        line = json.dumps({"topic": topic, "payload": json.loads(payload)}, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def disconnect(self) -> None:
        """Nothing to disconnect: a dry run only prints."""

    def close(self, deadline: float) -> None:
        """Nothing to flush beyond what ``publish`` already wrote."""


class DryRunTransport:
    """Prints ``{"topic": ..., "payload": {...}}`` lines instead of connecting (``--dry-run``)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._lock = threading.Lock()

    def open(self, identity: DeviceIdentity, inbound: InboundHandler) -> _PrintLink:
        return _PrintLink(self._out, self._lock)
