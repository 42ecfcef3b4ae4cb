"""SQL of rules, rule versions, the metric catalog and metric mappings (psycopg 3).

Functions take a connection inside the caller's transaction: ``tenant_transaction`` as pulse_app
for the API (row-level security admits one tenant), pulse_ingest for the evaluators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.rules.model import Rule
from pulse.rules.normalize import CatalogMetric, MetricMapping


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """A rule as stored: its current version's body (``enabled`` from the row) and bookkeeping."""

    rule: Rule
    current_version: int
    enabled: bool
    deleted_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RuleVersionRecord:
    rule: Rule
    version: int
    created_by: str
    created_at: datetime


_RULE_COLUMNS = """r.current_version, r.enabled, r.deleted_at, r.created_by, r.created_at, r.updated_at, v.body"""


def _record(row: Sequence[Any]) -> RuleRecord:
    rule = Rule.model_validate(row[6]).model_copy(update={"enabled": row[1]})
    return RuleRecord(rule, row[0], row[1], row[2], row[3], row[4], row[5])


def _scope_columns(rule: Rule) -> tuple[list[str], list[str], list[str], Jsonb]:
    scope = rule.scope
    return list(scope.site_ids), list(scope.device_ids), list(scope.models), Jsonb(dict(scope.tags))


def insert_rule(conn: psycopg.Connection, tenant_id: str, rule: Rule, actor: str) -> bool:
    """A new rule at version 1 with its first version row; False when the id is taken."""
    inserted = conn.execute(
        """INSERT INTO rules (tenant_id, id, name, current_version, enabled, scope_site_ids, scope_device_ids,
                              scope_models, scope_tags, created_by)
           VALUES (%s, %s, %s, 1, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, id) DO NOTHING""",
        (tenant_id, rule.id, rule.name, rule.enabled, *_scope_columns(rule), actor),
    ).rowcount
    if inserted:
        insert_version(conn, tenant_id, rule, actor)
    return bool(inserted)


def insert_version(conn: psycopg.Connection, tenant_id: str, rule: Rule, actor: str) -> None:
    conn.execute(
        "INSERT INTO rule_versions (tenant_id, rule_id, version, body, created_by) VALUES (%s, %s, %s, %s, %s)",
        (tenant_id, rule.id, rule.version, Jsonb(rule.model_dump(mode="json")), actor),
    )


