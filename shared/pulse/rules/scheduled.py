"""Scheduled evaluation: the one-minute tick that runs what needs the clock.

A tick evaluates up to ``until = now - allowed lateness`` (samples may still arrive that late and
must count first). It

1. starts a state for every (live rule, active device in its scope) that has none, from the
   device's last known message, so absence fires for a device that went silent before the rule
   existed. Only rules changed since their last sync scan the whole fleet; otherwise only devices
   created or changed since then are looked at.
2. selects the due states set-based: a timer before ``until`` (absence, ``for``, windows,
   schedules), a rule version newer than the state's, or stored telemetry newer than the state's
   watermark, i.e. samples no ingest container evaluated for this rule (its rule cache was
   stale, or the telemetry was written another way). Those samples are read back and evaluated
   first, so the scheduled path alone opens the same alerts as the streaming path.
3. runs them in chunks, one transaction each: lock (SKIP LOCKED: ingest may hold a few), evaluate,
   write back in one statement, hand the chunk's transitions to the alerts plane in one set-based
   call (a mass outage opens thousands of alerts in one tick).

States of a device no longer active, or no longer in scope of a new rule version, are dropped; an
open alert of theirs is resolved.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse import runtime
from pulse.db import Database
from pulse.observability import logger, metrics
from pulse.rules import state_store as states
from pulse.rules.cache import TenantRules
from pulse.rules.devices import DeviceFacts, load_devices
from pulse.rules.evaluate import evaluate
from pulse.rules.model import Rule
from pulse.rules.normalize import normalize_metrics
from pulse.rules.outcomes import Fired, raise_alerts_in_bulk
from pulse.rules.signals import EvaluationContext, Explanation, Resolved, RuleEvaluationError, Sample
from pulse.rules.state import RuleState
from pulse.rules.state_store import DueRow, Shard, StateKey
from pulse.rules.store import fetch_mappings

ALLOWED_LATENESS = timedelta(seconds=60)
CHUNK = 10_000
START_CHUNK = 5_000


@dataclass(slots=True)
class TickReport:
    until: datetime
    started: int = 0
    due: int = 0
    evaluated: int = 0
    skipped: int = 0  # locked by ingest, or their rule changed meanwhile: the next tick runs them
    dropped: int = 0
    transitions: int = 0
    lag_s: float = 0.0  # how long after its due time the oldest timer ran
    finished: bool = True
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Rules:
    by_key: Mapping[tuple[str, str], Rule]
    tenants: Mapping[str, TenantRules]


def _load_rules(conn: psycopg.Connection) -> _Rules:
    bodies = states.all_live_rules(conn)
    per_tenant: dict[str, list[Rule]] = {}
    for tenant, body in bodies:
        per_tenant.setdefault(tenant, []).append(Rule.model_validate_json(body))
    mappings = fetch_mappings(conn, sorted(per_tenant))
    tenants = {t: TenantRules.build(rules, mappings[t]) for t, rules in per_tenant.items()}
    return _Rules({(t, r.id): r for t, rules in per_tenant.items() for r in rules}, tenants)


def run_tick(
    db: Database,
    now: datetime | None = None,
    *,
    lateness: timedelta = ALLOWED_LATENESS,
    chunk: int = CHUNK,
    deadline_s: float = 45.0,
    shard: Shard | None = None,
) -> TickReport:
    """One tick at ``now`` (default: the clock). Stops starting chunks after ``deadline_s``; what is
    left stays due and the next tick runs it.

    With ``shard``, only the due states of that shard's devices run (the evaluator fans a tick out
    to shards that run side by side); states of devices newly in scope are started by shard 0 only,
    since a rule's scope counts as synced once every device was looked at."""
    started_at = time.perf_counter()
    now = now or datetime.now(UTC)
    report = TickReport(until=now - lateness)
    with db.transaction() as conn:
        rules = _load_rules(conn)
    if not rules.by_key:
        return report
    report.seconds["load_rules"] = time.perf_counter() - started_at
    if shard is None or shard.index == 0:
        _start_unstarted(db, rules, report, started_at + deadline_s)
    report.seconds["start"] = time.perf_counter() - started_at
    with db.transaction() as conn:
        due = states.due_keys(conn, report.until, shard)
    report.due = len(due)
    report.seconds["select"] = time.perf_counter() - started_at
    for offset in range(0, len(due), chunk):
        if time.perf_counter() - started_at > deadline_s:
            report.finished = False
            break
        with db.transaction() as conn:
            _run_chunk(conn, rules, due[offset : offset + chunk], report)
    report.seconds["total"] = time.perf_counter() - started_at
    return report


def _start_unstarted(db: Database, rules: _Rules, report: TickReport, deadline: float) -> None:
    while True:
        with db.transaction() as conn:
            pairs = states.unstarted_pairs(conn, START_CHUNK)
            if pairs:
                _start_pairs(conn, rules, pairs, report)
            if len(pairs) < START_CHUNK:
                states.mark_scopes_synced(conn, datetime.now(UTC))
                return
        if time.perf_counter() > deadline:
            report.finished = False
            return


def _start_pairs(conn: psycopg.Connection, rules: _Rules, pairs: Sequence[StateKey], report: TickReport) -> None:
    with_twin = any(rules.tenants[t].twin_rules for t, _, _ in pairs)
    devices = load_devices(conn, {(t, d) for t, _, d in pairs}, with_twin=with_twin)
    created: list[tuple[StateKey, RuleState]] = []
    fired: dict[StateKey, Fired] = {}
    for key in pairs:
        rule, facts = rules.by_key.get((key[0], key[1])), devices.get((key[0], key[2]))
        if rule is None or facts is None:
            continue
        seed = facts.last_sample(rules.tenants[key[0]].mappings)
        try:
            state, transitions = evaluate(rule, None, [seed] if seed else [], report.until, facts.context())
        except RuleEvaluationError as exc:
            logger.error("rule evaluation refused", extra={"rule_id": rule.id, "device_id": key[2], "error": str(exc)})
            continue
        created.append((key, state))
        if transitions:
            fired[key] = Fired(key[0], key[2], rule, transitions)
    inserted = states.insert_states(conn, created, datetime.now(UTC))
    report.started += len(inserted)
    report.transitions += raise_alerts_in_bulk(conn, [f for key, f in fired.items() if key in inserted], "schedule")


def _catch_up_samples(
    conn: psycopg.Connection,
    rows: Sequence[DueRow],
    rules: _Rules,
    devices: Mapping[tuple[str, str], DeviceFacts],
    until: datetime,
) -> dict[StateKey, list[Sample]]:
    """Stored telemetry newer than each state's watermark (up to ``until``), normalized, per state."""
    behind = []
    for r in rows:
        facts = devices.get((r.key[0], r.key[2]))
        last_msg_ts = facts.last_msg_ts if facts is not None else None
        watermark = r.state.watermark
        if last_msg_ts is not None and watermark is not None and last_msg_ts > watermark and watermark < until:
            behind.append(r)
    if not behind:
        return {}
    spans: dict[tuple[str, str], datetime] = {}
    for r in behind:
        device = (r.key[0], r.key[2])
        assert r.state.watermark is not None
        spans[device] = min(spans.get(device, r.state.watermark), r.state.watermark)
    stored = states.read_telemetry(conn, [(t, d, after, until) for (t, d), after in spans.items()])
    per_device: dict[tuple[str, str], list[Sample]] = {}
    for device, points in stored.items():
        facts = devices.get(device)
        tenant = rules.tenants.get(device[0])
        mappings = tenant.mappings.get(facts.model, {}) if facts is not None and tenant is not None else {}
        instants: dict[datetime, dict[str, float | bool]] = {}
        for ts, metric, value in points:
            metrics = instants.setdefault(ts, {})
            if metric is not None and value is not None:
                metrics[metric] = value
        per_device[device] = [Sample(ts, normalize_metrics(m, mappings)) for ts, m in sorted(instants.items())]
    found: dict[StateKey, list[Sample]] = {}
    for r in behind:
        watermark = r.state.watermark
        assert watermark is not None
        found[r.key] = [s for s in per_device.get((r.key[0], r.key[2]), []) if s.ts > watermark]
    return found


