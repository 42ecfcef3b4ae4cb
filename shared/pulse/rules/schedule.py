"""Active schedules: whether an instant falls in a rule's local-time window and when that changes.

Windows are computed per local day in the IANA zone, so their UTC bounds move with DST. A start
or end inside a spring-forward gap is read with the offset before the change (02:30 on the day
Berlin skips 02:00-03:00 is 03:30 CEST); an ambiguous autumn time is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pulse.rules.model import WEEKDAYS, Schedule


def _zone(schedule: Schedule, site_timezone: str | None) -> ZoneInfo:
    return ZoneInfo(schedule.timezone or site_timezone or "UTC")


def _windows(schedule: Schedule, zone: ZoneInfo, first: date, days: int) -> list[tuple[datetime, datetime]]:
    """The UTC [start, end) of each window starting on the ``days`` local days from ``first``."""
    found = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in schedule.weekdays:
            continue
        end_day = day if schedule.end > schedule.start else day + timedelta(days=1)
        start = datetime.combine(day, schedule.start, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(end_day, schedule.end, tzinfo=zone).astimezone(UTC)
        if end > start:
            found.append((start, end))
    return found


def is_active(schedule: Schedule | None, at: datetime, site_timezone: str | None) -> bool:
    """Whether the rule may open alerts at ``at`` (always, without a schedule)."""
    if schedule is None:
        return True
    zone = _zone(schedule, site_timezone)
    local_day = at.astimezone(zone).date()
    return any(start <= at < end for start, end in _windows(schedule, zone, local_day - timedelta(days=1), 2))


def next_boundary(schedule: Schedule | None, after: datetime, site_timezone: str | None) -> datetime | None:
    """The first window start or end strictly after ``after``; None without a schedule."""
    if schedule is None:
        return None
    zone = _zone(schedule, site_timezone)
    local_day = after.astimezone(zone).date()
    bounds = (b for window in _windows(schedule, zone, local_day - timedelta(days=1), 9) for b in window)
    return min((b for b in bounds if b > after), default=None)