def lock_rule(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> RuleRecord | None:
    """The rule's row, locked until commit so concurrent updates take turns."""
    row = conn.execute(
        f"""SELECT {_RULE_COLUMNS} FROM rules r
            JOIN rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version
            WHERE r.tenant_id = %s AND r.id = %s FOR UPDATE OF r""",
        (tenant_id, rule_id),
    ).fetchone()
    return _record(row) if row else None


def update_rule_head(conn: psycopg.Connection, tenant_id: str, rule: Rule) -> None:
    """Points the rule at ``rule.version`` and copies its name, scope and enabled flag."""
    conn.execute(
        """UPDATE rules SET name = %s, current_version = %s, enabled = %s, scope_site_ids = %s,
                  scope_device_ids = %s, scope_models = %s, scope_tags = %s, updated_at = clock_timestamp()
           WHERE tenant_id = %s AND id = %s""",
        (rule.name, rule.version, rule.enabled, *_scope_columns(rule), tenant_id, rule.id),
    )


def set_rule_flags(conn: psycopg.Connection, tenant_id: str, rule_id: str, *, enabled: bool, deleted: bool) -> None:
    conn.execute(
        """UPDATE rules SET enabled = %s, deleted_at = CASE WHEN %s THEN coalesce(deleted_at, clock_timestamp()) END,
                  updated_at = clock_timestamp()
           WHERE tenant_id = %s AND id = %s""",
        (enabled, deleted, tenant_id, rule_id),
    )


def delete_rule_state(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> list[str]:
    """Drops the rule's per-device state; returns the devices that were firing."""
    rows = conn.execute(
        "DELETE FROM rule_state WHERE tenant_id = %s AND rule_id = %s RETURNING device_id, firing",
        (tenant_id, rule_id),
    ).fetchall()
    return sorted(device for device, firing in rows if firing)


def fetch_rule(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> RuleRecord | None:
    row = conn.execute(
        f"""SELECT {_RULE_COLUMNS} FROM rules r
            JOIN rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version
            WHERE r.tenant_id = %s AND r.id = %s AND r.deleted_at IS NULL""",
        (tenant_id, rule_id),
    ).fetchone()
    return _record(row) if row else None


def fetch_rules(conn: psycopg.Connection, tenant_id: str, *, after: str | None, limit: int) -> list[RuleRecord]:
    """Live rules by id, keyset-paged: the ``limit`` ids after ``after``."""
    rows = conn.execute(
        f"""SELECT {_RULE_COLUMNS} FROM rules r
            JOIN rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version
            WHERE r.tenant_id = %s AND r.deleted_at IS NULL AND r.id > %s
            ORDER BY r.id LIMIT %s""",
        (tenant_id, after or "", limit),
    ).fetchall()
    return [_record(row) for row in rows]


def fetch_versions(conn: psycopg.Connection, tenant_id: str, rule_id: str) -> list[RuleVersionRecord]:
    """Every version of a rule, newest first."""
    rows = conn.execute(
        """SELECT body, version, created_by, created_at FROM rule_versions
           WHERE tenant_id = %s AND rule_id = %s ORDER BY version DESC""",
        (tenant_id, rule_id),
    ).fetchall()
    return [RuleVersionRecord(Rule.model_validate(row[0]), row[1], row[2], row[3]) for row in rows]


def fetch_version(conn: psycopg.Connection, tenant_id: str, rule_id: str, version: int) -> Rule | None:
    row = conn.execute(
        "SELECT body::text FROM rule_versions WHERE tenant_id = %s AND rule_id = %s AND version = %s",
        (tenant_id, rule_id, version),
    ).fetchone()
    return Rule.model_validate_json(row[0]) if row else None


# --- evaluation reads (cross-tenant as pulse_ingest) -----------------------------------------------


def rules_fingerprints(conn: psycopg.Connection, tenant_ids: Sequence[str]) -> dict[str, str]:
    """Per tenant, a digest of every rule's (id, updated_at) and every mapping: changes when any does.

    A hash, not max(updated_at): a transaction that commits late may stamp an older time than one
    already seen. Tenants without rules are absent from the answer.
    """
    rows = conn.execute(
        """SELECT r.tenant_id,
                  md5(string_agg(r.id || '@' || r.updated_at::text, ',' ORDER BY r.id)
                      || coalesce((SELECT string_agg(m.model || '/' || m.source || '@' || m.updated_at::text, ','
                                                     ORDER BY m.model, m.source)
                                   FROM metric_mappings m WHERE m.tenant_id = r.tenant_id), ''))
           FROM rules r WHERE r.tenant_id = ANY(%s) AND r.deleted_at IS NULL
           GROUP BY r.tenant_id""",
        (list(tenant_ids),),
    ).fetchall()
    return {row[0]: row[1] for row in rows}


def live_rules(conn: psycopg.Connection, tenant_ids: Sequence[str]) -> dict[str, list[Rule]]:
    """The current version of every enabled, live rule of each tenant."""
    found: dict[str, list[Rule]] = {tenant: [] for tenant in tenant_ids}
    rows = conn.execute(
        """SELECT r.tenant_id, v.body::text FROM rules r
           JOIN rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version
           WHERE r.tenant_id = ANY(%s) AND r.enabled AND r.deleted_at IS NULL ORDER BY r.tenant_id, r.id""",
        (list(tenant_ids),),
    ).fetchall()
    for tenant, body in rows:
        found[tenant].append(Rule.model_validate_json(body))
    return found


# --- metric catalog and mappings ------------------------------------------------------------------


def upsert_catalog_metric(conn: psycopg.Connection, tenant_id: str, metric: CatalogMetric) -> None:
    conn.execute(
        """INSERT INTO metric_catalog (tenant_id, name, unit, description) VALUES (%s, %s, %s, %s)
           ON CONFLICT (tenant_id, name) DO UPDATE
           SET unit = excluded.unit, description = excluded.description, updated_at = clock_timestamp()""",
        (tenant_id, metric.name, metric.unit, metric.description),
    )


def fetch_catalog(conn: psycopg.Connection, tenant_id: str) -> list[CatalogMetric]:
    rows = conn.execute(
        "SELECT name, unit, description FROM metric_catalog WHERE tenant_id = %s ORDER BY name", (tenant_id,)
    ).fetchall()
    return [CatalogMetric(name=r[0], unit=r[1], description=r[2]) for r in rows]


def catalog_metric_in_use(conn: psycopg.Connection, tenant_id: str, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM metric_mappings WHERE tenant_id = %s AND metric = %s LIMIT 1", (tenant_id, name)
    ).fetchone()
    return row is not None


def delete_catalog_metric(conn: psycopg.Connection, tenant_id: str, name: str) -> bool:
    deleted = conn.execute("DELETE FROM metric_catalog WHERE tenant_id = %s AND name = %s", (tenant_id, name))
    return bool(deleted.rowcount)


def upsert_mapping(conn: psycopg.Connection, tenant_id: str, mapping: MetricMapping) -> None:
    conn.execute(
        """INSERT INTO metric_mappings (tenant_id, model, source, metric, multiplier, "offset", source_unit)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, model, source) DO UPDATE
           SET metric = excluded.metric, multiplier = excluded.multiplier, "offset" = excluded."offset",
               source_unit = excluded.source_unit, updated_at = clock_timestamp()""",
        (
            tenant_id,
            mapping.model,
            mapping.source,
            mapping.metric,
            mapping.multiplier,
            mapping.offset,
            mapping.source_unit,
        ),
    )


def delete_mapping(conn: psycopg.Connection, tenant_id: str, model: str, source: str) -> bool:
    deleted = conn.execute(
        "DELETE FROM metric_mappings WHERE tenant_id = %s AND model = %s AND source = %s", (tenant_id, model, source)
    )
    return bool(deleted.rowcount)


def fetch_mappings(
    conn: psycopg.Connection, tenant_ids: Sequence[str], model: str | None = None
) -> dict[str, list[MetricMapping]]:
    """Mappings per tenant (of one device model when ``model`` is given), by model and source."""
    rows = conn.execute(
        """SELECT tenant_id, model, source, metric, multiplier, "offset", source_unit FROM metric_mappings
           WHERE tenant_id = ANY(%s) AND (%s::text IS NULL OR model = %s) ORDER BY tenant_id, model, source""",
        (list(tenant_ids), model, model),
    ).fetchall()
    found: dict[str, list[MetricMapping]] = {tenant: [] for tenant in tenant_ids}
    for r in rows:
        found[r[0]].append(
            MetricMapping(model=r[1], source=r[2], metric=r[3], multiplier=r[4], offset=r[5], source_unit=r[6])
        )
    return found
