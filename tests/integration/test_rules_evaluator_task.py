"""The Lambdas that commit alert changes start the outbox publisher right after their commit, and the
evaluator's minute also settles deferred resolves and wakes snoozed alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.evaluator.handler import lambda_handler as evaluator
from functions.ingest.handler import lambda_handler as ingest_handler
from pulse import runtime
from pulse.alerts import apply_transitions
from pulse.db import Database
from pulse.rules import Explanation, Opened, Resolved
from tests.builders import (
    FakeLambdaContext,
    envelope,
    make_device,
    make_tenant,
    rule_record,
    sqs_event,
    telemetry_topic,
)
from tests.builders_alerts import RecordingOutboxStarter, make_rule
from tests.integration.rule_fixtures import add_rule

pytestmark = pytest.mark.integration


@pytest.fixture
def outbox(lambda_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingOutboxStarter]:
    """PULSE_OUTBOX_FUNCTION_NAME is set; the Lambda client is replaced by a recording starter."""
    starter = RecordingOutboxStarter()
    monkeypatch.setenv("PULSE_OUTBOX_FUNCTION_NAME", "pulse-test-outbox")
    runtime.reset()
    names: list[str] = []
    monkeypatch.setattr(
        "pulse.platform.aws.lambda_invoke.lambda_outbox_starter", lambda name: names.append(name) or starter
    )
    yield starter
    assert set(names) <= {"pulse-test-outbox"}


@pytest.fixture
def fleet(sql: Any, owner_db: Database) -> Database:
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    return owner_db


@pytest.fixture
def ingest_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


def test_an_ingested_batch_that_raised_an_alert_starts_the_publisher_once(fleet, outbox, sql):
    add_rule(fleet, "acme", {"kind": "threshold", "metric": "temp", "op": ">", "value": 30}, rule_id="hot")
    hot = [rule_record(telemetry_topic(), envelope({"temp": t})) for t in (35, 36)]

    assert ingest_handler(sqs_event(*hot), FakeLambdaContext()) == {"batchItemFailures": []}
    assert outbox.starts == 1
    assert sql.execute("SELECT event_type FROM events_outbox").fetchall() == [("AlertOpened",)]

    ingest_handler(sqs_event(rule_record(telemetry_topic(), envelope({"temp": 37}))), FakeLambdaContext())
    assert outbox.starts == 1  # a repeat writes no event


def test_the_evaluator_settles_deferred_resolves_and_wakes_snoozed_alerts_then_starts_the_publisher(
    fleet, outbox, ingest_db, sql
):
    now = datetime.now(UTC)
    opened = now - timedelta(minutes=10)
    why = Explanation("threshold", True, "temp_c > 30", 35.0)
    with ingest_db.transaction() as conn:
        apply_transitions(
            conn,
            tenant_id="acme",
            device_id="dev-1",
            rule=make_rule(),
            transitions=[Opened(opened, why), Resolved(opened + timedelta(seconds=20), why)],
        )
        apply_transitions(
            conn, tenant_id="acme", device_id="dev-1", rule=make_rule("cold"), transitions=[Opened(opened, why)]
        )
    sql.execute(
        "UPDATE alerts SET state = 'snoozed', snoozed_until = %s WHERE rule_id = 'cold'", (now - timedelta(minutes=1),)
    )

    summary = evaluator({"task": "evaluate"}, FakeLambdaContext())

    assert (summary["ok"], summary["resolved"], summary["unsnoozed"]) == (True, 1, 1)
    rows = sql.execute("SELECT rule_id, state, resolved_at FROM alerts ORDER BY rule_id").fetchall()
    assert rows == [("cold", "open", None), ("hot", "resolved", opened + timedelta(minutes=1))]
    assert outbox.starts == 1
    assert evaluator({"task": "evaluate"}, FakeLambdaContext())["resolved"] == 0
    assert outbox.starts == 1  # nothing left to announce
