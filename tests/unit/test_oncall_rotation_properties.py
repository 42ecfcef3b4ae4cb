"""Rotations across DST changes in New York, Berlin and Sydney: a fully staffed rotation has exactly
one person on call at every instant, and every handoff happens at the configured local time (or, on
a spring-forward day where that time does not exist, at the first instant after it)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.oncall.models import Layer, OnCallSchedule, Override, Rotation, RotationKind
from pulse.oncall.rotation import shifts, wall_clock
from pulse.oncall.schedule import final_schedule

ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney")


def _dst_changes(zone: str) -> list[date]:
    """Local dates whose UTC offset differs from the day before's, 2024-2026."""
    tz = ZoneInfo(zone)
    day, found = date(2024, 1, 1), []
    while day < date(2027, 1, 1):
        before = datetime.combine(day, time(0), tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
        if before != after:
            found.append(day)
        day += timedelta(days=1)
    return found


CHANGES = {zone: _dst_changes(zone) for zone in ZONES}
# 02:30 does not exist on spring-forward days in New York and Berlin (Sydney: 02:00-03:00 too),
# 01:30 happens twice on fall-back days in New York, 02:30 in Berlin and Sydney.
SPECIAL_TIMES = [time(2, 30), time(2, 0), time(1, 30), time(3, 0), time(0, 0), time(2, 59)]
handoff_times = st.one_of(st.sampled_from(SPECIAL_TIMES), st.builds(time, st.integers(0, 23), st.integers(0, 59)))
usernames = st.lists(st.sampled_from(["ana", "ben", "chen", "dara", "eli"]), min_size=1, max_size=5)


@st.composite
def rotations(draw: st.DrawFn, zone: str) -> tuple[Rotation, datetime, datetime]:
    """A rotation and a range (instants) that spans at least one DST change of ``zone``."""
    change = draw(st.sampled_from(CHANGES[zone]))
    kind = draw(st.sampled_from(list(RotationKind)))
    length = draw(st.integers(1, 14)) if kind is RotationKind.CUSTOM else None
    rotation = Rotation(
        kind=kind,
        length_days=length,
        handoff_time=draw(handoff_times),
        start_date=change - timedelta(days=draw(st.integers(0, 60))),
        users=draw(usernames),
    )
    tz = ZoneInfo(zone)
    first_handoff = datetime.combine(rotation.start_date, time(0), tz) + timedelta(days=1)
    start = max(first_handoff, datetime.combine(change, time(0), tz) - timedelta(hours=draw(st.integers(0, 24 * 10))))
    end = max(start, datetime.combine(change, time(0), tz)) + timedelta(hours=draw(st.integers(1, 24 * 30)))
    return rotation, start.astimezone(UTC), end.astimezone(UTC)


zone_and_rotation = st.sampled_from(ZONES).flatmap(lambda z: st.tuples(st.just(z), rotations(z)))


def _expected_handoff(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The first instant showing ``wall`` on the local clock; None when the clock skips it."""
    readings = [wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    valid = [instant for instant in readings if wall_clock(instant, tz) == wall]
    return min(valid) if valid else None


def _schedule(zone: str, rotation: Rotation) -> OnCallSchedule:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    layer = Layer(id="primary", name="Primary", priority=1, rotation=rotation)
    return OnCallSchedule(
        id="s1",
        name="Ops",
        timezone=zone,
        description="",
        alert_on_gaps=True,
        layers=[layer],
        created_by="test",
        created_at=now,
        updated_at=now,
        version=1,
    )


@settings(max_examples=300, deadline=None)
@given(zone_and_rotation)
def test_every_instant_of_a_staffed_rotation_has_exactly_one_person(case):
    zone, (rotation, start, end) = case

    segments = final_schedule(_schedule(zone, rotation), [], start, end)

    assert segments[0].start == start and segments[-1].end == end
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start  # no gap, no overlap
        assert before.start < before.end
    assert all(s.username in rotation.users and s.source == "layer" for s in segments)


@settings(max_examples=300, deadline=None)
@given(zone_and_rotation)
def test_handoffs_happen_at_the_configured_local_time(case):
    zone, (rotation, start, end) = case
    tz = ZoneInfo(zone)

    found = shifts(rotation, tz, start, end)

    assert found[0].start <= start and found[-1].end >= end
    for shift, following in itertools.pairwise(found):
        assert shift.end == following.start and following.index == shift.index + 1
    for shift in found:
        day = rotation.start_date + timedelta(days=shift.index * rotation.days)
        wall = datetime.combine(day, rotation.handoff_time)
        expected = _expected_handoff(wall, tz)
        if expected is not None:
            assert shift.start == expected  # the first occurrence when the clock shows it twice
        else:  # spring forward skipped it: the first instant after, when the clock jumps past it
            assert wall_clock(shift.start, tz) > wall and wall_clock(shift.start - timedelta(seconds=1), tz) < wall
            assert wall_clock(shift.start, tz).date() == day
        assert shift.username == rotation.users[shift.index % len(rotation.users)]
        hours = (shift.end - shift.start) / timedelta(hours=1)
        assert abs(hours - 24 * rotation.days) <= 2  # local days: 23 or 25 hours over a change


@settings(max_examples=200, deadline=None)
@given(
    zone_and_rotation,
    st.lists(st.tuples(st.integers(0, 24 * 40), st.integers(1, 24 * 5), st.sampled_from(["ovr1", "ovr2"])), max_size=4),
)
def test_overrides_on_a_staffed_rotation_leave_exactly_one_person_and_the_newest_wins(case, raw_overrides):
    zone, (rotation, start, end) = case
    overrides = [
        Override(
            id=f"o{i}",
            schedule_id="s1",
            username=name,
            starts_at=start + timedelta(hours=offset),
            ends_at=start + timedelta(hours=offset + length),
            source="override",
            swap_id=None,
            note="",
            created_by="test",
            created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        )
        for i, (offset, length, name) in enumerate(raw_overrides)
    ]

    segments = final_schedule(_schedule(zone, rotation), overrides, start, end)

    assert segments[0].start == start and segments[-1].end == end
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start
    for segment in segments:
        covering = [o for o in overrides if o.starts_at <= segment.start < o.ends_at]
        if covering:
            newest = max(covering, key=lambda o: o.created_at)
            assert (segment.username, segment.source_id) == (newest.username, newest.id)
        else:
            assert segment.source == "layer" and segment.username in rotation.users
