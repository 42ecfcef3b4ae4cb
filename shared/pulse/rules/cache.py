"""Rules and metric mappings per tenant, cached per container for the ingest path.

A tenant's entry is trusted for ``ttl_s``; after that one query for all stale tenants of a batch
compares a fingerprint of their rules (ids and ``updated_at``) and mappings, and only tenants whose
fingerprint changed are loaded again. A tenant without rules costs a dictionary lookup per batch
and one tiny query per TTL. A rule change reaches ingest within the TTL; the scheduled evaluator
catches up telemetry a stale container did not evaluate (see ``pulse.rules.scheduled``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import psycopg

from pulse.rules import store
from pulse.rules.conditions import read_metrics, walk
from pulse.rules.devices import reads_twin
from pulse.rules.model import Absence, Rule
from pulse.rules.normalize import MetricMapping

DEFAULT_TTL_S = 15.0


@dataclass(frozen=True, slots=True)
class TenantRules:
    """A tenant's live, enabled rules and its mappings by device model and raw metric name."""

    rules: tuple[Rule, ...] = ()
    twin_rules: frozenset[str] = frozenset()
    mappings: Mapping[str, Mapping[str, MetricMapping]] = field(default_factory=dict)
    # per rule: the metrics whose arrival it must see (None: it watches every message)
    triggers: Mapping[str, frozenset[str] | None] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Iterable[Rule], mappings: Iterable[MetricMapping]) -> TenantRules:
        rules = tuple(rules)
        by_model: dict[str, dict[str, MetricMapping]] = {}
        for mapping in mappings:
            by_model.setdefault(mapping.model, {})[mapping.source] = mapping
        twin = frozenset(r.id for r in rules if reads_twin(r))
        return cls(rules, twin, by_model, {r.id: _triggers(r) for r in rules})

    def reacts_to(self, rule: Rule, metrics: set[str]) -> bool:
        """Whether a message with ``metrics`` can change ``rule`` beyond running its clock."""
        wanted = self.triggers.get(rule.id)
        return wanted is None or not wanted.isdisjoint(metrics)


def _triggers(rule: Rule) -> frozenset[str] | None:
    roots = [rule.condition] if rule.clear is None else [rule.condition, rule.clear]
    if any(isinstance(node, Absence) and node.metric is None for root in roots for node in walk(root)):
        return None
    return frozenset(metric for root in roots for metric in read_metrics(root))


NO_RULES = TenantRules()


@dataclass(slots=True)
class _Entry:
    fingerprint: str | None
    rules: TenantRules
    checked_at: float


class RuleCache:
    """Per container: tenants' rules, revalidated at most once per ``ttl_s`` per tenant."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def rules_for(self, conn: psycopg.Connection, tenant_ids: Iterable[str]) -> dict[str, TenantRules]:
        now = self._clock()
        tenants = set(tenant_ids)
        stale = sorted(t for t in tenants if (e := self._entries.get(t)) is None or now - e.checked_at >= self._ttl_s)
        if stale:
            self._refresh(conn, stale, now)
        return {t: self._entries[t].rules for t in tenants}

    def _refresh(self, conn: psycopg.Connection, tenants: list[str], now: float) -> None:
        prints = store.rules_fingerprints(conn, tenants)
        changed = [t for t in tenants if (e := self._entries.get(t)) is None or e.fingerprint != prints.get(t)]
        with_rules = [t for t in changed if prints.get(t) is not None]
        rules = store.live_rules(conn, with_rules) if with_rules else {}
        mappings = store.fetch_mappings(conn, with_rules) if with_rules else {}
        for tenant in tenants:
            entry = self._entries.get(tenant)
            if tenant not in changed and entry is not None:
                entry.checked_at = now
            elif tenant in rules:
                self._entries[tenant] = _Entry(prints[tenant], TenantRules.build(rules[tenant], mappings[tenant]), now)
            else:
                self._entries[tenant] = _Entry(None, NO_RULES, now)

    def clear(self) -> None:
        self._entries.clear()
