"""``apply_transitions``: what the evaluator's Opened / Resolved do to alerts, in the caller's transaction.

For each transition it reads the fingerprint (rule, device) as the policy needs it, asks
``pulse.alerts.policy.decide`` (maintenance, repeat, reopen window, latch, flap-deferred resolve)
and carries the decision out in SQL, with timeline entries and outbox events:

* ``open``: a new alert (``AlertOpened``); one matching an active silence is stored ``silenced``
  and its events say ``silenced: true``, so the notification pipeline stays quiet;
* ``reopen``: the last resolved alert again (same id, timeline ``reopened``, ``AlertReopened``);
  closed alerts are never reopened here;
* ``repeat``: count, last value and last fired of the active alert (a deferred resolve cancelled);
* ``suppress``: a device, or its site, in maintenance raises nothing (logged and counted);
* ``latch``: the latched alert stays active with ``condition_cleared_at`` set until acknowledged
  (the evaluator's ``release_latch`` answers ``Resolved(reason="released")``, or an acknowledged
  latched alert resolves when it clears);
* ``defer``: the resolve waits until episode start + ``min_open``; ``settle_deferred_resolves``
  (or the fingerprint's next transition) resolves the alert at that instant;
* ``resolve``: ``AlertResolved``.

``source="backtest"`` writes alerts and timeline but no outbox events: a backtest runs in a
transaction its caller rolls back, and nothing it does may leave the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse.alerts import effects, lifecycle, store
from pulse.alerts import suppression_store as guards
from pulse.alerts.lifecycle import SYSTEM_ACTOR
from pulse.alerts.models import Alert, AlertChange, EventType, Source, fingerprint
from pulse.alerts.policy import AlertPolicy, Decision, decide
from pulse.observability import logger, metrics
from pulse.rules.model import Rule
from pulse.rules.signals import Opened, Resolved, Transition
from pulse.settings import get_settings


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


def _decide(call: _Call, t: Transition, *, in_maintenance: bool = False) -> tuple[Decision, Alert | None, Alert | None]:
    """The policy's decision, the active alert and the last resolved one (after any due resolve)."""
    if in_maintenance:
        return decide(t, active=None, last_resolved_at=None, in_maintenance=True, policy=call.policy), None, None
    conn, tenant_id = call.conn, call.tenant_id
    active = store.active_for(conn, tenant_id, call.fingerprint)
    previous = store.last_resolved(conn, tenant_id, call.fingerprint) if isinstance(t, Opened) else None
    decision = decide(
        t,
        active=effects.policy_view(active),
        last_resolved_at=previous.resolved_at if previous is not None else None,
        in_maintenance=False,
        policy=call.policy,
    )
    if decision.settle_at is not None:
        assert active is not None
        previous = lifecycle.resolve(
            conn, tenant_id, active, decision.settle_at, SYSTEM_ACTOR, reason="deferred", publish=call.publish
        )
        active = None
    return decision, active, previous


def _opened(call: _Call, t: Opened) -> AlertChange:
    maintenance = guards.maintenance_covering(
        call.conn, call.tenant_id, t.at, device_id=call.device_id, site_id=call.facts.site_id
    )
    decision, active, previous = _decide(call, t, in_maintenance=maintenance is not None)
    if decision.action == "suppress":
        logger.info(
            "alert not raised: maintenance",
            extra={
                "tenant_id": call.tenant_id,
                "device": call.device_id,
                "rule": call.rule.id,
                "maintenance": maintenance,
            },
        )
        metrics.add_metric(name="AlertSuppressedByMaintenance", unit=MetricUnit.Count, value=1)
        return AlertChange("suppressed", t.at, reason=f"maintenance {maintenance}")
    if decision.action == "repeat":
        assert active is not None
        return _repeat(call, active, t)
    silence = guards.matching_silence(
        call.conn,
        call.tenant_id,
        t.at,
        site_id=call.facts.site_id,
        device_id=call.device_id,
        rule_id=call.rule.id,
        tags=call.facts.tags,
        severity=call.rule.severity.value,
    )
    if decision.action == "reopen":
        assert previous is not None
        return _reopen(call, previous, t, silence)
    return _open(call, t, silence)


