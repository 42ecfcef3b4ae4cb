"""``pulse dev`` started as a user would, stopped with Ctrl-C (SIGINT): nothing it started survives."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pulse.local.layout import REPO_ROOT
from pulse.local.pgcluster import PgCluster, free_port
from pulse.local.processes import alive, descendants
from tests.e2e.platform import LocalPlatform

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60


def _wait_for_ready(process: subprocess.Popen[str], transcript: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("pulse dev exited before ready:\n" + "".join(transcript))
        transcript.append(line)
        if line.startswith("ready"):
            return
    raise AssertionError("pulse dev not ready in time:\n" + "".join(transcript))


def test_ctrl_c_stops_every_process_it_started(local_platform: LocalPlatform) -> None:
    # Given a second platform in its own state folder, reusing the session's synthesized template
    root = Path(tempfile.mkdtemp(prefix="pulse-e2e-dev-"))
    root.chmod(0o755)  # the PostgreSQL server runs as `postgres` when the tests run as root
    for shared in ("cdk.out", "assets"):
        (root / shared).symlink_to(local_platform.layout.root / shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse",
            "dev",
            "--state-dir",
            str(root),
            "--devices",
            "2",
            "--port",
            str(free_port()),
            "--mqtt-port",
            str(free_port()),
            "--sim-arg=--rate",
            "--sim-arg=2/s",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    transcript: list[str] = []
    try:
        _wait_for_ready(process, transcript)
        started = descendants(process.pid)
        postmaster = int((root / "pg" / "postmaster.pid").read_text().split()[0])
        names = {
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for pid in started
            if alive(pid)
        }
        assert any("ministack" in n for n in names), names
        assert any("pulse_sim" in n for n in names), names

        # When the user presses Ctrl-C
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=STOP_TIMEOUT_S)
        transcript.append(output)

        # Then it exits cleanly and none of the processes it started is left
        assert process.returncode == 0, "".join(transcript)
        assert "stopped" in output
        survivors = [pid for pid in (*started, postmaster) if alive(pid)]
        assert survivors == [], f"still running: {survivors}\n{''.join(transcript)}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in descendants(process.pid):
            os.kill(pid, signal.SIGKILL)
        PgCluster(datadir=root / "pg", port=0).stop("immediate")  # only if the test failed half-way
        shutil.rmtree(root, ignore_errors=True)
