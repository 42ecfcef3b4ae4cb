"""Scenarios given on the command line: faults, offline windows, forced uplink drops, rates.

The grammar is small and strict (``overheat:sim-03@60s``, ``sim-07@120s+300s``, ``10/s``) so a
typo is refused with a message that shows the expected form instead of being silently ignored.
Times are relative to the start of the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86_400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|min|s|m|h|d)")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|m|min|h))?$")
_RATE_UNIT_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_WINDOW = re.compile(r"^(?P<device>[A-Za-z0-9][A-Za-z0-9_.:-]*)@(?P<at>[^+]+)(?:\+(?P<for>.+))?$")


class ScenarioError(ValueError):
    """A scenario, duration or rate that cannot be understood or does not fit the fleet."""


class FaultKind(StrEnum):
    """What a fault does to a device's signals (see ``signals.SignalModel``)."""

    OVERHEAT = "overheat"  # temp_c ramps up (2 degC/min) while the fault lasts, then cools down
    VIBRATION = "vibration"  # vibration_g stays high (pump bearing failure)
    BATTERY_DRAIN = "battery-drain"  # battery_pct drains fast (a UPS loses mains power)
    WEAK_SIGNAL = "weak-signal"  # rssi_dbm and snr_db drop (antenna damage, obstruction)


@dataclass(frozen=True, slots=True)
class Window:
    """A time window of one device, in seconds from the start of the run; open-ended without a length."""

    device_id: str
    start_s: float
    duration_s: float | None = None

    def covers(self, elapsed_s: float) -> bool:
        if elapsed_s < self.start_s:
            return False
        return self.duration_s is None or elapsed_s < self.start_s + self.duration_s

    @property
    def end_s(self) -> float | None:
        return None if self.duration_s is None else self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    window: Window


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``2m``, ``1h30m``, ``250ms``; refuses negative or empty values."""
    value = text.strip().lower()
    if not value:
        raise ScenarioError("empty duration; expected e.g. 90s, 2m, 1h30m")
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION_PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ScenarioError(f"invalid duration {text!r}; expected e.g. 90s, 2m, 1h30m") from None
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if not seconds >= 0:  # also refuses NaN
        raise ScenarioError(f"invalid duration {text!r}: must be zero or more")
    return seconds


def parse_rate(text: str) -> float:
    """Messages per second from ``10/s``, ``600/min``, ``90/h`` or a bare number (per second)."""
    match = _RATE.match(text.strip().lower())
    if match is None:
        raise ScenarioError(f"invalid rate {text!r}; expected e.g. 10/s, 600/min, 90/h")
    per_second = float(match[1]) / _RATE_UNIT_SECONDS[match[2] or "s"]
    if per_second <= 0:
        raise ScenarioError(f"invalid rate {text!r}: must be more than zero")
    return per_second


def parse_window(text: str, *, default_duration_s: float | None = None) -> Window:
    """``DEVICE@START[+DURATION]``, e.g. ``sim-07@120s+300s``."""
    match = _WINDOW.match(text.strip())
    if match is None:
        raise ScenarioError(f"invalid window {text!r}; expected DEVICE@START[+DURATION], e.g. sim-07@120s+300s")
    duration = parse_duration(match["for"]) if match["for"] is not None else default_duration_s
    if duration is not None and duration <= 0:
        raise ScenarioError(f"invalid window {text!r}: the duration must be more than zero")
    return Window(match["device"], parse_duration(match["at"]), duration)


def parse_fault(text: str) -> Fault:
    """``KIND:DEVICE@START[+DURATION]``, e.g. ``overheat:sim-03@60s``."""
    kind, sep, window = text.strip().partition(":")
    if not sep:
        raise ScenarioError(f"invalid fault {text!r}; expected KIND:DEVICE@START[+DURATION], e.g. overheat:sim-03@60s")
    try:
        fault_kind = FaultKind(kind.lower())
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ScenarioError(f"unknown fault kind {kind!r}; known kinds: {known}") from None
    return Fault(fault_kind, parse_window(window))
