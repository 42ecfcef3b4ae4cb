"""``pulse dev``: PostgreSQL, the emulator with the deployed stack, the seed, the simulator and the portal.

Prints what runs where and "ready", then waits. Ctrl-C or SIGTERM stops, in reverse order, every
process it started (the portal server, a thread of this process; the simulator; the emulator, which
writes its state on the way out; and the database cluster when this run started it). A second run
resumes with everything kept.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from pulse.errors import ConfigurationError
from pulse.local import demo, deploy, emulator, gaps, portal
from pulse.local.database import LocalDatabase, remembered_port
from pulse.local.layout import STACK_NAME, LocalLayout
from pulse.local.processes import Supervisor, alive
from pulse.local.seed import DEFAULT_DEVICE_COUNT, DEMO_TENANT, Broker, seed
from pulse.platform.aws.iot import IotRegistry
from pulse.settings import get_settings

SIM_QUERY = "select device_id, count(*) from telemetry group by 1 order by 1"
EMULATOR_STOP_TIMEOUT_S = 20.0  # state is written on the way out (~2 s; more with many Lambdas warm)


@dataclass
class DevOptions:
    devices: int = DEFAULT_DEVICE_COUNT
    simulator: bool = True
    sim_args: list[str] = field(default_factory=list)
    gateway_port: int = emulator.DEFAULT_GATEWAY_PORT
    mqtt_port: int = emulator.DEFAULT_MQTT_PORT
    redeploy: bool = False
    portal_port: int | None = None  # None: the port of PULSE_PORTAL_ORIGIN (http://localhost:8080)


class Stop(Exception):
    """SIGINT/SIGTERM arrived."""


def _say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def _signals_stop() -> Iterator[None]:
    def raise_stop(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """While children are being stopped, a second Ctrl-C must not abandon the ones left."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Running:
    """What ``pulse dev`` is running now, as the other commands read it from ``.pulse/run.json``."""

    endpoint: str
    gateway_port: int
    mqtt_port: int
    launcher_pid: int

    @classmethod
    def read(cls, layout: LocalLayout) -> Running:
        data = layout.read_json(layout.run_file)
        try:
            running = cls(
                str(data["endpoint"]), int(data["gateway_port"]), int(data["mqtt_port"]), int(data["launcher_pid"])
            )
        except (KeyError, TypeError, ValueError):
            running = None
        if running is None or not alive(running.launcher_pid) or emulator.health(running.endpoint) is None:
            raise ConfigurationError("the local emulator is not running: start it with `pulse dev` (or `make dev`)")
        return running


