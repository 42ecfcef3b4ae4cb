"""Delivering planned notifications: exactly-once effect, retries recorded per attempt, permanent
failures and exhausted retries dead-lettered, redrive through the starter port with history kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database
from pulse.identity.scope import Actor, TenantScope
from pulse.notify.delivery import CLAIM_LEASE
from pulse.notify.models import RedriveIn
from pulse.notify.service import dead_letter, deliver, redrive, route_event
from pulse.platform.aws.iot_data import IotDataError
from tests.builders import make_tenant
from tests.integration.notify_fixtures import (
    DirectStarter,
    RecordingMqtt,
    add_channel,
    add_route,
    alert_event,
    sealer,
    sender_ports,
)

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def ingest_db(database_url):
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


@pytest.fixture
def planned(ingest_db, sql):
    make_tenant(sql, "acme")
    add_route(sql, 0, [add_channel(sql, "ops")])
    [delivery_id] = route_event(ingest_db, alert_event(), now=T0).delivery_ids
    return delivery_id


def _row(sql, delivery_id):
    return sql.execute(
        "SELECT status, attempts, last_error, dead_at IS NOT NULL FROM deliveries WHERE id = %s", (delivery_id,)
    ).fetchone()


def _attempts(sql, delivery_id):
    return sql.execute(
        "SELECT attempt_no, workflow_attempt, status FROM delivery_attempts WHERE delivery_id = %s ORDER BY 1",
        (delivery_id,),
    ).fetchall()


def test_delivering_twice_sends_once(ingest_db, sql, planned):
    mqtt = RecordingMqtt()
    key, ports = sealer(), sender_ports(mqtt)

    first = deliver(ingest_db, planned, attempt=1, sealer=key, ports=ports, now=T0)
    second = deliver(ingest_db, planned, attempt=1, sealer=key, ports=ports, now=T0 + timedelta(seconds=5))

    assert (first.status, second.status) == ("delivered", "duplicate")
    [(topic, payload)] = mqtt.published
    assert topic == "tenant/acme/out/ops" and b'"idempotency_key"' in payload
    assert _row(sql, planned)[:2] == ("delivered", 1)
    assert _attempts(sql, planned) == [(1, 1, "delivered")]


def test_an_attempt_in_flight_is_not_sent_again_until_its_lease_ends(ingest_db, sql, planned):
    mqtt = RecordingMqtt()
    key, ports = sealer(), sender_ports(mqtt)
    sql.execute("UPDATE deliveries SET status = 'sending', claimed_at = %s WHERE id = %s", (T0, planned))

    busy = deliver(ingest_db, planned, attempt=2, sealer=key, ports=ports, now=T0 + timedelta(seconds=10))
    after_lease = deliver(ingest_db, planned, attempt=3, sealer=key, ports=ports, now=T0 + CLAIM_LEASE * 2)

    assert busy.status == "retryable" and "in flight" in busy.error
    assert after_lease.status == "delivered" and len(mqtt.published) == 1


def test_retryable_failures_are_recorded_and_the_retry_delivers(ingest_db, sql, planned):
    mqtt = RecordingMqtt(IotDataError("throttled", retryable=True))
    key, ports = sealer(), sender_ports(mqtt)

    failed = deliver(ingest_db, planned, attempt=1, sealer=key, ports=ports, now=T0)
    assert failed.status == "retryable" and _row(sql, planned)[:3] == ("pending", 1, "throttled")
    retried = deliver(ingest_db, planned, attempt=2, sealer=key, ports=ports, now=T0 + timedelta(seconds=30))

    assert retried.status == "delivered" and retried.attempt_no == 2
    assert _attempts(sql, planned) == [(1, 1, "retryable"), (2, 2, "delivered")]


def test_exhausted_retries_end_dead_with_the_error_and_dead_letter_is_idempotent(ingest_db, sql, planned):
    mqtt = RecordingMqtt(*[IotDataError("receiver down") for _ in range(5)])
    key, ports = sealer(), sender_ports(mqtt)
    for attempt in range(1, 6):
        deliver(ingest_db, planned, attempt=attempt, sealer=key, ports=ports, now=T0 + timedelta(minutes=attempt))

    assert dead_letter(ingest_db, planned, error="gave up after 5 attempts: receiver down", now=T0 + timedelta(hours=1))
    assert not dead_letter(ingest_db, planned, error="again", now=T0 + timedelta(hours=2))

    assert _row(sql, planned) == ("dead", 5, "gave up after 5 attempts: receiver down", True)
    skipped = deliver(ingest_db, planned, attempt=1, sealer=key, ports=ports, now=T0 + timedelta(hours=3))
    assert skipped.status == "permanent" and len(_attempts(sql, planned)) == 5  # a stale execution sends nothing


def test_a_permanent_failure_is_dead_at_once_and_redrive_delivers_keeping_the_history(
    ingest_db, database_url, sql, planned
):
    key = sealer()
    refusing = sender_ports(RecordingMqtt(IotDataError("topic not allowed", retryable=False)))
    outcome = deliver(ingest_db, planned, attempt=1, sealer=key, ports=refusing, now=T0)
    assert outcome.status == "permanent" and _row(sql, planned)[0] == "dead"

    mqtt = RecordingMqtt()
    starter = DirectStarter(ingest_db, sender_ports(mqtt), key)
    app_db = Database(database_url, "pulse_app")
    try:
        scope = TenantScope(app_db, "acme", Actor(subject="u1", display="kim", role="customer_admin"))
        result = redrive(scope, RedriveIn(ids=[planned]), starter, now=T0 + timedelta(hours=1))
    finally:
        app_db.close()

    assert result.count == 1 and starter.started == [[planned]] and len(mqtt.published) == 1
    assert _row(sql, planned)[:2] == ("delivered", 2)
    assert [a[2] for a in _attempts(sql, planned)] == ["permanent", "delivered"]
    assert sql.execute("SELECT action, actor FROM audit_log WHERE action = 'delivery.redrive'").fetchone() == (
        "delivery.redrive",
        "kim",
    )
