"""``apply_transitions_bulk``: ``apply_transitions`` for many (rule, device) at once, set-based.

A mass outage makes one evaluator tick hand thousands of fingerprints their transitions. One at a
time that is some eight round trips per alert; here the whole batch costs a few statements:

1. read what the decisions need for every item at once (device facts, the active and the last
   resolved alert of each fingerprint, locked; the maintenance window and silence covering each
   Opened);
2. ask the same ``pulse.alerts.policy.decide`` per transition, oldest first, and carry each
   decision out in memory on the fingerprint's alerts with the same ``pulse.alerts.effects``
   (the alerts, timeline entries and events ``apply_transitions`` would write, in its order);
3. write new alerts (one INSERT, the partial unique index still guarding one active alert per
   fingerprint), changed alerts (one UPDATE to their final columns, the version bumped once per
   change), timeline entries and outbox events (one INSERT each, ids in the per-item order).

``apply_transitions`` itself carries out what this path leaves: an item whose new alert lost the
fingerprint to another transaction (its rows are dropped before anything of it is written, the
per-item path then repeats that alert), an item that would open two alerts, and a fingerprint that
appears again in the batch (after the first has been written), so every result is the one the
per-item path gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse.alerts import bulk_store, effects
from pulse.alerts.bulk_store import AlertWrite, Key, OpenedAt, TimelineWrite
from pulse.alerts.explain import event_data
from pulse.alerts.lifecycle import SYSTEM_ACTOR, resolve_changes
from pulse.alerts.models import Alert, AlertChange, AlertDetail, AlertValue, EventType, Source, fingerprint
from pulse.alerts.policy import AlertPolicy, Decision, decide
from pulse.alerts.suppression_store import DeviceFacts
from pulse.alerts.transitions import apply_transitions
from pulse.observability import logger, metrics
from pulse.outbox.store import OutboxEvent, put_many
from pulse.rules.model import Rule
from pulse.rules.signals import Opened, Resolved, Transition
from pulse.settings import get_settings

Guards = tuple[str | None, str | None]  # (maintenance window, silence) covering an Opened


@dataclass(frozen=True, slots=True)
class TransitionBatch:
    """The transitions of one (rule, device), oldest first; ``value`` as ``apply_transitions`` takes it."""

    tenant_id: str
    device_id: str
    rule: Rule
    transitions: Sequence[Transition]
    value: AlertValue = None

    @property
    def key(self) -> Key:
        return (self.tenant_id, fingerprint(self.rule.id, self.device_id))


class _OpensTwice(Exception):
    """The item would open a second alert: the per-item path carries it out."""


@dataclass(slots=True)
class _Touched:
    alert: Alert
    changes: int = 0
    explanation: dict[str, Any] | None = None


@dataclass(slots=True)
class _Fingerprint:
    """One item's decisions carried out in memory on its fingerprint's alerts, and the rows they write."""

    item: TransitionBatch
    facts: DeviceFacts
    active: Alert | None
    last_resolved: Alert | None
    guards: dict[int, Guards]
    publish: bool
    source: Source
    policy: AlertPolicy
    changes: list[AlertChange] = field(default_factory=list)
    inserted: AlertDetail | None = None
    touched: dict[str, _Touched] = field(default_factory=dict)
    timeline: list[TimelineWrite] = field(default_factory=list)
    events: list[OutboxEvent] = field(default_factory=list)
    suppressed_by: list[str] = field(default_factory=list)

    def run(self) -> None:
        for n, t in enumerate(self.item.transitions):
            self.changes.append(self._opened(n, t) if isinstance(t, Opened) else self._resolved(t))

    # --- the rows -------------------------------------------------------------------------------

    def _update(self, alert: Alert, at: datetime, changes: dict[str, Any]) -> Alert:
        columns = {k: v for k, v in changes.items() if k != "explanation"}
        after = alert.model_copy(update={**columns, "updated_at": at, "version": alert.version + 1})
        touched = self.touched.setdefault(alert.id, _Touched(after))
        touched.alert, touched.changes = after, touched.changes + 1
        if "explanation" in changes:
            touched.explanation = changes["explanation"]
        return after

    def _entry(self, alert: Alert, at: datetime, action: str, detail: dict[str, Any]) -> None:
        self.timeline.append(TimelineWrite(self.item.tenant_id, alert.id, at, action, SYSTEM_ACTOR, detail))

    def _record(self, alert: Alert, at: datetime, action: str, event: EventType, detail: dict[str, Any]) -> None:
        """``lifecycle.record``: the timeline entry and, unless a backtest, the event."""
        self._entry(alert, at, action, detail)
        if self.publish:
            data = event_data(alert, event, at, SYSTEM_ACTOR, "", **detail)
            self.events.append(OutboxEvent(self.item.tenant_id, event.value, alert.id, at, data))

    def _resolve(self, alert: Alert, at: datetime, reason: str, detail: dict[str, Any] | None = None) -> Alert:
        """``lifecycle.resolve`` by the rules."""
        after = self._update(alert, at, resolve_changes(at, SYSTEM_ACTOR))
        self._record(after, at, "resolved", EventType.RESOLVED, {"reason": reason, **(detail or {})})
        self.active = None
        previous = self.last_resolved
        if previous is None or previous.resolved_at is None or at >= previous.resolved_at:
            self.last_resolved = after
        return after

    # --- the decisions, as ``transitions`` carries them out -------------------------------------

    def _decide(self, t: Transition, *, in_maintenance: bool = False) -> tuple[Decision, Alert | None, Alert | None]:
        if in_maintenance:
            return decide(t, active=None, last_resolved_at=None, in_maintenance=True, policy=self.policy), None, None
        active = self.active
        previous = self.last_resolved if isinstance(t, Opened) else None
        decision = decide(
            t,
            active=effects.policy_view(active),
            last_resolved_at=previous.resolved_at if previous is not None else None,
            in_maintenance=False,
            policy=self.policy,
        )
        if decision.settle_at is not None:
            assert active is not None
            previous, active = self._resolve(active, decision.settle_at, "deferred"), None
        return decision, active, previous

    def _opened(self, n: int, t: Opened) -> AlertChange:
        maintenance, silence = self.guards.get(n, (None, None))
        decision, active, previous = self._decide(t, in_maintenance=maintenance is not None)
        if decision.action == "suppress":
            assert maintenance is not None
            self.suppressed_by.append(maintenance)
            return AlertChange("suppressed", t.at, reason=f"maintenance {maintenance}")
        if decision.action == "repeat":
            assert active is not None
            after = self._update(active, t.at, effects.repeat(active, self.item.rule, t, self.item.value))
            cancelled = effects.cancelled_detail(active)
            if cancelled is not None:
                self._entry(after, t.at, "resolve_cancelled", cancelled)
            self.active = after
            return AlertChange("repeated", t.at, active.id, None, active.silenced)
        if decision.action == "reopen":
            assert previous is not None
            item = self.item
            changes = effects.reopen(previous, item.rule, t, item.value, self.facts, silence)
            after = self._update(previous, t.at, changes)
            self._record(after, t.at, "reopened", EventType.REOPENED, effects.reopened_detail(previous, t, silence))
            self.active, self.last_resolved = after, None
            return AlertChange("reopened", t.at, after.id, self._event(EventType.REOPENED), after.silenced)
        if self.inserted is not None:
            raise _OpensTwice
        item = self.item
        alert = effects.new_alert(
            item.rule, item.device_id, self.facts, t, value=item.value, source=self.source, silence=silence
        )
        self.inserted = alert
        self._record(alert, t.at, "opened", EventType.OPENED, effects.opened_detail(silence))
        self.active = alert
        return AlertChange("opened", t.at, alert.id, self._event(EventType.OPENED), alert.silenced)

    def _resolved(self, t: Resolved) -> AlertChange:
        decision, active, _ = self._decide(t)
        if decision.action == "ignore" or active is None:
            return AlertChange("ignored", t.at, reason="no active alert")
        if decision.action == "latch":
            self.active = self._update(active, t.at, {"condition_cleared_at": t.at})
            self._entry(active, t.at, "condition_cleared", effects.latched_detail(t))
            return AlertChange("latched", t.at, active.id, None, active.silenced, reason="waits for acknowledgement")
        if decision.action == "defer":
            due = decision.until
            assert due is not None
            self.active = self._update(active, t.at, {"resolve_due_at": due})
            self._entry(active, t.at, "resolve_deferred", effects.deferred_detail(due, self.policy))
            why = f"until {due.isoformat()}"
            return AlertChange("resolve_deferred", t.at, active.id, None, active.silenced, reason=why)
        after = self._resolve(active, t.at, t.reason, effects.resolved_detail(t))
        return AlertChange("resolved", t.at, after.id, self._event(EventType.RESOLVED), after.silenced)

    def _event(self, event: EventType) -> EventType | None:
        return event if self.publish else None


def apply_transitions_bulk(
    conn: psycopg.Connection,
    items: Sequence[TransitionBatch],
    *,
    source: Source,
    policy: AlertPolicy | None = None,
) -> list[list[AlertChange]]:
    """``apply_transitions`` of every item, in the caller's transaction; the changes of each item, in order."""
    policy = policy or AlertPolicy.from_settings(get_settings())
    results: list[list[AlertChange]] = [[] for _ in items]
    live = [n for n, item in enumerate(items) if item.transitions]
    facts = bulk_store.device_facts(conn, {(items[n].tenant_id, items[n].device_id) for n in live})
    planned: list[int] = []
    later: list[int] = []  # left to apply_transitions, after this path's writes
    seen: set[Key] = set()
    for n in live:
        item = items[n]
        if (item.tenant_id, item.device_id) not in facts:
            extra = {"tenant_id": item.tenant_id, "device": item.device_id}
            logger.warning("transitions of an unknown device ignored", extra=extra)
            results[n] = [AlertChange("ignored", t.at, reason="unknown device") for t in item.transitions]
        elif item.key in seen:
            later.append(n)
        else:
            seen.add(item.key)
            planned.append(n)
    carried = _carry_out(conn, items, planned, facts, source, policy, later)
    stored = bulk_store.insert_alerts(
        conn, [(c.item.tenant_id, c.inserted) for c in carried.values() if c.inserted is not None]
    )
    for n, c in list(carried.items()):
        if c.inserted is not None and c.inserted.id not in stored:
            del carried[n]  # another transaction opened the fingerprint meanwhile: nothing of it is written
            later.append(n)
    _write(conn, list(carried.values()))
    for n, c in carried.items():
        results[n] = c.changes
    for n in sorted(later):
        item = items[n]
        results[n] = apply_transitions(
            conn,
            tenant_id=item.tenant_id,
            device_id=item.device_id,
            rule=item.rule,
            transitions=item.transitions,
            value=item.value,
            source=source,
            policy=policy,
        )
    return results


