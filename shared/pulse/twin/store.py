"""The twin's SQL (psycopg 3), nothing else. Callers own the transaction (and the tenant in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from pulse.twin.document import TwinDocument


@dataclass(frozen=True, slots=True)
class TwinSettings:
    auto_clear: bool = False
    convergence_minutes: int | None = None  # None: the platform default


@dataclass(frozen=True, slots=True)
class TwinRevision:
    version: int
    at: datetime
    source: str
    actor: str
    client_token: str | None
    request: dict[str, Any]
    document: TwinDocument


@dataclass(frozen=True, slots=True)
class PendingDesired:
    """A desired leaf that reported had not matched by its deadline."""

    tenant_id: str
    device_id: str
    path: str
    desired: Any
    desired_version: int
    set_at: datetime


def device_exists(conn: psycopg.Connection, tenant_id: str, device_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM devices WHERE tenant_id = %s AND id = %s", (tenant_id, device_id)).fetchone()
    return row is not None


def read_settings(conn: psycopg.Connection, tenant_id: str) -> TwinSettings:
    row = conn.execute(
        "SELECT auto_clear, convergence_minutes FROM twin_settings WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()
    return TwinSettings(bool(row[0]), row[1]) if row else TwinSettings()


def write_settings(conn: psycopg.Connection, tenant_id: str, settings: TwinSettings) -> None:
    conn.execute(
        """INSERT INTO twin_settings (tenant_id, auto_clear, convergence_minutes) VALUES (%s, %s, %s)
           ON CONFLICT (tenant_id) DO UPDATE SET auto_clear = excluded.auto_clear,
               convergence_minutes = excluded.convergence_minutes, updated_at = now()""",
        (tenant_id, settings.auto_clear, settings.convergence_minutes),
    )


def read_twin(conn: psycopg.Connection, tenant_id: str, device_id: str) -> TwinDocument | None:
    row = conn.execute(
        "SELECT document FROM device_twins WHERE tenant_id = %s AND device_id = %s", (tenant_id, device_id)
    ).fetchone()
    return TwinDocument.from_storage(row[0]) if row else None


def lock_twin(conn: psycopg.Connection, tenant_id: str, device_id: str) -> TwinDocument:
    """The current document, its row locked until the transaction ends (version 0 if never updated).

    The empty row is inserted first so that two first updates serialize on the same row lock; it
    disappears with the transaction if the update is refused.
    """
    conn.execute(
        """INSERT INTO device_twins (tenant_id, device_id, document, version) VALUES (%s, %s, %s, 0)
           ON CONFLICT (tenant_id, device_id) DO NOTHING""",
        (tenant_id, device_id, Jsonb(TwinDocument().to_storage())),
    )
    row = conn.execute(
        "SELECT document FROM device_twins WHERE tenant_id = %s AND device_id = %s FOR UPDATE", (tenant_id, device_id)
    ).fetchone()
    assert row is not None
    return TwinDocument.from_storage(row[0])


def save_revision(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    document: TwinDocument,
    *,
    at: datetime,
    source: str,
    actor: str,
    request: dict[str, Any],
    client_token: str | None,
) -> None:
    stored = Jsonb(document.to_storage())
    conn.execute(
        """UPDATE device_twins SET document = %s, version = %s, updated_at = %s
                    WHERE tenant_id = %s AND device_id = %s""",
        (stored, document.version, at, tenant_id, device_id),
    )
    conn.execute(
        """INSERT INTO device_twin_revisions
               (tenant_id, device_id, version, at, source, actor, client_token, request, document)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (tenant_id, device_id, document.version, at, source, actor, client_token, Jsonb(request), stored),
    )


_REVISION_COLUMNS = "version, at, source, actor, client_token, request, document"


def _revision(row: tuple[Any, ...]) -> TwinRevision:
    return TwinRevision(
        version=row[0],
        at=row[1],
        source=row[2],
        actor=row[3],
        client_token=row[4],
        request=row[5],
        document=TwinDocument.from_storage(row[6]),
    )


