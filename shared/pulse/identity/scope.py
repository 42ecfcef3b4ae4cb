"""``TenantScope``: who acts for which tenant, and the transactions that carry it into SQL.

A customer's transaction runs as ``pulse_app`` with ``app.tenant_id`` set, so row-level security
admits only that tenant. An operator acting on a tenant runs as ``pulse_operator``
(``SET LOCAL ROLE``, gone at commit); every such request is in the operator audit log.
Store functions still name the tenant in every WHERE clause, so both paths read the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from pulse.db import Database, tenant_transaction


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as the audit log records it."""

    subject: str
    display: str
    role: str
    request_id: str = ""

    @classmethod
    def system(cls, name: str, request_id: str = "") -> Actor:
        return cls(subject=f"system:{name}", display=name, role="system", request_id=request_id)


@dataclass(frozen=True, slots=True)
class TenantScope:
    db: Database
    tenant_id: str
    actor: Actor
    as_operator: bool = False

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        with tenant_transaction(self.db, self.tenant_id) as conn:
            if self.as_operator:
                conn.execute("SET LOCAL ROLE pulse_operator")
            yield conn


@contextmanager
def operator_transaction(db: Database) -> Iterator[psycopg.Connection]:
    """Cross-tenant work (tenant administration, scheduled jobs) as ``pulse_operator``."""
    with db.transaction() as conn:
        conn.execute("SET LOCAL ROLE pulse_operator")
        yield conn
