"""The fleet on a simulated clock: envelopes, seq, scenarios, drops and catch-up, reproducibility."""

from __future__ import annotations

import itertools
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from pulse.connect.envelope import EnvelopeError, EnvelopeV1, validate_envelope
from pulse.connect.quarantine import QuarantineReason
from pulse.connect.topics import TELEMETRY_KINDS, TopicKind, parse_topic
from pulse_sim import (
    Fault,
    FaultKind,
    FleetConfig,
    InboundMessage,
    MemoryTransport,
    Outbox,
    ScenarioError,
    SimulatedClock,
    Window,
    run_fleet,
)
from pulse_sim.config import default_device_ids
from pulse_sim.fleet import NTP_SYNC_AFTER_S, SIM_FIRMWARE, FleetReport
from pulse_sim.inbound import LoggingInboundHandler
from pulse_sim.transport import Published

START = datetime(2026, 3, 2, 8, tzinfo=UTC).timestamp()


def simulate(**overrides) -> tuple[FleetReport, MemoryTransport]:
    settings = {
        "device_ids": default_device_ids(6),
        "seed": 7,
        "run_id": "unit",
        "utc_offset_s": 0.0,
        "duration_s": 600.0,
        "random_drops": False,
        "clock_skew": False,
    } | overrides
    clock = SimulatedClock(START)
    transport = MemoryTransport(clock)
    report = run_fleet(FleetConfig(**settings), transport=transport, clock=clock)
    return report, transport


def of(transport: MemoryTransport, device_id: str, kind: TopicKind | None = None) -> list[Published]:
    """A device's messages of ``kind``; by default its envelopes (telemetry and heartbeats)."""
    return [
        m
        for m in transport.published
        if m.device_id == device_id
        and (parse_topic(m.topic).kind is kind if kind is not None else parse_topic(m.topic).kind in TELEMETRY_KINDS)
    ]


def envelopes(transport: MemoryTransport) -> list[Published]:
    return [m for m in transport.published if parse_topic(m.topic).kind in TELEMETRY_KINDS]


def metric(messages: list[Published], name: str) -> list[tuple[float, float]]:
    return [(m.at - START, m.envelope()["metrics"][name]) for m in messages]


def test_messages_go_to_the_device_topics_as_valid_envelopes():
    report, transport = simulate()
    assert report.published["telemetry"] == pytest.approx(6 * 600 / 5, rel=0.05)
    assert report.published["heartbeat"] == 6 * 10
    for message in envelopes(transport):
        topic = parse_topic(message.topic)
        assert (topic.tenant_id, topic.device_id) == ("demo", message.device_id)
        assert topic.kind in {TopicKind.TELEMETRY, TopicKind.HEARTBEAT}
        envelope = EnvelopeV1.model_validate_json(message.payload)
        assert envelope.timestamp == datetime.fromtimestamp(round(message.at * 1000) / 1000, tz=UTC)
        assert envelope.msg_id and envelope.seq


def test_each_device_sends_the_metrics_of_its_model():
    report, transport = simulate(device_ids=default_device_ids(3))
    expected = {"sim-01": "env-sensor", "sim-02": "pump", "sim-03": "ups"}
    assert {d: p.model.value for d, p in report.devices.items()} == expected
    assert set(of(transport, "sim-02", TopicKind.TELEMETRY)[0].envelope()["metrics"]) == {
        "pressure_psi",
        "vibration_g",
        "temp_c",
        "rssi_dbm",
        "snr_db",
    }
    assert of(transport, "sim-03", TopicKind.HEARTBEAT)[0].envelope()["metrics"] == {"uptime_s": 0}


def test_rate_is_fleet_wide():
    report, _ = simulate(device_ids=default_device_ids(5), rate_per_s=10.0, duration_s=60.0)
    assert report.published["telemetry"] == pytest.approx(600, rel=0.03)


def test_seq_is_monotonic_per_device_across_topics():
    _, transport = simulate()
    for device_id in default_device_ids(6):
        seqs = [m.envelope()["seq"] for m in of(transport, device_id)]
        assert seqs == list(range(1, len(seqs) + 1))


def test_same_seed_gives_the_same_fleet_and_another_seed_does_not():
    _, first = simulate(clock_skew=True, random_drops=True, duration_s=3600.0)
    _, again = simulate(clock_skew=True, random_drops=True, duration_s=3600.0)
    _, other = simulate(clock_skew=True, random_drops=True, duration_s=3600.0, seed=8)
    assert [(m.topic, m.payload, m.at) for m in first.published] == [
        (m.topic, m.payload, m.at) for m in again.published
    ]
    assert [m.payload for m in first.published] != [m.payload for m in other.published]


