"""A PostgreSQL cluster run from the machine's binaries, for the test suite, benchmarks and `make dev`.

PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres`` OS user
(``runuser``) and the data folder is handed to it; as any other user it runs as that user. The
superuser is named ``pulse`` and local TCP connections on 127.0.0.1 are trusted: the cluster never
listens beyond loopback.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pulse.errors import ConfigurationError

_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "512MB",
    "max_wal_size": "4GB",
    "timezone": "UTC",
}


def find_pg_bin() -> Path:
    """The folder holding initdb/pg_ctl: PATH first, then /usr/lib/postgresql/<newest>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    raise ConfigurationError(
        "PostgreSQL server binaries not found (looked on PATH and in /usr/lib/postgresql/*/bin); "
        "install them with `apt-get install postgresql`"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    datadir: Path
    port: int
    fast: bool = True

    @property
    def url(self) -> str:
        return f"postgresql://pulse@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://pulse@127.0.0.1:{self.port}/{name}"

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _chown_for_server(self, path: Path) -> None:
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(path, pg.pw_uid, pg.pw_gid)

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        bin_dir = find_pg_bin()
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._chown_for_server(self.datadir)
        os.chmod(self.datadir, 0o700)
        subprocess.run(
            self._as_owner(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    "pulse",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        conf = dict(_FAST_SETTINGS) if self.fast else {"timezone": "UTC"}
        conf.update({"listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.datadir}'"})
        with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            for key, value in conf.items():
                fh.write(f"{key} = {value}\n")

    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists() and self._pg_ctl("status").returncode == 0

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._as_owner([str(find_pg_bin() / "pg_ctl"), "-D", str(self.datadir), *args]),
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, timeout_s: float = 30) -> None:
        if not self.initialized():
            self.init()
        if self.running():
            return
        log = self.datadir / "server.log"
        result = self._pg_ctl("-l", str(log), "-o", f"-p {self.port}", "-w", "-t", str(int(timeout_s)), "start")
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ConfigurationError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise ConfigurationError(f"PostgreSQL is not accepting connections on 127.0.0.1:{self.port}")

    def stop(self, mode: str = "fast") -> None:
        if self.initialized() and (self.datadir / "postmaster.pid").exists():
            self._pg_ctl("-m", mode, "-w", "stop")

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)
