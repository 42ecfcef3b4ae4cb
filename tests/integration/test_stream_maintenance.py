"""Scheduled maintenance: partitions ahead, retention of partitions and rows, rollups, the Lambda entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import psycopg
import pytest

from functions.maintenance.handler import lambda_handler
from pulse import runtime
from pulse.settings import Settings
from pulse.stream.maintenance import run_maintenance
from pulse.stream.retention import apply_retention, partition_name
from tests.builders import FakeLambdaContext

pytestmark = pytest.mark.integration

SETTINGS = Settings(
    telemetry_retention_days=90,
    partitions_ahead_days=3,
    max_message_age_s=7 * 86_400,
    quarantine_retention_days=30,
)


def exists(sql: psycopg.Connection, name: str) -> bool:
    return sql.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def partition_with_a_row(sql: psycopg.Connection, day: date) -> None:
    for parent in ("telemetry", "telemetry_messages"):
        sql.execute("SELECT pulse_ensure_day_partition(%s, %s)", (parent, day))
    sql.execute(
        "INSERT INTO telemetry VALUES ('acme', 'dev-1', %s, 'temp_c', 1.0)",
        (datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12),),
    )


def test_retention_drops_partitions_older_than_retention_and_keeps_newer_ones(sql, owner_db):
    now = datetime.now(UTC)
    today = now.date()
    expired, oldest_kept, recent = (
        today - timedelta(days=91),
        today - timedelta(days=90),
        today - timedelta(days=10),
    )
    for day in (expired, oldest_kept, recent):
        partition_with_a_row(sql, day)

    summary = apply_retention(owner_db, SETTINGS, now)

    assert set(summary.partitions_dropped) == {
        partition_name("telemetry", expired),
        partition_name("telemetry_messages", expired),
    }
    assert not exists(sql, partition_name("telemetry", expired))
    assert exists(sql, partition_name("telemetry", oldest_kept))
    assert exists(sql, partition_name("telemetry", recent))
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (2,)


def test_maintenance_creates_partitions_from_the_oldest_accepted_day_to_days_ahead(sql, owner_db):
    now = datetime.now(UTC)
    today = now.date()

    first = run_maintenance(owner_db, SETTINGS, now)
    second = run_maintenance(owner_db, SETTINGS, now)

    for parent in ("telemetry", "telemetry_messages"):
        for offset in range(-7, 4):
            assert exists(sql, partition_name(parent, today + timedelta(days=offset)))
        assert not exists(sql, partition_name(parent, today + timedelta(days=4)))
        assert not exists(sql, partition_name(parent, today - timedelta(days=8)))
    assert len(first.retention.partitions_created) == 22
    assert second.retention.partitions_created == ()


def test_expired_rollup_and_quarantine_rows_are_deleted_and_recent_ones_kept(sql, owner_db):
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    for table, ages in (("telemetry_1m", (31, 29)), ("telemetry_1h", (91, 40))):
        for age in ages:
            bucket = midnight - timedelta(days=age)
            sql.execute(
                f"INSERT INTO {table} VALUES ('acme', 'dev-1', 'temp_c', %s, 1, 1, 1, 1, %s, 1)",
                (bucket, bucket),
            )
    for age in (31, 1):
        sql.execute(
            """INSERT INTO quarantine_events (received_at, tenant_id, topic, source, reason, detail, excerpt,
                                                      payload_size)
                       VALUES (%s, 'acme', 't', 'mqtt', 'malformed_json', 'd', 'e', 1)""",
            (midnight - timedelta(days=age),),
        )
        sql.execute(
            "INSERT INTO quarantine_counts VALUES (%s, 'acme', 'malformed_json', 1)",
            (midnight - timedelta(days=age),),
        )

    summary = apply_retention(owner_db, SETTINGS, now)

    assert (summary.minute_rows_deleted, summary.hour_rows_deleted) == (1, 1)
    assert (summary.quarantine_events_deleted, summary.quarantine_counts_deleted) == (1, 1)
    assert sql.execute("SELECT bucket FROM telemetry_1m").fetchall() == [(midnight - timedelta(days=29),)]
    assert sql.execute("SELECT bucket FROM telemetry_1h").fetchall() == [(midnight - timedelta(days=40),)]
    assert sql.execute("SELECT count(*) FROM quarantine_events").fetchone() == (1,)
    assert sql.execute("SELECT count(*) FROM quarantine_counts").fetchone() == (1,)


def test_maintenance_refreshes_rollups_in_batches_and_reports_a_backlog(sql, owner_db):
    hour = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    sql.execute("SELECT pulse_ensure_day_partition('telemetry', %s)", (hour.date(),))
    for i in range(5):
        sql.execute("INSERT INTO telemetry VALUES ('acme', 'dev-1', %s, 'temp_c', %s)", (hour + timedelta(hours=i), i))
        sql.execute("INSERT INTO telemetry_dirty_hours VALUES ('acme', %s)", (hour + timedelta(hours=i),))

    first = run_maintenance(owner_db, SETTINGS, datetime.now(UTC), batch_hours=2, max_batches=2)
    second = run_maintenance(owner_db, SETTINGS, datetime.now(UTC), batch_hours=2, max_batches=2)

    assert (first.rollups.hours, first.rollup_backlog) == (4, True)
    assert (second.rollups.hours, second.rollup_backlog) == (1, False)
    assert sql.execute("SELECT count(*) FROM telemetry_1h").fetchone() == (5,)


def test_scheduled_maintenance_event_runs_the_job_and_publishes_its_metrics(sql, lambda_env, monkeypatch, capfd):
    monkeypatch.setenv("PULSE_DB_ROLE", "owner")  # maintenance owns the partitions it creates and drops
    runtime.reset()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sql.execute("SELECT pulse_ensure_day_partition('telemetry', %s)", (hour.date(),))
    sql.execute("INSERT INTO telemetry VALUES ('acme', 'dev-1', %s, 'temp_c', 1.0)", (hour,))
    sql.execute("INSERT INTO telemetry_dirty_hours VALUES ('acme', %s)", (hour,))

    response = lambda_handler({"task": "maintenance"}, FakeLambdaContext())

    assert response["ok"] is True
    assert response["summary"]["rollups"]["hours"] == 1
    orjson.dumps(response)  # the Lambda runtime must be able to serialize it
    emitted = [orjson.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"MaintenancePartitionsDropped", "RollupHoursRefreshed"} <= names
