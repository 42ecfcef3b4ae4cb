"""Operator access log: every request an operator makes on a tenant (who, when, IP, agent, tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from pydantic import BaseModel

from pulse.registry.paging import Page, decode_cursor, encode_cursor


class OperatorAccess(BaseModel):
    id: int
    tenant_id: str
    at: datetime
    operator: str
    role: str
    method: str
    path: str
    ip: str
    user_agent: str
    request_id: str


_COLUMNS = "id, tenant_id, at, operator, role, method, path, ip, user_agent, request_id"


def record_access(conn: psycopg.Connection, access: dict[str, str]) -> None:
    """``conn`` runs as ``pulse_operator``; ``access`` holds every column but id and at."""
    conn.execute(
        """INSERT INTO operator_audit (tenant_id, operator, role, method, path, ip, user_agent, request_id)
           VALUES (%(tenant_id)s, %(operator)s, %(role)s, %(method)s, %(path)s, %(ip)s, %(user_agent)s,
                   %(request_id)s)""",
        access,
    )


def list_access(
    conn: psycopg.Connection, *, tenant_id: str | None, operator: str | None, limit: int, cursor: str | None
) -> Page[OperatorAccess]:
    clauses: list[str] = ["true"]
    params: list[Any] = []
    if tenant_id is not None:
        clauses.append("tenant_id = %s")
        params.append(tenant_id)
    if operator is not None:
        clauses.append("operator = %s")
        params.append(operator)
    after = decode_cursor(cursor, "operator-audit")
    if after is not None:
        clauses.append("id < %s")
        params.append(int(after[0]))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM operator_audit WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT %s",
        (*params, limit + 1),
    ).fetchall()
    items = [OperatorAccess(**dict(zip(_COLUMNS.split(", "), r, strict=True))) for r in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor("operator-audit", [items[-1].id]) if len(rows) > limit else None)
