"""Bring up the local platform for tests and benchmarks: its own emulator (temp state, free
ports), the synthesized template deployed into it, the stack's secret pointed at a given database,
and devices provisioned with certificates; on demand, the portal served for it (``LocalPlatform.portal``)."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pulse.local import deploy, emulator, gaps
from pulse.local.layout import REPO_ROOT, STACK_NAME, LocalLayout
from pulse.local.pgcluster import free_port
from pulse.local.portal import PortalServer, serving_portal
from pulse.local.processes import Supervisor
from pulse.local.seed import Broker, seed
from pulse.platform.aws.iot import IotRegistry


@dataclass(frozen=True)
class LocalPlatform:
    layout: LocalLayout
    endpoint: str
    database_url: str
    outputs: dict[str, str]

    @property
    def credentials(self) -> Path:
        return self.layout.devices

    @contextmanager
    def portal(self, *, port: int = 0, dist: Path | None = None) -> Iterator[PortalServer]:
        """The portal as `pulse dev` serves it, on a free port by default: ``frontend/dist`` (built by the
        Makefile), ``/config.json`` for this emulator and ``/api/*`` proxied to its HTTP API. Open
        ``server.origin`` (``http://localhost:<port>``, registered as a callback of the Cognito client);
        sign in on the emulator's hosted UI (README, Portal). Requests go to ``<layout>/logs/portal.log``."""
        with serving_portal(
            dist or REPO_ROOT / "frontend" / "dist",
            self.endpoint,
            self.outputs,
            port=port,
            access_log=self.layout.log("portal"),
        ) as server:
            yield server


@contextmanager
def running_platform(database_url: str, *, device_count: int) -> Iterator[LocalPlatform]:
    """A fresh emulator (own state and ports) with the stack deployed, pointed at ``database_url``."""
    root = Path(tempfile.mkdtemp(prefix="pulse-e2e-"))
    layout = LocalLayout(repo_root=REPO_ROOT, root=root)
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
            device_count=device_count,
        )
        yield LocalPlatform(layout=layout, endpoint=config.endpoint, database_url=database_url, outputs=result.outputs)
    finally:
        supervisor.stop_all()
        artifacts = REPO_ROOT / "tests" / "e2e" / "artifacts"
        if config.log_file.exists():
            artifacts.mkdir(exist_ok=True)
            shutil.copy(config.log_file, artifacts / "ministack.log")
        shutil.rmtree(root, ignore_errors=True)
