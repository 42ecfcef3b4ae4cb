"""The simulator's device side of twin and commands: state reported, deltas applied, commands answered."""

from __future__ import annotations

import logging
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


def test_first_connect_reports_the_initial_state_then_asks_for_the_twin_and_a_reconnect_only_asks():
    handler = DeviceStateHandler(initial_states={"dev-1": {"firmware": "sim-1.0.0", "fan": {"speed": 1}}})
    outbox = RecordingOutbox()
    handler.connected(DEVICE, outbox)
    handler.connected(DEVICE, outbox)
    assert outbox.sent == [
        (TopicKind.TWIN_UPDATE, {"state": {"reported": {"firmware": "sim-1.0.0", "fan": {"speed": 1}}}}, None),
        (TopicKind.TWIN_GET, {}, None),
        (TopicKind.TWIN_GET, {}, None),
    ]


def test_a_device_without_initial_state_only_asks_for_its_twin():
    handler, outbox = DeviceStateHandler(), RecordingOutbox()
    handler.connected(DEVICE, outbox)
    assert outbox.sent == [(TopicKind.TWIN_GET, {}, None)]


def test_the_delta_of_a_get_reply_is_applied_and_reported():
    handler = DeviceStateHandler(initial_states={"dev-1": {"fan": {"speed": 1, "mode": "auto"}}})
    outbox = RecordingOutbox()
    reply = {"state": {"desired": {"fan": {"speed": 4}}, "reported": {}, "delta": {"fan": {"speed": 4}}}, "version": 5}
    handler.handle(message(TopicKind.TWIN_GET_ACCEPTED, reply), outbox)
    handler.handle(
        message(TopicKind.TWIN_GET_ACCEPTED, {"state": {"reported": {"fan": {"speed": 4}}}, "version": 6}), outbox
    )
    assert handler.states["dev-1"] == {"fan": {"speed": 4, "mode": "auto"}}
    assert outbox.sent == [(TopicKind.TWIN_UPDATE, {"state": {"reported": {"fan": {"speed": 4}}}}, None)]


def test_a_delta_no_newer_than_the_last_one_applied_is_ignored():
    handler, outbox = DeviceStateHandler(), RecordingOutbox()
    handler.handle(message(TopicKind.TWIN_DELTA, {"state": {"mode": "eco"}, "version": 4}), outbox)
    handler.handle(message(TopicKind.TWIN_GET_ACCEPTED, {"state": {"delta": {"mode": "eco"}}, "version": 4}), outbox)
    handler.handle(message(TopicKind.TWIN_DELTA, {"state": {"mode": "boost"}, "version": 3}), outbox)
    assert handler.states["dev-1"] == {"mode": "eco"}
    assert len(outbox.sent) == 1


def test_a_null_in_the_delta_deletes_the_key_from_the_device_state():
    handler = DeviceStateHandler(initial_states={"dev-1": {"fan": {"speed": 2, "mode": "eco"}}})
    outbox = RecordingOutbox()
    handler.handle(message(TopicKind.TWIN_DELTA, {"state": {"fan": {"mode": None}}, "version": 1}), outbox)
    assert handler.states["dev-1"] == {"fan": {"speed": 2}}


def test_twin_replies_are_logged_and_a_rejection_as_a_warning(caplog):
    caplog.set_level(logging.INFO, logger="pulse_sim")
    handler, outbox = DeviceStateHandler(), RecordingOutbox()
    handler.handle(message(TopicKind.TWIN_UPDATE_ACCEPTED, {"state": {"reported": {"a": 1}}, "version": 3}), outbox)
    handler.handle(message(TopicKind.TWIN_UPDATE_REJECTED, {"code": 400, "message": "state: too big"}), outbox)
    accepted = next(r for r in caplog.records if r.getMessage() == "twin report accepted")
    rejected = next(r for r in caplog.records if r.getMessage() == "twin request rejected")
    assert (accepted.device_id, accepted.version) == ("dev-1", 3)
    assert (rejected.levelno, rejected.code, rejected.reason) == (logging.WARNING, 400, "state: too big")
    assert outbox.sent == []


def test_commands_are_logged_with_their_outcome(caplog):
    caplog.set_level(logging.INFO, logger="pulse_sim")
    handler, outbox = DeviceStateHandler(failure_rate=1.0), RecordingOutbox()
    handler.handle(message(TopicKind.COMMANDS, {"id": "c3", "name": "reboot"}), outbox)
    failed = next(r for r in caplog.records if r.getMessage() == "command failed")
    assert (failed.command_id, failed.error) == ("c3", "simulated failure of reboot")