def _open(call: _Call, t: Opened, silence: str | None) -> AlertChange:
    alert = effects.new_alert(
        call.rule, call.device_id, call.facts, t, value=call.value, source=call.source, silence=silence
    )
    if not store.insert(call.conn, call.tenant_id, alert):
        # another transaction opened the fingerprint first: this one is a repeat of it
        active = store.active_for(call.conn, call.tenant_id, call.fingerprint)
        assert active is not None
        return _repeat(call, active, t)
    lifecycle.record(
        call.conn,
        call.tenant_id,
        alert,
        t.at,
        "opened",
        SYSTEM_ACTOR,
        event=EventType.OPENED,
        detail=effects.opened_detail(silence),
        publish=call.publish,
    )
    metrics.add_metric(name="AlertOpened", unit=MetricUnit.Count, value=1)
    return AlertChange("opened", t.at, alert.id, EventType.OPENED if call.publish else None, alert.silenced)


def _repeat(call: _Call, active: Alert, t: Opened) -> AlertChange:
    store.update(call.conn, call.tenant_id, active.id, t.at, **effects.repeat(active, call.rule, t, call.value))
    cancelled = effects.cancelled_detail(active)
    if cancelled is not None:
        store.add_timeline(
            call.conn, call.tenant_id, active.id, t.at, "resolve_cancelled", SYSTEM_ACTOR, detail=cancelled
        )
    return AlertChange("repeated", t.at, active.id, None, active.silenced)


def _reopen(call: _Call, previous: Alert, t: Opened, silence: str | None) -> AlertChange:
    changes = effects.reopen(previous, call.rule, t, call.value, call.facts, silence)
    store.update(call.conn, call.tenant_id, previous.id, t.at, **changes)
    after = previous.model_copy(update={k: v for k, v in changes.items() if k != "explanation"})
    lifecycle.record(
        call.conn,
        call.tenant_id,
        after,
        t.at,
        "reopened",
        SYSTEM_ACTOR,
        event=EventType.REOPENED,
        detail=effects.reopened_detail(previous, t, silence),
        publish=call.publish,
    )
    return AlertChange("reopened", t.at, previous.id, EventType.REOPENED if call.publish else None, after.silenced)


def _resolved(call: _Call, t: Resolved) -> AlertChange:
    conn, tenant_id = call.conn, call.tenant_id
    decision, active, _ = _decide(call, t)
    if decision.action == "ignore" or active is None:
        return AlertChange("ignored", t.at, reason="no active alert")
    if decision.action == "latch":
        store.update(conn, tenant_id, active.id, t.at, condition_cleared_at=t.at)
        detail = effects.latched_detail(t)
        store.add_timeline(conn, tenant_id, active.id, t.at, "condition_cleared", SYSTEM_ACTOR, detail=detail)
        return AlertChange("latched", t.at, active.id, None, active.silenced, reason="waits for acknowledgement")
    if decision.action == "defer":
        due = decision.until
        assert due is not None
        store.update(conn, tenant_id, active.id, t.at, resolve_due_at=due)
        detail = effects.deferred_detail(due, call.policy)
        store.add_timeline(conn, tenant_id, active.id, t.at, "resolve_deferred", SYSTEM_ACTOR, detail=detail)
        why = f"until {due.isoformat()}"
        return AlertChange("resolve_deferred", t.at, active.id, None, active.silenced, reason=why)
    after = lifecycle.resolve(
        conn,
        tenant_id,
        active,
        t.at,
        SYSTEM_ACTOR,
        reason=t.reason,
        detail=effects.resolved_detail(t),
        publish=call.publish,
    )
    return AlertChange("resolved", t.at, after.id, EventType.RESOLVED if call.publish else None, after.silenced)
