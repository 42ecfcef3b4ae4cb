"""Streaming evaluation: the samples ingest just stored, evaluated in ingest's own transaction.

After the COPY, each device's accepted messages (normalized onto the tenant's catalog names, one
sample per message, oldest first) run through every cached rule whose scope matches the device.
The states of those (rule, device) pairs are read and locked in one query, written back in one
statement, and the transitions become alerts before the batch commits: an alert exists exactly
when the telemetry that raised it does.

A pair without a state starts from the device's last known message before this batch (its latest
value of each metric, at its last message time), so a new rule sees a device as it was, not as
never heard of. A rule is evaluated on a message that carries a metric it reads (or on every
message, when it watches for any message); its timers in between run on the next such message or
on the scheduled tick, at the same instants either way. A tenant without rules costs one cached
lookup per batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from pulse.observability import logger
from pulse.rules.cache import RuleCache, TenantRules
from pulse.rules.devices import DeviceFacts, DeviceKey, load_devices
from pulse.rules.evaluate import evaluate
from pulse.rules.model import Rule
from pulse.rules.normalize import normalize_metrics
from pulse.rules.outcomes import Fired, raise_alerts
from pulse.rules.signals import RuleEvaluationError, Sample, Transition
from pulse.rules.state import RuleState
from pulse.rules.state_store import StateKey, insert_states, lock_states, update_states
from pulse.stream.writer import StoredMessage

LastMessage = tuple[datetime | None, Mapping[str, float | bool]]


@dataclass(frozen=True, slots=True)
class StreamOutcome:
    evaluated: int = 0
    transitions: int = 0


def _samples(messages: Sequence[StoredMessage], rules: TenantRules, model: str) -> list[Sample]:
    mappings = rules.mappings.get(model, {})
    ordered = sorted(messages, key=lambda m: m.envelope.timestamp)
    return [Sample(m.envelope.timestamp, normalize_metrics(m.envelope.metrics, mappings)) for m in ordered]


def _run(
    rule: Rule, state: RuleState | None, seed: Sample | None, samples: list[Sample], facts: DeviceFacts
) -> tuple[RuleState, list[Transition]]:
    context = facts.context()
    transitions: list[Transition] = []
    if state is None and seed is not None:
        state, transitions = evaluate(rule, None, [seed], seed.ts, context)
    state, more = evaluate(rule, state, samples, samples[-1].ts, context, owned=True)
    return state, transitions + more


def evaluate_ingested(
    conn: psycopg.Connection,
    messages: Sequence[StoredMessage],
    previous: Mapping[DeviceKey, LastMessage],
    cache: RuleCache,
    at: datetime,
) -> StreamOutcome:
    """Evaluates ``messages`` (accepted in this transaction) against the tenants' cached rules.

    ``previous`` is each device's last message time and latest metrics as they were before this
    batch (what ingest read when it locked the device rows): a pair's starting point.
    """
    rules = cache.rules_for(conn, {m.tenant_id for m in messages})
    by_device: dict[DeviceKey, list[StoredMessage]] = {}
    for m in messages:
        if rules[m.tenant_id].rules:
            by_device.setdefault((m.tenant_id, m.device_id), []).append(m)
    if not by_device:
        return StreamOutcome()
    with_twin = any(rules[tenant].twin_rules for tenant, _ in by_device)
    devices = load_devices(conn, by_device, with_twin=with_twin)
    samples = {dev: _samples(by_device[dev], rules[dev[0]], facts.model) for dev, facts in devices.items()}
    pairs: list[tuple[StateKey, Rule, DeviceFacts]] = []
    for dev, facts in devices.items():
        tenant = rules[dev[0]]
        names = {name for sample in samples[dev] for name in sample.metrics}
        pairs += [
            ((dev[0], rule.id, dev[1]), rule, facts)
            for rule in tenant.rules
            if tenant.reacts_to(rule, names) and facts.in_scope(rule)
        ]
    if not pairs:
        return StreamOutcome()
    states = lock_states(conn, [key for key, _, _ in pairs])
    updated: list[tuple[StateKey, RuleState]] = []
    created: list[tuple[StateKey, RuleState]] = []
    fired: dict[StateKey, Fired] = {}
    for key, rule, facts in pairs:
        device = (key[0], key[2])
        state = states.get(key)
        seed = None
        if state is None:
            last_ts, last_metrics = previous.get(device, (None, {}))
            mappings = rules[key[0]].mappings.get(facts.model, {})
            seed = Sample(last_ts, normalize_metrics(last_metrics, mappings)) if last_ts else None
        try:
            new, transitions = _run(rule, state, seed, samples[device], facts)
        except RuleEvaluationError as exc:
            logger.error("rule evaluation refused", extra={"rule_id": rule.id, "device_id": key[2], "error": str(exc)})
            continue
        (updated if state is not None else created).append((key, new))
        if transitions:
            fired[key] = Fired(key[0], key[2], rule, transitions)
    update_states(conn, updated, at)
    # ingest holds the device rows, so nobody else starts these states meanwhile; should one have
    # been started anyway, its starter raised the alerts and this evaluation is dropped
    started = insert_states(conn, created, at)
    lost = {key for key, _ in created} - started
    count = raise_alerts(conn, [f for key, f in fired.items() if key not in lost], "stream")
    return StreamOutcome(len(updated) + len(created), count)