def test_a_device_behaves_the_same_whatever_the_fleet_size():
    _, small = simulate(device_ids=("sim-01", "sim-02"))
    _, large = simulate(device_ids=default_device_ids(12), rate_per_s=12 / 5)
    assert [m.payload for m in of(small, "sim-01")] == [m.payload for m in of(large, "sim-01")]


def test_reruns_get_new_msg_ids_so_the_platform_does_not_drop_them_as_duplicates():
    _, first = simulate(run_id=None)
    _, second = simulate(run_id=None)
    assert {m.envelope()["msg_id"] for m in envelopes(first)}.isdisjoint(
        m.envelope()["msg_id"] for m in envelopes(second)
    )


def test_every_payload_passes_ingest_validation_except_the_far_skewed_device_before_its_ntp_sync():
    report, transport = simulate(
        device_ids=default_device_ids(25),
        clock_skew=True,
        random_drops=True,
        drop_mean_interval_s=600.0,
        duration_s=1800.0,
    )
    assert report.published["telemetry"] > 25 * 300
    beyond = {d for d, p in report.devices.items() if p.beyond_platform_skew}
    within = {d for d, p in report.devices.items() if p.skew_s and not p.beyond_platform_skew}
    assert len(beyond) == 1
    assert len(within) == 3
    assert all(5 <= abs(report.devices[d].skew_s) <= 180 for d in within)
    for message in envelopes(transport):
        check = {
            "now": datetime.fromtimestamp(message.at, tz=UTC),
            "max_bytes": 128 * 1024,
            "max_metrics": 200,
            "max_skew": timedelta(seconds=300),
            "max_age": timedelta(days=7),
        }
        if message.device_id in beyond and message.at < report.started_at + NTP_SYNC_AFTER_S:
            with pytest.raises(EnvelopeError) as refused:
                validate_envelope(message.payload, **check)
            assert refused.value.reason is QuarantineReason.TIMESTAMP_OUT_OF_RANGE
        else:
            validate_envelope(message.payload, **check)
    synced = [m for m in envelopes(transport) if m.device_id in beyond and m.at >= report.started_at + NTP_SYNC_AFTER_S]
    assert synced, "the far-skewed device is stored once its clock is corrected"


def test_overheat_raises_only_that_devices_temperature_from_the_fault_time():
    _, normal = simulate()
    _, heated = simulate(faults=(Fault(FaultKind.OVERHEAT, Window("sim-03", 60.0)),))
    for device_id in ("sim-01", "sim-02", "sim-04"):
        assert [m.payload for m in of(normal, device_id)] == [m.payload for m in of(heated, device_id)]
    base = dict(metric(of(normal, "sim-03", TopicKind.TELEMETRY), "temp_c"))
    hot = metric(of(heated, "sim-03", TopicKind.TELEMETRY), "temp_c")
    assert all(temp == base[at] for at, temp in hot if at < 60)
    rise = [(at, temp - base[at]) for at, temp in hot if at >= 60]
    assert rise[-1][1] == pytest.approx((rise[-1][0] - 60) * 2 / 60, abs=0.5)  # 2 degC a minute
    assert all(later >= earlier - 0.3 for (_, earlier), (_, later) in itertools.pairwise(rise))


def test_offline_device_is_silent_for_the_window_then_resumes_without_a_gap():
    _, transport = simulate(offline=(Window("sim-05", 120.0, 300.0),))
    messages = of(transport, "sim-05")
    assert not [m for m in messages if 120 <= m.at - START < 420]
    assert any(m.at - START >= 420 for m in messages)
    seqs = [m.envelope()["seq"] for m in messages]
    assert seqs == list(range(1, len(seqs) + 1))  # nothing was buffered or lost: it was off
    assert transport.links["sim-05"].transitions[1:3] == [(START + 120, False), (START + 420, True)]


def test_offline_without_a_duration_lasts_until_the_end():
    _, transport = simulate(offline=(Window("sim-02", 30.0),))
    assert max(m.at - START for m in of(transport, "sim-02")) < 30


