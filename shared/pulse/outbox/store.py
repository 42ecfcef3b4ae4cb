"""The events outbox's SQL: write an event in the caller's transaction, claim, mark published or failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from pulse.outbox.after_commit import count_written


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    tenant_id: str
    event_type: str
    correlation_id: str
    occurred_at: datetime
    detail: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event to write (``put_many``)."""

    tenant_id: str
    event_type: str
    correlation_id: str
    occurred_at: datetime
    detail: dict[str, Any]


def put(
    conn: psycopg.Connection,
    tenant_id: str,
    event_type: str,
    correlation_id: str,
    occurred_at: datetime,
    detail: dict[str, Any],
) -> int:
    """Write one event; it leaves for the bus only if the caller's transaction commits."""
    row = conn.execute(
        """INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail)
           VALUES (%s, %s, %s, %s, %s) RETURNING id""",
        (tenant_id, event_type, correlation_id, occurred_at, Jsonb(detail)),
    ).fetchone()
    assert row is not None
    count_written()
    return int(row[0])


def put_many(conn: psycopg.Connection, rows: Sequence[OutboxEvent]) -> None:
    """Write many events in one statement, in the order given (ids ascend with it); each row is
    counted like ``put``'s. The rows travel as one JSON document, encoded by orjson."""
    if not rows:
        return
    batch = [
        {"o": n, "t": r.tenant_id, "et": r.event_type, "ci": r.correlation_id, "at": r.occurred_at, "d": r.detail}
        for n, r in enumerate(rows)
    ]
    conn.execute(
        """INSERT INTO events_outbox (tenant_id, event_type, correlation_id, occurred_at, detail)
           SELECT t, et, ci, at, d FROM jsonb_to_recordset(%s::jsonb)
                AS x(o int, t text, et text, ci text, at timestamptz, d jsonb)
           ORDER BY o""",
        (orjson.dumps(batch).decode(),),
    )
    for _ in rows:
        count_written()


def claim(conn: psycopg.Connection, limit: int, *, after_id: int = 0) -> list[OutboxRow]:
    """The oldest unpublished rows (ids above ``after_id``) of every tenant, locked until the caller's
    transaction ends; rows another publisher holds are skipped, so two never send a row at once."""
    rows = conn.execute(
        """SELECT id, tenant_id, event_type, correlation_id, occurred_at, detail, attempts FROM events_outbox
           WHERE published_at IS NULL AND id > %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
        (after_id, limit),
    ).fetchall()
    return [OutboxRow(*row) for row in rows]


def mark_published(conn: psycopg.Connection, ids: list[int], at: datetime) -> None:
    conn.execute(
        """UPDATE events_outbox SET published_at = %s, attempts = attempts + 1, last_error = NULL
           WHERE id = ANY(%s)""",
        (at, ids),
    )


def mark_failed(conn: psycopg.Connection, failures: dict[int, str]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE events_outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s",
            [(error[:1000], outbox_id) for outbox_id, error in failures.items()],
        )


def unpublished_count(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM events_outbox WHERE published_at IS NULL").fetchone()
    return int(row[0]) if row else 0
