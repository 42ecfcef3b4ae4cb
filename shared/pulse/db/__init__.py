"""PostgreSQL access: connections with a per-transaction tenant context, and migrations."""

from pulse.db.connection import Database, tenant_transaction

__all__ = ["Database", "tenant_transaction"]
