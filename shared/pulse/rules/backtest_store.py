"""The backtest's reads of the registry: the devices a rule's scope matches and what the evaluator
knows about each (model, attributes, twin, site and its time zone). Read-only; run inside
``tenant_transaction``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.rules.model import Scope
from pulse.rules.signals import EvaluationContext

_SCOPED_DEVICES = """
SELECT d.id, d.model, d.site_id, d.attributes, s.timezone,
       t.document -> 'state' -> 'reported', t.document -> 'state' -> 'desired'
FROM devices d
LEFT JOIN sites s ON s.tenant_id = d.tenant_id AND s.id = d.site_id
LEFT JOIN device_twins t ON t.tenant_id = d.tenant_id AND t.device_id = d.id
WHERE d.tenant_id = %(tenant)s AND d.status <> 'decommissioned'
  AND (cardinality(%(sites)s::text[]) = 0 OR d.site_id = ANY(%(sites)s::text[]))
  AND (cardinality(%(ids)s::text[]) = 0 OR d.id = ANY(%(ids)s::text[]))
  AND (cardinality(%(models)s::text[]) = 0 OR d.model = ANY(%(models)s::text[]))
  AND (cardinality(%(only)s::text[]) = 0 OR d.id = ANY(%(only)s::text[]))
  AND d.tags @> %(tags)s
ORDER BY d.id
LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class ScopedDevice:
    device_id: str
    model: str
    site_id: str | None
    context: EvaluationContext


def _document(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def scoped_devices(
    conn: psycopg.Connection, scope: Scope, *, only: Sequence[str] = (), limit: int
) -> list[ScopedDevice]:
    """Up to ``limit`` devices of the scope's tenant that ``scope`` matches (and ``only`` names), by id.

    Decommissioned devices are left out; revoked ones keep their history and are included.
    """
    rows = conn.execute(
        _SCOPED_DEVICES,
        {
            "tenant": scope.tenant_id,
            "sites": scope.site_ids,
            "ids": scope.device_ids,
            "models": scope.models,
            "only": list(only),
            "tags": Jsonb(scope.tags),
            "limit": limit,
        },
    ).fetchall()
    return [
        ScopedDevice(
            device_id=device_id,
            model=model,
            site_id=site_id,
            context=EvaluationContext(
                attributes=_document(attributes),
                reported=_document(reported),
                desired=_document(desired),
                timezone=timezone,
            ),
        )
        for device_id, model, site_id, attributes, timezone, reported, desired in rows
    ]
