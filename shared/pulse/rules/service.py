"""Rules and the metric catalog: create, version, disable, delete, read; each write audited.

Every function runs in the caller's transaction (``tenant_transaction`` as pulse_app, or a
``TenantScope.transaction()``), so the API can add its own checks and commit once.

A rule is created at version 1. An update writes version N+1 and points the rule at it; the
per-device state is kept, and the evaluator keeps the state of every condition node the new
version did not change (nodes are keyed by a fingerprint of their JSON). Disabling or deleting a
rule drops its per-device state: a rule enabled again starts fresh instead of replaying timers
that ran while nobody was watching. Its active alerts resolve in the same transaction (reason
``rule disabled`` / ``rule deleted``, by the user), since nothing would evaluate them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from pulse.alerts.lifecycle import resolve_for_rule
from pulse.errors import RequestInvalid
from pulse.identity.scope import Actor
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed
from pulse.registry.paging import Page, decode_cursor, encode_cursor
from pulse.rules import store
from pulse.rules.model import Rule
from pulse.rules.normalize import CatalogMetric, MetricMapping
from pulse.rules.store import RuleRecord, RuleVersionRecord

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A write's result: the rule now, the devices whose state it dropped while firing, and the
    alerts it resolved."""

    record: RuleRecord
    dropped_firing: list[str]
    resolved_alerts: list[str]


def _stop_evaluating(
    conn: psycopg.Connection, tenant_id: str, rule_id: str, actor: Actor, at: datetime | None, reason: str
) -> tuple[list[str], list[str]]:
    """Drops the rule's states and resolves its active alerts: (devices that were firing, alert ids)."""
    dropped = store.delete_rule_state(conn, tenant_id, rule_id)
    resolved = resolve_for_rule(conn, tenant_id, rule_id, at or datetime.now(UTC), actor.display, reason=reason)
    return dropped, [alert.id for alert in resolved]


def _check_tenant(tenant_id: str, rule: Rule) -> None:
    if rule.scope.tenant_id != tenant_id:
        raise RequestInvalid(f"scope.tenant_id: a rule of tenant {tenant_id!r} cannot watch another tenant")


