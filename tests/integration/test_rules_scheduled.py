"""The one-minute evaluator: timers fire without new telemetry, state survives restarts, scope follows versions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from functions.evaluator.handler import lambda_handler
from pulse.db import Database, tenant_transaction
from pulse.rules.cache import RuleCache
from pulse.rules.scheduled import run_tick
from pulse.rules.service import update_rule
from tests.builders import FakeLambdaContext, make_device, make_tenant
from tests.integration.rule_fixtures import ACTOR, add_rule, alerts, ingest, rule_body

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW = timedelta(0)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.fixture
def ingest_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


@pytest.fixture
def fleet(sql, owner_db) -> Database:
    make_tenant(sql, "acme")
    for device in ("dev-1", "dev-2"):
        make_device(sql, "acme", device)
    return owner_db


def test_absence_fires_on_the_clock_with_no_further_messages(fleet, ingest_db, sql):
    add_rule(fleet, "acme", {"kind": "absence", "duration": "10m"})
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 20}), (at(3), {"temp": 21})], RuleCache())
    assert run_tick(ingest_db, at(12), lateness=NOW).transitions == 0
    report = run_tick(ingest_db, at(14), lateness=NOW)
    assert report.transitions == 1
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(13), None, "schedule")]


def test_a_device_silent_before_the_rule_existed_is_flagged_from_its_last_message(fleet, ingest_db, sql):
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 20})], RuleCache())
    add_rule(fleet, "acme", {"kind": "absence", "duration": "10m"})
    report = run_tick(ingest_db, at(30), lateness=NOW)
    assert report.started == 2  # dev-2 never sent anything: its state waits for a first message
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(10), None, "schedule")]
    assert run_tick(ingest_db, at(31), lateness=NOW).started == 0


def test_for_duration_survives_a_process_restart(fleet, database_url, sql):
    add_rule(
        fleet,
        "acme",
        {"kind": "for", "duration": "5m", "condition": {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}},
    )
    first = Database(database_url, "pulse_ingest")
    ingest(first, "acme", "dev-1", [(at(0), {"temp": 90}), (at(1), {"temp": 91})], RuleCache())
    first.close()  # the container goes away; a new one only has the database
    second = Database(database_url, "pulse_ingest")
    try:
        assert run_tick(second, at(4), lateness=NOW).transitions == 0
        run_tick(second, at(6), lateness=NOW)
    finally:
        second.close()
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(5), None, "schedule")]


def test_opening_hours_follow_the_berlin_clock_across_the_spring_change(fleet, ingest_db, sql):
    saturday = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    add_rule(
        fleet,
        "acme",
        {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
        schedule={
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "08:00",
            "end": "18:00",
            "timezone": "Europe/Berlin",
        },
    )
    ingest(ingest_db, "acme", "dev-1", [(saturday, {"temp": 90})], RuleCache())
    for hour in range(1, 61):
        run_tick(ingest_db, saturday + timedelta(hours=hour), lateness=NOW)
    opened = [(a[3], a[4]) for a in alerts(sql, "acme")]
    assert opened == [
        (datetime(2026, 3, 28, 7, tzinfo=UTC), datetime(2026, 3, 28, 17, tzinfo=UTC)),  # CET
        (datetime(2026, 3, 29, 6, tzinfo=UTC), datetime(2026, 3, 29, 16, tzinfo=UTC)),  # CEST
        (datetime(2026, 3, 30, 6, tzinfo=UTC), None),
    ]


def test_a_new_version_that_leaves_a_device_out_of_scope_resolves_its_alert(fleet, ingest_db, sql):
    condition = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}
    add_rule(fleet, "acme", condition)
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 90})], RuleCache())
    with tenant_transaction(fleet, "acme") as conn:
        narrowed = rule_body("acme", condition, scope={"tenant_id": "acme", "device_ids": ["dev-2"]})
        update_rule(conn, "acme", "r1", narrowed, ACTOR, expected_version=1)
    report = run_tick(ingest_db, at(10), lateness=NOW)
    assert report.dropped == 1
    assert alerts(sql, "acme") == [("r1", "dev-1", "resolved", at(0), at(10), "stream")]
    assert sql.execute("SELECT device_id, rule_version FROM rule_state").fetchall() == [("dev-2", 2)]


def test_the_lambda_runs_one_tick_and_refuses_unknown_tasks(fleet, lambda_env, sql):
    add_rule(fleet, "acme", {"kind": "absence", "duration": "10m"})
    assert lambda_handler({"task": "evaluate"}, FakeLambdaContext())["ok"] is True
    assert lambda_handler({"task": "nope"}, FakeLambdaContext()) == {"ok": False, "error": "unknown task"}
