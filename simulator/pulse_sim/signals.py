"""Physical signals of one simulated device, advanced over simulated time.

Every process is exact for any step length (Ornstein-Uhlenbeck noise, piecewise-linear battery,
Poisson episodes), so a device reads the same physics whether it samples every second or every
ten minutes, and a seeded RNG makes a run reproducible. The model type decides which metrics a
device sends; the shapes are chosen so that rules, charts and anomaly detection have something
real to chew on (afternoon temperature peaks, humidity that falls as temperature rises, pump
duty cycles with vibration bursts, a UPS that drains during mains outages).
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from pulse_sim.scenarios import FaultKind

MetricValue = float | int | bool

# What the sensors can physically report; readings are clamped to these limits as real ones are.
PHYSICAL_RANGES: dict[str, tuple[float, float]] = {
    "temp_c": (-40.0, 125.0),
    "humidity_pct": (0.0, 100.0),
    "pressure_psi": (0.0, 150.0),
    "battery_pct": (0.0, 100.0),
    "vibration_g": (0.0, 16.0),
    "rssi_dbm": (-120.0, -30.0),
    "snr_db": (-20.0, 30.0),
}

_DAY_S = 86_400.0
_SEA_LEVEL_PSI = 14.696


class ModelType(StrEnum):
    ENV_SENSOR = "env-sensor"  # battery powered, outdoors: weather and a charge cycle
    UPS = "ups"  # indoors on mains; drains its battery during outages
    PUMP = "pump"  # mains powered; duty cycles drive line pressure, vibration and motor heat


METRICS_BY_MODEL: dict[ModelType, tuple[str, ...]] = {
    ModelType.ENV_SENSOR: ("temp_c", "humidity_pct", "pressure_psi", "battery_pct", "rssi_dbm", "snr_db"),
    ModelType.UPS: ("battery_pct", "on_battery", "temp_c", "rssi_dbm", "snr_db"),
    ModelType.PUMP: ("pressure_psi", "vibration_g", "temp_c", "rssi_dbm", "snr_db"),
}

# The metric a fault acts on: a fault is refused for a device whose model does not send it.
FAULT_METRIC: dict[FaultKind, str] = {
    FaultKind.OVERHEAT: "temp_c",
    FaultKind.VIBRATION: "vibration_g",
    FaultKind.BATTERY_DRAIN: "battery_pct",
    FaultKind.WEAK_SIGNAL: "rssi_dbm",
}


def _clamp(metric: str, value: float) -> float:
    low, high = PHYSICAL_RANGES[metric]
    return min(high, max(low, value))


def _approach(value: float, target: float, dt: float, tau_s: float) -> float:
    """First-order lag: how a temperature or a pressure settles towards where it is driven."""
    return target + (value - target) * math.exp(-dt / tau_s)


class _Wander:
    """Mean-reverting noise (Ornstein-Uhlenbeck), sampled exactly for any step length."""

    __slots__ = ("sigma", "tau_s", "value")

    def __init__(self, rng: random.Random, tau_s: float, sigma: float) -> None:
        self.tau_s = tau_s
        self.sigma = sigma
        self.value = rng.gauss(0.0, sigma)

    def step(self, dt: float, rng: random.Random) -> float:
        decay = math.exp(-dt / self.tau_s)
        self.value = self.value * decay + self.sigma * math.sqrt(1.0 - decay * decay) * rng.gauss(0.0, 1.0)
        return self.value


@dataclass(slots=True)
class _Episodes:
    """Random episodes (temperature excursions, vibration bursts, mains outages): Poisson arrivals."""

    mean_gap_s: float
    length_s: tuple[float, float]
    size: tuple[float, float]
    next_start: float
    signed: bool = False
    start: float = -math.inf
    end: float = -math.inf
    magnitude: float = 0.0

    def advance(self, t: float, rng: random.Random) -> None:
        while self.next_start <= t:
            self.start = self.next_start
            self.end = self.start + rng.uniform(*self.length_s)
            self.magnitude = rng.uniform(*self.size) * (rng.choice((-1.0, 1.0)) if self.signed else 1.0)
            self.next_start = self.end + rng.expovariate(1.0 / self.mean_gap_s)

    def shape(self, t: float) -> float:
        """The episode's size at ``t`` on a half-sine (rises and fades smoothly), 0 outside it."""
        if not self.start <= t < self.end:
            return 0.0
        return self.magnitude * math.sin(math.pi * (t - self.start) / (self.end - self.start))

    def active(self, t: float) -> bool:
        return self.start <= t < self.end


