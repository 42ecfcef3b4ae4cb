"""What a simulated fleet run is: devices, rates, scenarios, realism switches and the transport.

One frozen object feeds both the command line and the programmatic API (``run_fleet``); its
``check`` refuses a scenario that cannot happen (unknown device, a vibration fault on a device
without a vibration sensor) before anything connects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pulse.connect.topics import TopicError, TopicKind, build_topic
from pulse_sim.credentials import DEFAULT_CREDENTIALS_DIR
from pulse_sim.scenarios import Fault, ScenarioError, Window
from pulse_sim.signals import FAULT_METRIC, METRICS_BY_MODEL, ModelType

DEFAULT_DEVICE_COUNT = 25
DEFAULT_DEVICE_PERIOD_S = 5.0  # one telemetry message per device every 5 s unless a rate is given
DEFAULT_TENANT = "demo"
DEFAULT_COMMAND_FAILURE_RATE = 0.05  # one command in 20 fails, so failures show up in make dev
# Devices take model types in turn, so even a three-device fleet has one of each.
MODEL_ROTATION: tuple[ModelType, ...] = (ModelType.ENV_SENSOR, ModelType.PUMP, ModelType.UPS)


class TransportMode(StrEnum):
    MQTT_TLS = "mqtt-tls"  # mutual TLS with the device's certificate (local broker or AWS IoT Core)
    MQTT_PLAIN = "mqtt-plain"  # INSECURE: plain TCP, no device authentication; for tests only
    DRY_RUN = "dry-run"  # JSON lines on stdout, no broker


def default_device_ids(count: int) -> tuple[str, ...]:
    """``sim-01`` .. ``sim-25``; zero-padded to the width of the count so ids sort in order."""
    if count < 1:
        raise ScenarioError(f"the fleet needs at least one device, not {count}")
    width = max(2, len(str(count)))
    return tuple(f"sim-{i:0{width}d}" for i in range(1, count + 1))


def model_for(index: int) -> ModelType:
    return MODEL_ROTATION[index % len(MODEL_ROTATION)]


@dataclass(frozen=True, slots=True)
class FleetConfig:
    device_ids: tuple[str, ...] = field(default_factory=lambda: default_device_ids(DEFAULT_DEVICE_COUNT))
    tenant_id: str = DEFAULT_TENANT  # for devices without a device.json (plain TCP, dry run)
    seed: int | None = None  # None: a random seed, logged so that the run can be repeated
    rate_per_s: float | None = None  # fleet-wide telemetry messages per second
    duration_s: float | None = None  # None: until stopped
    heartbeat_s: float = 60.0
    faults: tuple[Fault, ...] = ()
    offline: tuple[Window, ...] = ()
    drops: tuple[Window, ...] = ()  # forced uplink drops (buffered, then caught up)
    random_drops: bool = True
    clock_skew: bool = True
    utc_offset_s: float | None = None  # the devices' local time; None: this machine's
    transport: TransportMode = TransportMode.MQTT_TLS
    credentials_dir: Path = DEFAULT_CREDENTIALS_DIR
    host: str | None = None  # overrides device.json
    port: int | None = None
    verify_hostname: bool = True
    run_id: str | None = None  # fixes msg_id for byte-identical reruns (tests); None: unique per run
    drop_mean_interval_s: float = 3600.0
    drop_duration_s: tuple[float, float] = (20.0, 240.0)
    drop_grace_s: float = 120.0  # no random drop this early, so every device reports soon after start
    buffer_limit: int = 5000
    catchup_per_s: float = 20.0  # backlog pace after a drop (AWS IoT Core allows 100 publishes/s)
    shutdown_timeout_s: float = 3.0
    command_failure_rate: float = DEFAULT_COMMAND_FAILURE_RATE  # share of commands a device answers failed

    @property
    def device_period_s(self) -> float:
        if self.rate_per_s is None:
            return DEFAULT_DEVICE_PERIOD_S
        return len(self.device_ids) / self.rate_per_s

    def check(self) -> None:
        """Raises ScenarioError naming the first thing that cannot work."""
        if not self.device_ids:
            raise ScenarioError("the fleet needs at least one device")
        if len(set(self.device_ids)) != len(self.device_ids):
            raise ScenarioError("device ids must be unique")
        for device_id in self.device_ids:
            try:
                build_topic(self.tenant_id, device_id, TopicKind.TELEMETRY)
            except TopicError as exc:
                raise ScenarioError(str(exc)) from None
        for name, value in (
            ("rate", self.rate_per_s),
            ("heartbeat interval", self.heartbeat_s),
            ("catch-up pace", self.catchup_per_s),
            ("drop interval", self.drop_mean_interval_s),
        ):
            if value is not None and value <= 0:
                raise ScenarioError(f"the {name} must be more than zero")
        if self.duration_s is not None and self.duration_s < 0:
            raise ScenarioError("the duration must not be negative")
        if not 0.0 <= self.command_failure_rate <= 1.0:
            raise ScenarioError(f"the command failure rate must be between 0 and 1, not {self.command_failure_rate:g}")
        if self.buffer_limit < 1:
            raise ScenarioError("the uplink buffer must hold at least one message")
        known = {device_id: model_for(i) for i, device_id in enumerate(self.device_ids)}
        windows = [("--offline", w) for w in self.offline] + [("--drop", w) for w in self.drops]
        windows += [(f"--fault {f.kind.value}", f.window) for f in self.faults]
        for option, window in windows:
            if window.device_id not in known:
                raise ScenarioError(
                    f"{option}: unknown device {window.device_id!r} (the fleet is {_describe(self.device_ids)})"
                )
        for fault in self.faults:
            model = known[fault.window.device_id]
            metric = FAULT_METRIC[fault.kind]
            if metric not in METRICS_BY_MODEL[model]:
                capable = [d for d, m in known.items() if metric in METRICS_BY_MODEL[m]]
                raise ScenarioError(
                    f"--fault {fault.kind.value}: {fault.window.device_id} is a {model.value} "
                    f"and sends no {metric}; try one of {_describe(tuple(capable))}"
                )


def _describe(device_ids: tuple[str, ...]) -> str:
    if len(device_ids) <= 6:
        return ", ".join(device_ids) or "none"
    return f"{', '.join(device_ids[:3])} .. {device_ids[-1]} ({len(device_ids)} devices)"