def _locked(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> RuleRecord:
    record = store.lock_rule(conn, tenant_id, rule_id)
    if record is None or record.deleted_at is not None:
        raise NotFound(f"no rule {rule_id!r}")
    return record


def create_rule(conn: psycopg.Connection, tenant_id: str, rule: Rule, actor: Actor) -> RuleRecord:
    """Stores ``rule`` as version 1 (whatever version the body names); 409 when the id exists."""
    _check_tenant(tenant_id, rule)
    first = rule.model_copy(update={"version": 1})
    if not store.insert_rule(conn, tenant_id, first, actor.subject):
        raise Conflict(f"rule {rule.id!r} exists (a deleted rule keeps its id)")
    record = store.fetch_rule(conn, tenant_id, rule.id)
    assert record is not None
    record_change(conn, tenant_id, actor, "rule.create", "rule", rule.id, None, first)
    return record


def update_rule(
    conn: psycopg.Connection,
    tenant_id: str,
    rule_id: str,
    rule: Rule,
    actor: Actor,
    *,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> RuleRecord:
    """Writes the next version; ``expected_version`` (If-Match) must be the current one when given."""
    _check_tenant(tenant_id, rule)
    if rule.id != rule_id:
        raise RequestInvalid(f"id: the body names rule {rule.id!r}, the request rule {rule_id!r}")
    before = _locked(conn, tenant_id, rule_id)
    if expected_version is not None and expected_version != before.current_version:
        raise PreconditionFailed(f"rule {rule_id!r} is at version {before.current_version}, not {expected_version}")
    after = rule.model_copy(update={"version": before.current_version + 1})
    store.insert_version(conn, tenant_id, after, actor.subject)
    store.update_rule_head(conn, tenant_id, after)
    if not after.enabled:
        _stop_evaluating(conn, tenant_id, rule_id, actor, at, "rule disabled")
    record_change(conn, tenant_id, actor, "rule.update", "rule", rule_id, before.rule, after)
    record = store.fetch_rule(conn, tenant_id, rule_id)
    assert record is not None
    return record


def set_rule_enabled(
    conn: psycopg.Connection,
    tenant_id: str,
    rule_id: str,
    enabled: bool,
    actor: Actor,
    *,
    at: datetime | None = None,
) -> RuleChange:
    """Turns evaluation on or off without a new version. Off drops the per-device state and resolves
    the rule's active alerts."""
    before = _locked(conn, tenant_id, rule_id)
    dropped: list[str] = []
    resolved: list[str] = []
    if before.enabled != enabled:
        store.set_rule_flags(conn, tenant_id, rule_id, enabled=enabled, deleted=False)
        if not enabled:
            dropped, resolved = _stop_evaluating(conn, tenant_id, rule_id, actor, at, "rule disabled")
        action = "rule.enable" if enabled else "rule.disable"
        record_change(
            conn, tenant_id, actor, action, "rule", rule_id, {"enabled": before.enabled}, {"enabled": enabled}
        )
    record = store.fetch_rule(conn, tenant_id, rule_id)
    assert record is not None
    return RuleChange(record, dropped, resolved)


def delete_rule(
    conn: psycopg.Connection, tenant_id: str, rule_id: str, actor: Actor, *, at: datetime | None = None
) -> list[str]:
    """Soft delete (versions stay for audit and alert history) that resolves the rule's active
    alerts; returns devices that were firing."""
    before = _locked(conn, tenant_id, rule_id)
    store.set_rule_flags(conn, tenant_id, rule_id, enabled=False, deleted=True)
    dropped, _ = _stop_evaluating(conn, tenant_id, rule_id, actor, at, "rule deleted")
    record_change(conn, tenant_id, actor, "rule.delete", "rule", rule_id, before.rule, None)
    return dropped


def get_rule(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> RuleRecord:
    record = store.fetch_rule(conn, tenant_id, rule_id)
    if record is None:
        raise NotFound(f"no rule {rule_id!r}")
    return record


def list_rules(
    conn: psycopg.Connection, tenant_id: str, *, cursor: str | None = None, limit: int = 50
) -> Page[RuleRecord]:
    """Live rules by id, keyset pagination (``next_cursor`` while more follow)."""
    if not 1 <= limit <= MAX_PAGE:
        raise RequestInvalid(f"limit: between 1 and {MAX_PAGE}")
    after = decode_cursor(cursor, "rules")
    records = store.fetch_rules(conn, tenant_id, after=str(after[0]) if after else None, limit=limit + 1)
    more = len(records) > limit
    records = records[:limit]
    next_cursor = encode_cursor("rules", [records[-1].rule.id]) if more else None
    return Page[RuleRecord](items=records, next_cursor=next_cursor)


def list_versions(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> list[RuleVersionRecord]:
    """Every version of a live rule, newest first."""
    get_rule(conn, tenant_id, rule_id)
    return store.fetch_versions(conn, tenant_id, rule_id)


# --- metric catalog -------------------------------------------------------------------------------


def put_catalog_metric(conn: psycopg.Connection, tenant_id: str, metric: CatalogMetric, actor: Actor) -> CatalogMetric:
    before = next((m for m in store.fetch_catalog(conn, tenant_id) if m.name == metric.name), None)
    store.upsert_catalog_metric(conn, tenant_id, metric)
    action = "metric.update" if before else "metric.create"
    record_change(conn, tenant_id, actor, action, "metric", metric.name, before, metric)
    return metric


def list_catalog(conn: psycopg.Connection, tenant_id: str) -> list[CatalogMetric]:
    return store.fetch_catalog(conn, tenant_id)


def delete_catalog_metric(conn: psycopg.Connection, tenant_id: str, name: str, actor: Actor) -> None:
    """Refused while a mapping still produces the metric (delete or re-point the mappings first)."""
    if store.catalog_metric_in_use(conn, tenant_id, name):
        raise Conflict(f"metric {name!r} is the target of a mapping; remove the mapping first")
    if not store.delete_catalog_metric(conn, tenant_id, name):
        raise NotFound(f"no metric {name!r} in the catalog")
    record_change(conn, tenant_id, actor, "metric.delete", "metric", name, {"name": name}, None)


def put_mapping(conn: psycopg.Connection, tenant_id: str, mapping: MetricMapping, actor: Actor) -> MetricMapping:
    """Maps a model's raw metric onto a catalog metric.

    The target must be in the catalog, and one model maps at most one raw metric onto a catalog
    metric (two would race for the same name in every message).
    """
    if not any(m.name == mapping.metric for m in store.fetch_catalog(conn, tenant_id)):
        raise RequestInvalid(f"metric: {mapping.metric!r} is not in the metric catalog")
    existing = store.fetch_mappings(conn, [tenant_id], mapping.model)[tenant_id]
    clash = next((m for m in existing if m.metric == mapping.metric and m.source != mapping.source), None)
    if clash is not None:
        raise Conflict(f"model {mapping.model!r} already maps {clash.source!r} onto {mapping.metric!r}")
    before = next((m for m in existing if m.source == mapping.source), None)
    store.upsert_mapping(conn, tenant_id, mapping)
    record_change(
        conn,
        tenant_id,
        actor,
        "metric_mapping.put",
        "metric_mapping",
        f"{mapping.model}/{mapping.source}",
        before,
        mapping,
    )
    return mapping


def list_mappings(conn: psycopg.Connection, tenant_id: str, model: str | None = None) -> list[MetricMapping]:
    return store.fetch_mappings(conn, [tenant_id], model)[tenant_id]


def delete_mapping(conn: psycopg.Connection, tenant_id: str, model: str, source: str, actor: Actor) -> None:
    if not store.delete_mapping(conn, tenant_id, model, source):
        raise NotFound(f"no mapping of {source!r} for model {model!r}")
    record_change(conn, tenant_id, actor, "metric_mapping.delete", "metric_mapping", f"{model}/{source}", None, None)
