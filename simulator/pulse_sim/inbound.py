"""Messages the cloud sends to a device (twin deltas, commands) and the hook that receives them.

Each device subscribes to its own ``twin/delta`` and ``commands`` topics. What a device does with
them is a handler's business: the default one logs them, and the device twin work plugs in a
handler that applies desired state and answers through the ``Outbox`` it is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

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
        logger.info("cloud message received", extra={
            "device_id": message.device.device_id, "kind": message.kind.value, "topic": message.topic,
            "bytes": len(message.payload), "excerpt": excerpt})


def dispatch(handler: InboundHandler, message: InboundMessage, outbox: Outbox) -> None:
    """Calls the handler and keeps its failure from reaching the network loop."""
    try:
        handler.handle(message, outbox)
    except Exception:
        logger.exception("inbound handler failed", extra={
            "device_id": message.device.device_id, "kind": message.kind.value, "topic": message.topic})
