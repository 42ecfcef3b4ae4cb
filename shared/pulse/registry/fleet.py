"""Fleet listing: filters, sort by any listed column, keyset pages, counts by status and site.

Each sortable column has a ``(tenant_id, column, id)`` index (migration 0003), so a page is an
index range scan whatever the sort. Nullable columns (site, last seen) sort NULLS LAST ascending
and NULLS FIRST descending, which is exactly the btree order read forwards or backwards.

"Last seen" sorts by the minute a device was last heard from (``last_seen_minute``, migration
0020), then by id: an index on the exact time would make ingest's per-batch device update rewrite
every index of the table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from pulse.errors import RequestInvalid
from pulse.registry.models import Device, DeviceStatus
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from pulse.registry.store import DEVICE_COLUMNS, device_from_row


class FleetSort(StrEnum):
    ID = "id"
    NAME = "name"
    STATUS = "status"
    MODEL = "model"
    FIRMWARE_VERSION = "firmware_version"
    SITE_ID = "site_id"
    CREATED_AT = "created_at"
    LAST_SEEN_AT = "last_seen_at"


_NULLABLE = frozenset({FleetSort.SITE_ID, FleetSort.LAST_SEEN_AT})
# Sorts whose SQL column differs from the listed field.
_SQL_COLUMN = {FleetSort.LAST_SEEN_AT: "last_seen_minute"}


def _sort_column(sort: FleetSort) -> str:
    return _SQL_COLUMN.get(sort, sort.value)


def _cursor_value(device: Device, sort: FleetSort) -> Any:
    value = getattr(device, sort.value)
    if sort is FleetSort.LAST_SEEN_AT and value is not None:
        return value.replace(second=0, microsecond=0)
    return value


class FleetQuery(BaseModel):
    status: list[DeviceStatus] = Field(default_factory=list)
    site_id: list[str] = Field(default_factory=list)
    model: list[str] = Field(default_factory=list)
    firmware_version: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    q: str | None = Field(default=None, max_length=100, description="substring of the device name or id")
    sort: FleetSort = FleetSort.NAME
    order: Literal["asc", "desc"] = "asc"
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = None

    @property
    def sort_key(self) -> str:
        return f"devices:{self.sort.value}:{self.order}"


class FleetCounts(BaseModel):
    total: int
    by_status: dict[str, int]
    by_site: dict[str, int]


def parse_tag_filters(values: list[str]) -> dict[str, str]:
    """``key:value`` pairs from the query string."""
    tags: dict[str, str] = {}
    for value in values:
        key, sep, tag_value = value.partition(":")
        if not sep or not key:
            raise RequestInvalid(f"tag: {value[:80]!r} must be key:value")
        tags[key] = tag_value
    return tags


def _filters(tenant_id: str, q: FleetQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["tenant_id = %s"]
    params: list[Any] = [tenant_id]
    for column, values in (
        ("status", [s.value for s in q.status]),
        ("site_id", q.site_id),
        ("model", q.model),
        ("firmware_version", q.firmware_version),
    ):
        if values:
            clauses.append(f"{column} = ANY(%s)")
            params.append(values)
    if q.tags:
        clauses.append("tags @> %s")
        params.append(Jsonb(q.tags))
    if q.q:
        escaped = q.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("(name || ' ' || id) ILIKE %s")
        params.append(f"%{escaped}%")
    return clauses, params


def _keyset(q: FleetQuery, after: list[Any]) -> tuple[str, list[Any]]:
    column, desc = _sort_column(q.sort), q.order == "desc"
    if q.sort is FleetSort.ID:
        return ("id < %s" if desc else "id > %s"), [after[-1]]
    value, last_id = after
    cmp = "<" if desc else ">"
    if q.sort not in _NULLABLE:
        return f"({column}, id) {cmp} (%s, %s)", [value, last_id]
    if value is None:  # inside the NULL block: last for asc, first for desc
        if desc:
            return f"(({column} IS NULL AND id < %s) OR {column} IS NOT NULL)", [last_id]
        return f"({column} IS NULL AND id > %s)", [last_id]
    tail = "" if desc else f" OR {column} IS NULL"
    return f"(({column}, id) {cmp} (%s, %s){tail})", [value, last_id]


def list_devices(conn: psycopg.Connection, tenant_id: str, q: FleetQuery) -> Page[Device]:
    clauses, params = _filters(tenant_id, q)
    after = decode_cursor(q.cursor, q.sort_key)
    if after is not None:
        if len(after) != (1 if q.sort is FleetSort.ID else 2):
            raise RequestInvalid("cursor: malformed")
        clause, values = _keyset(q, after)
        clauses.append(clause)
        params += values
    column, direction = _sort_column(q.sort), q.order.upper()
    nulls = "" if q.sort not in _NULLABLE else (" NULLS FIRST" if q.order == "desc" else " NULLS LAST")
    order = "id " + direction if q.sort is FleetSort.ID else f"{column} {direction}{nulls}, id {direction}"
    rows = conn.execute(
        f"SELECT {DEVICE_COLUMNS} FROM devices WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT %s",
        (*params, q.limit + 1),
    ).fetchall()
    items = [device_from_row(r) for r in rows[: q.limit]]
    cursor = None
    if len(rows) > q.limit:
        last = items[-1]
        key = [last.id] if q.sort is FleetSort.ID else [_cursor_value(last, q.sort), last.id]
        cursor = encode_cursor(q.sort_key, [v.isoformat() if hasattr(v, "isoformat") else v for v in key])
    return Page(items=items, next_cursor=cursor)


def count_devices(conn: psycopg.Connection, tenant_id: str, q: FleetQuery) -> FleetCounts:
    """Counts of the devices matching the filters, by status and by site (one pass)."""
    clauses, params = _filters(tenant_id, q)
    rows = conn.execute(
        f"""SELECT status, site_id, count(*) FROM devices WHERE {" AND ".join(clauses)}
            GROUP BY status, site_id""",
        params,
    ).fetchall()
    by_status: dict[str, int] = {}
    by_site: dict[str, int] = {}
    for status, site, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        by_site[site or ""] = by_site.get(site or "", 0) + n
    return FleetCounts(total=sum(by_status.values()), by_status=by_status, by_site=by_site)
