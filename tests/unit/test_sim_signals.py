"""Simulated physics: readings stay physical and have the shapes the platform is meant to see."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from pulse_sim.scenarios import FaultKind
from pulse_sim.signals import METRICS_BY_MODEL, PHYSICAL_RANGES, ModelType, SignalModel

START = datetime(2026, 3, 2, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC
DAY = 86_400.0
# Plausible normal operation (no fault): tighter than what the sensors can report.
NORMAL = {
    "temp_c": (-15.0, 60.0),
    "humidity_pct": (3.0, 100.0),
    "pressure_psi": (10.0, 90.0),
    "battery_pct": (0.0, 100.0),
    "vibration_g": (0.0, 8.0),
    "rssi_dbm": (-120.0, -40.0),
    "snr_db": (-10.0, 25.0),
}


def run(
    model: ModelType,
    seed: int,
    *,
    days: float,
    step_s: float,
    utc_offset_s: float = 0.0,
    faults: frozenset[FaultKind] = frozenset(),
) -> list[tuple[float, dict]]:
    signals = SignalModel(model, random.Random(seed), START, utc_offset_s)
    steps = int(days * DAY / step_s)
    return [(START + i * step_s, signals.sample(START + i * step_s, faults)) for i in range(steps)]


def pearson(xs: list[float], ys: list[float]) -> float:
    return statistics.correlation(xs, ys)


@pytest.mark.parametrize("model", list(ModelType))
def test_every_reading_stays_physical_over_a_simulated_week(model):
    for seed in range(3):
        for _, readings in run(model, seed, days=7, step_s=300):
            assert set(readings) == set(METRICS_BY_MODEL[model])
            for metric, value in readings.items():
                if metric == "on_battery":
                    assert isinstance(value, bool)
                    continue
                assert math.isfinite(value)
                low, high = NORMAL[metric]
                assert low <= value <= high, (model, seed, metric, value)
                assert PHYSICAL_RANGES[metric][0] <= value <= PHYSICAL_RANGES[metric][1]


@pytest.mark.parametrize("model", [ModelType.ENV_SENSOR, ModelType.UPS])
@pytest.mark.parametrize("utc_offset_h", [0, -5, 9])
def test_temperature_peaks_in_the_local_afternoon(model, utc_offset_h):
    by_local_hour: dict[int, list[float]] = defaultdict(list)
    for seed in range(2):
        for t, readings in run(model, seed, days=7, step_s=600, utc_offset_s=utc_offset_h * 3600):
            local_hour = int(((t + utc_offset_h * 3600) % DAY) // 3600)
            by_local_hour[local_hour].append(readings["temp_c"])
    means = {hour: statistics.fmean(values) for hour, values in by_local_hour.items()}
    warmest = max(means, key=means.__getitem__)
    coldest = min(means, key=means.__getitem__)
    assert 13 <= warmest <= 17
    assert coldest <= 6 or coldest >= 22


def test_humidity_falls_as_temperature_rises():
    samples = run(ModelType.ENV_SENSOR, 4, days=3, step_s=300)
    correlation = pearson([r["temp_c"] for _, r in samples], [r["humidity_pct"] for _, r in samples])
    assert correlation < -0.6


@pytest.mark.parametrize("model", list(ModelType))
def test_snr_follows_rssi(model):
    samples = run(model, 5, days=2, step_s=300)
    assert pearson([r["rssi_dbm"] for _, r in samples], [r["snr_db"] for _, r in samples]) > 0.8


def test_pump_vibration_has_bursts_far_above_its_running_level():
    samples = run(ModelType.PUMP, 6, days=2, step_s=15)
    vibration = [r["vibration_g"] for _, r in samples]
    assert statistics.median(vibration) < 0.5
    assert max(vibration) > 1.2
    assert sum(v > 1.0 for v in vibration) < len(vibration) * 0.05  # bursts, not a new baseline


def test_pump_pressure_follows_its_duty_cycle():
    pressure = [r["pressure_psi"] for _, r in run(ModelType.PUMP, 7, days=1, step_s=60)]
    assert max(pressure) - min(pressure) > 15  # running setpoint vs static line pressure


@pytest.mark.parametrize("seed", range(3))
def test_sensor_battery_drains_then_recharges_to_full(seed):
    battery = [r["battery_pct"] for _, r in run(ModelType.ENV_SENSOR, seed, days=14, step_s=600)]
    lowest = battery.index(min(battery))
    assert min(battery) <= 30
    assert max(battery[lowest:]) == 100.0
    assert any(b < a for a, b in itertools.pairwise(battery))


def test_ups_battery_drains_only_on_battery_power():
    samples = run(ModelType.UPS, 8, days=7, step_s=60)
    assert any(r["on_battery"] for _, r in samples)
    for (_, before), (_, after) in itertools.pairwise(samples):
        if after["battery_pct"] < before["battery_pct"]:
            assert after["on_battery"]


def test_overheat_ramps_temperature_while_it_lasts_and_cools_after():
    fault = frozenset({FaultKind.OVERHEAT})
    signals = SignalModel(ModelType.ENV_SENSOR, random.Random(1), START, 0.0)
    twin = SignalModel(ModelType.ENV_SENSOR, random.Random(1), START, 0.0)
    heated = [signals.sample(START + i * 60, fault)["temp_c"] for i in range(16)]
    normal = [twin.sample(START + i * 60)["temp_c"] for i in range(16)]
    assert heated[15] - normal[15] == pytest.approx(30.0, abs=0.5)  # 2 degC per minute
    cooled = signals.sample(START + 16 * 60 + 3600)["temp_c"]
    assert cooled - twin.sample(START + 16 * 60 + 3600)["temp_c"] < 1.0


@pytest.mark.parametrize(
    ("model", "kind", "metric", "direction"),
    [
        (ModelType.PUMP, FaultKind.VIBRATION, "vibration_g", 1),
        (ModelType.ENV_SENSOR, FaultKind.BATTERY_DRAIN, "battery_pct", -1),
        (ModelType.UPS, FaultKind.BATTERY_DRAIN, "battery_pct", -1),
        (ModelType.ENV_SENSOR, FaultKind.WEAK_SIGNAL, "rssi_dbm", -1),
    ],
)
def test_each_fault_moves_its_metric(model, kind, metric, direction):
    faulty = run(model, 2, days=1 / 24, step_s=60, faults=frozenset({kind}))
    normal = run(model, 2, days=1 / 24, step_s=60)
    shift = faulty[-1][1][metric] - normal[-1][1][metric]
    assert shift * direction > 3
