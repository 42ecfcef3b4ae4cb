"""Runs every benchmark against a throwaway PostgreSQL cluster and prints BENCH lines."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import psycopg

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "pulse-bench")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from pulse.db.migrate import migrate
from pulse.local.pgcluster import PgCluster, free_port
from tests.bench import delivery, escalation, fleet, ingest, local, rules


def _fresh_database(cluster: PgCluster, name: str) -> str:
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = cluster.database_url(name)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def main() -> int:
    size = int(os.environ.get("PULSE_BENCH_MESSAGES", "1000000"))
    cluster = PgCluster(datadir=Path(tempfile.mkdtemp(prefix="pulse-bench-pg-")), port=free_port())
    cluster.start()
    lines: list[str] = []
    try:
        lines += ingest.run(_fresh_database(cluster, "bench_ingest"), n=size)
        lines += fleet.run(_fresh_database(cluster, "bench_fleet"))
        lines += rules.telemetry_to_alert(_fresh_database(cluster, "bench_alert"))
        lines += rules.scheduled(_fresh_database(cluster, "bench_scheduled"))
        lines += delivery.alert_to_first_attempt(_fresh_database(cluster, "bench_delivery"))
        lines += escalation.run(_fresh_database(cluster, "bench_escalation"))
        lines += local.run(_fresh_database(cluster, "bench_local"))
    finally:
        cluster.destroy()
    for line in lines:
        print(line, flush=True)
    return 1 if any(line.startswith("BENCH") and line.endswith("FAIL") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
