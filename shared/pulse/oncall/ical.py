"""The final schedule as an iCalendar document (RFC 5545), written by hand: one VEVENT per segment.

Times are UTC (``DTSTART:20250303T080000Z``), so no VTIMEZONE is needed and every client shows them
in its own zone; ``X-WR-TIMEZONE`` names the schedule's zone for clients that use it. Lines end in
CRLF and are folded at 75 octets without splitting a UTF-8 character; text values are escaped.
A segment's UID is stable (schedule, start, person), so a client refreshing the feed updates events
in place instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pulse.oncall.models import OnCallSchedule, Segment

PRODID = "-//Pulse//On-call schedules//EN"
_LIMIT = 75


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Folds a content line into chunks of at most 75 octets, continuation lines starting with a space."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        limit = _LIMIT if not pieces else _LIMIT - 1  # continuation lines carry the leading space
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(schedule: OnCallSchedule, segment: Segment, stamp: datetime) -> list[str]:
    assert segment.username is not None
    how = {"layer": "rotation", "override": "override", "swap": "shift swap"}.get(segment.source or "", "")
    return [
        "BEGIN:VEVENT",
        f"UID:{schedule.id}-{int(segment.start.timestamp())}-{segment.username}@oncall.pulse",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(segment.start)}",
        f"DTEND:{_utc(segment.end)}",
        f"SUMMARY:{escape_text(f'On call: {segment.username} ({schedule.name})')}",
        f"DESCRIPTION:{escape_text(f'{segment.username} is on call for {schedule.name} ({how}).')}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def render(schedule: OnCallSchedule, segments: Sequence[Segment], *, stamp: datetime) -> str:
    """A VCALENDAR with one VEVENT per segment that has someone on call."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(f'On call: {schedule.name}')}",
        f"X-WR-TIMEZONE:{schedule.timezone}",
    ]
    for segment in segments:
        if segment.username is not None:
            lines.extend(_event(schedule, segment, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
