"""escalation_tick_s: one escalation tick over 10,000 open alerts across 100 policies.

One tenant, 100 devices x 100 rules = 10,000 open alerts, each escalating under one of 100 policies
(alert i under policy i % 100). Every policy pages a team channel, then a person (20 people, each
with an SMS and an email contact method and a personal policy: SMS now, email after 5 minutes),
then waits. Every escalation is due (its first steps 30 s overdue). Timed: one ``tick`` as the
escalation Lambda runs it (as ``pulse_ingest``): claim, walk, write ~30,000 deliveries, their
notifications, timeline entries and outbox events, then start the due ones (a starter that only
counts: the delivery workflow's own cost is ``alert_to_first_attempt_p99_ms``).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from pulse.db import Database
from pulse.escalation.engine import tick
from pulse.observability import logger
from tests.bench.report import Bench, info

TENANT = "bench"
DEVICES, RULES, POLICIES, PEOPLE = 100, 100, 100, 20
BUDGET_S = 5.0


class CountingStarter:
    def __init__(self) -> None:
        self.deliveries = 0
        self.executions = 0

    def start(self, delivery_ids: list[str]) -> str:
        self.deliveries += len(delivery_ids)
        self.executions += 1
        return f"bench-{self.executions}"


def _seed(sql: psycopg.Connection, now: datetime) -> None:
    opened = now - timedelta(seconds=30)
    sql.execute("INSERT INTO tenants (id, name, status) VALUES (%s, 'Bench', 'active')", (TENANT,))
    with sql.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (tenant_id, id, name, status) VALUES (%s, %s, %s, 'active')",
            [(TENANT, f"dev-{d}", f"dev-{d}") for d in range(DEVICES)],
        )
        channel_rows = [
            (f"chn-team-{p}", None, "mqtt", {"topic": f"tenant/{TENANT}/out/team-{p}"}) for p in range(POLICIES)
        ]
        for u in range(PEOPLE):
            channel_rows.append((f"chn-u{u}-sms", f"user-{u}", "sms", {"phone_number": f"+4915100000{u:03d}"}))
            channel_rows.append((f"chn-u{u}-mail", f"user-{u}", "email", {"to": [f"user-{u}@example.com"]}))
        cur.executemany(
            """INSERT INTO channels (tenant_id, id, type, name, config, owner, created_at, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [(TENANT, cid, kind, cid, Jsonb(config), owner, now, now) for cid, owner, kind, config in channel_rows],
        )
        cur.executemany(
            """INSERT INTO notification_policies (tenant_id, username, default_rules, updated_by, updated_at)
               VALUES (%s, %s, %s, 'bench', %s)""",
            [
                (
                    TENANT,
                    f"user-{u}",
                    Jsonb(
                        [
                            {"contact_method_id": f"chn-u{u}-sms", "wait_minutes": 0},
                            {"contact_method_id": f"chn-u{u}-mail", "wait_minutes": 5},
                        ]
                    ),
                    now,
                )
                for u in range(PEOPLE)
            ],
        )
        cur.executemany(
            """INSERT INTO escalation_policies (tenant_id, id, name, timezone, steps, created_at, updated_at)
               VALUES (%s, %s, %s, 'UTC', %s, %s, %s)""",
            [
                (
                    TENANT,
                    f"esc-{p}",
                    f"Policy {p}",
                    Jsonb(
                        [
                            {"kind": "notify_channels", "channel_ids": [f"chn-team-{p}"]},
                            {"kind": "notify_users", "usernames": [f"user-{p % PEOPLE}"]},
                            {"kind": "wait", "minutes": 15},
                            {"kind": "raise_severity", "severity": "critical"},
                        ]
                    ),
                    now,
                    now,
                )
                for p in range(POLICIES)
            ],
        )
        alerts = [(f"al-{r}-{d}", f"rule-{r}", f"dev-{d}") for r in range(RULES) for d in range(DEVICES)]
        cur.executemany(
            """INSERT INTO alerts (tenant_id, id, fingerprint, rule_id, rule_version, rule_name, device_id, severity,
                                   severity_rank, state, source, opened_at, episode_started_at, last_fired_at,
                                   explanation, updated_at)
               VALUES (%s, %s, %s, %s, 1, %s, %s, 'major', 4, 'open', 'stream', %s, %s, %s, '{}', %s)""",
            [(TENANT, a, f"{r}/{d}", r, r, d, opened, opened, opened, opened) for a, r, d in alerts],
        )
        cur.executemany(
            """INSERT INTO alert_escalations (tenant_id, alert_id, policy_id, status, step_due_at, next_due_at,
                                              started_at, updated_at)
               VALUES (%s, %s, %s, 'active', %s, %s, %s, %s)""",
            [(TENANT, a, f"esc-{i % POLICIES}", opened, opened, opened, opened) for i, (a, _, _) in enumerate(alerts)],
        )
    sql.execute("ANALYZE")


def run(database_url: str) -> list[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(database_url, autocommit=True) as sql:
        _seed(sql, now)
    db = Database(database_url, "pulse_ingest")
    starter = CountingStarter()
    saved_level = logger.log_level
    logger.setLevel("WARNING")
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = tick(db, now=now, starter=starter)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        logger.setLevel(saved_level)
        db.close()
    assert report.escalations == RULES * DEVICES, report
    return [
        Bench("escalation_tick_s", elapsed, "s", "<=", BUDGET_S).line(),
        info("escalation_tick_actions", report.actions, "actions"),
        info("escalation_tick_deliveries_written", report.deliveries, "deliveries"),
        info("escalation_tick_deliveries_started", starter.deliveries, f"in {starter.executions} executions"),
        # The rest of the tick is PostgreSQL's (the two overlap); a busy machine slows both.
        info("escalation_tick_python_cpu", cpu * 1000, f"ms (1-minute load average {os.getloadavg()[0]:.1f})"),
    ]


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    from pulse.db.migrate import migrate
    from pulse.local.pgcluster import PgCluster, free_port

    cluster = PgCluster(datadir=Path(tempfile.mkdtemp(prefix="pulse-bench-esc-")), port=free_port())
    cluster.start()
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_escalation")
        url = cluster.database_url("bench_escalation")
        with psycopg.connect(url) as conn:
            migrate(conn)
        lines = run(url)
    finally:
        cluster.destroy()
    print("\n".join(lines))
    sys.exit(1 if any(line.endswith("FAIL") for line in lines) else 0)