class SignalModel:
    """The physics of one device. ``sample`` must be called with non-decreasing times."""

    def __init__(self, model: ModelType, rng: random.Random, start: float, utc_offset_s: float) -> None:
        self.model = model
        self._rng = rng
        self._t = start
        self._utc_offset_s = utc_offset_s
        r = rng
        # Temperature: outdoor sensors swing with the day, a UPS sits in a conditioned room.
        base, amplitude = {
            ModelType.ENV_SENSOR: ((8.0, 24.0), (4.0, 8.0)),
            ModelType.UPS: ((21.0, 26.0), (0.8, 2.0)),
            ModelType.PUMP: ((12.0, 22.0), (3.0, 6.0)),
        }[model]
        self._temp_base = r.uniform(*base)
        self._temp_amplitude = r.uniform(*amplitude)
        self._peak_hour = r.uniform(14.0, 16.0)
        self._temp_wander = _Wander(r, tau_s=900.0, sigma=0.4)
        self._excursions = _Episodes(
            36 * 3600.0, (600.0, 3600.0), (3.0, 8.0), next_start=start + r.expovariate(1 / (36 * 3600.0)), signed=True
        )
        # Humidity falls as the air warms (same water content, higher saturation pressure).
        self._rh_base = r.uniform(40.0, 75.0)
        self._rh_slope = r.uniform(2.0, 3.0)
        self._rh_wander = _Wander(r, tau_s=7200.0, sigma=4.0)
        self._baro_offset = r.uniform(-0.1, 0.1)
        self._baro_wander = _Wander(r, tau_s=12 * 3600.0, sigma=0.12)
        # Radio: placement sets the mean; slow fading around it; SNR follows RSSI above the noise floor.
        self._rssi_base = r.uniform(-100.0, -55.0)
        self._fading = _Wander(r, tau_s=1200.0, sigma=3.0)
        # Battery: an env sensor drains to a threshold, then recharges (solar / dock) to full.
        self._battery = 100.0 if model is ModelType.UPS else r.uniform(40.0, 100.0)
        self._charging = False
        self._drain_per_h = r.uniform(0.4, 1.2)
        self._charge_per_h = r.uniform(10.0, 25.0)
        self._recharge_at = r.uniform(15.0, 30.0)
        self._outages = _Episodes(
            30 * 3600.0, (180.0, 2400.0), (40.0, 90.0), next_start=start + r.expovariate(1 / (30 * 3600.0))
        )
        # Pump: run / idle duty cycle.
        self._running = r.random() < 0.4
        self._next_toggle = start + r.uniform(0.0, 1800.0)
        self._setpoint_psi = r.uniform(50.0, 75.0)
        self._static_psi = r.uniform(15.0, 30.0)
        self._line_psi = self._setpoint_psi if self._running else self._static_psi
        self._motor_heat_max = r.uniform(12.0, 20.0)
        self._motor_heat = self._motor_heat_max if self._running else 0.0
        self._vibration_base = r.uniform(0.15, 0.4)
        self._bursts = _Episodes(
            90 * 60.0, (20.0, 120.0), (1.2, 4.0), next_start=start + r.expovariate(1 / (90 * 60.0))
        )
        # Fault levels: they build up while a fault lasts and fade after it ends.
        self._fault_heat = 0.0
        self._fault_vibration = 0.0
        self._fault_weak = 0.0

    @property
    def metrics(self) -> tuple[str, ...]:
        return METRICS_BY_MODEL[self.model]

    def sample(self, t: float, faults: Collection[FaultKind] = ()) -> dict[str, MetricValue]:
        """Advances the physics to ``t`` and returns the device's readings."""
        dt = max(0.0, t - self._t)
        self._t = max(self._t, t)
        self._step_faults(dt, faults)
        ambient = self._ambient(t, dt)
        if self.model is ModelType.ENV_SENSOR:
            readings: dict[str, MetricValue] = {
                "temp_c": self._temperature(ambient),
                "humidity_pct": self._humidity(ambient, dt),
                "pressure_psi": self._barometric(dt),
                "battery_pct": self._env_battery(dt, FaultKind.BATTERY_DRAIN in faults),
            }
        elif self.model is ModelType.UPS:
            on_battery = self._ups_on_battery(t, FaultKind.BATTERY_DRAIN in faults)
            readings = {
                "battery_pct": self._ups_battery(dt, on_battery),
                "on_battery": on_battery,
                "temp_c": self._temperature(ambient),
            }
        else:
            readings = self._pump(t, dt, ambient)
        readings.update(self._radio(dt))
        return readings

    def _step_faults(self, dt: float, faults: Collection[FaultKind]) -> None:
        if FaultKind.OVERHEAT in faults:
            self._fault_heat = min(70.0, self._fault_heat + dt * 2.0 / 60.0)
        else:
            self._fault_heat *= math.exp(-dt / 600.0)
        self._fault_vibration = _approach(self._fault_vibration, float(FaultKind.VIBRATION in faults), dt, 60.0)
        self._fault_weak = _approach(self._fault_weak, float(FaultKind.WEAK_SIGNAL in faults), dt, 20.0)

    def _ambient(self, t: float, dt: float) -> float:
        """Base + a 24 h sine peaking at the device's local afternoon + wander + excursions."""
        local_hour = ((t + self._utc_offset_s) % _DAY_S) / 3600.0
        diurnal = self._temp_amplitude * math.sin(2 * math.pi * (local_hour - self._peak_hour + 6.0) / 24.0)
        self._excursions.advance(t, self._rng)
        return self._temp_base + diurnal + self._temp_wander.step(dt, self._rng) + self._excursions.shape(t)

    def _temperature(self, ambient: float, extra: float = 0.0) -> float:
        reading = ambient + extra + self._fault_heat + self._rng.gauss(0.0, 0.05)
        return round(_clamp("temp_c", reading), 2)

    def _humidity(self, ambient: float, dt: float) -> float:
        relative = self._rh_base - self._rh_slope * (ambient - self._temp_base) + self._rh_wander.step(dt, self._rng)
        return round(_clamp("humidity_pct", max(3.0, relative)), 1)

    def _barometric(self, dt: float) -> float:
        return round(_SEA_LEVEL_PSI + self._baro_offset + self._baro_wander.step(dt, self._rng), 3)

    def _env_battery(self, dt: float, draining: bool) -> float:
        hours = dt / 3600.0
        if self._charging and not draining:
            self._battery = min(100.0, self._battery + self._charge_per_h * hours)
            self._charging = self._battery < 100.0
        else:
            self._battery = max(0.0, self._battery - (self._drain_per_h + (300.0 if draining else 0.0)) * hours)
            self._charging = self._battery <= self._recharge_at
        return round(self._battery, 1)

    def _ups_on_battery(self, t: float, mains_lost: bool) -> bool:
        self._outages.advance(t, self._rng)
        return mains_lost or self._outages.active(t)

    def _ups_battery(self, dt: float, on_battery: bool) -> float:
        hours = dt / 3600.0
        if on_battery:
            drain = self._outages.magnitude if self._outages.magnitude > 0 else 60.0
            self._battery = max(0.0, self._battery - drain * hours)
        else:
            self._battery = min(100.0, self._battery + self._charge_per_h * hours)
        return round(self._battery, 1)

    def _pump(self, t: float, dt: float, ambient: float) -> dict[str, MetricValue]:
        rng = self._rng
        while self._next_toggle <= t:
            self._running = not self._running
            self._next_toggle += rng.uniform(600.0, 2400.0) if self._running else rng.uniform(900.0, 3600.0)
        target_psi = self._setpoint_psi if self._running else self._static_psi
        self._line_psi = _approach(self._line_psi, target_psi, dt, 20.0)
        pressure = self._line_psi + rng.gauss(0.0, 0.8 if self._running else 0.2)
        self._motor_heat = _approach(self._motor_heat, self._motor_heat_max if self._running else 0.0, dt, 600.0)
        self._bursts.advance(t, rng)
        base = self._vibration_base if self._running else 0.02
        vibration = base * abs(1.0 + 0.15 * rng.gauss(0.0, 1.0)) + self._bursts.shape(t)
        vibration += self._fault_vibration * (4.0 + 0.5 * abs(rng.gauss(0.0, 1.0)))
        return {
            "pressure_psi": round(_clamp("pressure_psi", pressure), 2),
            "vibration_g": round(_clamp("vibration_g", vibration), 3),
            "temp_c": self._temperature(ambient, self._motor_heat),
        }

    def _radio(self, dt: float) -> dict[str, MetricValue]:
        rssi = self._rssi_base + self._fading.step(dt, self._rng) + self._rng.gauss(0.0, 1.5)
        rssi -= 25.0 * self._fault_weak
        snr = 0.35 * (rssi + 110.0) - 2.0 + self._rng.gauss(0.0, 0.8)
        return {"rssi_dbm": round(_clamp("rssi_dbm", rssi)), "snr_db": round(_clamp("snr_db", snr), 1)}
