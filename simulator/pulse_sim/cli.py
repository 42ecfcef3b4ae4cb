"""``pulse sim`` / ``python -m pulse_sim``: run a simulated fleet from the command line.

Usage errors (a malformed scenario, an unknown device, missing credentials) print one line and
exit with status 2, never a traceback. SIGINT and SIGTERM stop the run cleanly: links are
flushed and disconnected and the process exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pulse_sim import log_format
from pulse_sim.config import (
    DEFAULT_COMMAND_FAILURE_RATE,
    DEFAULT_DEVICE_COUNT,
    DEFAULT_DEVICE_PERIOD_S,
    DEFAULT_TENANT,
    FleetConfig,
    TransportMode,
    default_device_ids,
)
from pulse_sim.credentials import DEFAULT_CREDENTIALS_DIR, CredentialsError
from pulse_sim.fleet import run_fleet
from pulse_sim.scenarios import ScenarioError, parse_duration, parse_fault, parse_rate, parse_window

DEFAULT_DROP_S = 60.0

EXAMPLES = f"""\
examples:
  %(prog)s
      {DEFAULT_DEVICE_COUNT} devices over mTLS, credentials from {DEFAULT_CREDENTIALS_DIR}/
  %(prog)s --fault overheat:sim-03@60s
      sim-03 heats up from t=60 s (add +5m to end the fault after 5 minutes)
  %(prog)s --offline sim-07@120s+300s
      sim-07 goes silent from t=120 s for 5 minutes
  %(prog)s --drop sim-05@30s+2m
      sim-05 loses its uplink, buffers for 2 minutes, then catches up in order
  %(prog)s --rate 10/s --duration 10m --seed 7
  %(prog)s --command-failure-rate 20%%
      devices answer one command in five failed (default 5%%)
  %(prog)s --dry-run --devices 3 --duration 20s
      print the messages; no broker needed

twin and commands: each device reports its initial state (firmware, model, periods) on first
connect, asks for its twin on every connect, applies each desired-state delta and reports it
back, and acks commands accepted, then succeeded (or failed at --command-failure-rate).

fault kinds: overheat (temp_c), vibration (vibration_g: pumps), battery-drain (battery_pct),
weak-signal (rssi_dbm, snr_db). Devices take model types in turn: env-sensor, pump, ups.
"""


def _parsed(parse: Callable[[str], object]) -> Callable[[str], object]:
    """Turns a ScenarioError into argparse's one-line usage error."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ScenarioError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of devices, not {text!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"the number of devices must be between 1 and 10000, not {value}")
    return value


