"""ministack, the local AWS emulator: a pinned install in a virtualenv of its own, started on demand.

Why its own virtualenv: Lambdas run on the emulator's interpreter, so a package that the emulator
happens to have installed would mask a dependency missing from the layer. Its venv holds only
ministack (and what ministack needs), built from the same Python minor version as the host layer
(``pulse:layer_platform=host`` builds wheels for the interpreter running the synth).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.errors import ConfigurationError
from pulse.local.layout import LocalLayout

MINISTACK_VERSION = "1.5.33"
MINISTACK_REQUIREMENT = f"ministack[full]=={MINISTACK_VERSION}"
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
DEFAULT_GATEWAY_PORT = 4566
DEFAULT_MQTT_PORT = 8883
# Credentials the emulator accepts (AUTH is off); never real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


class EmulatorError(ConfigurationError):
    title = "Local emulator error"


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - probing, the emulator binds every interface
        except OSError:
            return False
    return True


def pick_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else a free port the kernel hands out."""
    if port_is_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find_uv(repo_root: Path) -> str | None:
    bundled = repo_root / ".tools" / "bin" / "uv"
    return str(bundled) if bundled.is_file() else shutil.which("uv")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_installed(venv: Path, repo_root: Path, python: str = sys.executable) -> Path:
    """Install the pinned ministack into ``venv`` (once); returns the venv's python.

    ``python`` is the interpreter the host layer is built for: the venv gets the same version.
    """
    marker = venv / f".installed-{MINISTACK_VERSION}"
    if marker.is_file():
        return venv_python(venv)
    shutil.rmtree(venv, ignore_errors=True)
    uv = _find_uv(repo_root)
    try:
        if uv:
            subprocess.run(
                [uv, "venv", "--quiet", "--python", python, str(venv)], check=True, capture_output=True, text=True
            )
            subprocess.run(
                [uv, "pip", "install", "--quiet", "--python", str(venv_python(venv)), MINISTACK_REQUIREMENT],
                check=True,
                capture_output=True,
                text=True,
            )
        else:
            subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
            subprocess.run(
                [str(venv_python(venv)), "-m", "pip", "install", "--quiet", MINISTACK_REQUIREMENT],
                check=True,
                capture_output=True,
                text=True,
            )
    except subprocess.CalledProcessError as exc:
        raise EmulatorError(
            f"could not install {MINISTACK_REQUIREMENT} into {venv}: {exc.stderr.strip()[-2000:]}"
        ) from exc
    marker.write_text(MINISTACK_REQUIREMENT + "\n")
    return venv_python(venv)


def interpreter_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@dataclass(frozen=True)
class EmulatorConfig:
    """How one emulator instance runs: its ports, where it keeps state and writes its log."""

    gateway_port: int
    mqtt_port: int
    state_dir: Path
    tmp_dir: Path
    log_file: Path
    node_bin: Path | None = None  # a supported Node for the CDK trigger's nodejs provider
    auth: bool = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The emulator's environment: the host's, minus anything that would leak into Lambdas."""
        env = {
            k: v
            for k, v in (base if base is not None else os.environ).items()
            if not k.startswith(("PULSE_", "AWS_", "VIRTUAL_ENV", "PYTHON", "CDK_"))
        }
        path = env.get("PATH", "/usr/bin:/bin")
        if self.node_bin is not None:
            path = f"{self.node_bin}{os.pathsep}{path}"
        env.update(
            {
                "PATH": path,
                "GATEWAY_PORT": str(self.gateway_port),
                "IOT_MTLS_PORT": str(self.mqtt_port),
                "MINISTACK_ACCOUNT_ID": ACCOUNT_ID,
                "MINISTACK_REGION": REGION,
                "PERSIST_STATE": "1",
                "S3_PERSIST": "1",
                "STATE_DIR": str(self.state_dir),
                "TMPDIR": str(self.tmp_dir),
                "AUTH": "true" if self.auth else "false",
                "LOG_LEVEL": "INFO",
                **FAKE_CREDENTIALS,
            }
        )
        return env


def start_command(python: Path) -> list[str]:
    return [str(python), "-m", "ministack"]


def prepare(config: EmulatorConfig) -> None:
    """Folders in place; the temp folder emptied (ministack never cleans its Lambda worker dirs)."""
    shutil.rmtree(config.tmp_dir, ignore_errors=True)
    for folder in (config.state_dir, config.tmp_dir, config.log_file.parent):
        folder.mkdir(parents=True, exist_ok=True)


def health(endpoint: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=timeout_s) as response:  # noqa: S310
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def wait_ready(config: EmulatorConfig, alive: Any = None, timeout_s: float = 60.0) -> dict[str, Any]:
    """Wait until the gateway answers and the mTLS listener is up; refuse another ministack version.

    ``alive`` is an optional callable telling whether the process is still running, so a crash at
    start is reported with the log tail at once instead of after the timeout.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise EmulatorError(f"ministack exited during start; see {config.log_file}:\n{_tail(config.log_file)}")
        state = health(config.endpoint)
        if state is not None and state.get("iot_mtls") == "listening":
            check_version(str(state.get("version")))
            return state
        time.sleep(0.1)
    raise EmulatorError(
        f"ministack did not become ready on {config.endpoint} within {timeout_s:.0f} s; "
        f"see {config.log_file}:\n{_tail(config.log_file)}"
    )


def check_version(running: str) -> None:
    """Every gap fix in ``pulse.local.gaps`` was measured on one version: another one is an error."""
    if running != MINISTACK_VERSION:
        raise EmulatorError(
            f"ministack {running} is running, Pulse's local target is pinned to {MINISTACK_VERSION}: "
            "its emulator gap fixes are verified for that version only. Delete "
            ".pulse/ministack/venv to reinstall the pinned version."
        )


def fetch_ca(endpoint: str) -> str:
    """The emulator's Local CA: it signs device certificates and the broker's server certificate."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_ministack/iot/ca.pem", timeout=5) as response:  # noqa: S310
            return str(response.read().decode())
    except (urllib.error.URLError, OSError) as exc:
        raise EmulatorError(f"cannot fetch the emulator CA from {endpoint}: {exc}") from exc


def boto_client(service: str, endpoint: str) -> Any:
    """A boto3 client for the emulator (fake credentials, fixed region)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=120),
    )


def _tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def default_config(layout: LocalLayout, gateway_port: int, mqtt_port: int) -> EmulatorConfig:
    node_bin = layout.repo_root / "tooling" / "node_modules" / ".bin"
    return EmulatorConfig(
        gateway_port=gateway_port,
        mqtt_port=mqtt_port,
        state_dir=layout.ministack_state,
        tmp_dir=layout.tmp,
        log_file=layout.log("ministack"),
        node_bin=node_bin if (node_bin / "node").exists() else None,
    )