def revision_at_version(conn: psycopg.Connection, tenant_id: str, device_id: str, version: int) -> TwinRevision | None:
    row = conn.execute(
        f"""SELECT {_REVISION_COLUMNS} FROM device_twin_revisions
                           WHERE tenant_id = %s AND device_id = %s AND version = %s""",
        (tenant_id, device_id, version),
    ).fetchone()
    return _revision(row) if row else None


def revision_at_time(conn: psycopg.Connection, tenant_id: str, device_id: str, at: datetime) -> TwinRevision | None:
    row = conn.execute(
        f"""SELECT {_REVISION_COLUMNS} FROM device_twin_revisions
                           WHERE tenant_id = %s AND device_id = %s AND at <= %s
                           ORDER BY version DESC LIMIT 1""",
        (tenant_id, device_id, at),
    ).fetchone()
    return _revision(row) if row else None


def revisions(
    conn: psycopg.Connection, tenant_id: str, device_id: str, *, before_version: int | None, limit: int
) -> list[TwinRevision]:
    """Newest first; ``before_version`` is the keyset cursor (the last version of the previous page)."""
    rows = conn.execute(
        f"""SELECT {_REVISION_COLUMNS} FROM device_twin_revisions
                            WHERE tenant_id = %s AND device_id = %s AND version < %s
                            ORDER BY version DESC LIMIT %s""",
        (tenant_id, device_id, before_version if before_version is not None else 2**31 - 1, limit),
    ).fetchall()
    return [_revision(r) for r in rows]


def sync_pending(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    *,
    pending: dict[str, Any],
    restarted: set[str],
    version: int,
    at: datetime,
) -> None:
    """Make the pending rows exactly the delta's leaves (``pending``: pointer -> desired value).

    Leaves in ``restarted`` were written by this update: their clock and version start again (a new
    desired change, worth a new event). Others keep their row, or get one starting now.
    """
    conn.execute(
        "DELETE FROM twin_pending_desired WHERE tenant_id = %s AND device_id = %s AND NOT path = ANY(%s)",
        (tenant_id, device_id, list(pending)),
    )
    if not pending:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO twin_pending_desired AS p (tenant_id, device_id, path, desired, desired_version, set_at)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (tenant_id, device_id, path) DO UPDATE
               SET desired = excluded.desired, desired_version = excluded.desired_version,
                   set_at = excluded.set_at, notified_at = NULL
               WHERE %s""",
            [
                (tenant_id, device_id, path, Jsonb(value), version, at, path in restarted)
                for path, value in pending.items()
            ],
        )


def claim_overdue(conn: psycopg.Connection, now: datetime, default_minutes: int, limit: int) -> list[PendingDesired]:
    """Pending leaves past their tenant's deadline and not yet reported, locked and marked notified.

    Crosses tenants: run it as pulse_operator (or the owner). SKIP LOCKED lets two runs share the work.
    """
    rows = conn.execute(
        """WITH due AS (
               SELECT p.tenant_id, p.device_id, p.path FROM twin_pending_desired p
               LEFT JOIN twin_settings s ON s.tenant_id = p.tenant_id
               WHERE p.notified_at IS NULL
                 AND p.set_at <= %(now)s - make_interval(mins => coalesce(s.convergence_minutes, %(default)s))
               ORDER BY p.set_at LIMIT %(limit)s
               FOR UPDATE OF p SKIP LOCKED)
           UPDATE twin_pending_desired p SET notified_at = %(now)s FROM due
           WHERE (p.tenant_id, p.device_id, p.path) = (due.tenant_id, due.device_id, due.path)
           RETURNING p.tenant_id, p.device_id, p.path, p.desired, p.desired_version, p.set_at""",
        {"now": now, "default": default_minutes, "limit": limit},
    ).fetchall()
    return [PendingDesired(*row) for row in rows]


def add_event(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    event_name: str,
    event_key: str,
    occurred_at: datetime,
    data: dict[str, Any],
) -> bool:
    """Append to the outbox; False when this (event, key) was raised before."""
    cur = conn.execute(
        """INSERT INTO twin_events (tenant_id, device_id, event_name, event_key, occurred_at, data)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, device_id, event_name, event_key) DO NOTHING""",
        (tenant_id, device_id, event_name, event_key, occurred_at, Jsonb(data)),
    )
    return cur.rowcount == 1
