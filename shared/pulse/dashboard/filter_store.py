"""SQL of saved fleet filters (psycopg 3), nothing else. Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

_COLUMNS = "id, owner, name, query, created_by, created_at"


@dataclass(frozen=True, slots=True)
class FilterRow:
    id: str
    owner: str | None  # the token subject of a personal filter; None: shared with the tenant
    name: str
    query: dict[str, Any]
    created_by: str
    created_at: datetime


def visible(
    conn: psycopg.Connection,
    tenant_id: str,
    subject: str,
    *,
    personal: bool,
    shared: bool,
    after: tuple[str, str] | None,
    limit: int,
) -> list[FilterRow]:
    """The subject's personal filters and/or the tenant's shared ones, by (name, id) after ``after``."""
    owners = [c for c, wanted in (("owner = %(me)s", personal), ("owner IS NULL", shared)) if wanted]
    keyset = "AND (name, id) > (%(after_name)s, %(after_id)s)" if after else ""
    params = {"tenant": tenant_id, "me": subject, "limit": limit}
    if after:
        params["after_name"], params["after_id"] = after
    with conn.cursor(row_factory=class_row(FilterRow)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM saved_filters
                WHERE tenant_id = %(tenant)s AND ({" OR ".join(owners)}) {keyset}
                ORDER BY name, id LIMIT %(limit)s""",
            params,
        ).fetchall()


def get_visible(conn: psycopg.Connection, tenant_id: str, filter_id: str, subject: str) -> FilterRow | None:
    with conn.cursor(row_factory=class_row(FilterRow)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM saved_filters
                WHERE tenant_id = %s AND id = %s AND (owner IS NULL OR owner = %s)""",
            (tenant_id, filter_id, subject),
        ).fetchone()


def lock_owner(conn: psycopg.Connection, tenant_id: str, owner: str | None) -> None:
    """Serialises creates per owner so a count limit holds under concurrency."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"pulse-saved-filters:{tenant_id}:{owner or ''}",))


def count(conn: psycopg.Connection, tenant_id: str, owner: str | None) -> int:
    row = conn.execute(
        "SELECT count(*) FROM saved_filters WHERE tenant_id = %s AND owner IS NOT DISTINCT FROM %s", (tenant_id, owner)
    ).fetchone()
    return int(row[0]) if row else 0


def insert(conn: psycopg.Connection, tenant_id: str, new: FilterRow) -> FilterRow | None:
    """None when the owner already has a filter of that name."""
    with conn.cursor(row_factory=class_row(FilterRow)) as cur:
        return cur.execute(
            f"""INSERT INTO saved_filters (tenant_id, id, owner, name, query, created_by, created_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING {_COLUMNS}""",
            (tenant_id, new.id, new.owner, new.name, Jsonb(new.query), new.created_by, new.created_at),
        ).fetchone()


def delete(conn: psycopg.Connection, tenant_id: str, filter_id: str) -> None:
    conn.execute("DELETE FROM saved_filters WHERE tenant_id = %s AND id = %s", (tenant_id, filter_id))
