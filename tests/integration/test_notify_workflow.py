"""The delivery workflow end to end in process: pulse's own state machine definition executed by moto,
route / deliver / dead-letter dispatched to the notify handler, a real webhook receiver on 127.0.0.1.

Retry waits are instant but recorded, so each test checks the backoff the definition asked for
against ``RetryPolicy``. Tests that matter for the local target run twice: with AWS's error names
(``errorType`` = the exception's class) and with the emulator's (every exception
``Runtime.HandlerError``); the outcome must not differ.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from pulse import runtime
from pulse.db import Database
from pulse.identity.scope import Actor, TenantScope
from pulse.notify.models import RedriveIn
from pulse.notify.retry import DELIVERY_RETRY
from pulse.notify.sealing import LocalKeySealer
from pulse.notify.service import redrive
from pulse.outbox import store as outbox
from pulse.outbox.publisher import publish_pending
from pulse.platform.aws.stepfunctions import StepFunctionsStarter
from tests.builders import make_tenant
from tests.notify_workflow import (
    Receiver,
    Workflow,
    WorkflowBus,
    alert_event_detail,
    delivery_ports,
    eventbridge_event,
    moto_workflow,
    route_to,
    webhook_channel,
)

TENANT = "acme"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def notify_env(
    lambda_env: str, sql: psycopg.Connection, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The notify function's environment (pulse_ingest on this test's database), a tenant with one
    webhook channel at ``receiver`` and one route sending every opened alert to it."""
    import functions.notify.handler as handler

    sealer = LocalKeySealer(os.urandom(32))
    monkeypatch.setattr(handler, "delivery_ports", lambda: delivery_ports(sealer))
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    make_tenant(sql, TENANT)
    channel = webhook_channel(sql, sealer, TENANT, receiver.url)
    route_to(sql, TENANT, [channel])
    yield channel
    runtime.reset()


def _deliveries(sql: psycopg.Connection) -> list[tuple[str, str, int, str | None]]:
    return sql.execute("SELECT id, status, attempts, last_error FROM deliveries ORDER BY created_at").fetchall()


def _attempts(sql: psycopg.Connection, delivery_id: str) -> list[tuple[int, int, str, int | None]]:
    return sql.execute(
        """SELECT attempt_no, workflow_attempt, status, response_code FROM delivery_attempts
           WHERE delivery_id = %s ORDER BY attempt_no""",
        (delivery_id,),
    ).fetchall()


def _deliver_calls(workflow: Workflow) -> list[dict]:
    return [i for i in workflow.recorded.invocations if i["task"] == "deliver"]


@pytest.mark.parametrize("naming", ["aws", "emulator"])
def test_receiver_failing_twice_gets_one_delivery_after_three_attempts_with_the_policys_backoff(
    notify_env, sql, receiver, naming
):
    receiver.fail(2)
    with moto_workflow(naming) as workflow:
        execution = workflow.start(eventbridge_event("AlertOpened", alert_event_detail(TENANT)))
        [item] = workflow.output(execution)

    assert item["outcome"]["status"] == "delivered"
    assert [r.answered for r in receiver.requests] == [503, 503, 200]
    assert len(receiver.delivered()) == 1
    [(delivery_id, status, attempts, _)] = _deliveries(sql)
    assert (status, attempts) == ("delivered", 3)
    assert _attempts(sql, delivery_id) == [(1, 1, "retryable", 503), (2, 2, "retryable", 503), (3, 3, "delivered", 200)]
    # the state machine asked for exactly the policy's intervals, and waited within full jitter of them
    assert workflow.recorded.backoff_ceilings == DELIVERY_RETRY.delays()[:2]
    assert DELIVERY_RETRY.allows(workflow.recorded.backoff_waits)
    assert len(workflow.recorded.backoff_waits) == 2


