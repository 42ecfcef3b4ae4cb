"""Audit log of every write: actor, action, entity, before/after, request id.

``record_change`` runs inside the transaction that makes the change, so a change and its audit row
commit together or not at all. Any module may call it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from pulse.identity.scope import Actor
from pulse.registry.paging import Page, decode_cursor, encode_cursor


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str


class AuditFilter(BaseModel):
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def record_change(
    conn: psycopg.Connection,
    tenant_id: str,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    before: BaseModel | dict[str, Any] | None,
    after: BaseModel | dict[str, Any] | None,
) -> None:
    def doc(value: BaseModel | dict[str, Any] | None) -> Jsonb | None:
        if value is None:
            return None
        return Jsonb(value.model_dump(mode="json") if isinstance(value, BaseModel) else value)

    conn.execute(
        """INSERT INTO audit_log (tenant_id, actor, actor_role, action, entity_type, entity_id, before, after,
                                  request_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            actor.display,
            actor.role,
            action,
            entity_type,
            entity_id,
            doc(before),
            doc(after),
            actor.request_id,
        ),
    )


_COLUMNS = "id, at, actor, actor_role, action, entity_type, entity_id, before, after, request_id"


def _where(tenant_id: str, f: AuditFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    for column in ("actor", "action", "entity_type", "entity_id"):
        value = getattr(f, column)
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if f.since is not None:
        clauses.append("at >= %s")
        params.append(f.since)
    if f.until is not None:
        clauses.append("at < %s")
        params.append(f.until)
    return clauses, params


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(**dict(zip(_COLUMNS.split(", "), row, strict=True)))


def list_entries(
    conn: psycopg.Connection, tenant_id: str, f: AuditFilter, *, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    clauses, params = _where(tenant_id, f)
    after = decode_cursor(cursor, "audit")
    if after is not None:
        clauses.append("id < %s")
        params.append(int(after[0]))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
        (*params, limit + 1),
    ).fetchall()
    items = [_entry(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor("audit", [items[-1].id]) if len(rows) > limit else None)


def export_entries(conn: psycopg.Connection, tenant_id: str, f: AuditFilter) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, streamed from a server-side cursor."""
    clauses, params = _where(tenant_id, f)
    with conn.cursor(name="audit_export") as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id", params)
        for row in cur:
            yield _entry(row)
