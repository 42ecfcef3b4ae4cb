"""A fresh local platform for the e2e suite: its own emulator (temp state, free ports) and database.

Deployed once per session: the synthesized template (host layers) goes into a new ministack,
the stack's secret points at a fresh migrated database, and two devices are provisioned.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pulse.local import deploy, emulator, gaps
from pulse.local.layout import REPO_ROOT, STACK_NAME, LocalLayout
from pulse.local.pgcluster import PgCluster, free_port
from pulse.local.processes import Supervisor
from pulse.local.seed import Broker, seed
from pulse.platform.aws.iot import IotRegistry
from tests.conftest import TEMPLATE_DB

E2E_DEVICES = 2


@dataclass(frozen=True)
class LocalPlatform:
    layout: LocalLayout
    endpoint: str
    database_url: str
    outputs: dict[str, str]

    @property
    def credentials(self) -> Path:
        return self.layout.devices


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.timeout(240))


@pytest.fixture(scope="session")
def local_platform(pg_cluster: PgCluster) -> Iterator[LocalPlatform]:
    root = Path(tempfile.mkdtemp(prefix="pulse-e2e-"))
    layout = LocalLayout(repo_root=REPO_ROOT, root=root)
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE e2e TEMPLATE {TEMPLATE_DB}")
    database_url = pg_cluster.database_url("e2e")
    # The venv is the repository's (pinned, shared with `make dev`); state and ports are the test's own.
    python = emulator.ensure_installed(REPO_ROOT / ".pulse" / "ministack" / "venv", REPO_ROOT)
    config = emulator.EmulatorConfig(
        gateway_port=free_port(),
        mqtt_port=free_port(),
        state_dir=root / "state",
        tmp_dir=layout.tmp,
        log_file=layout.log("ministack"),
        node_bin=emulator.default_config(layout, 0, 0).node_bin,
    )
    emulator.prepare(config)
    supervisor = Supervisor()
    try:
        child = supervisor.start(
            "ministack",
            emulator.start_command(python),
            log_file=config.log_file,
            env=config.environment(),
            cwd=root,
            stop_signal=signal.SIGINT,
        )
        emulator.wait_ready(config, alive=child.running)
        result = deploy.deploy(layout, config.endpoint)
        gaps.apply_fixes(emulator.MINISTACK_VERSION, config.endpoint, layout.cdk_out / f"{STACK_NAME}.template.json")
        deploy.point_database_secret(config.endpoint, result.outputs, database_url)
        seed(
            IotRegistry(emulator.boto_client("iot", config.endpoint)),
            database_url,
            policy_name=result.outputs["DevicePolicyName"],
            broker=Broker("localhost", config.mqtt_port, emulator.fetch_ca(config.endpoint)),
            devices_dir=layout.devices,
            device_count=E2E_DEVICES,
        )
        yield LocalPlatform(layout=layout, endpoint=config.endpoint, database_url=database_url, outputs=result.outputs)
    finally:
        supervisor.stop_all()
        artifacts = REPO_ROOT / "tests" / "e2e" / "artifacts"
        if config.log_file.exists():
            artifacts.mkdir(exist_ok=True)
            shutil.copy(config.log_file, artifacts / "ministack.log")
        shutil.rmtree(root, ignore_errors=True)
