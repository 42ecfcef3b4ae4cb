"""Runs a simulated fleet: one agenda of timed events drives every device and its link.

A single thread walks the agenda (telemetry, heartbeats, drops, offline windows, backlog
catch-up) and waits on the clock between events, so 25 devices at one message a second cost a
few wake-ups per second and a simulated clock runs a week of fleet life in seconds. Per-device
RNGs are derived from the seed and the device id, so a device behaves the same whatever the
size of the fleet it runs in.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from pulse_sim.clock import Clock, RealClock
from pulse_sim.config import FleetConfig, TransportMode, model_for
from pulse_sim.credentials import resolve_identity
from pulse_sim.device import Outbound, SimDevice
from pulse_sim.inbound import DeviceStateHandler, InboundHandler
from pulse_sim.scenarios import Fault
from pulse_sim.signals import ModelType
from pulse_sim.transport import DryRunTransport, Link, Transport

logger = logging.getLogger("pulse_sim.fleet")

PLATFORM_MAX_FUTURE_SKEW_S = 300.0  # the platform's max_clock_skew_s: further ahead is quarantined
# A device whose RTC is far off (beyond the platform's limit) is corrected by its first NTP sync, so
# its early messages are quarantined (timestamp_out_of_range) and the later ones stored.
NTP_SYNC_AFTER_S = 45.0
_CATCHUP_TICK_S = 0.5
SIM_FIRMWARE = "sim-1.0.0"


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    device_id: str
    thing_name: str
    model: ModelType
    skew_s: float

    @property
    def beyond_platform_skew(self) -> bool:
        return self.skew_s > PLATFORM_MAX_FUTURE_SKEW_S


@dataclass(slots=True)
class FleetReport:
    seed: int
    started_at: float
    ended_at: float = 0.0
    devices: dict[str, DeviceProfile] = field(default_factory=dict)
    published: Counter[str] = field(default_factory=Counter)  # by topic kind
    per_device: Counter[str] = field(default_factory=Counter)
    overflowed: int = 0  # buffered messages lost to a full buffer
    unsent_backlog: int = 0  # still buffered when the run ended


def build_transport(config: FleetConfig) -> Transport:
    if config.transport is TransportMode.DRY_RUN:
        return DryRunTransport()
    from pulse_sim.mqtt import MqttTransport  # paho is needed only when talking MQTT

    return MqttTransport(
        config.credentials_dir,
        host=config.host,
        port=config.port,
        plain=config.transport is TransportMode.MQTT_PLAIN,
        verify_hostname=config.verify_hostname,
    )


def seeded_rng(seed: int, *names: str) -> random.Random:
    """An RNG for one purpose of one device; string seeds hash stably across runs and platforms."""
    return random.Random(":".join((str(seed), *names)))  # noqa: S311 - simulated physics, not secrets


def run_fleet(
    config: FleetConfig,
    *,
    transport: Transport | None = None,
    clock: Clock | None = None,
    inbound: InboundHandler | None = None,
    stop: threading.Event | None = None,
) -> FleetReport:
    """Runs until ``config.duration_s`` has passed or ``stop`` is set; returns what was sent.

    Cloud messages go to ``inbound``; by default a ``DeviceStateHandler`` reports each device's
    initial state (``initial_twin_state``), applies twin deltas and answers commands, failing
    ``config.command_failure_rate`` of them.

    Raises ScenarioError or CredentialsError before connecting anything when the configuration
    cannot work. Does not install signal handlers: the caller owns ``stop`` (the CLI sets it on
    SIGINT/SIGTERM).
    """
    config.check()
    fleet = _Fleet(
        config,
        transport or build_transport(config),
        clock or RealClock(),
        inbound,
        stop or threading.Event(),
    )
    return fleet.run()


@dataclass(slots=True)
class _Member:
    device: SimDevice
    link: Link
    schedule: random.Random  # timing jitter and random drops, apart from the signal RNG
    faults: list[Fault]
    link_up: bool = False
    draining: bool = False
    drop_holds: int = 0
    off_holds: int = 0


class _Fleet:
    def __init__(
        self,
        config: FleetConfig,
        transport: Transport,
        clock: Clock,
        inbound: InboundHandler | None,
        stop: threading.Event,
    ) -> None:
        self._config = config
        self._clock = clock
        self._stop = stop
        self._seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        self._start = clock.now()
        self._agenda: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = itertools.count()
        self.report = FleetReport(seed=self._seed, started_at=self._start)
        run_id = config.run_id or uuid.uuid4().hex
        utc_offset = config.utc_offset_s if config.utc_offset_s is not None else _local_utc_offset_s()
        skews = _clock_skews(config, seeded_rng(self._seed, "skew"))
        if inbound is None:
            inbound = DeviceStateHandler(
                config.command_failure_rate,
                seeded_rng(self._seed, "commands"),
                {device_id: initial_twin_state(config, model_for(i)) for i, device_id in enumerate(config.device_ids)},
            )
        self._members: list[_Member] = []
        for index, device_id in enumerate(config.device_ids):
            identity = resolve_identity(config.credentials_dir, device_id, config.tenant_id)
            device = SimDevice(
                identity,
                model_for(index),
                seeded_rng(self._seed, device_id),
                start=self._start,
                utc_offset_s=utc_offset,
                skew_s=skews.get(device_id, 0.0),
                clock_synced_at=(
                    self._start + NTP_SYNC_AFTER_S if skews.get(device_id, 0.0) > PLATFORM_MAX_FUTURE_SKEW_S else None
                ),
                boot_id=hashlib.blake2b(f"{run_id}:{device_id}".encode(), digest_size=6).hexdigest(),
                buffer_limit=config.buffer_limit,
            )
            link = transport.open(identity, inbound)
            faults = [f for f in config.faults if f.window.device_id == device_id]
            self._members.append(_Member(device, link, seeded_rng(self._seed, device_id, "schedule"), faults))
            self.report.devices[device_id] = DeviceProfile(device_id, identity.thing_name, device.model, device.skew_s)

    def run(self) -> FleetReport:
        config = self._config
        logger.info(
            "fleet starting",
            extra={
                "devices": len(self._members),
                "seed": self._seed,
                "transport": config.transport.value,
                "rate_per_s": round(len(self._members) / config.device_period_s, 3),
                "duration_s": config.duration_s,
            },
        )
        for profile in self.report.devices.values():
            if profile.skew_s:
                logger.info(
                    "device clock skewed",
                    extra={
                        "device_id": profile.device_id,
                        "skew_s": round(profile.skew_s, 1),
                        "beyond_platform_limit": profile.beyond_platform_skew,
                    },
                )
        try:
            self._plan()
            for member in self._members:
                self._sync_link(member, self._start)
            self._walk_agenda()
        finally:
            self._close()
        return self.report

    def _plan(self) -> None:
        config = self._config
        period = config.device_period_s
        for member in self._members:
            rng = member.schedule
            self._at(self._start + rng.uniform(0.0, period), partial(self._telemetry, member))
            self._at(self._start + rng.uniform(0.0, min(5.0, config.heartbeat_s)), partial(self._heartbeat, member))
            if config.random_drops:
                first = self._start + config.drop_grace_s + rng.expovariate(1.0 / config.drop_mean_interval_s)
                self._at(first, partial(self._random_drop, member))
        by_id = {m.device.device_id: m for m in self._members}
        for window in config.offline:
            member = by_id[window.device_id]
            self._window(member, window.start_s, window.end_s, self._power_off, self._power_on)
        for window in config.drops:
            member = by_id[window.device_id]
            self._window(member, window.start_s, window.end_s, self._lose_uplink, self._restore_uplink)

    def _walk_agenda(self) -> None:
        end = None if self._config.duration_s is None else self._start + self._config.duration_s
        while self._agenda and not self._stop.is_set():
            due, _, action = heapq.heappop(self._agenda)
            if end is not None and due > end:
                self._clock.sleep_until(end, self._stop)
                break
            if not self._clock.sleep_until(due, self._stop):
                break
            action(max(due, self._clock.now()))

    def _close(self) -> None:
        """Closes every link at once: each may wait for acks or for a reconnect attempt to give up."""
        deadline = time.monotonic() + self._config.shutdown_timeout_s
        for member in self._members:
            self.report.overflowed += member.device.overflowed
            self.report.unsent_backlog += member.device.backlog
        with ThreadPoolExecutor(max_workers=min(32, len(self._members)), thread_name_prefix="close") as pool:
            for closing in [pool.submit(m.link.close, deadline) for m in self._members]:
                closing.result()
        self.report.ended_at = self._clock.now()
        logger.info(
            "fleet stopped",
            extra={
                "published": sum(self.report.published.values()),
                "telemetry": self.report.published["telemetry"],
                "heartbeat": self.report.published["heartbeat"],
                "unsent_backlog": self.report.unsent_backlog,
                "seconds": round(self.report.ended_at - self._start, 1),
            },
        )

    def _at(self, when: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._agenda, (when, next(self._order), action))

    def _window(
        self,
        member: _Member,
        start_s: float,
        end_s: float | None,
        begin: Callable[[_Member, float], None],
        finish: Callable[[_Member, float], None],
    ) -> None:
        self._at(self._start + start_s, lambda t: begin(member, t))
        if end_s is not None:
            self._at(self._start + end_s, lambda t: finish(member, t))

    def _publish(self, member: _Member, message: Outbound) -> None:
        member.link.publish(message.topic, message.payload)
        self.report.published[message.kind.value] += 1
        self.report.per_device[message.device_id] += 1

    def _telemetry(self, member: _Member, t: float) -> None:
        elapsed = t - self._start
        active = {f.kind for f in member.faults if f.window.covers(elapsed)}
        message = member.device.telemetry(t, active)
        if message is not None:
            self._publish(member, message)
        period = self._config.device_period_s * member.schedule.uniform(0.98, 1.02)
        self._at(t + period, lambda at: self._telemetry(member, at))

    def _heartbeat(self, member: _Member, t: float) -> None:
        message = member.device.heartbeat(t)
        if message is not None:
            self._publish(member, message)
        self._at(t + self._config.heartbeat_s, lambda at: self._heartbeat(member, at))

    def _random_drop(self, member: _Member, t: float) -> None:
        low, high = self._config.drop_duration_s
        length = member.schedule.uniform(low, high)
        self._lose_uplink(member, t)
        self._at(t + length, lambda at: self._restore_uplink(member, at))
        gap = length + member.schedule.expovariate(1.0 / self._config.drop_mean_interval_s)
        self._at(t + gap, lambda at: self._random_drop(member, at))

    def _lose_uplink(self, member: _Member, t: float) -> None:
        member.drop_holds += 1
        member.device.uplink = False
        logger.info("uplink dropped", extra={"device_id": member.device.device_id})
        self._sync_link(member, t)

    def _restore_uplink(self, member: _Member, t: float) -> None:
        member.drop_holds = max(0, member.drop_holds - 1)
        member.device.uplink = member.drop_holds == 0
        if member.device.uplink:
            logger.info(
                "uplink restored", extra={"device_id": member.device.device_id, "backlog": member.device.backlog}
            )
        self._sync_link(member, t)

    def _power_off(self, member: _Member, t: float) -> None:
        member.off_holds += 1
        member.device.power_off()
        logger.info("device offline", extra={"device_id": member.device.device_id})
        self._sync_link(member, t)

    def _power_on(self, member: _Member, t: float) -> None:
        member.off_holds = max(0, member.off_holds - 1)
        if member.off_holds == 0:
            member.device.power_on(t)
            logger.info("device back online", extra={"device_id": member.device.device_id})
        self._sync_link(member, t)

    def _sync_link(self, member: _Member, t: float) -> None:
        """Brings the MQTT connection in line with the device, and starts a catch-up if it has a backlog."""
        if member.device.connected and not member.link_up:
            member.link.connect()
            member.link_up = True
        elif not member.device.connected and member.link_up:
            member.link.disconnect()
            member.link_up = False
        if member.link_up and member.device.backlog and not member.draining:
            member.draining = True
            self._at(t, lambda at: self._catch_up(member, at))

    def _catch_up(self, member: _Member, t: float) -> None:
        batch = max(1, round(self._config.catchup_per_s * _CATCHUP_TICK_S))
        for message in member.device.drain(batch):
            self._publish(member, message)
        if member.device.backlog and member.device.connected:
            self._at(t + _CATCHUP_TICK_S, lambda at: self._catch_up(member, at))
        else:
            member.draining = False


def initial_twin_state(config: FleetConfig, model: ModelType) -> dict[str, object]:
    """What a simulated device reports about itself when it first connects."""
    return {
        "firmware": SIM_FIRMWARE,
        "model": model.value,
        "telemetry_period_s": round(config.device_period_s, 3),
        "heartbeat_s": config.heartbeat_s,
    }


def _clock_skews(config: FleetConfig, rng: random.Random) -> dict[str, float]:
    """A few devices run a fixed offset of seconds to minutes; about one in 25 is over 5 min ahead."""
    if not config.clock_skew:
        return {}
    count = len(config.device_ids)
    beyond = max(1, round(count * 0.04)) if count >= 10 else 0
    within = round(count * 0.12)
    chosen = rng.sample(list(config.device_ids), min(count, beyond + within))
    skews = {device_id: rng.uniform(PLATFORM_MAX_FUTURE_SKEW_S + 60.0, 1800.0) for device_id in chosen[:beyond]}
    skews.update({device_id: rng.choice((-1.0, 1.0)) * rng.uniform(5.0, 180.0) for device_id in chosen[beyond:]})
    return skews


def _local_utc_offset_s() -> float:
    return float(time.localtime().tm_gmtoff)
