"""local_publish_to_row: a device's MQTT publish -> its row readable in PostgreSQL, through the
local emulator (IoT rule -> SQS -> ingest Lambda), the same deployed template as `make dev`."""

from __future__ import annotations

import statistics

from tests.bench.report import Bench, info
from tests.e2e.latency import publish_to_row_latencies
from tests.e2e.platform import running_platform

PROBES = 200


def run(database_url: str) -> list[str]:
    with running_platform(database_url, device_count=1) as platform:
        # the probe device of the seed; the first probes warm the Lambda container
        publish_to_row_latencies(10, credentials=platform.credentials, database_url=database_url, timeout_s=60)
        latencies = sorted(
            publish_to_row_latencies(PROBES, credentials=platform.credentials, database_url=database_url)
        )
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    return [
        info("local_publish_to_row_probes", len(latencies), "messages"),
        Bench("local_publish_to_row_p50_ms", p50, "ms", "<=", 1000).line(),
        Bench("local_publish_to_row_p99_ms", p99, "ms", "<=", 1000).line(),
    ]
