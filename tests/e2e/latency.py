"""Device publish -> telemetry row visible, through the local emulator (for ``make bench``).

``publish_to_row_latencies(n)`` measures against the running ``pulse dev`` platform (its
``.pulse/devices`` credentials and database) unless given another one, e.g. the e2e fixture's.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import psycopg

from pulse.local.seed import PROBE_DEVICE
from tests.e2e.device import MqttDevice, envelope

PROBE_METRIC = "latency_probe"
POLL_S = 0.005


def publish_to_row_latencies(
    n: int,
    *,
    credentials: Path | None = None,
    database_url: str | None = None,
    device_id: str = PROBE_DEVICE,
    timeout_s: float = 10.0,
) -> list[float]:
    """Publish ``n`` envelopes one after another; for each, milliseconds until its row is readable."""
    if credentials is None or database_url is None:
        from pulse.local.database import LocalDatabase
        from pulse.local.layout import LocalLayout
        from pulse.settings import get_settings

        layout = LocalLayout.for_repo()
        credentials = credentials or layout.devices
        database_url = database_url or LocalDatabase.from_settings(layout, get_settings()).url
    base = random.randrange(1, 1 << 40)
    latencies: list[float] = []
    with MqttDevice(credentials, device_id) as device, psycopg.connect(database_url, autocommit=True) as conn:
        for i in range(n):
            value = float(base + i)
            started = time.perf_counter()
            device.publish(envelope({PROBE_METRIC: value}, seq=i))
            deadline = time.monotonic() + timeout_s
            while (
                conn.execute(
                    "SELECT 1 FROM telemetry WHERE device_id = %s AND metric = %s AND value = %s",
                    (device_id, PROBE_METRIC, value),
                ).fetchone()
                is None
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"probe {i} not stored within {timeout_s} s")
                time.sleep(POLL_S)
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies
