"""The simulator's device side of twin and commands: deltas applied and reported, commands answered."""

from __future__ import annotations

import random

import orjson
import pytest

from pulse.connect.topics import TopicKind
from pulse_sim.credentials import DeviceIdentity
from pulse_sim.inbound import DeviceStateHandler, InboundMessage

DEVICE = DeviceIdentity("acme", "dev-1", "acme--dev-1")


class RecordingOutbox:
    def __init__(self) -> None:
        self.sent: list[tuple[TopicKind, dict, str | None]] = []

    def publish(self, kind: TopicKind, payload: bytes, command_id: str | None = None) -> None:
        self.sent.append((kind, orjson.loads(payload), command_id))


def message(kind: TopicKind, body: dict) -> InboundMessage:
    return InboundMessage(DEVICE, kind, f"tenant/acme/device/dev-1/{kind.value}", orjson.dumps(body))


def test_a_delta_is_applied_and_reported_back():
    handler, outbox = DeviceStateHandler(), RecordingOutbox()
    handler.handle(message(TopicKind.TWIN_DELTA, {"state": {"fan": {"speed": 3}}, "version": 2}), outbox)
    handler.handle(message(TopicKind.TWIN_DELTA, {"state": {"fan": {"mode": "eco"}}, "version": 3}), outbox)
    assert handler.states["dev-1"] == {"fan": {"speed": 3, "mode": "eco"}}
    assert outbox.sent[-1] == (TopicKind.TWIN_UPDATE, {"state": {"reported": {"fan": {"mode": "eco"}}}}, None)


def test_a_command_is_accepted_then_succeeds():
    handler, outbox = DeviceStateHandler(), RecordingOutbox()
    handler.handle(message(TopicKind.COMMANDS, {"id": "c1", "name": "reboot", "params": {"delay": 5}}), outbox)
    assert outbox.sent == [
        (TopicKind.COMMAND_ACK, {"status": "accepted"}, "c1"),
        (TopicKind.COMMAND_ACK, {"status": "succeeded", "result": {"name": "reboot", "params": {"delay": 5}}}, "c1"),
    ]


def test_the_failure_rate_fails_commands_with_an_error_message():
    handler, outbox = DeviceStateHandler(failure_rate=1.0, rng=random.Random(7)), RecordingOutbox()
    handler.handle(message(TopicKind.COMMANDS, {"id": "c2", "name": "reboot"}), outbox)
    assert outbox.sent[-1] == (
        TopicKind.COMMAND_ACK,
        {"status": "failed", "error": "simulated failure of reboot"},
        "c2",
    )


def test_a_failure_rate_outside_0_to_1_is_refused():
    with pytest.raises(ValueError):
        DeviceStateHandler(failure_rate=1.5)
