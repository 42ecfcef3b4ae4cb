"""Messages the cloud sends to a device (twin replies and deltas, commands) and the hook that receives them.

Each device subscribes to its own ``twin/delta``, ``twin/update/accepted|rejected``,
``twin/get/accepted|rejected`` and ``commands`` topics. What a device does with them is a
handler's business: ``LoggingInboundHandler`` only logs them; ``DeviceStateHandler`` (the fleet's
default) reports its state, applies desired state and answers commands through the ``Outbox`` it
is given. A handler may also have a ``connected(device, outbox)`` hook, called once the device's
subscriptions are in place after each (re)connect.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from pulse.connect.topics import TopicKind
from pulse_sim.credentials import DeviceIdentity

logger = logging.getLogger("pulse_sim.inbound")

SUBSCRIBED_KINDS: tuple[TopicKind, ...] = (
    TopicKind.TWIN_DELTA,
    TopicKind.TWIN_UPDATE_ACCEPTED,
    TopicKind.TWIN_UPDATE_REJECTED,
    TopicKind.TWIN_GET_ACCEPTED,
    TopicKind.TWIN_GET_REJECTED,
    TopicKind.COMMANDS,
)

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
    exception is logged and the message is dropped; the device stays connected). An optional
    ``connected(device, outbox)`` method is called, under the same rules, each time the device's
    subscriptions are in place (see ``dispatch_connected``).
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
            target[key] = copy.deepcopy(value)


@dataclass(slots=True)
class _DeviceTwin:
    state: dict[str, Any] = field(default_factory=dict)
    introduced: bool = False  # initial state reported (once per run; reconnects only re-get)
    applied_version: int = -1  # the twin version of the last delta applied


class DeviceStateHandler:
    """A well-behaved device: reports its state, applies each twin delta, and answers commands.

    On every (re)connect the device publishes ``twin/get``, and on its first connect it first reports
    its initial state (``initial_states[device_id]``). A delta, from ``twin/delta`` or from the
    ``delta`` of a ``twin/get/accepted``, is merged into the device's state and the same values are
    published as ``twin/update`` reported, so the twin's delta empties; a delta no newer than the
    last one applied (a late or repeated message) is ignored. A command is acked ``accepted`` and
    then ``succeeded`` (result ``{"name", "params"}``) or, with probability ``failure_rate``,
    ``failed`` with an error message. ``rng`` makes failures reproducible.
    """

    def __init__(
        self,
        failure_rate: float = 0.0,
        rng: random.Random | None = None,
        initial_states: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self.failure_rate = failure_rate
        self._rng = rng or random.Random()  # noqa: S311 - simulated failures, not security
        self._lock = threading.Lock()
        self._initial = {device_id: copy.deepcopy(state) for device_id, state in (initial_states or {}).items()}
        self._twins: dict[str, _DeviceTwin] = {}

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        """Each device's own state (what it would report), by device id; a copy."""
        with self._lock:
            return {device_id: copy.deepcopy(twin.state) for device_id, twin in self._twins.items()}

    def connected(self, device: DeviceIdentity, outbox: Outbox) -> None:
        with self._lock:
            twin = self._twin(device.device_id)
            initial = None if twin.introduced else copy.deepcopy(twin.state)
            twin.introduced = True
        if initial:
            outbox.publish(TopicKind.TWIN_UPDATE, orjson.dumps({"state": {"reported": initial}}))
            logger.info("twin initial state reported", extra={"device_id": device.device_id, "keys": _keys(initial)})
        outbox.publish(TopicKind.TWIN_GET, b"{}")
        logger.info("twin requested", extra={"device_id": device.device_id})

    def handle(self, message: InboundMessage, outbox: Outbox) -> None:
        body = orjson.loads(message.payload) if message.payload.strip() else {}
        if not isinstance(body, dict):
            logger.warning(
                "cloud message is not a JSON object, ignored",
                extra={"device_id": message.device.device_id, "topic": message.topic},
            )
            return
        device_id = message.device.device_id
        kind = message.kind
        if kind is TopicKind.TWIN_DELTA:
            self._apply_delta(device_id, body.get("state"), body.get("version"), outbox)
        elif kind is TopicKind.TWIN_GET_ACCEPTED:
            state = body.get("state") or {}
            delta = state.get("delta") if isinstance(state, dict) else None
            logger.info(
                "twin received",
                extra={"device_id": device_id, "version": body.get("version"), "pending": _keys(delta)},
            )
            self._apply_delta(device_id, delta, body.get("version"), outbox)
        elif kind is TopicKind.TWIN_UPDATE_ACCEPTED:
            logger.info("twin report accepted", extra={"device_id": device_id, "version": body.get("version")})
        elif kind in (TopicKind.TWIN_UPDATE_REJECTED, TopicKind.TWIN_GET_REJECTED):
            logger.warning(
                "twin request rejected",
                extra={
                    "device_id": device_id,
                    "kind": kind.value,
                    "code": body.get("code"),
                    "reason": body.get("message"),
                },
            )
        elif kind is TopicKind.COMMANDS:
            self._run_command(device_id, body, outbox)

    def _twin(self, device_id: str) -> _DeviceTwin:
        twin = self._twins.get(device_id)
        if twin is None:
            twin = self._twins[device_id] = _DeviceTwin(copy.deepcopy(self._initial.get(device_id, {})))
        return twin

    def _apply_delta(self, device_id: str, delta: object, version: object, outbox: Outbox) -> None:
        if not isinstance(delta, dict) or not delta:
            return
        at = version if isinstance(version, int) else None
        with self._lock:
            twin = self._twin(device_id)
            if at is not None and at <= twin.applied_version:
                stale = True
            else:
                stale = False
                _merge(twin.state, delta)
                if at is not None:
                    twin.applied_version = at
        if stale:
            logger.info("twin delta already applied, ignored", extra={"device_id": device_id, "version": at})
            return
        outbox.publish(TopicKind.TWIN_UPDATE, orjson.dumps({"state": {"reported": delta}}))
        logger.info(
            "twin delta applied and reported", extra={"device_id": device_id, "version": at, "keys": _keys(delta)}
        )

    def _run_command(self, device_id: str, body: dict[str, Any], outbox: Outbox) -> None:
        command_id = str(body["id"])
        name = body.get("name")
        logger.info("command received", extra={"device_id": device_id, "command_id": command_id, "command": name})
        outbox.publish(TopicKind.COMMAND_ACK, orjson.dumps({"status": "accepted"}), command_id)
        with self._lock:
            fails = self._rng.random() < self.failure_rate
        if fails:
            error = f"simulated failure of {name!s}"
            answer: dict[str, Any] = {"status": "failed", "error": error}
            logger.warning(
                "command failed",
                extra={"device_id": device_id, "command_id": command_id, "command": name, "error": error},
            )
        else:
            answer = {"status": "succeeded", "result": {"name": name, "params": body.get("params", {})}}
            logger.info("command succeeded", extra={"device_id": device_id, "command_id": command_id, "command": name})
        outbox.publish(TopicKind.COMMAND_ACK, orjson.dumps(answer), command_id)


def _keys(section: object) -> str:
    """Top-level keys of a twin section, for a log line: ``fan,interval_s``."""
    return ",".join(sorted(section)) if isinstance(section, dict) else ""


def dispatch(handler: InboundHandler, message: InboundMessage, outbox: Outbox) -> None:
    """Calls the handler and keeps its failure from reaching the network loop."""
    try:
        handler.handle(message, outbox)
    except Exception:
        logger.exception(
            "inbound handler failed",
            extra={"device_id": message.device.device_id, "kind": message.kind.value, "topic": message.topic},
        )


def dispatch_connected(handler: InboundHandler, device: DeviceIdentity, outbox: Outbox) -> None:
    """Tells a handler that has a ``connected`` hook that the device's subscriptions are in place."""
    hook = getattr(handler, "connected", None)
    if hook is None:
        return
    try:
        hook(device, outbox)
    except Exception:
        logger.exception("connect hook failed", extra={"device_id": device.device_id})
