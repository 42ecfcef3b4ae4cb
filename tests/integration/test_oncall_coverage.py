"""Coverage gaps become alerts: a schedule with a hole next week opens one coverage-gap alert (through
the scheduled Lambda, as pulse_ingest), which follows the hole as overrides fill it and resolves once
nobody is missing; deleting the schedule resolves it too. Device alerts still need their device."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from functions.oncall.handler import lambda_handler
from tests.builders import ApiHarness, FakeLambdaContext

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")
RULE = "system.oncall-coverage"


@pytest.fixture
def api(database_url, aws, lambda_env):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    yield harness
    harness.close()


def schedule_with_a_hole(api) -> tuple[str, datetime, datetime]:
    """ana covers every day but one, four days from now (Berlin): (schedule id, hole start, hole end)."""
    today = datetime.now(BERLIN).date()
    hole = today + timedelta(days=4)
    every_day_but = [d for d in range(7) if d != hole.weekday()]
    body = {
        "name": "Ops",
        "timezone": "Europe/Berlin",
        "layers": [
            {
                "name": "Primary",
                "priority": 1,
                "rotation": {
                    "kind": "weekly",
                    "handoff_time": "09:00",
                    "start_date": (today - timedelta(days=14)).isoformat(),
                    "users": ["ana"],
                },
                "restrictions": [{"weekdays": every_day_but, "start": "00:00", "end": "00:00"}],
            }
        ],
    }
    response = api.request("POST", "/oncall/schedules", json=body)
    assert response.status_code == 201, response.json()
    start = datetime.combine(hole, time(0), BERLIN)
    return response.json()["id"], start, datetime.combine(hole + timedelta(days=1), time(0), BERLIN)


def check() -> dict:
    return lambda_handler({"task": "check_coverage"}, FakeLambdaContext())


def coverage_alert(sql, schedule_id):
    return sql.execute(
        "SELECT id, state, count, subject, explanation->'gaps' FROM alerts WHERE rule_id = %s AND device_id = %s",
        (RULE, schedule_id),
    ).fetchone()


def events(sql, alert_id):
    rows = sql.execute(
        "SELECT event_type, detail->>'subject' FROM events_outbox WHERE correlation_id = %s ORDER BY id", (alert_id,)
    )
    return [tuple(r) for r in rows]


def gap(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def test_a_hole_next_week_opens_a_coverage_alert_that_follows_the_hole_and_resolves_when_filled(api, sql):
    schedule_id, hole_start, hole_end = schedule_with_a_hole(api)

    assert check() == {"ok": True, "schedules": 1, "with_gaps": 1, "opened": 1, "changed": 0, "resolved": 0}

    alert_id, state, count, subject, gaps = coverage_alert(sql, schedule_id)
    assert (state, count, subject) == ("open", 1, "schedule")
    assert [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in gaps] == [
        (hole_start, hole_end)
    ]
    assert events(sql, alert_id) == [("AlertOpened", "schedule")]
    listed = api.request("GET", "/alerts", params={"rule_id": RULE}).json()["items"]
    assert [(a["id"], a["device_id"], a["severity"]) for a in listed] == [(alert_id, schedule_id, "major")]
    detail = api.request("GET", f"/alerts/{alert_id}").json()
    assert detail["explanation"]["schedule"]["name"] == "Ops" and "1 gap(s), 24 h" in detail["explanation"]["summary"]

    assert check()["opened"] == 0 and coverage_alert(sql, schedule_id)[2] == 1  # the same hole: nothing new

    half = hole_start + timedelta(hours=12)
    overrides = f"/oncall/schedules/{schedule_id}/overrides"
    body = {"username": "ben", "starts_at": hole_start.isoformat(), "ends_at": half.isoformat()}
    assert api.request("POST", overrides, json=body).status_code == 201
    assert check()["changed"] == 1
    _, state, count, _, gaps = coverage_alert(sql, schedule_id)
    assert (state, count) == ("open", 2)
    assert [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in gaps] == [(half, hole_end)]

    body = {"username": "chen", "starts_at": half.isoformat(), "ends_at": hole_end.isoformat()}
    assert api.request("POST", overrides, json=body).status_code == 201
    assert check()["resolved"] == 1

    assert coverage_alert(sql, schedule_id)[1] == "resolved"
    assert events(sql, alert_id) == [("AlertOpened", "schedule"), ("AlertResolved", "schedule")]
    timeline = [e["action"] for e in api.request("GET", f"/alerts/{alert_id}/timeline").json()["items"]]
    assert timeline == ["opened", "gaps_changed", "resolved"]
    assert api.request("GET", f"/oncall/schedules/{schedule_id}/gaps").json()["gaps"] == []


def test_deleting_a_schedule_resolves_its_coverage_alert(api, sql):
    schedule_id, _, _ = schedule_with_a_hole(api)
    check()
    alert_id = coverage_alert(sql, schedule_id)[0]

    assert api.request("DELETE", f"/oncall/schedules/{schedule_id}").status_code == 204

    assert sql.execute("SELECT state FROM alerts WHERE id = %s", (alert_id,)).fetchone() == ("resolved",)
    assert check()["schedules"] == 0


def test_schedule_without_gap_alerts_raises_nothing_and_a_device_alert_still_needs_its_device(api, sql):
    schedule_id, _, _ = schedule_with_a_hole(api)
    sql.execute("UPDATE oncall_schedules SET alert_on_gaps = false WHERE id = %s", (schedule_id,))
    assert check()["opened"] == 0 and coverage_alert(sql, schedule_id) is None

    sql.execute("UPDATE oncall_schedules SET alert_on_gaps = true WHERE id = %s", (schedule_id,))
    check()
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        sql.execute("UPDATE alerts SET subject = 'device' WHERE device_id = %s", (schedule_id,))


def test_unknown_task_is_refused():
    assert lambda_handler({"task": "nap"}, FakeLambdaContext()) == {"ok": False, "error": "unknown task"}
