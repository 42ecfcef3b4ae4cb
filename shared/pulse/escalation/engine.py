"""The escalation engine: one ``tick`` walks every due escalation and starts every due delivery.

Phase 1, in batches, each one transaction: claim escalations that are due or whose alert changed
(``FOR UPDATE SKIP LOCKED`` on the escalation *and* its alert, so a person acknowledging at that
moment waits for the batch or the batch skips the alert), ask ``policy.advance`` what is due, and
write for each action its notification and deliveries (event id ``escalation:<alert>:<step>:<repeat>``
or ``...:reminder:<n>``: the pipeline's UNIQUE(event_id, channel) makes an action page a channel
once however often it runs), its ``escalated`` / ``reminded`` timeline entry and, for steps, an
``AlertEscalated`` outbox event; raise the severity where a step says so; save the cursor. A batch
is walked in parts sent in libpq pipeline mode: PostgreSQL writes one part while the next is walked.

The deliveries a batch writes due at once start right after its commit (the alert was checked under
lock just before). Phase 2: deliveries of earlier ticks that are due now (a person's later contact
methods) or whose start was lost are claimed with their alert, again under lock. A step's delivery
whose alert is no longer open (acknowledged, snoozed, resolved), or a reminder whose alert is no
longer acknowledged, is ``suppressed``: nobody is paged after an acknowledgement. The rest start
through the ``DeliveryStarter`` (the delivery workflow; in tests a starter that calls ``deliver``),
up to 500 per execution. A start that fails is tried next tick.

Metrics: ``EscalationLagSeconds`` (how late the most overdue escalation was handled),
``EscalationActions``, ``EscalationDeliveriesStarted``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse.alerts import store as alerts_store
from pulse.alerts.explain import event_data
from pulse.alerts.models import SEVERITY_RANK, Alert, EventType
from pulse.db import Database
from pulse.errors import PulseError
from pulse.escalation import store, tick_store
from pulse.escalation.models import EscalationPolicy, RaiseSeverityStep
from pulse.escalation.policy import AlertClock, DueAction, advance
from pulse.escalation.store import DueEscalation, Progress
from pulse.escalation.targets import Resolved, Targets
from pulse.escalation.tick_store import Sent, TickWrites
from pulse.notify.deadletters import DeliveryStarter
from pulse.observability import logger, metrics
from pulse.outbox.after_commit import count_written

T = TypeVar("T")

ACTOR = "system:escalation"
REMINDER_EVENT = "AlertReminder"
BATCH = 1000
PART = 200  # escalations walked per pipelined write: the server writes one while the next is walked
FIRST_PART = 25  # the server waits for a batch's first part: keep it short
MAX_PER_EXECUTION = 500  # pulse.platform.aws.stepfunctions.MAX_DELIVERIES_PER_EXECUTION
MAX_ROUNDS = 200  # 100,000 escalations per tick at most; the rest wait for the next one


@dataclass
class TickReport:
    escalations: int = 0
    actions: int = 0
    deliveries: int = 0
    ended: int = 0
    started: int = 0
    suppressed: int = 0
    lag_s: float = 0.0


def tick(db: Database, *, now: datetime, starter: DeliveryStarter, batch: int = BATCH) -> TickReport:
    report = TickReport()
    targets = Targets()
    policies: dict[tuple[str, str], EscalationPolicy] = {}
    for _ in range(MAX_ROUNDS):
        done = _batch(db, now, batch, policies, targets)
        for _ in range(done.announced):
            count_written()  # the handler's publish_after_commit starts the outbox publisher
        report.escalations += len(done.due)
        report.actions += sum(len(p.done) for p in done.progress)
        report.deliveries += sum(entry["deliveries"] for p in done.progress for entry in p.done)
        report.ended += sum(p.ended is not None for p in done.progress)
        report.lag_s = max([report.lag_s, *((now - d.next_due_at).total_seconds() for d in done.due if d.next_due_at)])
        if not _start(starter, done.due_now, report) or len(done.due) < batch:
            break  # done, or the workflow refused: what is left is found by the next tick
    start_due(db, starter, now=now, report=report)
    metrics.add_metric(name="EscalationLagSeconds", unit=MetricUnit.Seconds, value=report.lag_s)
    metrics.add_metric(name="EscalationActions", unit=MetricUnit.Count, value=report.actions)
    metrics.add_metric(name="EscalationDeliveriesStarted", unit=MetricUnit.Count, value=report.started)
    logger.info("escalation tick", extra={**report.__dict__, "now": now.isoformat()})
    return report


@dataclass
class _Batch:
    due: list[DueEscalation]
    progress: list[Progress]
    due_now: list[str]  # the deliveries written that are due now
    announced: int  # outbox events written


def _batch(
    db: Database,
    now: datetime,
    limit: int,
    policies: dict[tuple[str, str], EscalationPolicy],
    targets: Targets,
) -> _Batch:
    """One batch, one transaction. Its deliveries go in with plain INSERTs; when one existed already (an
    action that ran before, or a channel named twice in a step) the batch is rolled back and written
    again, its deliveries with ON CONFLICT DO NOTHING (which skips exactly those)."""
    try:
        return _claim_and_walk(db, now, limit, policies, targets, again=False)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != tick_store.DELIVERY_KEY:
            raise
        logger.info("escalation batch written again: a delivery of one of its actions existed")
        return _claim_and_walk(db, now, limit, policies, targets, again=True)


def _claim_and_walk(
    db: Database,
    now: datetime,
    limit: int,
    policies: dict[tuple[str, str], EscalationPolicy],
    targets: Targets,
    *,
    again: bool,
) -> _Batch:
    """Claims a batch and walks it in parts, in pipeline mode: each part's rows are sent while the next
    part is walked, so PostgreSQL writes while Python computes; the batch's cursors go last. The
    deliveries written are read once the pipeline synced (nothing is read back before)."""
    with db.transaction() as conn:
        due = store.claim_due(conn, now, limit)
        missing = {(d.tenant_id, d.policy_id) for d in due} - policies.keys()
        policies.update(store.policies_by_key(conn, missing))
        sent: list[Sent] = []
        progress: list[Progress] = []
        with conn.pipeline():
            for part in _parts(due):
                writes = TickWrites(now, ACTOR)
                progress += [
                    _walk(conn, d, policies.get((d.tenant_id, d.policy_id)), targets, writes, now) for d in part
                ]
                sent.append(writes.send(conn, again=again))
            store.save_progress(conn, progress, now)
        due_now = [delivery_id for s in sent for delivery_id in s.due(now)]
    return _Batch(due, progress, due_now, sum(s.announced for s in sent))


def _walk(
    conn: psycopg.Connection,
    item: DueEscalation,
    policy: EscalationPolicy | None,
    targets: Targets,
    writes: TickWrites,
    now: datetime,
) -> Progress:
    alert = item.alert()
    if policy is None:
        return Progress(item.tenant_id, alert.id, item.cursor, alert.version, None, "policy deleted", [])
    moved = advance(policy, AlertClock(alert.state, alert.acknowledged_at), item.cursor, now)
    done: list[dict[str, Any]] = []
    for action in moved.actions:
        alert, entry = _act(conn, item, alert, policy, action, targets, writes, now)
        done.append(entry)
    return Progress(item.tenant_id, alert.id, moved.cursor, alert.version, moved.next_due_at, moved.ended, done)


def _act(
    conn: psycopg.Connection,
    item: DueEscalation,
    alert: Alert,
    policy: EscalationPolicy,
    action: DueAction,
    targets: Targets,
    writes: TickWrites,
    now: datetime,
) -> tuple[Alert, dict[str, Any]]:
    tenant_id, event_id = item.tenant_id, action.event_id(item.alert_key)
    found, notes = Resolved(), []
    if action.kind == "reminder":
        assert policy.reminder is not None
        found = targets.channels(conn, tenant_id, policy.reminder.channel_ids, now)
        kind = "reminder"
    elif isinstance(action.step, RaiseSeverityStep):
        kind = "raise_severity"
        target = action.step.severity
        if SEVERITY_RANK[target] > SEVERITY_RANK[alert.severity]:
            alerts_store.update(conn, tenant_id, alert.id, now, severity=target)
            notes.append(f"severity {alert.severity.value} -> {target.value}")
            alert = alert.model_copy(update={"severity": target, "version": alert.version + 1, "updated_at": now})
        else:
            notes.append(f"severity already {alert.severity.value}")
    else:
        assert action.step is not None
        kind = action.step.kind
        found = targets.resolve(conn, tenant_id, action.step, alert.severity, now)
    notes += found.notes
    note = "; ".join(notes)
    escalation = {"kind": kind, "step": action.index, "repeat": action.repeat}  # in jsonb's key order
    if action.kind == "reminder":
        escalation["reminder"] = action.reminder_no
    escalation["policy_id"] = policy.id
    data = event_data(alert, EventType.ESCALATED, now, ACTOR, note, escalation=escalation)
    event_name = REMINDER_EVENT if action.kind == "reminder" else EventType.ESCALATED.value
    data["event"] = event_name
    detail = {**escalation, "event_id": event_id, "targets": found.targets, "deliveries": len(found.pages)}
    writes.action(
        tenant_id,
        alert.id,
        event_id,
        event_name,
        data,
        pages=found.pages,
        announce=action.kind == "step",  # an AlertEscalated event on the bus; reminders only page
        timeline=("reminded" if action.kind == "reminder" else "escalated", note, detail),
    )
    entry: dict[str, Any] = {  # a DoneAction, as the API reads it back (keys in jsonb's order)
        "at": writes.at_text,
        "key": event_id,
        "kind": kind,
        "note": note,
        "step": action.index,
        "due_at": action.due_at.isoformat(),
        "repeat": action.repeat,
        "targets": found.targets,
        "deliveries": len(found.pages),
    }
    return alert, entry


def start_due(db: Database, starter: DeliveryStarter, *, now: datetime, report: TickReport | None = None) -> int:
    """Starts the escalation deliveries that are due (phase 2 of a tick); returns how many started."""
    report = report or TickReport()
    for _ in range(MAX_ROUNDS):
        with db.transaction() as conn:
            due = tick_store.claim_unstarted(conn, now, BATCH)
            unwanted: dict[str, list[str]] = {}
            for d in due:
                if not d.wanted:
                    unwanted.setdefault(d.alert_state.value, []).append(d.id)
            for state, ids in unwanted.items():
                tick_store.suppress(conn, ids, f"the alert was {state} before this was due")
                report.suppressed += len(ids)
        started = _start(starter, [d.id for d in due if d.wanted], report, db=db)
        if not started or len(due) < BATCH:
            break
    return report.started


def _start(starter: DeliveryStarter, ids: list[str], report: TickReport, *, db: Database | None = None) -> bool:
    """Starts ``ids`` up to 500 per execution; with ``db``, marks each chunk with its execution (a
    delivery due later must not start twice). False when the workflow refused (tried next tick)."""
    for chunk in _chunks(ids, MAX_PER_EXECUTION):
        try:
            execution_id = starter.start(chunk)
        except PulseError as exc:
            logger.warning("escalation deliveries could not start", extra={"count": len(chunk), "error": exc.detail})
            return False
        if db is not None:
            with db.transaction() as conn:
                tick_store.mark_started(conn, chunk, execution_id)
        report.started += len(chunk)
    return True


def _parts(due: list[DueEscalation]) -> Iterator[list[DueEscalation]]:
    yield due[:FIRST_PART]
    yield from _chunks(due[FIRST_PART:], PART)


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