def test_uplink_drop_buffers_then_catches_up_in_order_with_every_seq():
    _, transport = simulate(drops=(Window("sim-02", 60.0, 120.0),), catchup_per_s=20.0)
    messages = of(transport, "sim-02")
    assert not [m for m in messages if 60 <= m.at - START < 180]
    seqs = [m.envelope()["seq"] for m in messages]
    assert seqs == list(range(1, len(seqs) + 1))
    timestamps = [m.envelope()["ts"] for m in messages]
    assert timestamps == sorted(timestamps)
    backlog = [m for m in messages if 60_000 <= m.envelope()["ts"] - START * 1000 < 180_000]
    assert len(backlog) == pytest.approx(120 / 5, abs=1)
    assert all(parse_topic(m.topic).kind is TopicKind.TELEMETRY for m in backlog)  # no stale heartbeats
    assert all(180 <= m.at - START < 182 for m in backlog)  # caught up at 20 messages/s
    assert transport.links["sim-02"].transitions[1:3] == [(START + 60, False), (START + 180, True)]


def test_a_full_uplink_buffer_loses_the_oldest_messages_and_keeps_order():
    report, transport = simulate(drops=(Window("sim-01", 10.0, 300.0),), buffer_limit=10)
    assert report.overflowed == 300 // 5 - 10
    seqs = [m.envelope()["seq"] for m in of(transport, "sim-01")]
    assert seqs == sorted(seqs)


def test_random_drops_keep_every_device_in_order_over_a_day():
    report, transport = simulate(
        random_drops=True, clock_skew=True, duration_s=86_400.0, drop_mean_interval_s=3600.0, rate_per_s=6 / 60
    )
    dark = defaultdict(int)
    for link in transport.links.values():
        dark[link.identity.device_id] = sum(1 for _, up in link.transitions if not up)
    assert min(dark.values()) >= 10  # roughly one drop an hour, plus the final close
    for device_id in report.devices:
        seqs = [m.envelope()["seq"] for m in of(transport, device_id)]
        assert seqs == list(range(1, len(seqs) + 1))


class Recorder:
    def __init__(self) -> None:
        self.received: list[InboundMessage] = []

    def handle(self, message: InboundMessage, outbox: Outbox) -> None:
        self.received.append(message)
        outbox.publish(TopicKind.COMMAND_ACK, b'{"status":"done"}', command_id="cmd-1")


def test_cloud_messages_reach_the_handler_which_can_answer_as_the_device():
    recorder = Recorder()
    clock = SimulatedClock(START)
    transport = MemoryTransport(clock)
    run_fleet(
        FleetConfig(device_ids=("sim-01",), seed=1, duration_s=1.0), transport=transport, clock=clock, inbound=recorder
    )
    link = transport.links["sim-01"]
    link.connect()
    link.deliver(TopicKind.COMMANDS, b'{"id":"cmd-1","name":"reboot"}')
    assert [(m.kind, m.topic) for m in recorder.received] == [
        (TopicKind.COMMANDS, "tenant/demo/device/sim-01/commands")
    ]
    assert transport.published[-1].topic == "tenant/demo/device/sim-01/commands/cmd-1/ack"


def test_logging_handler_logs_cloud_messages_and_a_failing_handler_does_not_break_the_link(caplog):
    clock = SimulatedClock(START)
    transport = MemoryTransport(clock)
    run_fleet(
        FleetConfig(device_ids=("sim-01",), seed=1, duration_s=1.0),
        transport=transport,
        clock=clock,
        inbound=LoggingInboundHandler(),
    )
    caplog.set_level(logging.INFO, logger="pulse_sim")
    transport.links["sim-01"].deliver(TopicKind.TWIN_DELTA, json.dumps({"state": {"rate": 5}}).encode())
    record = next(r for r in caplog.records if r.getMessage() == "cloud message received")
    assert (record.device_id, record.kind) == ("sim-01", "twin/delta")

    class Broken:
        def handle(self, message: InboundMessage, outbox: Outbox) -> None:
            raise RuntimeError("boom")

    transport.links["sim-01"].inbound = Broken()
    transport.links["sim-01"].deliver(TopicKind.COMMANDS, b"{}")
    assert any(r.getMessage() == "inbound handler failed" for r in caplog.records)


def kinds(transport: MemoryTransport, device_id: str) -> list[str]:
    return [parse_topic(m.topic).kind.value for m in transport.published if m.device_id == device_id]


