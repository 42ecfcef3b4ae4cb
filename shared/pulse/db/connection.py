"""psycopg 3 connections for Lambdas, the CLI and tests.

One long-lived connection per process (a Lambda container handles one event at a time), opened
lazily, re-opened after the server went away. Every function that touches tenant data runs inside
``tenant_transaction`` so that row-level security sees ``app.tenant_id`` for exactly that
transaction (``set_config(..., true)`` is transaction-local, so a pooled connection never leaks a
tenant into the next request).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads

from pulse.errors import DatabaseUnavailable
from pulse.observability import logger
from pulse.settings import DbRole, Settings

set_json_dumps(lambda obj: orjson.dumps(obj).decode())
set_json_loads(orjson.loads)


class Database:
    """Owns the process's connection; ``connection()`` hands it out healthy or raises."""

    def __init__(
        self, url: str, role: DbRole = "owner", *, connect_timeout_s: int = 5, statement_timeout_ms: int = 30_000
    ) -> None:
        self._url = url
        self._role = role
        self._connect_timeout_s = connect_timeout_s
        self._statement_timeout_ms = statement_timeout_ms
        self._conn: psycopg.Connection | None = None
        self._bypasses_rls = False

    @classmethod
    def from_settings(cls, settings: Settings, url: str) -> Database:
        return cls(
            url,
            settings.db_role,
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )

    def _open(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self._url, connect_timeout=self._connect_timeout_s, application_name="pulse")
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
        with conn.transaction():
            conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(self._statement_timeout_ms),))
            if self._role != "owner":
                # Role names are a closed Literal, never user input.
                conn.execute(f"SET ROLE {self._role}")
            row = conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
            self._bypasses_rls = bool(row and row[0])
        return conn

    @property
    def bypasses_rls(self) -> bool:
        """Whether the session's role skips row-level security (decides how ingest may COPY)."""
        self.connection()
        return self._bypasses_rls

    def connection(self) -> psycopg.Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                logger.warning("database connection lost; reconnecting")
            conn = self._conn = self._open()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A transaction on the process connection; connection failures become DatabaseUnavailable."""
        conn = self.connection()
        try:
            with conn.transaction():
                yield conn
        except psycopg.OperationalError as exc:
            self.close()
            raise DatabaseUnavailable(f"database error: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@contextmanager
def tenant_transaction(db: Database, tenant_id: str) -> Iterator[psycopg.Connection]:
    """A transaction in which row-level security admits only ``tenant_id``'s rows."""
    with db.transaction() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        yield conn
