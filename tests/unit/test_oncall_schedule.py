"""The final schedule: layer priority, restriction windows, overrides above every layer, gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from pulse.oncall.models import Layer, OnCallSchedule, OnCallScheduleIn, Override, Restriction, Rotation
from pulse.oncall.schedule import final_schedule, gaps

BERLIN_MONDAY = date(2025, 3, 3)  # a Monday in winter (UTC+1)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2025 in Berlin winter time, as UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


def _layer(layer_id: str, priority: int, users: list[str], **fields) -> Layer:
    rotation = Rotation(kind="daily", handoff_time=time(9), start_date=BERLIN_MONDAY, users=users)
    return Layer(id=layer_id, name=layer_id, priority=priority, rotation=rotation, **fields)


def _schedule(*layers: Layer) -> OnCallSchedule:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return OnCallSchedule(
        id="s1",
        name="Ops",
        timezone="Europe/Berlin",
        description="",
        alert_on_gaps=True,
        layers=list(layers),
        created_by="test",
        created_at=now,
        updated_at=now,
        version=1,
    )


def _override(override_id: str, user: str, start: datetime, end: datetime, minute: int = 0, source="override"):
    return Override(
        id=override_id,
        schedule_id="s1",
        username=user,
        starts_at=start,
        ends_at=end,
        source=source,
        swap_id=None,
        note="",
        created_by="test",
        created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minute),
    )


def _who(segments) -> list[tuple[datetime, datetime, str | None, str | None]]:
    return [(s.start, s.end, s.username, s.source_id) for s in segments]


def test_daily_rotation_hands_off_at_nine_local_in_user_order():
    schedule = _schedule(_layer("primary", 1, ["ana", "ben"]))

    segments = final_schedule(schedule, [], _at(3, 0), _at(5, 12))

    assert _who(segments) == [
        (_at(3, 0), _at(3, 9), None, None),  # before the first handoff nobody is on call
        (_at(3, 9), _at(4, 9), "ana", "primary"),
        (_at(4, 9), _at(5, 9), "ben", "primary"),
        (_at(5, 9), _at(5, 12), "ana", "primary"),
    ]
    assert [(g.start, g.end) for g in gaps(segments)] == [(_at(3, 0), _at(3, 9))]


def test_higher_priority_layer_wins_where_it_has_someone_and_the_lower_fills_the_rest():
    business_hours = Restriction(weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(17))
    schedule = _schedule(
        _layer("follow-the-sun", 1, ["night"]), _layer("office", 5, ["day"], restrictions=[business_hours])
    )

    segments = final_schedule(schedule, [], _at(7, 12), _at(8, 12))  # Friday noon to Saturday noon

    assert _who(segments) == [
        (_at(7, 12), _at(7, 17), "day", "office"),
        (_at(7, 17), _at(8, 12), "night", "follow-the-sun"),
    ]


def test_restriction_ending_at_midnight_covers_the_evening():
    evening = Restriction(start=time(18), end=time(0))
    schedule = _schedule(_layer("evening", 1, ["eve"], restrictions=[evening]))

    segments = final_schedule(schedule, [], _at(4, 12), _at(5, 12))

    assert _who(segments) == [
        (_at(4, 12), _at(4, 18), None, None),
        (_at(4, 18), _at(5, 0), "eve", "evening"),
        (_at(5, 0), _at(5, 12), None, None),
    ]


def test_override_beats_every_layer_and_the_newest_override_wins_where_they_overlap():
    schedule = _schedule(_layer("primary", 1, ["ana"]))
    older = _override("o1", "ben", _at(4, 10), _at(4, 14), minute=1)
    newer = _override("o2", "chen", _at(4, 12), _at(4, 16), minute=2, source="swap")

    segments = final_schedule(schedule, [newer, older], _at(4, 9), _at(4, 18))

    assert [(s.start, s.end, s.username, s.source) for s in segments] == [
        (_at(4, 9), _at(4, 10), "ana", "layer"),
        (_at(4, 10), _at(4, 12), "ben", "override"),
        (_at(4, 12), _at(4, 16), "chen", "swap"),
        (_at(4, 16), _at(4, 18), "ana", "layer"),
    ]


def test_override_can_fill_a_gap_and_consecutive_shifts_of_one_person_merge():
    schedule = _schedule(_layer("primary", 1, ["ana"]))

    segments = final_schedule(schedule, [_override("o1", "ben", _at(3, 6), _at(3, 9))], _at(3, 6), _at(6, 6))

    assert _who(segments) == [(_at(3, 6), _at(3, 9), "ben", "o1"), (_at(3, 9), _at(6, 6), "ana", "primary")]
    assert gaps(segments) == []


def test_empty_range_has_no_segments():
    assert final_schedule(_schedule(_layer("primary", 1, ["ana"])), [], _at(4, 9), _at(4, 9)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"layers": [{"name": "a", "priority": 1, "rotation": {"kind": "daily", "handoff_time": "09:00",
                                                               "start_date": "2025-03-03", "users": []}}]},
         "at least 1 item"),
        ({"layers": [{"name": "a", "priority": 1, "rotation": {"kind": "custom", "handoff_time": "09:00",
                                                               "start_date": "2025-03-03", "users": ["x"]}}]},
         "length_days"),
        ({"layers": [{"name": n, "priority": 1, "rotation": {"kind": "daily", "handoff_time": "09:00",
                                                             "start_date": "2025-03-03", "users": ["x"]}}
                     for n in ("a", "b")]},
         "its own priority"),
    ],
)  # fmt: skip
def test_schedule_input_refuses_what_cannot_be_scheduled(change, message):
    with pytest.raises(ValidationError, match=message):
        OnCallScheduleIn.model_validate({"name": "Ops", "timezone": "Europe/Berlin", **change})