@pytest.mark.parametrize("naming", ["aws", "emulator"])
def test_receiver_that_always_fails_ends_in_dead_letter_after_five_attempts(notify_env, sql, receiver, naming):
    receiver.fail(1000)
    with moto_workflow(naming) as workflow:
        execution = workflow.start(eventbridge_event("AlertOpened", alert_event_detail(TENANT)))
        [item] = workflow.output(execution)

    assert len(receiver.requests) == DELIVERY_RETRY.max_attempts == 5
    assert receiver.delivered() == []
    assert item["dead_letter"]["status"] == "dead"
    [(delivery_id, status, attempts, last_error)] = _deliveries(sql)
    assert (status, attempts) == ("dead", 5)
    assert last_error.startswith("gave up after 5 attempts: ")
    assert [a[2] for a in _attempts(sql, delivery_id)] == ["retryable"] * 5
    assert workflow.recorded.backoff_ceilings == DELIVERY_RETRY.delays() == [30.0, 60.0, 120.0, 240.0]
    assert DELIVERY_RETRY.allows(workflow.recorded.backoff_waits)


@pytest.mark.parametrize("naming", ["aws", "emulator"])
def test_receiver_refusing_with_4xx_goes_straight_to_dead_letter(notify_env, sql, receiver, naming):
    receiver.fail(1000, status=400)
    with moto_workflow(naming) as workflow:
        execution = workflow.start(eventbridge_event("AlertOpened", alert_event_detail(TENANT)))
        [item] = workflow.output(execution)

    assert [r.answered for r in receiver.requests] == [400]
    assert workflow.recorded.backoff_waits == []
    assert item["error"]["Error"] == "DeliveryPermanent"
    [(_, status, attempts, last_error)] = _deliveries(sql)
    assert (status, attempts) == ("dead", 1)
    assert "400" in last_error


def test_redrive_delivers_a_dead_letter_once_the_receiver_is_back(notify_env, sql, receiver, database_url):
    receiver.fail(5)
    with moto_workflow() as workflow:
        workflow.output(workflow.start(eventbridge_event("AlertOpened", alert_event_detail(TENANT))))
        [(delivery_id, status, _, _)] = _deliveries(sql)
        assert status == "dead" and receiver.delivered() == []

        # the receiver is back (fail_next used up); a customer redrives from the API
        db = Database(database_url)
        try:
            scope = TenantScope(db, TENANT, Actor.system("test"))
            starter = StepFunctionsStarter(workflow.client, workflow.arn)
            result = redrive(scope, RedriveIn(ids=[delivery_id]), starter, now=datetime.now(UTC))
        finally:
            db.close()
        [execution] = result.execution_ids
        assert ":redrive-" in execution
        [item] = workflow.output(execution)

    assert item["outcome"]["status"] == "delivered"
    assert len(receiver.delivered()) == 1
    assert [r.answered for r in receiver.requests] == [503] * 5 + [200]
    [(_, status, attempts, _)] = _deliveries(sql)
    assert (status, attempts) == ("delivered", 6)


@pytest.mark.parametrize("naming", ["aws", "emulator"])
def test_duplicate_executions_for_one_event_send_it_once(notify_env, sql, receiver, naming):
    detail = alert_event_detail(TENANT)
    with moto_workflow(naming) as workflow:
        first = workflow.start(eventbridge_event("AlertOpened", detail))
        workflow.output(first)
        # EventBridge delivers at least once: the same event starts a second execution
        second = workflow.start(eventbridge_event("AlertOpened", detail))
        outputs = workflow.output(second)

    assert len(receiver.requests) == 1
    assert all(item["outcome"]["status"] == "duplicate" for item in outputs)
    assert [row[1:3] for row in _deliveries(sql)] == [("delivered", 1)]


def test_alert_published_from_the_outbox_reaches_the_receiver_with_its_idempotency_key(
    notify_env, sql, receiver, database_url
):
    data = alert_event_detail(TENANT)["data"]
    outbox.put(sql, TENANT, "AlertOpened", data["alert_id"], datetime.now(UTC), data)
    db = Database(database_url)
    try:
        with moto_workflow() as workflow:
            bus = WorkflowBus(workflow)
            result = publish_pending(db, bus)
            [execution] = bus.executions
            [item] = workflow.output(execution)
    finally:
        db.close()

    assert result.published == 1
    assert item["outcome"]["status"] == "delivered"
    [request] = receiver.requests
    [(event_id,)] = sql.execute("SELECT id::text FROM events_outbox").fetchall()
    assert request.headers["Idempotency-Key"] == f"{event_id}:{notify_env}"
