"""The events outbox on real PostgreSQL and moto EventBridge: nothing lost when the writer dies
between commit and publish, each event published once, partial failures retried, the sweeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest

from pulse.alerts.sweeps import expire_silences, wake_snoozed
from pulse.db import Database
from pulse.outbox.publisher import publish_pending
from pulse.outbox.sweeper import run_outbox
from pulse.platform.aws.events import BusEvent, EventBridgeBus
from tests.builders import make_device, make_tenant
from tests.builders_alerts import raise_alert

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WRITER = """
    import os, signal, sys
    from datetime import UTC, datetime
    from pulse.alerts import apply_transitions
    from pulse.db import Database
    from pulse.rules import Explanation, Opened
    from tests.builders_alerts import make_rule

    db = Database(sys.argv[1], "pulse_ingest")
    with db.transaction() as conn:
        apply_transitions(conn, tenant_id="acme", device_id="dev-1", rule=make_rule(),
                          transitions=[Opened(datetime.now(UTC), Explanation("threshold", True, "temp_c > 30", 35.0))],
                          value=35.0)
    print("committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies before it can publish
    print("published")  # never reached
"""


@pytest.fixture
def bus(aws: None) -> Any:
    """The 'pulse' bus with a rule copying every Pulse event into a queue the test reads."""
    events = boto3.client("events", region_name="eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1")
    events.create_event_bus(Name="pulse")
    queue_url = sqs.create_queue(QueueName="pulse-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="pulse", EventPattern=orjson.dumps({"source": ["pulse.alerts"]}).decode())
    events.put_targets(Rule="all", EventBusName="pulse", Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        out = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                out.append(orjson.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    publisher = EventBridgeBus(events, "pulse", "pulse.alerts")
    publisher.received = received  # type: ignore[attr-defined]
    return publisher


@pytest.fixture
def ingest_db(database_url: str, sql: Any) -> Any:
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


def unpublished(sql: Any) -> int:
    return int(sql.execute("SELECT count(*) FROM events_outbox WHERE published_at IS NULL").fetchone()[0])


def test_killing_the_writer_between_commit_and_publish_loses_no_event(
    database_url: str, ingest_db: Database, bus: Any, sql: Any
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")])}
    writer = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WRITER), database_url],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert writer.returncode == -signal.SIGKILL, writer.stderr
    assert writer.stdout.strip() == "committed"
    assert unpublished(sql) == 1

    first = publish_pending(ingest_db, bus)
    second = publish_pending(ingest_db, bus)

    assert (first.published, second.published) == (1, 0)
    [event] = bus.received()
    assert event["source"] == "pulse.alerts" and event["detail-type"] == "AlertOpened"
    metadata, data = event["detail"]["metadata"], event["detail"]["data"]
    assert (
        metadata["event_name"] == "AlertOpened" and metadata["tenant_id"] == "acme" and metadata["event_version"] == 1
    )
    assert data["device_id"] == "dev-1" and data["rule_id"] == "hot" and data["silenced"] is False
    assert metadata["correlation_id"] == data["alert_id"]
    assert unpublished(sql) == 0 and bus.received() == []


def test_more_than_ten_events_go_in_batches_of_ten_each_once(
    database_url: str, ingest_db: Database, bus: Any, sql: Any
) -> None:
    for n in range(23):
        make_device(sql, "acme", f"dev-{n + 2}")
        raise_alert(database_url, device_id=f"dev-{n + 2}")
    calls: list[int] = []
    put = bus.put
    bus.put = lambda events: calls.append(len(events)) or put(events)

    result = publish_pending(ingest_db, bus)

    assert result.published == 23 and calls == [10, 10, 3]
    received = bus.received()
    assert len(received) == 23 and len({e["detail"]["metadata"]["event_id"] for e in received}) == 23


class FlakyBus:
    """Rejects the events of chosen outbox rows, like PutEvents' per-entry failures."""

    def __init__(self, reject: set[int]) -> None:
        self.reject = reject
        self.accepted: list[BusEvent] = []

    def put(self, events: Sequence[BusEvent]) -> dict[int, str]:
        self.accepted.extend(e for e in events if e.key not in self.reject)
        return {e.key: "ThrottlingException: slow down" for e in events if e.key in self.reject}


def test_entries_the_bus_rejects_stay_pending_count_attempts_and_go_next_run(
    database_url: str, ingest_db: Database, sql: Any
) -> None:
    for device in ("dev-2", "dev-3"):
        make_device(sql, "acme", device)
        raise_alert(database_url, device_id=device)
    [first_id, second_id] = [r[0] for r in sql.execute("SELECT id FROM events_outbox ORDER BY id")]
    flaky = FlakyBus({second_id})

    result = publish_pending(ingest_db, flaky)

    assert (result.published, result.failed) == (1, 1)
    row = sql.execute("SELECT published_at, attempts, last_error FROM events_outbox WHERE id = %s", (second_id,))
    published_at, attempts, error = row.fetchone()
    assert published_at is None and attempts == 1 and error.startswith("ThrottlingException")
    flaky.reject = set()
    assert publish_pending(ingest_db, flaky).published == 1
    assert [e.key for e in flaky.accepted] == [first_id, second_id]


def test_the_adapter_reports_per_entry_failures_from_put_events() -> None:
    class Client:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "e-1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            }

    now = datetime.now(UTC)
    failures = EventBridgeBus(Client(), "pulse", "pulse.alerts").put(
        [BusEvent(7, "AlertOpened", {}, now), BusEvent(8, "AlertResolved", {}, now)]
    )

    assert failures == {8: "InternalFailure: try again"}


def test_a_bus_that_does_not_exist_leaves_everything_pending(database_url: str, ingest_db: Database, aws: None) -> None:
    raise_alert(database_url)
    missing = EventBridgeBus(boto3.client("events", region_name="eu-west-1"), "no-such-bus", "pulse.alerts")

    result = publish_pending(ingest_db, missing)

    assert (result.published, result.failed) == (0, 1)


def test_expired_silence_is_announced_once(database_url: str, ingest_db: Database, bus: Any, sql: Any) -> None:
    now = datetime.now(UTC)
    sql.execute(
        """INSERT INTO silences (tenant_id, id, site_id, starts_at, ends_at, created_by, created_at, reason)
           VALUES ('acme', 's-1', 'plant-a', %s, %s, 'kim', %s, 'works')""",
        (now - timedelta(hours=2), now - timedelta(minutes=1), now - timedelta(hours=2)),
    )
    sql.execute(
        """INSERT INTO silences (tenant_id, id, rule_id, starts_at, ends_at, created_by, created_at)
           VALUES ('acme', 's-2', 'hot', %s, %s, 'kim', %s)""",
        (now - timedelta(hours=2), now + timedelta(hours=1), now - timedelta(hours=2)),
    )

    summary = run_outbox(ingest_db, bus, sweep=True, now=now, max_events=100)
    with ingest_db.transaction() as conn:
        again = expire_silences(conn, now + timedelta(minutes=5))

    assert summary["silences_expired"] == 1 and summary["published"] == 1 and again == 0
    [event] = bus.received()
    assert event["detail-type"] == "SilenceExpired"
    assert event["detail"]["data"]["id"] == "s-1" and event["detail"]["data"]["reason"] == "works"


def test_a_snooze_that_ended_opens_the_alert_again(database_url: str, ingest_db: Database, sql: Any) -> None:
    alert_id = raise_alert(database_url)
    until = datetime.now(UTC) + timedelta(minutes=30)
    sql.execute("UPDATE alerts SET state = 'snoozed', snoozed_until = %s WHERE id = %s", (until, alert_id))

    with ingest_db.transaction() as conn:
        assert wake_snoozed(conn, until - timedelta(seconds=1)) == 0
    with ingest_db.transaction() as conn:
        assert wake_snoozed(conn, until + timedelta(seconds=1)) == 1

    state, snoozed_until = sql.execute("SELECT state, snoozed_until FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert (state, snoozed_until) == ("open", None)
    events = [r[0] for r in sql.execute("SELECT event_type FROM events_outbox ORDER BY id")]
    assert events == ["AlertOpened", "AlertUnsnoozed"]


def test_the_outbox_lambda_publishes_with_settings_from_the_environment(
    database_url: str, ingest_db: Database, bus: Any, lambda_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.outbox.handler import lambda_handler
    from tests.builders import FakeLambdaContext

    monkeypatch.setenv("PULSE_EVENT_BUS_NAME", "pulse")
    raise_alert(database_url)

    assert lambda_handler({"task": "sweep"}, FakeLambdaContext())["published"] == 1
    assert lambda_handler({}, FakeLambdaContext())["published"] == 0
    assert [e["detail-type"] for e in bus.received()] == ["AlertOpened"]
