"""The database of the local platform: the project cluster under ``.pulse/pg``, or an external server.

``PULSE_DATABASE_URL`` (the settings object's ``database_url``) set means an external server
(e.g. Timescale): nothing is started or stopped, the launcher only migrates and seeds it.
Otherwise the cluster listens on 127.0.0.1:54329 (or a free port when that one is taken; the
choice is kept in ``.pulse/ports.json``) and holds the database ``pulse``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from pulse.db.migrate import migrate
from pulse.errors import ConfigurationError
from pulse.local.emulator import pick_port
from pulse.local.layout import DATABASE_NAME, LocalLayout
from pulse.local.pgcluster import PgCluster
from pulse.settings import Settings

DEFAULT_PG_PORT = 54329


def _running_port(datadir: Path) -> int | None:
    """The port of a cluster already running from ``datadir`` (line 4 of postmaster.pid)."""
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def remembered_port(layout: LocalLayout, name: str, preferred: int) -> int:
    """A port chosen once per checkout and reused while free (``.pulse/ports.json``)."""
    ports = layout.read_json(layout.root / "ports.json")
    current = ports.get(name)
    port = current if isinstance(current, int) and pick_port(current) == current else pick_port(preferred)
    if port != current:
        layout.write_json(layout.root / "ports.json", {**ports, name: port})
    return port


@dataclass
class LocalDatabase:
    layout: LocalLayout
    external_url: str | None = None

    @classmethod
    def from_settings(cls, layout: LocalLayout, settings: Settings) -> LocalDatabase:
        url = settings.database_url.get_secret_value() if settings.database_url is not None else None
        return cls(layout=layout, external_url=url)

    @property
    def external(self) -> bool:
        return self.external_url is not None

    def cluster(self) -> PgCluster:
        port = _running_port(self.layout.pg) or remembered_port(self.layout, "postgres", DEFAULT_PG_PORT)
        return PgCluster(datadir=self.layout.pg, port=port, fast=False)

    @property
    def url(self) -> str:
        if self.external_url is not None:
            return self.external_url
        return self.cluster().database_url(DATABASE_NAME)

    def running(self) -> bool:
        return self.external or self.cluster().running()

    def start(self) -> bool:
        """Start the cluster if needed; True when this call started it (so the caller stops it)."""
        if self.external:
            return False
        cluster = self.cluster()
        if cluster.running():
            started = False
        else:
            cluster.start()
            started = True
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone() is None:
                conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
        return started

    def stop(self) -> None:
        if not self.external:
            self.cluster().stop()

    def migrate(self) -> list[int]:
        with psycopg.connect(self.url) as conn:
            return migrate(conn)

    def reset(self) -> None:
        """Drop and recreate the database, then migrate (the cluster itself stays)."""
        if self.external:
            raise ConfigurationError("PULSE_DATABASE_URL points at an external server: reset it there")
        self.start()
        cluster = self.cluster()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE_NAME}")
        self.migrate()
