"""Migrations at deploy time: the ``migrate`` Lambda, invoked by a CDK trigger after each deployment."""

from __future__ import annotations

from typing import Any

import psycopg

from pulse.db.migrate import migrate
from pulse.observability import logger
from pulse.runtime import database_url
from pulse.settings import get_settings

_URL_SCHEMES = ("postgresql://", "postgres://")


def run_deploy_migrations() -> dict[str, Any]:
    """Applies pending migrations; a failure raises, which fails (and rolls back) the deployment.

    The first deployment of a stage creates the database secret with a generated placeholder, so
    there is nothing to migrate yet: that case answers ``not_configured`` instead of failing the
    deployment, and DevOps run this function again after putting the real URL into the secret.
    """
    url = database_url(get_settings())
    if not url.startswith(_URL_SCHEMES):
        logger.warning("database secret holds no PostgreSQL URL yet; migrations skipped")
        return {"status": "not_configured", "applied": []}
    with psycopg.connect(url, connect_timeout=10) as conn:
        applied = migrate(conn)
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    version = row[0] if row else None
    logger.info("migrations done", extra={"applied": applied, "schema_version": version})
    return {"status": "migrated", "applied": applied, "schema_version": version}
