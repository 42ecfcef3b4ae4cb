"""Shared fixtures: an ephemeral PostgreSQL cluster, a fresh migrated database per test, moto."""

from __future__ import annotations

import itertools
import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "pulse-test")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pulse import runtime
from pulse.db import Database
from pulse.db.migrate import migrate
from pulse.local.pgcluster import PgCluster, free_port

TEMPLATE_DB = "pulse_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway cluster from the machine's PostgreSQL binaries, removed after the session."""
    cluster = PgCluster(datadir=Path(tempfile.mkdtemp(prefix="pulse-test-pg-")), port=free_port())
    cluster.start()
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        with psycopg.connect(cluster.database_url(TEMPLATE_DB)) as conn:
            migrate(conn)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def database_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A database of its own for each test, cloned from the migrated template."""
    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        yield pg_cluster.database_url(name)
    finally:
        runtime.reset()
        with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def owner_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.close()


@pytest.fixture
def sql(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit owner connection for arranging and inspecting rows."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def lambda_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Environment of a deployed ingest Lambda, pointed at this test's database."""
    monkeypatch.setenv("PULSE_DATABASE_URL", database_url)
    monkeypatch.setenv("PULSE_DB_ROLE", "pulse_ingest")
    runtime.reset()
    yield database_url
    runtime.reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS with fake credentials; nothing leaves the machine."""
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield
