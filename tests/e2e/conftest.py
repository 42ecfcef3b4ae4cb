"""A fresh local platform for the e2e suite: its own emulator (temp state, free ports) and database.

Deployed once per session: the synthesized template (host layers) goes into a new ministack,
the stack's secret points at a fresh migrated database, and two devices are provisioned.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pulse.local.pgcluster import PgCluster
from tests.conftest import TEMPLATE_DB
from tests.e2e.platform import LocalPlatform, running_platform

E2E_DEVICES = 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.timeout(240))


@pytest.fixture(scope="session")
def local_platform(pg_cluster: PgCluster) -> Iterator[LocalPlatform]:
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE e2e TEMPLATE {TEMPLATE_DB}")
    with running_platform(pg_cluster.database_url("e2e"), device_count=E2E_DEVICES) as platform:
        yield platform
