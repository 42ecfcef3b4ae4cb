"""Active schedules: local windows in an IANA zone, whose UTC bounds follow daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from pulse.rules import EvaluationContext, Opened, Rule, Sample, Schedule, evaluate, tick
from pulse.rules.schedule import is_active, next_boundary


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def scheduled_rule(schedule: dict[str, Any] | None, **extra: Any) -> Rule:
    return Rule.model_validate(
        {
            "id": "r1",
            "name": "hot in opening hours",
            "severity": "minor",
            "scope": {"tenant_id": "acme"},
            "condition": {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
            "schedule": schedule,
        }
        | extra
    )


def moments(transitions: list[Any]) -> list[tuple[str, datetime]]:
    return [("open" if isinstance(t, Opened) else "resolve", t.at) for t in transitions]


def test_daily_window_moves_an_hour_earlier_in_utc_across_the_berlin_spring_change():
    # Given a condition true from Saturday on, and opening hours 08:00-18:00 Berlin time every day
    rule = scheduled_rule(
        {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "18:00"}
    )
    context = EvaluationContext(timezone="Europe/Berlin")
    state, opened = evaluate(rule, None, [Sample(utc(2026, 3, 28, 0, 0), {"temp": 90})], utc(2026, 3, 28), context)
    assert opened == []
    # When only ticks follow, until Monday noon (clocks went forward on Sunday 29 March)
    transitions = []
    for hour in range(1, 61):
        state, found = tick(rule, state, utc(2026, 3, 28, 0, 0).replace(day=28 + hour // 24, hour=hour % 24), context)
        transitions += found
    # Then the alert follows local 08:00 and 18:00: CET (UTC+1) on Saturday, CEST (UTC+2) after
    assert moments(transitions) == [
        ("open", utc(2026, 3, 28, 7, 0)),
        ("resolve", utc(2026, 3, 28, 17, 0)),
        ("open", utc(2026, 3, 29, 6, 0)),
        ("resolve", utc(2026, 3, 29, 16, 0)),
        ("open", utc(2026, 3, 30, 6, 0)),
    ]
    assert transitions[1].reason == "schedule"


def test_overnight_window_is_nine_hours_on_the_new_york_fall_back_night():
    schedule = Schedule(weekdays=["sat"], start=time(22, 0), end=time(6, 0), timezone="America/New_York")
    start = next_boundary(schedule, utc(2026, 10, 31, 12, 0), None)
    assert start == utc(2026, 11, 1, 2, 0)  # 22:00 EDT
    end = next_boundary(schedule, start, None)
    assert end == utc(2026, 11, 1, 11, 0)  # 06:00 EST
    assert is_active(schedule, utc(2026, 11, 1, 10, 59), None)
    assert not is_active(schedule, end, None)


def test_a_start_inside_the_spring_gap_is_read_with_the_offset_before_the_change():
    schedule = Schedule(weekdays=["sun"], start=time(2, 30), end=time(4, 0), timezone="Europe/Berlin")
    assert next_boundary(schedule, utc(2026, 3, 28, 12, 0), None) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST


def test_weekdays_limit_the_window_and_the_site_zone_applies_when_the_rule_names_none():
    schedule = Schedule(weekdays=["mon"], start=time(8, 0), end=time(9, 0))
    monday_8_30_tokyo = utc(2026, 3, 1, 23, 30)
    assert is_active(schedule, monday_8_30_tokyo, "Asia/Tokyo")
    assert not is_active(schedule, monday_8_30_tokyo, None)  # 23:30 Sunday in UTC
    assert is_active(None, monday_8_30_tokyo, None)


def test_a_latched_alert_stays_open_outside_the_schedule():
    rule = scheduled_rule({"weekdays": ["mon"], "start": "08:00", "end": "09:00"}, latch=True)
    state, opened = evaluate(rule, None, [Sample(utc(2026, 3, 2, 8, 30), {"temp": 90})], utc(2026, 3, 2, 8, 30))
    assert moments(opened) == [("open", utc(2026, 3, 2, 8, 30))]
    state, later = tick(rule, state, utc(2026, 3, 2, 12, 0))
    assert later == []
    assert state.firing


def test_a_disabled_rule_opens_nothing():
    rule = scheduled_rule(None, enabled=False)
    _, transitions = evaluate(rule, None, [Sample(utc(2026, 3, 2, 8, 30), {"temp": 90})], utc(2026, 3, 2, 9))
    assert transitions == []
