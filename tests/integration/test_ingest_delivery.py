"""At-least-once transport, exactly-once storage: redelivery, duplicates, database outages."""

from __future__ import annotations

import psycopg

from functions.ingest.handler import lambda_handler
from pulse import runtime
from pulse.connect.inbound import InboundMessage
from pulse.connect.service import ingest_messages
from pulse.db import Database
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.builders import (
    FakeLambdaContext,
    envelope,
    make_device,
    make_tenant,
    rule_record,
    sqs_event,
    telemetry_topic,
)


def _fleet(sql, devices=3):
    make_tenant(sql, "acme")
    for i in range(devices):
        make_device(sql, "acme", f"dev-{i}")


def _batch(n=10, **kw):
    return [
        rule_record(telemetry_topic("acme", f"dev-{i % 3}"), envelope({"temp_c": float(i), "ok": True}, **kw))
        for i in range(n)
    ]


def test_redelivered_batch_stores_every_message_once(sql, lambda_env):
    _fleet(sql)
    records = _batch(10)

    first = lambda_handler(sqs_event(*records), FakeLambdaContext())
    second = lambda_handler(sqs_event(*records), FakeLambdaContext())

    assert first == second == {"batchItemFailures": []}
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (20,)
    assert sql.execute("SELECT count(*) FROM telemetry_messages").fetchone() == (10,)
    assert sql.execute("SELECT count(*) FROM quarantine_events").fetchone() == (0,)


def test_messages_without_msg_id_are_deduplicated_by_seq_or_by_content(sql, lambda_env):
    _fleet(sql)
    # a redelivery is the same message: same device, key and timestamp
    ts = runtime_now()
    by_seq = [
        rule_record(telemetry_topic("acme", "dev-0"), envelope({"t": 1.0}, msg_id=None, seq=7, ts=ts)),
        rule_record(telemetry_topic("acme", "dev-0"), envelope({"t": 1.0}, msg_id=None, seq=7, ts=ts)),
    ]
    by_content = rule_record(telemetry_topic("acme", "dev-1"), envelope({"t": 2.0}, msg_id=None))

    lambda_handler(sqs_event(*by_seq, by_content), FakeLambdaContext())
    lambda_handler(sqs_event(by_content), FakeLambdaContext())

    rows = sql.execute("SELECT device_id, msg_key FROM telemetry_messages ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["dev-0", "dev-1"]
    assert rows[0][1] == "seq:7"
    assert rows[1][1].startswith("sha:")


def test_same_msg_id_from_two_devices_is_two_messages(sql, lambda_env):
    _fleet(sql)
    a = rule_record(telemetry_topic("acme", "dev-0"), envelope({"t": 1.0}, msg_id="m-1"))
    b = rule_record(telemetry_topic("acme", "dev-1"), envelope({"t": 1.0}, msg_id="m-1"))
    lambda_handler(sqs_event(a, b), FakeLambdaContext())
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (2,)


def test_database_down_fails_the_whole_batch_and_nothing_is_lost_once_it_is_back(sql, lambda_env, pg_cluster):
    _fleet(sql)
    records = _batch(6)
    ids = sorted(r["messageId"] for r in records)
    lambda_handler(sqs_event(*_batch(2)), FakeLambdaContext())  # warm connection, as in a live container

    pg_cluster.stop("fast")
    try:
        response = lambda_handler(sqs_event(*records), FakeLambdaContext())
    finally:
        pg_cluster.start()

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ids
    # SQS redelivers the failed ids; the same container reconnects and stores them once
    redelivered = lambda_handler(sqs_event(*records), FakeLambdaContext())
    assert redelivered == {"batchItemFailures": []}
    with psycopg.connect(lambda_env) as conn:
        assert conn.execute("SELECT count(*) FROM telemetry_messages").fetchone() == (8,)
        assert conn.execute("SELECT count(*) FROM telemetry").fetchone() == (16,)


def test_ingest_without_bypassrls_stages_its_copy_and_stores_the_same_rows(sql, database_url):
    # Given a managed PostgreSQL where the ingest role is subject to row-level security
    _fleet(sql)
    sql.execute("ALTER ROLE pulse_ingest NOBYPASSRLS")
    try:
        db = Database(database_url, "pulse_ingest")
        assert db.bypasses_rls is False
        msgs = [
            InboundMessage(
                str(i),
                telemetry_topic("acme", "dev-0"),
                __import__("orjson").dumps(envelope({"a": float(i), "b": 1})),
                "mqtt",
                runtime_now(),
                client_id="acme--dev-0",
            )
            for i in range(4)
        ]
        result = ingest_messages(db, msgs, Settings(), runtime_now(), PartitionCache())
        db.close()
    finally:
        sql.execute("ALTER ROLE pulse_ingest BYPASSRLS")
    assert result.count("accepted") == 4
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (8,)


def runtime_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_lambda_runtime_reuses_one_connection_across_invocations(sql, lambda_env):
    _fleet(sql)
    lambda_handler(sqs_event(*_batch(2)), FakeLambdaContext())
    first = runtime.database().connection()
    lambda_handler(sqs_event(*_batch(2)), FakeLambdaContext())
    assert runtime.database().connection() is first