class DevPlatform:
    """The steps of ``pulse dev``; tests drive the same object with their own layout and ports."""

    def __init__(self, layout: LocalLayout, options: DevOptions, *, say: Callable[[str], None] = _say) -> None:
        self.layout = layout
        self.options = options
        self.say = say
        self.database = LocalDatabase.from_settings(layout, get_settings())
        self.supervisor = Supervisor()
        self.started_database = False
        self.outputs: dict[str, str] = {}
        self.logins: list[demo.Login] = []
        self.config: emulator.EmulatorConfig | None = None
        self.portal: portal.PortalServer | None = None

    def _step(self, what: str) -> float:
        self.say(f"... {what}")
        return time.monotonic()

    def start_database(self) -> None:
        t = self._step("PostgreSQL")
        self.started_database = self.database.start()
        applied = self.database.migrate()
        self.say(
            f"    {'external ' if self.database.external else ''}database ready"
            f"{f', applied migrations {applied}' if applied else ''} ({time.monotonic() - t:.1f} s)"
        )

    def start_emulator(self) -> None:
        t = self._step(f"ministack {emulator.MINISTACK_VERSION}")
        python = emulator.ensure_installed(self.layout.ministack_venv, self.layout.repo_root)
        host = f"{sys.version_info.major}.{sys.version_info.minor}"
        if (found := emulator.interpreter_version(python)) != host:
            raise emulator.EmulatorError(
                f"ministack's venv runs Python {found} but the host layer is built for "
                f"{host}: delete .pulse/ministack/venv"
            )
        gateway = remembered_port(self.layout, "gateway", self.options.gateway_port)
        mqtt = remembered_port(self.layout, "mqtt", self.options.mqtt_port)
        self.config = config = emulator.default_config(self.layout, gateway, mqtt)
        emulator.prepare(config)
        child = self.supervisor.start(
            "ministack",
            emulator.start_command(python),
            log_file=config.log_file,
            env=config.environment(),
            cwd=self.layout.ministack,
            stop_signal=signal.SIGINT,
            stop_timeout_s=EMULATOR_STOP_TIMEOUT_S,
        )
        emulator.wait_ready(config, alive=child.running)
        self.layout.write_json(
            self.layout.run_file,
            {"endpoint": config.endpoint, "gateway_port": gateway, "mqtt_port": mqtt, "launcher_pid": os.getpid()},
        )
        self.say(f"    listening on {config.endpoint}, MQTT mTLS on {mqtt} ({time.monotonic() - t:.1f} s)")

    def deploy_stack(self) -> None:
        assert self.config is not None
        t = self._step(f"stack {STACK_NAME}")
        result = deploy.deploy(self.layout, self.config.endpoint, force=self.options.redeploy)
        self.outputs = result.outputs
        template = self.layout.cdk_out / f"{STACK_NAME}.template.json"
        fixed = gaps.apply_fixes(
            emulator.MINISTACK_VERSION,
            self.config.endpoint,
            template if result.action in ("created", "updated") else None,
        )
        deploy.point_database_secret(self.config.endpoint, self.outputs, self.database.url)
        self.say(f"    {result.action}{f', gap fixes {fixed}' if fixed else ''} ({time.monotonic() - t:.1f} s)")

    def seed(self) -> None:
        assert self.config is not None
        t = self._step(f"seed: tenant {DEMO_TENANT!r}, {self.options.devices} devices")
        broker = Broker(host="localhost", port=self.config.mqtt_port, ca_pem=emulator.fetch_ca(self.config.endpoint))
        report = seed(
            IotRegistry(emulator.boto_client("iot", self.config.endpoint)),
            self.database.url,
            policy_name=self.outputs["DevicePolicyName"],
            broker=broker,
            devices_dir=self.layout.devices,
            device_count=self.options.devices,
        )
        sites = demo.seed_sites(self.database.url, DEMO_TENANT, report.devices)
        self.logins = demo.seed_logins(
            emulator.boto_client("cognito-idp", self.config.endpoint),
            self.outputs["UserPoolId"],
            DEMO_TENANT,
            self.layout.logins_file,
        )
        self.say(
            f"    {len(report.devices)} devices, {len(report.provisioned)} newly provisioned, "
            f"{len(demo.DEMO_SITES)} sites ({sites} new), {len(self.logins)} logins ({time.monotonic() - t:.1f} s)"
        )

    def start_simulator(self) -> None:
        if not self.options.simulator:
            return
        if importlib.util.find_spec("pulse_sim") is None:
            self.say("    simulator (pulse_sim) is not installed: skipped")
            return
        argv = [
            sys.executable,
            "-m",
            "pulse_sim",
            "--credentials",
            str(self.layout.devices),
            "--devices",
            str(self.options.devices),
            *self.options.sim_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        self.supervisor.start(
            "sim",
            argv,
            log_file=self.layout.log("sim"),
            env=env,
            cwd=self.layout.repo_root,
            stop_signal=signal.SIGINT,
            stop_timeout_s=10,
        )

    def start_portal(self) -> None:
        """Serve frontend/dist (built by the Makefile, not here) with config.json and the /api proxy."""
        assert self.config is not None
        wanted = self.options.portal_port or urlsplit(get_settings().portal_origin).port or portal.DEFAULT_PORT
        t = self._step("portal")
        dist = self.layout.repo_root / "frontend" / "dist"
        self.portal = portal.start_local_portal(
            dist,
            self.config.endpoint,
            self.outputs,
            port=emulator.pick_port(wanted),
            access_log=self.layout.log("portal"),
        )
        moved = f", port {wanted} is taken" if self.portal.port != wanted else ""
        self.say(
            f"    {self.portal.origin}, {self.portal.uploaded} changed file(s) put into the portal bucket{moved} "
            f"({time.monotonic() - t:.1f} s)"
        )
        if not self.portal.site.built:
            self.say(
                f"    {dist.relative_to(self.layout.repo_root)}/index.html is missing: the portal answers 503 until it "
                "is built (`make frontend/dist/index.html`; `make dev` builds it first). Everything else runs."
            )

    def start(self) -> None:
        for folder in (self.layout.root, self.layout.logs):
            folder.mkdir(parents=True, exist_ok=True)
        self.start_database()
        self.start_emulator()
        self.deploy_stack()
        self.seed()
        self.start_simulator()
        self.start_portal()

    def stop(self) -> None:
        with _signals_ignored():
            if self.portal is not None:
                self.portal.stop()
            self.supervisor.stop_all()
            if self.started_database:
                self.database.stop()
            self.layout.run_file.unlink(missing_ok=True)

    def summary(self) -> list[str]:
        assert self.config is not None
        endpoint = self.config.endpoint
        api = gaps.http_api_local_url(endpoint, self.outputs.get("DeviceHttpApiUrl", ""))
        rest = gaps.http_api_local_url(endpoint, self.outputs.get("ApiUrl", "")) + "api/v1"
        pulse = _pulse_command()
        lines = []
        if self.portal is not None:
            admin = next((login for login in self.logins if login.role == "customer_admin"), None)
            login = f"   (login as {admin.email} / {admin.password})" if admin else ""
            lines.append(f"  portal                {self.portal.origin}{login}")
        lines += [
            f'  API                   {rest}   (e.g. curl -H "Authorization: Bearer $({pulse} token)" {rest}/devices)',
            f"  emulator (AWS APIs)   {endpoint}   (health: {endpoint}/_ministack/health; "
            f"AWS_ENDPOINT_URL={endpoint} aws ...)",
            f"  MQTT broker (mTLS)    localhost:{self.config.mqtt_port}   (CA {self.layout.devices / 'ca.pem'})",
            f"  HTTP ingest           {api}ingest/v1/tenants/{DEMO_TENANT}/devices/<device>/telemetry",
            f"  PostgreSQL            {_redacted(self.database.url)}   ({pulse} db psql)",
            f"  devices               {self.options.devices} in tenant {DEMO_TENANT!r}, credentials in "
            f"{self.layout.devices}",
        ]
        if any(child.name == "sim" for child in self.supervisor.children):
            lines.append(f"  simulator             {self.options.devices} devices publishing ({pulse} logs sim)")
        lines += ["", "  logins (Cognito in the emulator; `pulse token EMAIL` prints an ID token):"]
        lines += [f"    {login.role:16} {login.email:28} {login.password}" for login in self.logins]
        lines += [
            "",
            f"  logs                  {self.layout.logs}/   ({pulse} logs [ministack|sim])",
            "",
            "  telemetry arriving:   " + f'{pulse} db psql -c "{SIM_QUERY}"',
        ]
        return lines

    def wait(self) -> None:
        """Until a signal (raises Stop) or the emulator dies."""
        reported: set[str] = set()
        while True:
            for child in self.supervisor.exited():
                if child.name == "ministack":
                    raise emulator.EmulatorError(
                        f"ministack exited (status {child.process.returncode}); see {child.log_file}"
                    )
                if child.name not in reported:
                    reported.add(child.name)
                    self.say(f"{child.name} exited with status {child.process.returncode}; see {child.log_file}")
            time.sleep(0.5)


def _pulse_command() -> str:
    """How to call the launcher from the repository root (the console script lives in the venv)."""
    return ".venv/bin/pulse"


def _redacted(url: str) -> str:
    if "@" in url and ":" in url.split("://", 1)[-1].split("@", 1)[0]:
        scheme, rest = url.split("://", 1)
        user = rest.split(":", 1)[0]
        return f"{scheme}://{user}:***@{rest.split('@', 1)[1]}"
    return url


def run_dev(layout: LocalLayout, options: DevOptions) -> int:
    platform = DevPlatform(layout, options)
    started = time.monotonic()
    with _signals_stop():
        try:
            platform.start()
            for line in platform.summary():
                platform.say(line)
            platform.say(f"ready in {time.monotonic() - started:.1f} s — Ctrl-C stops everything")
            platform.wait()
        except Stop as stop:
            platform.say(f"\n{stop}: stopping")
        finally:
            platform.stop()
    platform.say("stopped")
    return 0


def running_outputs(layout: LocalLayout) -> tuple[Running, dict[str, Any]]:
    running = Running.read(layout)
    stack = deploy.stack_status(running.endpoint)
    return running, stack or {}
