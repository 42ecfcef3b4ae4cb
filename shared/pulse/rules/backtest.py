"""Backtest: what a draft rule would have opened and resolved over stored telemetry.

Each device the rule's scope matches is replayed from the telemetry store in time order, message
instant by message instant, through the same ``evaluate`` the ingest path calls, then the clock is
run to ``end``: absence, ``for`` promotion, windows leaving their span and schedule bounds fire at
exactly the instants they fire live, because the evaluator steps there whatever the call pattern.
The replay reads pages from a server-side cursor and hands the evaluator chunks of samples, so a
long range never sits in memory.

Differences from live evaluation, by design: the state starts empty at ``start`` (windows,
anomaly baselines and absence clocks warm up from the first sample in the range); device attributes,
the twin and the site's time zone are read as they are now; boolean metrics come back from the
store as 1.0 / 0.0 (``== true`` still matches). Nothing is written: no alert, no rule state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice

import psycopg
from pydantic import BaseModel

from pulse.errors import PulseError, RequestInvalid
from pulse.rules.backtest_store import ScopedDevice, scoped_devices
from pulse.rules.conditions import read_metrics, walk
from pulse.rules.evaluate import evaluate
from pulse.rules.model import Absence, Rule
from pulse.rules.signals import Explanation, Opened, Sample, Transition
from pulse.rules.state import RuleState
from pulse.stream.replay import replay

CHUNK_SAMPLES = 1000


class BacktestLimitExceeded(PulseError):
    """A backtest would read more than its limits allow; the detail says which and how to narrow it."""

    status = 422
    title = "Backtest limit exceeded"


@dataclass(frozen=True, slots=True)
class BacktestLimits:
    max_devices: int = 100
    max_range: timedelta = timedelta(days=31)
    max_points: int = 500_000  # telemetry rows read, over all devices
    max_alerts: int = 1000  # alerts listed; counts and the histogram always cover all of them


class BacktestAlert(BaseModel):
    """An alert the rule would have opened; ``resolved_at`` null: still open at the end of the range."""

    device_id: str
    opened_at: datetime
    resolved_at: datetime | None
    resolve_reason: str | None
    opened_because: str
    resolved_because: str | None


class DeviceBacktest(BaseModel):
    device_id: str
    samples: int
    opened: int
    resolved: int


class DayBacktest(BaseModel):
    """Alerts opened and resolved per UTC day."""

    day: date
    opened: int
    resolved: int


class BacktestResult(BaseModel):
    rule_id: str
    rule_version: int
    start: datetime
    end: datetime
    devices: int
    points: int
    opened: int
    resolved: int
    alerts: list[BacktestAlert]
    alerts_truncated: bool
    per_device: list[DeviceBacktest]
    per_day: list[DayBacktest]


def describe(explanation: Explanation) -> str:
    """One line for a whole explanation tree: ``for 5m, true since ... [temp_c > 30 (= 31.5)]``."""
    text = explanation.summary
    observed = explanation.observed
    if observed is not None:
        text += f" (= {observed:g})" if isinstance(observed, float) else f" (= {observed})"
    if explanation.children:
        text += " [" + "; ".join(describe(child) for child in explanation.children) + "]"
    return text


def validate_range(start: datetime, end: datetime, limits: BacktestLimits) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise RequestInvalid("start: start and end must carry a time zone (RFC 3339 with an offset)")
    if start >= end:
        raise RequestInvalid("end: must be after start")
    if end - start > limits.max_range:
        raise BacktestLimitExceeded(
            f"the range spans {end - start}; a backtest covers at most {limits.max_range.days} days"
        )


def _needs_messages(rule: Rule) -> bool:
    """Whether the rule reads message instants beyond its metrics (``absence`` of any message)."""
    roots = [rule.condition] + ([rule.clear] if rule.clear is not None else [])
    return any(isinstance(node, Absence) and node.metric is None for root in roots for node in walk(root))


def _metrics(rule: Rule) -> list[str]:
    names = read_metrics(rule.condition) | (read_metrics(rule.clear) if rule.clear is not None else set())
    return sorted(names)


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def spend(self, rows: int) -> None:
        self.used += rows
        if self.used > self.limit:
            raise BacktestLimitExceeded(
                f"the range holds more than {self.limit} telemetry points for these devices; "
                "shorten the range or narrow the devices (device_ids)"
            )


def _chunks(samples: Iterator[Sample], size: int) -> Iterator[list[Sample]]:
    while chunk := list(islice(samples, size)):
        yield chunk


def _device_transitions(
    conn: psycopg.Connection, rule: Rule, device: ScopedDevice, start: datetime, end: datetime, budget: _Budget
) -> tuple[list[Transition], int]:
    counted = 0

    def samples() -> Iterator[Sample]:
        nonlocal counted
        stream = replay(
            conn,
            rule.scope.tenant_id,
            device.device_id,
            _metrics(rule),
            start=start,
            end=end,
            messages=_needs_messages(rule),
        )
        for message in stream:
            budget.spend(message.rows)
            counted += 1
            yield Sample(message.ts, message.metrics)

    state: RuleState | None = None
    transitions: list[Transition] = []
    for chunk in _chunks(samples(), CHUNK_SAMPLES):
        # `now` is the chunk's newest sample, as on the ingest path: timers due after it wait.
        state, found = evaluate(rule, state, chunk, chunk[-1].ts, device.context)
        transitions += found
    if state is not None:
        state, found = evaluate(rule, state, (), end, device.context)
        transitions += found
    return transitions, counted


def _alerts(device_id: str, transitions: Sequence[Transition]) -> list[BacktestAlert]:
    alerts: list[BacktestAlert] = []
    for transition in transitions:
        if isinstance(transition, Opened):
            alerts.append(
                BacktestAlert(
                    device_id=device_id,
                    opened_at=transition.at,
                    resolved_at=None,
                    resolve_reason=None,
                    opened_because=describe(transition.explanation),
                    resolved_because=None,
                )
            )
        elif alerts and alerts[-1].resolved_at is None:
            alerts[-1].resolved_at = transition.at
            alerts[-1].resolve_reason = transition.reason
            alerts[-1].resolved_because = describe(transition.explanation)
    return alerts


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def backtest(
    conn: psycopg.Connection,
    rule: Rule,
    *,
    start: datetime,
    end: datetime,
    device_ids: Sequence[str] = (),
    limits: BacktestLimits | None = None,
) -> BacktestResult:
    """Replay [start, end) of the devices ``rule.scope`` matches (narrowed to ``device_ids``) through it.

    ``conn`` is a transaction of ``rule.scope.tenant_id``; it is only read.
    """
    limits = limits or BacktestLimits()
    validate_range(start, end, limits)
    only = list(dict.fromkeys(device_ids))
    devices = scoped_devices(conn, rule.scope, only=only, limit=limits.max_devices + 1)
    if len(devices) > limits.max_devices:
        raise BacktestLimitExceeded(
            f"the rule's scope matches more than {limits.max_devices} devices; "
            "name at most that many in device_ids or narrow the scope"
        )
    missing = sorted(set(only) - {device.device_id for device in devices})
    if missing:
        raise RequestInvalid(f"device_ids: {missing[0]!r} is not a device in the rule's scope")
    budget = _Budget(limits.max_points)
    alerts: list[BacktestAlert] = []
    per_device: list[DeviceBacktest] = []
    for device in devices:
        transitions, samples = _device_transitions(conn, rule, device, start, end, budget)
        found = _alerts(device.device_id, transitions)
        alerts += found
        per_device.append(
            DeviceBacktest(
                device_id=device.device_id,
                samples=samples,
                opened=len(found),
                resolved=sum(alert.resolved_at is not None for alert in found),
            )
        )
    opened = Counter(_utc_day(alert.opened_at) for alert in alerts)
    resolved = Counter(_utc_day(alert.resolved_at) for alert in alerts if alert.resolved_at is not None)
    alerts.sort(key=lambda alert: (alert.opened_at, alert.device_id))
    return BacktestResult(
        rule_id=rule.id,
        rule_version=rule.version,
        start=start,
        end=end,
        devices=len(devices),
        points=budget.used,
        opened=len(alerts),
        resolved=sum(resolved.values()),
        alerts=alerts[: limits.max_alerts],
        alerts_truncated=len(alerts) > limits.max_alerts,
        per_device=per_device,
        per_day=[DayBacktest(day=day, opened=opened[day], resolved=resolved[day]) for day in sorted(opened | resolved)],
    )
