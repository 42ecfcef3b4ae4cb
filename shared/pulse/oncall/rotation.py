"""Rotations in local wall-clock time (pure): the shifts of a layer and the windows it is restricted to.

Every handoff is a local wall-clock time in the schedule's zone, turned into an instant by
``local_instant``:

* an ordinary local time is that instant;
* an ambiguous one (the clock falls back and shows it twice) is its **first** occurrence (fold=0);
* a nonexistent one (the clock springs forward over it, e.g. 02:30 on the spring change in New York
  or Berlin) becomes the **first valid instant after it**: the instant of the change itself, when
  the local clock jumps to the end of the gap (03:00 in New York and Berlin).

Shift lengths count local days, so a daily shift over a DST change lasts 23 or 25 hours, and the
handoff stays at the same local time every day.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pulse.oncall.models import Restriction, Rotation


@dataclass(frozen=True, slots=True)
class Shift:
    """Shift ``index`` of a rotation: ``username`` on call over ``[start, end)`` (UTC instants)."""

    index: int
    start: datetime
    end: datetime
    username: str


def wall_clock(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive local wall-clock reading of ``instant`` in ``tz``."""
    return instant.astimezone(tz).replace(tzinfo=None)


def local_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the naive local time ``wall`` in ``tz`` (see the module docstring for DST)."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if wall_clock(first, tz) == wall:
        return first  # exists; fold=0 is the first occurrence when it is ambiguous
    # In a gap, fold=0 applies the offset from before the change and lands after it; fold=1 applies
    # the offset from after and lands before it. The clock increases on that span and jumps past
    # ``wall`` exactly once: find the first whole second whose reading is at or after ``wall``.
    lo = math.floor(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    hi = math.ceil(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if wall_clock(datetime.fromtimestamp(mid, UTC), tz) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def handoff(rotation: Rotation, tz: ZoneInfo, index: int) -> datetime:
    """The instant shift ``index`` starts."""
    day = rotation.start_date + timedelta(days=index * rotation.days)
    return local_instant(datetime.combine(day, rotation.handoff_time), tz)


def shifts(rotation: Rotation, tz: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """Every shift overlapping ``[start, end)``, whole (not clipped), oldest first."""
    if end <= start:
        return []
    origin = handoff(rotation, tz, 0)
    if end <= origin:
        return []
    # Local days drift from 24 h by at most a few hours per DST change: start one shift early, walk on.
    index = max(0, math.floor((start - origin) / timedelta(days=rotation.days)) - 1)
    while handoff(rotation, tz, index + 1) <= start:
        index += 1
    found: list[Shift] = []
    begin = handoff(rotation, tz, index)
    users = rotation.users
    while begin < end:
        finish = handoff(rotation, tz, index + 1)
        found.append(Shift(index, begin, finish, users[index % len(users)]))
        index, begin = index + 1, finish
    return found


def _days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day = wall_clock(start, tz).date() - timedelta(days=1)
    last = wall_clock(end, tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def restriction_windows(
    restrictions: Sequence[Restriction], tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The merged ``[from, to)`` instants inside ``[start, end)`` where the restrictions let a layer act."""
    windows: list[tuple[datetime, datetime]] = []
    for day in _days(start, end, tz):
        for r in restrictions:
            if day.weekday() not in r.weekdays:
                continue
            end_day = day + timedelta(days=1) if r.end == time(0) else day
            lo = max(start, local_instant(datetime.combine(day, r.start), tz))
            hi = min(end, local_instant(datetime.combine(end_day, r.end), tz))
            if lo < hi:
                windows.append((lo, hi))
    windows.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def layer_shifts(
    rotation: Rotation, restrictions: Sequence[Restriction], tz: ZoneInfo, start: datetime, end: datetime
) -> list[Shift]:
    """The layer's shifts clipped to ``[start, end)`` and, when it has restrictions, to their windows."""
    clipped = [
        Shift(s.index, max(s.start, start), min(s.end, end), s.username) for s in shifts(rotation, tz, start, end)
    ]
    if not restrictions:
        return clipped
    windows = restriction_windows(restrictions, tz, start, end)
    pieces: list[Shift] = []
    for s in clipped:
        for lo, hi in windows:
            if lo < s.end and s.start < hi:
                pieces.append(Shift(s.index, max(lo, s.start), min(hi, s.end), s.username))
    return pieces
