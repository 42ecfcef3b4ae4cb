"""Backtest: what a draft rule would have opened and resolved over stored telemetry.

Each device the rule's scope matches is replayed from the telemetry store in time order, message
instant by message instant, through the same ``evaluate`` the ingest path calls, then the clock is
run to ``end``: absence, ``for`` promotion, windows leaving their span and schedule bounds fire at
exactly the instants they fire live, because the evaluator steps there whatever the call pattern.
The replay reads pages from a server-side cursor and hands the evaluator chunks of samples, so a
long range never sits in memory. Messages are normalized with the device model's metric mappings,
and the transitions become alerts under the live alert policy (``pulse.rules.backtest_alerts``).

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

from pulse.alerts.policy import AlertPolicy
from pulse.alerts.suppression_store import maintenance_covering
from pulse.errors import PulseError, RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.rules.backtest_alerts import BacktestAlert, DeviceAlerts, device_alerts
from pulse.rules.backtest_store import ScopedDevice, scoped_devices
from pulse.rules.conditions import read_metrics, walk
from pulse.rules.evaluate import evaluate
from pulse.rules.model import Absence, Rule
from pulse.rules.normalize import MetricMapping, ModelMappings, normalize_metrics
from pulse.rules.signals import Sample, Transition
from pulse.rules.state import RuleState
from pulse.rules.store import fetch_mappings
from pulse.settings import get_settings
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


class DeviceBacktest(BaseModel):
    device_id: str
    samples: int
    opened: int
    resolved: int
    suppressed: int  # openings swallowed by a maintenance window


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


def _metrics(rule: Rule) -> set[str]:
    return read_metrics(rule.condition) | (read_metrics(rule.clear) if rule.clear is not None else set())


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


@dataclass(frozen=True, slots=True)
class _Run:
    """One backtest's fixed inputs: the rule, the range, the model mappings, the alert policy."""

    conn: psycopg.Connection
    rule: Rule
    start: datetime
    end: datetime
    mappings: dict[str, ModelMappings]
    policy: AlertPolicy
    budget: _Budget

    def samples(self, device: ScopedDevice) -> Iterator[Sample]:
        """The device's stored messages under catalog names, as the live evaluator receives them."""
        mappings = self.mappings.get(device.model, {})
        wanted = _metrics(self.rule)
        raw = wanted | {source for source, mapping in mappings.items() if mapping.metric in wanted}
        stream = replay(
            self.conn,
            self.rule.scope.tenant_id,
            device.device_id,
            sorted(raw),
            start=self.start,
            end=self.end,
            messages=_needs_messages(self.rule),
        )
        for message in stream:
            self.budget.spend(message.rows)
            yield Sample(message.ts, normalize_metrics(message.metrics, mappings))

    def transitions(self, device: ScopedDevice) -> tuple[list[Transition], int]:
        state: RuleState | None = None
        transitions: list[Transition] = []
        counted = 0
        samples = self.samples(device)
        while chunk := list(islice(samples, CHUNK_SAMPLES)):
            counted += len(chunk)
            # `now` is the chunk's newest sample, as on the ingest path: timers due after it wait.
            state, found = evaluate(self.rule, state, chunk, chunk[-1].ts, device.context)
            transitions += found
        if state is not None:
            state, found = evaluate(self.rule, state, (), self.end, device.context)
            transitions += found
        return transitions, counted

    def device(self, device: ScopedDevice) -> tuple[DeviceAlerts, int]:
        transitions, samples = self.transitions(device)

        def in_maintenance(at: datetime) -> bool:
            covering = maintenance_covering(
                self.conn, self.rule.scope.tenant_id, at, device_id=device.device_id, site_id=device.site_id
            )
            return covering is not None

        found = device_alerts(
            device.device_id,
            transitions,
            latch=self.rule.latch,
            policy=self.policy,
            in_maintenance=in_maintenance,
            end=self.end,
        )
        return found, samples


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def _mappings_by_model(conn: psycopg.Connection, tenant_id: str) -> dict[str, ModelMappings]:
    by_model: dict[str, dict[str, MetricMapping]] = {}
    for mapping in fetch_mappings(conn, [tenant_id])[tenant_id]:
        by_model.setdefault(mapping.model, {})[mapping.source] = mapping
    return dict(by_model)


def backtest(
    conn: psycopg.Connection,
    rule: Rule,
    *,
    start: datetime,
    end: datetime,
    device_ids: Sequence[str] = (),
    limits: BacktestLimits | None = None,
    policy: AlertPolicy | None = None,
) -> BacktestResult:
    """Replay [start, end) of the devices ``rule.scope`` matches (narrowed to ``device_ids``) through it.

    ``conn`` is a transaction of ``rule.scope.tenant_id``; it is only read. ``policy`` is the alert
    policy of the live path (flap suppression, reopen window), from the settings when not given.
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
    run = _Run(
        conn,
        rule,
        start,
        end,
        _mappings_by_model(conn, rule.scope.tenant_id),
        policy or AlertPolicy.from_settings(get_settings()),
        _Budget(limits.max_points),
    )
    alerts: list[BacktestAlert] = []
    per_device: list[DeviceBacktest] = []
    for device in devices:
        found, samples = run.device(device)
        alerts += found.alerts
        per_device.append(
            DeviceBacktest(
                device_id=device.device_id,
                samples=samples,
                opened=len(found.alerts),
                resolved=sum(alert.resolved_at is not None for alert in found.alerts),
                suppressed=found.suppressed,
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
        points=run.budget.used,
        opened=len(alerts),
        resolved=sum(resolved.values()),
        alerts=alerts[: limits.max_alerts],
        alerts_truncated=len(alerts) > limits.max_alerts,
        per_device=per_device,
        per_day=[DayBacktest(day=day, opened=opened[day], resolved=resolved[day]) for day in sorted(opened | resolved)],
    )


def backtest_read_only(
    scope: TenantScope,
    rule: Rule,
    *,
    start: datetime,
    end: datetime,
    device_ids: Sequence[str] = (),
    policy: AlertPolicy | None = None,
    limits: BacktestLimits | None = None,
) -> BacktestResult:
    """``backtest`` in a read-only transaction of the scope's tenant: it cannot write, whatever it calls."""
    if rule.scope.tenant_id != scope.tenant_id:
        raise RequestInvalid(
            f"rule.scope.tenant_id: a backtest of tenant {scope.tenant_id!r} reads only its own devices"
        )
    with scope.transaction() as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        return backtest(conn, rule, start=start, end=end, device_ids=device_ids, limits=limits, policy=policy)