def test_every_device_reports_its_initial_state_and_asks_for_its_twin_when_it_connects():
    report, transport = simulate(device_ids=default_device_ids(3), duration_s=10.0)
    for device_id, profile in report.devices.items():
        first, second = of(transport, device_id, TopicKind.TWIN_UPDATE) + of(transport, device_id, TopicKind.TWIN_GET)
        assert kinds(transport, device_id)[:2] == ["twin/update", "twin/get"]
        assert json.loads(first.payload) == {
            "state": {
                "reported": {
                    "firmware": SIM_FIRMWARE,
                    "model": profile.model.value,
                    "telemetry_period_s": 5.0,
                    "heartbeat_s": 60.0,
                }
            }
        }
        assert json.loads(second.payload) == {}


def test_a_reconnected_device_asks_for_its_twin_again_without_reporting_its_initial_state_twice():
    _, transport = simulate(drops=(Window("sim-02", 60.0, 120.0),))
    assert len(of(transport, "sim-02", TopicKind.TWIN_GET)) == 2
    assert len(of(transport, "sim-02", TopicKind.TWIN_UPDATE)) == 1
    assert [m.at - START for m in of(transport, "sim-02", TopicKind.TWIN_GET)] == [0.0, 180.0]


def reconnected(**overrides) -> tuple[MemoryTransport, str]:
    """A one-device fleet after its run, connected again so the test can play the cloud."""
    _, transport = simulate(device_ids=("sim-01",), duration_s=1.0, **overrides)
    link = transport.links["sim-01"]
    link.connect()
    return transport, "sim-01"


def test_a_fleet_device_applies_a_twin_delta_and_reports_it_back():
    transport, device_id = reconnected()
    link = transport.links[device_id]
    link.deliver(TopicKind.TWIN_DELTA, json.dumps({"state": {"telemetry_period_s": 10}, "version": 3}).encode())
    assert transport.published[-1].topic == "tenant/demo/device/sim-01/twin/update"
    assert json.loads(transport.published[-1].payload) == {"state": {"reported": {"telemetry_period_s": 10}}}


@pytest.mark.parametrize(
    ("failure_rate", "outcome"),
    [
        (0.0, {"status": "succeeded", "result": {"name": "reboot", "params": {"delay_s": 5}}}),
        (1.0, {"status": "failed", "error": "simulated failure of reboot"}),
    ],
)
def test_fleet_devices_answer_commands_at_the_configured_failure_rate(failure_rate, outcome):
    transport, device_id = reconnected(command_failure_rate=failure_rate)
    command = {"id": "cmd-9", "name": "reboot", "params": {"delay_s": 5}, "expires_at": "2026-03-02T08:05:00+00:00"}
    transport.links[device_id].deliver(TopicKind.COMMANDS, json.dumps(command).encode())
    acks = of(transport, device_id, TopicKind.COMMAND_ACK)
    assert [m.topic for m in acks] == ["tenant/demo/device/sim-01/commands/cmd-9/ack"] * 2
    assert [json.loads(m.payload) for m in acks] == [{"status": "accepted"}, outcome]


def test_the_same_seed_fails_the_same_commands():
    def outcomes(seed: int) -> list[str]:
        transport, device_id = reconnected(seed=seed, command_failure_rate=0.5)
        for n in range(20):
            transport.links[device_id].deliver(TopicKind.COMMANDS, json.dumps({"id": f"c{n}", "name": "ping"}).encode())
        return [json.loads(m.payload)["status"] for m in of(transport, device_id, TopicKind.COMMAND_ACK)]

    assert outcomes(3) == outcomes(3)
    assert {"succeeded", "failed"} <= set(outcomes(3))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"faults": (Fault(FaultKind.OVERHEAT, Window("sim-99", 1.0)),)}, "unknown device 'sim-99'"),
        ({"offline": (Window("nope", 1.0),)}, "--offline: unknown device 'nope'"),
        ({"faults": (Fault(FaultKind.VIBRATION, Window("sim-01", 1.0)),)}, "sim-01 is a env-sensor and sends no vibr"),
        ({"device_ids": ("sim 1",)}, "invalid tenant or device id"),
        ({"device_ids": ("a", "a")}, "unique"),
        ({"rate_per_s": 0.0}, "rate must be more than zero"),
        ({"command_failure_rate": 1.5}, "command failure rate must be between 0 and 1"),
    ],
)
def test_a_scenario_that_cannot_happen_is_refused_before_anything_runs(overrides, message):
    with pytest.raises(ScenarioError, match=message):
        simulate(**overrides)