def _run_chunk(conn: psycopg.Connection, rules: _Rules, keys: Sequence[StateKey], report: TickReport) -> None:
    rows = states.lock_due(conn, keys)
    report.skipped += len(keys) - len(rows)
    runnable = [r for r in rows if (r.key[0], r.key[1]) in rules.by_key]
    report.skipped += len(rows) - len(runnable)
    with_twin = any(r.key[1] in rules.tenants[r.key[0]].twin_rules for r in runnable)
    devices = load_devices(conn, {(r.key[0], r.key[2]) for r in runnable}, with_twin=with_twin)
    samples = _catch_up_samples(conn, runnable, rules, devices, report.until)
    updated: list[tuple[StateKey, RuleState]] = []
    dropped: list[StateKey] = []
    fired: list[Fired] = []
    contexts: dict[tuple[str, str], EvaluationContext] = {}
    wall = datetime.now(UTC)
    for row in runnable:
        rule = rules.by_key[(row.key[0], row.key[1])]
        facts = devices.get((row.key[0], row.key[2]))
        if row.state.next_due is not None and row.state.next_due < report.until:
            report.lag_s = max(report.lag_s, (wall - row.state.next_due).total_seconds())
        if facts is None or (row.state.rule_version != rule.version and not facts.in_scope(rule)):
            dropped.append(row.key)
            if row.state.firing:
                why = Explanation("scope", False, "the device is no longer active or in the rule's scope")
                at = max(report.until, row.state.watermark or report.until)
                fired.append(Fired(row.key[0], row.key[2], rule, [Resolved(at, why)]))
            continue
        try:
            context = contexts.get((row.key[0], row.key[2]))
            if context is None:
                context = contexts[(row.key[0], row.key[2])] = facts.context()
            state, transitions = evaluate(rule, row.state, samples.get(row.key, ()), report.until, context, owned=True)
        except RuleEvaluationError as exc:
            logger.error(
                "rule evaluation refused", extra={"rule_id": rule.id, "device_id": row.key[2], "error": str(exc)}
            )
            continue
        updated.append((row.key, state))
        if transitions:
            fired.append(Fired(row.key[0], row.key[2], rule, transitions))
    states.update_states(conn, updated, wall)
    states.delete_states(conn, dropped)
    report.evaluated += len(updated)
    report.dropped += len(dropped)
    report.transitions += raise_alerts_in_bulk(conn, fired, "schedule")


def run_scheduled_task(event: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluator Lambda's work: ``{"task": "evaluate"}`` runs one tick on the process database."""
    if event.get("task") != "evaluate":
        logger.warning("unknown evaluator task", extra={"task": str(event.get("task"))[:64]})
        return {"ok": False, "error": "unknown task"}
    report = run_tick(runtime.database())
    metrics.add_metric(name="RulesEvaluated", unit=MetricUnit.Count, value=report.evaluated + report.started)
    metrics.add_metric(name="AlertTransitions", unit=MetricUnit.Count, value=report.transitions)
    metrics.add_metric(name="EvaluationLagSeconds", unit=MetricUnit.Seconds, value=report.lag_s)
    summary = {
        "ok": True,
        "until": report.until.isoformat(),
        "started": report.started,
        "due": report.due,
        "evaluated": report.evaluated,
        "skipped": report.skipped,
        "dropped": report.dropped,
        "transitions": report.transitions,
        "finished": report.finished,
        "seconds": round(report.seconds.get("total", 0.0), 3),
    }
    logger.info("rules evaluated", extra=summary)
    return summary
