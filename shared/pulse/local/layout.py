"""Where the local platform keeps its state: everything under ``.pulse/`` (git-ignored).

```
.pulse/pg/                project-managed PostgreSQL cluster
.pulse/ministack/venv/    the pinned emulator in a virtualenv of its own
.pulse/ministack/state/   the emulator's persisted state (stacks, certificates, queues)
.pulse/cdk.out/           the synthesized local template and its assets
.pulse/assets/            zipped assets, cached by content hash
.pulse/devices/           simulator credentials (ca.pem, <device>/cert.pem|key.pem|device.json)
.pulse/logs/<name>.log    one log per component (`pulse logs <name>`)
.pulse/tmp/               TMPDIR of the emulator and its Lambda workers, cleared on start
.pulse/run.json           ports and pids of what is running now
.pulse/deployed.json      what was deployed last (source fingerprint, template hash, outputs)
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
STAGE = "local"
STACK_NAME = f"Pulse-{STAGE}"
DATABASE_NAME = "pulse"


def find_repo_root(start: Path | None = None) -> Path:
    """The checkout holding ``cdk.json``: from the working directory up, else this package's."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "cdk.json").is_file() and (candidate / "shared" / "pulse").is_dir():
            return candidate
    return REPO_ROOT


@dataclass(frozen=True)
class LocalLayout:
    repo_root: Path
    root: Path

    @classmethod
    def for_repo(cls, repo_root: Path | None = None) -> LocalLayout:
        repo = repo_root or find_repo_root()
        return cls(repo_root=repo, root=repo / ".pulse")

    @property
    def pg(self) -> Path:
        return self.root / "pg"

    @property
    def ministack(self) -> Path:
        return self.root / "ministack"

    @property
    def ministack_venv(self) -> Path:
        return self.ministack / "venv"

    @property
    def ministack_state(self) -> Path:
        return self.ministack / "state"

    @property
    def cdk_out(self) -> Path:
        return self.root / "cdk.out"

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def devices(self) -> Path:
        return self.root / "devices"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def logins_file(self) -> Path:
        """Generated passwords of the seeded Cognito users (mode 0600)."""
        return self.root / "logins.json"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def deployed_file(self) -> Path:
        return self.root / "deployed.json"

    def read_json(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(staging, path)
