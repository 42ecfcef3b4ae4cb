"""Migrations at deploy time: the ``migrate`` Lambda, invoked by a CDK trigger after each deployment."""

from __future__ import annotations

from typing import Any

import psycopg

from pulse.db.migrate import migrate
from pulse.observability import logger
from pulse.runtime import database_url
from pulse.settings import get_settings


def run_deploy_migrations() -> dict[str, Any]:
    """Applies pending migrations; any failure raises, which fails the deployment (and rolls it back)."""
    with psycopg.connect(database_url(get_settings()), connect_timeout=10) as conn:
        applied = migrate(conn)
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    logger.info("migrations done", extra={"applied": applied, "schema_version": version[0] if version else None})
    return {"applied": applied, "schema_version": version[0] if version else None}
