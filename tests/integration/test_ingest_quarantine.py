"""Each refusal reason, sent inside a batch of good messages: the bad one is quarantined, the rest stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from functions.ingest.handler import lambda_handler
from tests.builders import (
    FakeLambdaContext,
    envelope,
    make_device,
    make_tenant,
    rule_record,
    sqs_event,
    sqs_record,
    telemetry_topic,
)

GOOD_DEVICES = ("good-1", "good-2", "good-3")


@pytest.fixture
def fleet(sql, lambda_env):
    make_tenant(sql, "acme")
    make_tenant(sql, "dormant", status="suspended")
    for device in GOOD_DEVICES:
        make_device(sql, "acme", device)
    make_device(sql, "acme", "revoked-1", status="revoked")
    make_device(sql, "dormant", "sleepy-1")
    return sql


def _good_records() -> list[dict[str, Any]]:
    return [
        rule_record(telemetry_topic("acme", d), envelope({"temp_c": 20.0 + i, "door_open": False}))
        for i, d in enumerate(GOOD_DEVICES)
    ]


def _bad(reason: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    topic = telemetry_topic("acme", "good-1")
    match reason:
        case "malformed_json":
            return rule_record(topic, b'{"v":1, "ts": 17')
        case "schema_violation":
            return rule_record(topic, envelope(metrics={"temp_c": 1}, colour="red"))
        case "unsupported_version":
            return rule_record(topic, envelope() | {"v": 2})
        case "unknown_topic":
            return rule_record("devices/good-1/data", envelope(), client_id="acme--good-1")
        case "unknown_device":
            return rule_record(telemetry_topic("acme", "ghost-9"), envelope())
        case "revoked_device":
            return rule_record(telemetry_topic("acme", "revoked-1"), envelope())
        case "topic_mismatch":
            return rule_record(topic, envelope(), client_id="acme--good-2")
        case "inactive_tenant":
            return rule_record(telemetry_topic("dormant", "sleepy-1"), envelope())
        case "payload_too_large":
            return rule_record(topic, envelope(note="x" * 140_000))
        case "timestamp_out_of_range":
            return rule_record(topic, envelope(ts=now + timedelta(hours=2)))
        case "too_many_metrics":
            return rule_record(topic, envelope({f"m{i}": i for i in range(201)}))
        case "bad_metric":
            return rule_record(topic, envelope({"temp_c": "hot"}))
    raise AssertionError(reason)


TRANSPORT_REASONS = [
    "malformed_json",
    "schema_violation",
    "unsupported_version",
    "unknown_topic",
    "unknown_device",
    "revoked_device",
    "topic_mismatch",
    "inactive_tenant",
    "payload_too_large",
    "timestamp_out_of_range",
    "too_many_metrics",
    "bad_metric",
]


@pytest.mark.parametrize("reason", TRANSPORT_REASONS)
def test_bad_message_is_quarantined_with_its_reason_and_good_ones_are_stored(fleet, reason):
    # Given a batch of three good messages with one bad one in the middle
    good = _good_records()
    bad = _bad(reason)
    event = sqs_event(good[0], bad, good[1], good[2])

    # When the ingest Lambda processes it
    response = lambda_handler(event, FakeLambdaContext())

    # Then nothing is retried, the bad one is quarantined with its reason, the good ones are stored
    assert response == {"batchItemFailures": []}
    rows = fleet.execute("SELECT reason, detail, excerpt, source FROM quarantine_events").fetchall()
    assert [r[0] for r in rows] == [reason]
    assert rows[0][1], "every quarantined message says why"
    assert rows[0][3] == "mqtt"
    assert len(rows[0][2]) <= 1025
    stored = fleet.execute("SELECT device_id, count(*) FROM telemetry GROUP BY 1 ORDER BY 1").fetchall()
    assert stored == [(d, 2) for d in GOOD_DEVICES]
    counted = fleet.execute("SELECT reason, sum(count) FROM quarantine_counts GROUP BY 1").fetchall()
    assert counted == [(reason, 1)]


def test_rate_limited_messages_beyond_the_device_limit_are_quarantined(fleet):
    make_tenant(fleet, "chatty", rate=3)
    make_device(fleet, "chatty", "gw-1")
    records = [rule_record(telemetry_topic("chatty", "gw-1"), envelope({"n": i})) for i in range(5)]

    lambda_handler(sqs_event(*records, *_good_records()), FakeLambdaContext())
    # a second batch in the same minute is refused entirely: the window is shared across invocations
    lambda_handler(sqs_event(rule_record(telemetry_topic("chatty", "gw-1"), envelope({"n": 9}))), FakeLambdaContext())

    limited = fleet.execute("SELECT count(*) FROM quarantine_events WHERE reason = 'rate_limited'").fetchone()
    stored = fleet.execute("SELECT count(*) FROM telemetry WHERE tenant_id = 'chatty'").fetchone()
    assert limited == (3,)
    assert stored == (3,)
    assert fleet.execute("SELECT count(*) FROM telemetry WHERE tenant_id = 'acme'").fetchone() == (6,)


def test_record_not_shaped_by_the_iot_rule_is_quarantined_not_crashed(fleet):
    stray = sqs_record('{"hello": "world"}')
    response = lambda_handler(sqs_event(stray, *_good_records()), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    reason, detail = fleet.execute("SELECT reason, detail FROM quarantine_events").fetchone()
    assert reason == "schema_violation"
    assert "topic" in detail


def test_quarantine_excerpt_is_bounded_and_keeps_undecodable_bytes_visible(fleet):
    payload = b"\xff\xfe" + b"A" * 5000
    lambda_handler(sqs_event(rule_record(telemetry_topic("acme", "good-1"), payload)), FakeLambdaContext())
    reason, excerpt, size = fleet.execute("SELECT reason, excerpt, payload_size FROM quarantine_events").fetchone()
    assert reason == "malformed_json"
    assert excerpt.startswith("\\xff\\xfe")
    assert size == 5002
    assert len(excerpt.encode()) < 1100


def test_heartbeat_without_metrics_updates_last_seen_only(fleet):
    beat = rule_record(telemetry_topic("acme", "good-1", "heartbeat"), envelope({}))
    lambda_handler(sqs_event(beat), FakeLambdaContext())
    seen = fleet.execute("SELECT last_seen_at FROM devices WHERE id = 'good-1'").fetchone()[0]
    assert seen is not None
    assert fleet.execute("SELECT count(*) FROM telemetry").fetchone() == (0,)
    assert fleet.execute("SELECT count(*) FROM quarantine_events").fetchone() == (0,)


def test_latest_metrics_are_not_overwritten_by_an_older_buffered_message(fleet):
    now = datetime.now(UTC)
    newer = rule_record(telemetry_topic("acme", "good-1"), envelope({"temp_c": 30.0}, ts=now))
    older = rule_record(
        telemetry_topic("acme", "good-1"), envelope({"temp_c": 10.0, "humidity_pct": 40}, ts=now - timedelta(hours=3))
    )
    lambda_handler(sqs_event(newer), FakeLambdaContext())
    lambda_handler(sqs_event(older), FakeLambdaContext())
    latest = fleet.execute("SELECT last_metrics FROM devices WHERE id = 'good-1'").fetchone()[0]
    assert latest == {"temp_c": 30.0, "humidity_pct": 40}
    assert orjson.dumps(latest)
