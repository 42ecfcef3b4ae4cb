"""``apply_transitions``: what the evaluator's Opened / Resolved do to alerts, in the caller's transaction.

Opened
  * a device, or its site, in maintenance at that instant raises nothing (logged and counted);
  * the fingerprint (rule, device) already has an active alert: it is a repeat (count, last value,
    last fired; a deferred resolve is cancelled);
  * its last alert was resolved at most ``reopen_window`` before: that alert is reopened
    (same id, timeline ``reopened``, ``AlertReopened``); closed alerts are never reopened here;
  * otherwise a new alert opens (``AlertOpened``). An alert matching an active silence is stored
    ``silenced`` and its events say ``silenced: true``, so the notification pipeline stays quiet.

Resolved
  * a latched alert whose condition cleared stays active with ``condition_cleared_at`` set until it
    is acknowledged (the evaluator's ``release_latch`` answers ``Resolved(reason="released")``, or an
    acknowledged latched alert resolves when it clears);
  * flap suppression: a resolve less than ``min_open`` after the alert's episode started (it opened
    or was reopened) is deferred to episode start + ``min_open``; an Opened before then cancels it,
    otherwise ``settle_deferred_resolves`` (or the fingerprint's next transition) resolves the alert
    at that instant;
  * otherwise the alert resolves (``AlertResolved``).

``source="backtest"`` writes alerts and timeline but no outbox events: a backtest runs in a
transaction its caller rolls back, and nothing it does may leave the platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse.alerts import lifecycle, store
from pulse.alerts import suppression_store as guards
from pulse.alerts.explain import capture, explanation_tree
from pulse.alerts.lifecycle import SYSTEM_ACTOR
from pulse.alerts.models import Alert, AlertChange, AlertDetail, AlertState, EventType, Source, fingerprint
from pulse.observability import logger, metrics
from pulse.rules.model import Rule
from pulse.rules.signals import Opened, Resolved, Transition
from pulse.settings import Settings, get_settings


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    min_open: timedelta = timedelta(seconds=60)
    reopen_window: timedelta = timedelta(seconds=300)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        return cls(timedelta(seconds=settings.alert_min_open_s), timedelta(seconds=settings.alert_reopen_window_s))


@dataclass(slots=True)
class _Call:
    conn: psycopg.Connection
    tenant_id: str
    device_id: str
    rule: Rule
    value: float | bool | None
    source: Source
    policy: AlertPolicy
    facts: guards.DeviceFacts

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.id, self.device_id)

    @property
    def publish(self) -> bool:
        return self.source != "backtest"


def apply_transitions(
    conn: psycopg.Connection,
    *,
    tenant_id: str,
    device_id: str,
    rule: Rule,
    transitions: Sequence[Transition],
    value: float | bool | None = None,
    source: Source = "stream",
    policy: AlertPolicy | None = None,
) -> list[AlertChange]:
    """Apply the evaluator's transitions of one (rule, device), oldest first; one change per transition.

    Runs in the caller's transaction (``pulse_ingest`` across tenants, or ``pulse_app`` for the
    tenant): alerts, timeline and outbox rows commit with the caller's state or not at all.
    ``value`` is the metric value that triggered (the latest one), recorded as first/last value.
    """
    if not transitions:
        return []
    facts = guards.device_facts(conn, tenant_id, device_id)
    if facts is None:
        logger.warning("transitions of an unknown device ignored", extra={"tenant_id": tenant_id, "device": device_id})
        return [AlertChange("ignored", t.at, reason="unknown device") for t in transitions]
    policy = policy or AlertPolicy.from_settings(get_settings())
    call = _Call(conn, tenant_id, device_id, rule, value, source, policy, facts)
    return [_opened(call, t) if isinstance(t, Opened) else _resolved(call, t) for t in transitions]


def _settle_due(call: _Call, active: Alert | None, at: datetime) -> Alert | None:
    """Resolve ``active`` first when its deferred resolve fell due before ``at``; None when it did."""
    if active is None or active.resolve_due_at is None or active.resolve_due_at > at:
        return active
    lifecycle.resolve(
        call.conn, call.tenant_id, active, active.resolve_due_at, SYSTEM_ACTOR, reason="deferred", publish=call.publish
    )
    return None


def _opened(call: _Call, t: Opened) -> AlertChange:
    conn, tenant_id = call.conn, call.tenant_id
    maintenance = guards.maintenance_covering(
        conn, tenant_id, t.at, device_id=call.device_id, site_id=call.facts.site_id
    )
    if maintenance is not None:
        logger.info(
            "alert not raised: maintenance",
            extra={"tenant_id": tenant_id, "device": call.device_id, "rule": call.rule.id, "maintenance": maintenance},
        )
        metrics.add_metric(name="AlertSuppressedByMaintenance", unit=MetricUnit.Count, value=1)
        return AlertChange("suppressed", t.at, reason=f"maintenance {maintenance}")
    active = _settle_due(call, store.active_for(conn, tenant_id, call.fingerprint), t.at)
    if active is not None:
        return _repeat(call, active, t)
    silence = guards.matching_silence(
        conn,
        tenant_id,
        t.at,
        site_id=call.facts.site_id,
        device_id=call.device_id,
        rule_id=call.rule.id,
        tags=call.facts.tags,
        severity=call.rule.severity.value,
    )
    previous = store.last_resolved(conn, tenant_id, call.fingerprint)
    if (
        previous is not None
        and previous.resolved_at is not None
        and previous.resolved_at <= t.at <= previous.resolved_at + call.policy.reopen_window
    ):
        return _reopen(call, previous, t, silence)
    return _open(call, t, silence)


def _open(call: _Call, t: Opened, silence: str | None) -> AlertChange:
    rule = call.rule
    alert = AlertDetail(
        id=uuid.uuid4().hex,
        fingerprint=call.fingerprint,
        rule_id=rule.id,
        rule_version=rule.version,
        rule_name=rule.name,
        device_id=call.device_id,
        site_id=call.facts.site_id,
        severity=rule.severity,
        state=AlertState.OPEN,
        source=call.source,
        latched=rule.latch,
        silenced=silence is not None,
        silence_id=silence,
        snoozed_until=None,
        assignee=None,
        count=1,
        first_value=call.value,
        last_value=call.value,
        opened_at=t.at,
        episode_started_at=t.at,
        last_fired_at=t.at,
        acknowledged_at=None,
        acknowledged_by=None,
        condition_cleared_at=None,
        resolve_due_at=None,
        resolved_at=None,
        resolved_by=None,
        closed_at=None,
        updated_at=t.at,
        version=1,
        explanation=capture(rule, t.at, t.explanation, call.facts),
    )
    if not store.insert(call.conn, call.tenant_id, alert):
        # another transaction opened the fingerprint first: this one is a repeat of it
        active = store.active_for(call.conn, call.tenant_id, call.fingerprint)
        assert active is not None
        return _repeat(call, active, t)
    detail = {"silence_id": silence} if silence else {}
    lifecycle.record(
        call.conn,
        call.tenant_id,
        alert,
        t.at,
        "opened",
        SYSTEM_ACTOR,
        event=EventType.OPENED,
        detail=detail,
        publish=call.publish,
    )
    metrics.add_metric(name="AlertOpened", unit=MetricUnit.Count, value=1)
    return AlertChange("opened", t.at, alert.id, EventType.OPENED if call.publish else None, alert.silenced)


def _repeat(call: _Call, active: Alert, t: Opened) -> AlertChange:
    changes: dict[str, Any] = {
        "count": active.count + 1,
        "last_value": call.value,
        "last_fired_at": max(active.last_fired_at, t.at),
        "resolve_due_at": None,
        "condition_cleared_at": None,
        "rule_version": call.rule.version,
    }
    store.update(call.conn, call.tenant_id, active.id, t.at, **changes)
    if active.resolve_due_at is not None:
        store.add_timeline(
            call.conn,
            call.tenant_id,
            active.id,
            t.at,
            "resolve_cancelled",
            SYSTEM_ACTOR,
            detail={"deferred_until": active.resolve_due_at.isoformat(), "reason": "fired again (flap)"},
        )
    return AlertChange("repeated", t.at, active.id, None, active.silenced)


def _reopen(call: _Call, previous: Alert, t: Opened, silence: str | None) -> AlertChange:
    assert previous.resolved_at is not None
    changes: dict[str, Any] = {
        "state": AlertState.OPEN,
        "count": previous.count + 1,
        "last_value": call.value,
        "last_fired_at": t.at,
        "episode_started_at": t.at,
        "resolved_at": None,
        "resolved_by": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "condition_cleared_at": None,
        "silenced": silence is not None,
        "silence_id": silence,
        "rule_version": call.rule.version,
        "explanation": capture(call.rule, t.at, t.explanation, call.facts),
    }
    store.update(call.conn, call.tenant_id, previous.id, t.at, **changes)
    after = previous.model_copy(update={k: v for k, v in changes.items() if k != "explanation"})
    gap = (t.at - previous.resolved_at).total_seconds()
    lifecycle.record(
        call.conn,
        call.tenant_id,
        after,
        t.at,
        "reopened",
        SYSTEM_ACTOR,
        event=EventType.REOPENED,
        detail={"resolved_for_s": gap, **({"silence_id": silence} if silence else {})},
        publish=call.publish,
    )
    return AlertChange("reopened", t.at, previous.id, EventType.REOPENED if call.publish else None, after.silenced)


def _resolved(call: _Call, t: Resolved) -> AlertChange:
    conn, tenant_id = call.conn, call.tenant_id
    active = _settle_due(call, store.active_for(conn, tenant_id, call.fingerprint), t.at)
    if active is None:
        return AlertChange("ignored", t.at, reason="no active alert")
    released = t.reason == "released" or active.state is AlertState.ACKNOWLEDGED
    if active.latched and not released:
        store.update(conn, tenant_id, active.id, t.at, condition_cleared_at=t.at)
        store.add_timeline(
            conn,
            tenant_id,
            active.id,
            t.at,
            "condition_cleared",
            SYSTEM_ACTOR,
            detail={"latched": True, "condition": explanation_tree(t.explanation)},
        )
        return AlertChange("latched", t.at, active.id, None, active.silenced, reason="waits for acknowledgement")
    if t.reason != "released" and t.at < active.episode_started_at + call.policy.min_open:
        due = active.episode_started_at + call.policy.min_open
        store.update(conn, tenant_id, active.id, t.at, resolve_due_at=due)
        store.add_timeline(
            conn,
            tenant_id,
            active.id,
            t.at,
            "resolve_deferred",
            SYSTEM_ACTOR,
            detail={"until": due.isoformat(), "min_open_s": call.policy.min_open.total_seconds()},
        )
        why = f"until {due.isoformat()}"
        return AlertChange("resolve_deferred", t.at, active.id, None, active.silenced, reason=why)
    after = lifecycle.resolve(
        conn,
        tenant_id,
        active,
        t.at,
        SYSTEM_ACTOR,
        reason=t.reason,
        detail={"condition": explanation_tree(t.explanation)},
        publish=call.publish,
    )
    return AlertChange("resolved", t.at, after.id, EventType.RESOLVED if call.publish else None, after.silenced)
