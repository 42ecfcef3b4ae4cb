"""Messages the cloud sends to a device (twin deltas, commands) and the hook that receives them.

Each device subscribes to its own ``twin/delta`` and ``commands`` topics. What a device does with
them is a handler's business: the default one logs them; ``DeviceStateHandler`` applies desired
state and answers commands through the ``Outbox`` it is given.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from pulse.connect.topics import TopicKind
from pulse_sim.credentials import DeviceIdentity

logger = logging.getLogger("pulse_sim.inbound")

SUBSCRIBED_KINDS: tuple[TopicKind, ...] = (TopicKind.TWIN_DELTA, TopicKind.COMMANDS)

_EXCERPT_BYTES = 200


@dataclass(frozen=True, slots=True)
class InboundMessage:
    device: DeviceIdentity
    kind: TopicKind
    topic: str
    payload: bytes


class Outbox(Protocol):
    """How a handler answers as the device (e.g. ``twin/update`` or ``commands/{id}/ack``)."""

    def publish(self, kind: TopicKind, payload: bytes, command_id: str | None = None) -> None: ...


class InboundHandler(Protocol):
    """Receives every cloud-to-device message.

    Called on the device's network thread: it must return quickly and must not raise (an
    exception is logged and the message is dropped; the device stays connected).
    """

    def handle(self, message: InboundMessage, outbox: Outbox) -> None: ...


class LoggingInboundHandler:
    """The default handler: records that the message arrived and does nothing else."""

    def handle(self, message: InboundMessage, outbox: Outbox) -> None:
        excerpt = message.payload[:_EXCERPT_BYTES].decode("utf-8", errors="replace")
        logger.info(
            "cloud message received",
            extra={
                "device_id": message.device.device_id,
                "kind": message.kind.value,
                "topic": message.topic,
                "bytes": len(message.payload),
                "excerpt": excerpt,
            },
        )


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """The shadow merge, device side: objects merge, ``null`` deletes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class DeviceStateHandler:
    """A well-behaved device: applies each twin delta, reports it back, and answers commands.

    A delta is merged into the device's own state and the same values are published as
    ``twin/update`` reported, so the twin's delta empties. A command is acked ``accepted`` and then
    ``succeeded`` (result ``{"name", "params"}``) or, with probability ``failure_rate``, ``failed``
    with an error message. ``rng`` makes failures reproducible.
    """

    def __init__(self, failure_rate: float = 0.0, rng: random.Random | None = None) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self.failure_rate = failure_rate
        self._rng = rng or random.Random()  # noqa: S311 - simulated failures, not security
        self._lock = threading.Lock()
        self.states: dict[str, dict[str, Any]] = {}

    def handle(self, message: InboundMessage, outbox: Outbox) -> None:
        body = orjson.loads(message.payload)
        if message.kind is TopicKind.TWIN_DELTA:
            self._apply_delta(message.device, body, outbox)
        elif message.kind is TopicKind.COMMANDS:
            self._run_command(body, outbox)

    def _apply_delta(self, device: DeviceIdentity, body: dict[str, Any], outbox: Outbox) -> None:
        delta = body.get("state") or {}
        if not isinstance(delta, dict) or not delta:
            return
        with self._lock:
            _merge(self.states.setdefault(device.device_id, {}), delta)
        outbox.publish(TopicKind.TWIN_UPDATE, orjson.dumps({"state": {"reported": delta}}))

    def _run_command(self, body: dict[str, Any], outbox: Outbox) -> None:
        command_id = str(body["id"])
        outbox.publish(TopicKind.COMMAND_ACK, orjson.dumps({"status": "accepted"}), command_id)
        with self._lock:
            fails = self._rng.random() < self.failure_rate
        if fails:
            answer: dict[str, Any] = {"status": "failed", "error": f"simulated failure of {body.get('name')!s}"}
        else:
            answer = {"status": "succeeded", "result": {"name": body.get("name"), "params": body.get("params", {})}}
        outbox.publish(TopicKind.COMMAND_ACK, orjson.dumps(answer), command_id)


def dispatch(handler: InboundHandler, message: InboundMessage, outbox: Outbox) -> None:
    """Calls the handler and keeps its failure from reaching the network loop."""
    try:
        handler.handle(message, outbox)
    except Exception:
        logger.exception(
            "inbound handler failed",
            extra={"device_id": message.device.device_id, "kind": message.kind.value, "topic": message.topic},
        )
