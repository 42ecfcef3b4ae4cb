"""Alerts and the rules plane through ingest and the API: acknowledging a latched alert releases the
rule's latch, disabling or deleting a rule resolves its alerts, and every commit that wrote alert
events starts the outbox publisher (a recording starter stands in for the Lambda invoke)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.db import Database
from pulse.rules.cache import RuleCache
from tests.builders import ApiHarness, make_device
from tests.builders_alerts import RecordingOutboxStarter
from tests.integration.rule_fixtures import add_rule, ingest

pytestmark = pytest.mark.integration
HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 30}
USER = "customer_admin@acme.example"


@pytest.fixture
def api(database_url: str, aws: None, sql: Any) -> Iterator[ApiHarness]:
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    for device in ("dev-1", "dev-2"):
        make_device(sql, "acme", device)
    yield harness
    harness.close()


@pytest.fixture
def outbox(api: ApiHarness) -> RecordingOutboxStarter:
    starter = RecordingOutboxStarter()
    api.services.outbox = lambda: starter
    return starter


@pytest.fixture
def ingest_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # envelopes carry milliseconds


def _alert(api: ApiHarness, device_id: str = "dev-1") -> dict[str, Any]:
    [alert] = api.request("GET", "/alerts", params={"device_id": device_id}).json()["items"]
    return alert


def _resolution(sql: Any, alert_id: str) -> tuple[Any, ...]:
    return sql.execute(
        """SELECT actor, detail ->> 'reason' FROM alert_events WHERE alert_id = %s AND action = 'resolved'""",
        (alert_id,),
    ).fetchone()


def _events(sql: Any, alert_id: str) -> list[str]:
    rows = sql.execute("SELECT event_type FROM events_outbox WHERE correlation_id = %s ORDER BY id", (alert_id,))
    return [r[0] for r in rows]


def test_acknowledging_a_latched_alert_while_it_still_fires_resolves_it_when_the_condition_clears(api, ingest_db, sql):
    add_rule(api.db, "acme", HOT, rule_id="hot", latch=True)
    now = _now()
    ingest(ingest_db, "acme", "dev-1", [(now - timedelta(minutes=2), {"temp": 35})], RuleCache())
    alert = _alert(api)

    acked = api.request("POST", f"/alerts/{alert['id']}/acknowledge").json()

    assert acked["state"] == "acknowledged"  # the condition still holds
    [released] = sql.execute("SELECT state ->> 'latch_released' FROM rule_state").fetchone()
    assert released == "true"
    cool = now + timedelta(seconds=5)
    ingest(ingest_db, "acme", "dev-1", [(cool, {"temp": 20})], RuleCache())
    after = api.request("GET", f"/alerts/{alert['id']}").json()
    assert (after["state"], after["resolved_at"]) == ("resolved", cool.isoformat().replace("+00:00", "Z"))
    assert _events(sql, alert["id"]) == ["AlertOpened", "AlertAcknowledged", "AlertResolved"]


def test_a_latched_alert_not_acknowledged_stays_open_after_the_condition_clears(api, ingest_db):
    add_rule(api.db, "acme", HOT, rule_id="hot", latch=True)
    now = _now()
    ingest(ingest_db, "acme", "dev-1", [(now - timedelta(minutes=2), {"temp": 35}), (now, {"temp": 20})], RuleCache())

    assert _alert(api)["state"] == "open"


def test_disabling_a_rule_resolves_its_open_alerts_by_the_user_and_starts_the_publisher(api, outbox, ingest_db, sql):
    add_rule(api.db, "acme", HOT, rule_id="hot")
    now = _now()
    for device in ("dev-1", "dev-2"):
        ingest(ingest_db, "acme", device, [(now - timedelta(minutes=3), {"temp": 40})], RuleCache())

    response = api.request("POST", "/rules/hot:disable")

    assert response.status_code == 200 and response.json()["enabled"] is False
    for device in ("dev-1", "dev-2"):
        alert = _alert(api, device)
        assert (alert["state"], alert["resolved_by"]) == ("resolved", USER)
        assert _resolution(sql, alert["id"]) == (USER, "rule disabled")
        assert _events(sql, alert["id"]) == ["AlertOpened", "AlertResolved"]
    assert outbox.starts == 1
    assert sql.execute("SELECT count(*) FROM rule_state").fetchone() == (0,)


def test_deleting_a_rule_resolves_its_open_alerts(api, outbox, ingest_db, sql):
    add_rule(api.db, "acme", HOT, rule_id="hot")
    ingest(ingest_db, "acme", "dev-1", [(_now() - timedelta(minutes=3), {"temp": 40})], RuleCache())

    assert api.request("DELETE", "/rules/hot").status_code == 204

    alert = _alert(api)
    assert alert["state"] == "resolved" and _resolution(sql, alert["id"]) == (USER, "rule deleted")
    assert outbox.starts == 1


def test_disabling_a_rule_without_alerts_starts_no_publisher(api, outbox):
    add_rule(api.db, "acme", HOT, rule_id="hot")

    assert api.request("POST", "/rules/hot:disable").status_code == 200

    assert outbox.starts == 0


def test_an_alert_action_starts_the_publisher_after_its_commit_and_a_refused_one_does_not(api, outbox, ingest_db):
    add_rule(api.db, "acme", HOT, rule_id="hot")
    ingest(ingest_db, "acme", "dev-1", [(_now() - timedelta(minutes=3), {"temp": 40})], RuleCache())
    alert_id = _alert(api)["id"]

    assert api.request("POST", f"/alerts/{alert_id}/acknowledge").status_code == 200
    assert outbox.starts == 1
    assert api.request("POST", f"/alerts/{alert_id}/acknowledge").status_code == 409
    assert outbox.starts == 1