def _ids(text: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    if not ids:
        raise argparse.ArgumentTypeError("expected comma-separated device ids, e.g. sim-01,sim-02")
    return ids


def _share(text: str) -> float:
    """A probability: ``0.05`` or ``5%``."""
    number = text.strip().removesuffix("%")
    try:
        value = float(number) / (100.0 if text.strip().endswith("%") else 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.05 or 5%, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1 (0% to 100%), not {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port (1-65535), not {text!r}")
    return int(text)


def build_parser(prog: str = "pulse sim") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulated Pulse devices: realistic telemetry and heartbeats over MQTT with mutual TLS, "
        "to the local broker or AWS IoT Core.",
    )
    fleet = parser.add_argument_group("fleet")
    size = fleet.add_mutually_exclusive_group()
    size.add_argument(
        "--devices", type=_count, metavar="N", help=f"devices sim-01..sim-N (default {DEFAULT_DEVICE_COUNT})"
    )
    size.add_argument("--ids", type=_ids, metavar="ID,ID,...", help="these device ids instead")
    fleet.add_argument(
        "--tenant", default=DEFAULT_TENANT, help="tenant of devices without a device.json (default %(default)s)"
    )
    fleet.add_argument("--seed", type=int, help="reproduce a run (default: random, logged at start)")
    fleet.add_argument(
        "--rate",
        type=_parsed(parse_rate),
        metavar="N/s",
        help=f"fleet-wide telemetry rate, e.g. 10/s or 600/min "
        f"(default: each device every {DEFAULT_DEVICE_PERIOD_S:g} s)",
    )
    fleet.add_argument(
        "--duration",
        type=_parsed(parse_duration),
        metavar="TIME",
        help="stop after e.g. 90s, 10m, 1h (default: until Ctrl-C)",
    )
    fleet.add_argument(
        "--heartbeat",
        type=_parsed(parse_duration),
        default=60.0,
        metavar="TIME",
        help="heartbeat interval (default 60s)",
    )
    scenarios = parser.add_argument_group("scenarios (times from the start of the run)")
    scenarios.add_argument(
        "--fault",
        type=_parsed(parse_fault),
        action="append",
        default=[],
        metavar="KIND:DEVICE@T[+D]",
        help="e.g. overheat:sim-03@60s; repeatable",
    )
    scenarios.add_argument(
        "--offline",
        type=_parsed(parse_window),
        action="append",
        default=[],
        metavar="DEVICE@T[+D]",
        help="device stops publishing, e.g. sim-07@120s+300s",
    )
    scenarios.add_argument(
        "--drop",
        type=_parsed(lambda t: parse_window(t, default_duration_s=DEFAULT_DROP_S)),
        action="append",
        default=[],
        metavar="DEVICE@T[+D]",
        help=f"uplink drop with buffered catch-up (default {DEFAULT_DROP_S:g}s)",
    )
    scenarios.add_argument(
        "--command-failure-rate",
        type=_share,
        default=DEFAULT_COMMAND_FAILURE_RATE,
        metavar="SHARE",
        help=f"share of commands a device answers failed, e.g. 0.1 or 10%% (default {DEFAULT_COMMAND_FAILURE_RATE:g})",
    )
    scenarios.add_argument("--no-uplink-drops", action="store_true", help="no random uplink drops")
    scenarios.add_argument("--no-clock-skew", action="store_true", help="every device clock is exact")
    connection = parser.add_argument_group("connection")
    connection.add_argument(
        "--credentials",
        type=Path,
        default=DEFAULT_CREDENTIALS_DIR,
        metavar="DIR",
        help="ca.pem and <device>/{cert.pem,key.pem,device.json} (default %(default)s)",
    )
    connection.add_argument("--host", help="broker host (overrides device.json)")
    connection.add_argument("--port", type=_port, help="broker port (default: device.json, 8883; plain 1883)")
    connection.add_argument(
        "--no-hostname-check",
        action="store_true",
        help="accept a broker certificate issued for another name (the CA is still checked)",
    )
    mode = connection.add_mutually_exclusive_group()
    mode.add_argument(
        "--insecure-plain",
        action="store_true",
        help="INSECURE, for tests: plain TCP without TLS or device authentication",
    )
    mode.add_argument("--dry-run", action="store_true", help="print messages as JSON lines; connect to nothing")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def config_from(args: argparse.Namespace) -> FleetConfig:
    if args.dry_run:
        transport = TransportMode.DRY_RUN
    elif args.insecure_plain:
        transport = TransportMode.MQTT_PLAIN
    else:
        transport = TransportMode.MQTT_TLS
    return FleetConfig(
        device_ids=args.ids or default_device_ids(args.devices or DEFAULT_DEVICE_COUNT),
        tenant_id=args.tenant,
        seed=args.seed,
        rate_per_s=args.rate,
        duration_s=args.duration,
        heartbeat_s=args.heartbeat,
        faults=tuple(args.fault),
        offline=tuple(args.offline),
        drops=tuple(args.drop),
        random_drops=not args.no_uplink_drops,
        clock_skew=not args.no_clock_skew,
        command_failure_rate=args.command_failure_rate,
        transport=transport,
        credentials_dir=args.credentials,
        host=args.host,
        port=args.port,
        verify_hostname=not args.no_hostname_check,
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop``; handlers can only be installed from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None, prog: str = "pulse sim") -> int:
    """Runs the simulator; returns the exit status (0, or 2 for a usage or credentials error)."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage and the error (or --help)
        return exc.code if isinstance(exc.code, int) else 2
    log_format.configure(args.log_level)
    stop = threading.Event()
    try:
        with _stop_on_signals(stop):
            run_fleet(config_from(args), stop=stop)
    except (ScenarioError, CredentialsError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `--dry-run | head`: the reader has gone, a normal way to end
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    return 0