def _carry_out(
    conn: psycopg.Connection,
    items: Sequence[TransitionBatch],
    planned: list[int],
    facts: dict[Key, DeviceFacts],
    source: Source,
    policy: AlertPolicy,
    later: list[int],
) -> dict[int, _Fingerprint]:
    """Reads what the planned items' decisions need and carries them out in memory, in item order."""
    active = bulk_store.active_alerts(conn, [items[n].key for n in planned])
    opening = [n for n in planned if any(isinstance(t, Opened) for t in items[n].transitions)]
    resolved = bulk_store.last_resolved(conn, [items[n].key for n in opening])
    where: list[tuple[int, int]] = []
    openings: list[OpenedAt] = []
    for n in opening:
        item = items[n]
        for k, t in enumerate(item.transitions):
            if isinstance(t, Opened):
                where.append((n, k))
                openings.append(OpenedAt(item.tenant_id, item.device_id, item.rule.id, item.rule.severity.value, t.at))
    guards: dict[int, dict[int, Guards]] = {}
    for o, found in bulk_store.guards(conn, openings).items():
        n, k = where[o]
        guards.setdefault(n, {})[k] = found
    carried: dict[int, _Fingerprint] = {}
    for n in planned:
        item = items[n]
        c = _Fingerprint(
            item,
            facts[(item.tenant_id, item.device_id)],
            active.get(item.key),
            resolved.get(item.key),
            guards.get(n, {}),
            source != "backtest",
            source,
            policy,
        )
        try:
            c.run()
        except _OpensTwice:
            later.append(n)
            continue
        carried[n] = c
    return carried


def _write(conn: psycopg.Connection, carried: list[_Fingerprint]) -> None:
    """The alerts' final columns, timeline entries and events of the items carried out, then their
    logs and metrics (as the per-item path gives them)."""
    bulk_store.update_alerts(
        conn,
        [
            AlertWrite(c.item.tenant_id, touched.alert, touched.changes, touched.explanation)
            for c in carried
            for touched in c.touched.values()
        ],
    )
    bulk_store.add_timeline(conn, [entry for c in carried for entry in c.timeline])
    put_many(conn, [event for c in carried for event in c.events])
    opened = sum(1 for c in carried if c.inserted is not None)
    if opened:
        metrics.add_metric(name="AlertOpened", unit=MetricUnit.Count, value=opened)
    for c in carried:
        for maintenance in c.suppressed_by:
            extra = {
                "tenant_id": c.item.tenant_id,
                "device": c.item.device_id,
                "rule": c.item.rule.id,
                "maintenance": maintenance,
            }
            logger.info("alert not raised: maintenance", extra=extra)
            metrics.add_metric(name="AlertSuppressedByMaintenance", unit=MetricUnit.Count, value=1)
