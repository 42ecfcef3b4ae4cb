"""Child processes of the launcher: each in its own session, logging to its own file, stopped in order.

Own sessions mean a terminal's Ctrl-C reaches only the launcher, which then stops children one
at a time (simulator, emulator), each with the signal that lets it shut down cleanly (the
emulator writes its persisted state on SIGINT), then SIGKILL for whatever of its process group or
descendants is still there after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc; empty where /proc is missing)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may contain spaces and parentheses: the fields after the last ')' are fixed
        fields = stat.rsplit(")", 1)[-1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_file: Path
    stop_signal: int = signal.SIGTERM
    stop_timeout_s: float = 10.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None


@dataclass
class Supervisor:
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        log_file: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        stop_timeout_s: float = 10.0,
    ) -> Child:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(argv)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        child = Child(name, process, log_file, stop_signal, stop_timeout_s)
        self.children.append(child)
        return child

    def exited(self) -> list[Child]:
        return [child for child in self.children if not child.running()]

    def stop(self, child: Child) -> None:
        """Stop one child and everything it started; never leaves a process behind."""
        tree = descendants(child.pid) | {child.pid}
        if child.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, child.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=child.stop_timeout_s)
        tree |= descendants(child.pid) if child.running() else set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # the session's process group: its workers
        for pid in tree:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        child.process.wait()
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        """Last started, first stopped (the simulator before the broker it talks to)."""
        for child in reversed(list(self.children)):
            self.stop(child)
