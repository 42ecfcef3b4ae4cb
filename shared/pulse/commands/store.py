"""The commands' SQL (psycopg 3), nothing else. Callers own the transaction and its tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pulse.commands.models import OPEN, Command, CommandAck, CommandStatus

_COLUMNS = (
    "id, device_id, name, params, status, expires_at, result, error, created_by, created_at, sent_at, acked_at, "
    "finished_at"
)


def insert(conn: psycopg.Connection, tenant_id: str, command: Command) -> None:
    conn.execute(
        """INSERT INTO commands (tenant_id, id, device_id, name, params, status, expires_at, created_by, created_at,
                                 updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            tenant_id,
            command.id,
            command.device_id,
            command.name,
            Jsonb(command.params),
            command.status.value,
            command.expires_at,
            command.created_by,
            command.created_at,
            command.created_at,
        ),
    )


def get(conn: psycopg.Connection, tenant_id: str, command_id: str, *, lock: bool = False) -> Command | None:
    with conn.cursor(row_factory=class_row(Command)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM commands WHERE tenant_id = %s AND id = %s" + (" FOR UPDATE" if lock else ""),
            (tenant_id, command_id),
        ).fetchone()


def for_device(
    conn: psycopg.Connection, tenant_id: str, device_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[Command]:
    """Newest first; ``after`` is the (created_at, id) of the previous page's last row."""
    keyset = "AND (created_at, id) < (%s, %s)" if after else ""
    args: tuple[Any, ...] = (tenant_id, device_id, *(after or ()), limit)
    with conn.cursor(row_factory=class_row(Command)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM commands WHERE tenant_id = %s AND device_id = %s {keyset}
                ORDER BY created_at DESC, id DESC LIMIT %s""",
            args,
        ).fetchall()


def mark_sent(conn: psycopg.Connection, tenant_id: str, command_id: str, at: datetime) -> None:
    conn.execute(
        """UPDATE commands SET status = 'sent', sent_at = %s, updated_at = %s
           WHERE tenant_id = %s AND id = %s AND status = 'queued'""",
        (at, at, tenant_id, command_id),
    )


def record_ack(conn: psycopg.Connection, tenant_id: str, command_id: str, ack: CommandAck, at: datetime) -> None:
    finished = at if ack.status != "accepted" else None
    conn.execute(
        """UPDATE commands SET status = %s, result = coalesce(%s, result), error = coalesce(%s, error),
                  acked_at = coalesce(acked_at, %s), finished_at = %s, updated_at = %s
           WHERE tenant_id = %s AND id = %s""",
        (
            ack.status,
            Jsonb(ack.result) if ack.result is not None else None,
            ack.error,
            at,
            finished,
            at,
            tenant_id,
            command_id,
        ),
    )


def set_status(conn: psycopg.Connection, tenant_id: str, command_id: str, status: CommandStatus, at: datetime) -> None:
    conn.execute(
        "UPDATE commands SET status = %s, finished_at = %s, updated_at = %s WHERE tenant_id = %s AND id = %s",
        (status.value, at, at, tenant_id, command_id),
    )


def expire_due(conn: psycopg.Connection, now: datetime, limit: int) -> list[tuple[str, Command]]:
    """Open commands past ``expires_at``, set ``expired`` (across tenants: pulse_operator)."""
    rows = conn.execute(
        f"""WITH due AS (SELECT tenant_id, id FROM commands
                         WHERE status = ANY(%s) AND expires_at <= %s
                         ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)
            UPDATE commands c SET status = 'expired', finished_at = %s, updated_at = %s FROM due
            WHERE (c.tenant_id, c.id) = (due.tenant_id, due.id)
            RETURNING c.tenant_id, {", ".join("c." + col.strip() for col in _COLUMNS.split(","))}""",
        ([s.value for s in OPEN], now, limit, now, now),
    ).fetchall()
    names = [c.strip() for c in _COLUMNS.split(",")]
    return [(row[0], Command(**dict(zip(names, row[1:], strict=True)))) for row in rows]
