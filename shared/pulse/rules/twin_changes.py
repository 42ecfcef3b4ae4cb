"""Twin rules re-evaluated when a device's twin changes, in the transaction that changed it.

A rule that reads the twin (``twin`` and ``twin_not_converged`` predicates, ``twin.*`` refs) can
open or resolve with no telemetry: when an update is accepted (API, device, system) and when the
convergence check finds a desired leaf past its deadline, ``evaluate_twin_change`` runs
``twin_changed`` for every live rule of the tenant that reads the twin and has the device in scope,
writes the states back and hands the transitions to the alerts plane, all before the caller
commits.

A twin change is evaluated at ``max(at, the state's watermark)``: a device whose clock runs a few
seconds ahead has moved the watermark past the wall clock, and an event before the watermark would
be counted late and dropped. A pair without a state starts from the device's last known message,
like the scheduled tick starts it.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from pulse.observability import logger
from pulse.rules import store
from pulse.rules.cache import TenantRules
from pulse.rules.devices import load_devices
from pulse.rules.evaluate import evaluate, twin_changed
from pulse.rules.outcomes import Fired, raise_alerts
from pulse.rules.signals import RuleEvaluationError, Transition
from pulse.rules.state import RuleState
from pulse.rules.state_store import StateKey, insert_states, lock_states, update_states


def evaluate_twin_change(conn: psycopg.Connection, tenant_id: str, device_id: str, at: datetime) -> int:
    """Re-evaluates the device's twin rules with the twin as this transaction sees it; returns how
    many alert transitions that applied."""
    live = store.live_rules(conn, [tenant_id])[tenant_id]
    if not live:
        return 0
    tenant = TenantRules.build(live, store.fetch_mappings(conn, [tenant_id])[tenant_id])
    facts = load_devices(conn, [(tenant_id, device_id)], with_twin=True).get((tenant_id, device_id))
    if facts is None:
        return 0
    rules = [r for r in tenant.rules if r.id in tenant.twin_rules and facts.in_scope(r)]
    if not rules:
        return 0
    keys: list[StateKey] = [(tenant_id, rule.id, device_id) for rule in rules]
    states = lock_states(conn, keys)
    context = facts.context()
    updated: list[tuple[StateKey, RuleState]] = []
    created: list[tuple[StateKey, RuleState]] = []
    fired: dict[StateKey, Fired] = {}
    for key, rule in zip(keys, rules, strict=True):
        state = states.get(key)
        transitions: list[Transition] = []
        try:
            if state is None:
                seed = facts.last_sample(tenant.mappings)
                if seed is not None:
                    state, transitions = evaluate(rule, None, [seed], seed.ts, context)
            when = max(at, state.watermark) if state is not None and state.watermark is not None else at
            new, more = twin_changed(rule, state, when, context)
        except RuleEvaluationError as exc:
            logger.error(
                "rule evaluation refused", extra={"rule_id": rule.id, "device_id": device_id, "error": str(exc)}
            )
            continue
        (updated if key in states else created).append((key, new))
        if transitions + more:
            fired[key] = Fired(tenant_id, device_id, rule, transitions + more)
    update_states(conn, updated, at)
    started = insert_states(conn, created, at)
    lost = {key for key, _ in created} - started
    return raise_alerts(conn, [f for key, f in fired.items() if key not in lost], "stream")
