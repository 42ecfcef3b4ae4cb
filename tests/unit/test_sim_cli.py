"""`pulse sim` command line: scenario grammar, usage errors as one line with status 2, dry run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pulse.connect.envelope import EnvelopeV1
from pulse.connect.topics import parse_topic
from pulse_sim import main
from pulse_sim.cli import build_parser, config_from
from pulse_sim.config import TransportMode
from pulse_sim.scenarios import (
    Fault,
    FaultKind,
    ScenarioError,
    Window,
    parse_duration,
    parse_fault,
    parse_rate,
    parse_window,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("2m", 120.0),
        ("2min", 120.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1.5h", 5400.0),
        ("1d", 86_400.0),
        ("0", 0.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "fast", "10x", "-5s", "1h-5m", "s", "nan"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ScenarioError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("10/s", 10.0),
        ("10", 10.0),
        ("600/min", 10.0),
        ("30/m", 0.5),
        ("36/h", 0.01),
        ("2.5 / s", 2.5),
    ],
)
def test_rates(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["", "0/s", "ten/s", "10/day", "-1/s"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ScenarioError):
        parse_rate(text)


def test_scenarios():
    assert parse_fault("overheat:sim-03@60s") == Fault(FaultKind.OVERHEAT, Window("sim-03", 60.0))
    assert parse_fault("Battery-Drain:ups-1@1m+30s") == Fault(FaultKind.BATTERY_DRAIN, Window("ups-1", 60.0, 30.0))
    assert parse_window("sim-07@120s+300s") == Window("sim-07", 120.0, 300.0)
    assert parse_window("sim-07@2m") == Window("sim-07", 120.0, None)
    assert parse_window("sim-07@2m", default_duration_s=60.0) == Window("sim-07", 120.0, 60.0)
    assert Window("d", 10.0, 5.0).covers(12.0)
    assert not Window("d", 10.0, 5.0).covers(15.0)
    assert Window("d", 10.0).covers(1e9)


def test_command_line_becomes_a_fleet_config():
    args = build_parser().parse_args(
        [
            "--devices",
            "3",
            "--seed",
            "4",
            "--rate",
            "10/s",
            "--duration",
            "2m",
            "--heartbeat",
            "30s",
            "--fault",
            "overheat:sim-03@60s",
            "--offline",
            "sim-01@120s+300s",
            "--drop",
            "sim-02@30s",
            "--no-uplink-drops",
            "--no-clock-skew",
            "--insecure-plain",
            "--host",
            "127.0.0.1",
            "--port",
            "1884",
            "--command-failure-rate",
            "20%",
        ]
    )
    config = config_from(args)
    assert config.device_ids == ("sim-01", "sim-02", "sim-03")
    assert (config.seed, config.rate_per_s, config.duration_s, config.heartbeat_s) == (4, 10.0, 120.0, 30.0)
    assert config.faults == (Fault(FaultKind.OVERHEAT, Window("sim-03", 60.0)),)
    assert config.offline == (Window("sim-01", 120.0, 300.0),)
    assert config.drops == (Window("sim-02", 30.0, 60.0),)
    assert (config.random_drops, config.clock_skew) == (False, False)
    assert (config.transport, config.host, config.port) == (TransportMode.MQTT_PLAIN, "127.0.0.1", 1884)
    assert config.command_failure_rate == pytest.approx(0.2)


def test_defaults_are_25_devices_over_mutual_tls():
    config = config_from(build_parser().parse_args([]))
    assert config.device_ids[0] == "sim-01"
    assert config.device_ids[-1] == "sim-25"
    assert config.transport is TransportMode.MQTT_TLS
    assert config.verify_hostname
    assert config.command_failure_rate == 0.05


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "overheat"], "expected KIND:DEVICE@START[+DURATION]"),
        (["--fault", "melt:sim-01@1s"], "unknown fault kind 'melt'; known kinds: overheat, vibration"),
        (["--offline", "sim-07"], "expected DEVICE@START[+DURATION]"),
        (["--offline", "sim-07@soon"], "invalid duration 'soon'"),
        (["--rate", "fast"], "invalid rate 'fast'"),
        (["--duration=-5s"], "invalid duration '-5s'"),
        (["--devices", "0"], "between 1 and 10000"),
        (["--devices", "3", "--ids", "a"], "not allowed with argument"),
        (["--insecure-plain", "--dry-run"], "not allowed with argument"),
        (["--port", "99999"], "expected a TCP port"),
        (["--command-failure-rate", "often"], "expected a share such as 0.05 or 5%"),
        (["--command-failure-rate", "1.5"], "expected a share between 0 and 1"),
        (["--dry-run", "--devices", "3", "--offline", "sim-09@1s"], "--offline: unknown device 'sim-09'"),
        (["--dry-run", "--devices", "3", "--fault", "vibration:sim-01@1s"], "try one of sim-02"),
    ],
)
def test_usage_errors_print_one_clear_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_missing_credentials_exit_2_naming_the_files(tmp_path, capsys):
    assert main(["--devices", "2", "--credentials", str(tmp_path), "--duration", "1s"]) == 2
    err = capsys.readouterr().err
    assert f"missing {tmp_path}/ca.pem, {tmp_path}/sim-01/cert.pem" in err
    assert "--insecure-plain" in err


def test_unreadable_device_file_exit_2(tmp_path, capsys):
    (tmp_path / "sim-01").mkdir()
    (tmp_path / "sim-01" / "device.json").write_text('{"tenant_id": "acme"}')
    assert main(["--devices", "1", "--credentials", str(tmp_path), "--dry-run"]) == 2
    assert "device.json" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "overheat:sim-03@60s" in capsys.readouterr().out


def test_the_module_exits_2_on_a_usage_error_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "pulse_sim", "--fault", "overheat:sim-03"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "python -m pulse_sim: error: argument --fault: invalid window 'sim-03'" in done.stderr
    assert "Traceback" not in done.stderr


def test_dry_run_prints_envelopes_on_device_topics(tmp_path, capsys):
    device = tmp_path / "sim-02"
    device.mkdir()
    (device / "device.json").write_text(
        json.dumps(
            {
                "tenant_id": "acme",
                "device_id": "sim-02",
                "thing_name": "acme--sim-02",
                "host": "iot.example",
                "site_id": "site-a",
            }
        )
    )
    status = main(
        [
            "--dry-run",
            "--devices",
            "2",
            "--duration",
            "0.4s",
            "--rate",
            "20/s",
            "--heartbeat",
            "1s",
            "--credentials",
            str(tmp_path),
            "--no-clock-skew",
            "--seed",
            "3",
        ]
    )
    assert status == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) >= 6
    topics = {(parse_topic(line["topic"]).tenant_id, parse_topic(line["topic"]).device_id) for line in lines}
    assert topics == {("demo", "sim-01"), ("acme", "sim-02")}
    for line in lines:
        envelope = EnvelopeV1.model_validate(line["payload"])
        assert envelope.site_id == ("site-a" if "acme" in line["topic"] else None)
