"""Pure escalation rules: given a policy, the alert as it is now, the stored cursor and ``now``, what is due.

The cursor names the next step (``position`` in pass ``repeat``) and when it is due. While the alert
is **open**, every step due at or before ``now`` runs, in order: a wait step moves the due time on by
its minutes, any other step becomes a ``DueAction`` at the time it was due (a late tick catches up
on what it missed, each action once). After the last step the policy starts over (due time kept)
until it has repeated ``repeat_count`` times; then the steps are exhausted. With an
``active_window``, a step due outside the window waits for the window's next start (waits count
from there). **Acknowledged**: no step runs; with a ``reminder``, one reminder is due every
``every_minutes`` after the acknowledgement (a late tick sends one, not a backlog). **Snoozed**:
nothing runs until the alert wakes up (steps overdue by then run at once). **Resolved / closed**:
the escalation ends. Nothing here reads a clock, a database or a channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pulse.alerts.models import AlertState
from pulse.escalation.models import WEEKDAYS, ActiveWindow, EscalationPolicyIn, Step, WaitStep
from pulse.oncall.rotation import local_instant, wall_clock

MAX_ACTIONS_PER_ADVANCE = 500  # a policy of 20 steps x 11 passes stays far below; guards a bad cursor


@dataclass(frozen=True, slots=True)
class Cursor:
    position: int = 0
    repeat: int = 0
    step_due_at: datetime | None = None
    reminders: int = 0
    last_reminder_at: datetime | None = None


def start_cursor(at: datetime) -> Cursor:
    """A new escalation: the first step is due at ``at``."""
    return Cursor(step_due_at=at)


@dataclass(frozen=True, slots=True)
class AlertClock:
    """What the policy needs to know of the alert."""

    state: AlertState
    acknowledged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueAction:
    kind: Literal["step", "reminder"]
    due_at: datetime
    step: Step | None = None
    index: int | None = None
    repeat: int | None = None
    reminder_no: int | None = None

    def event_id(self, alert_key: str) -> str:
        """The deliveries' event id: one delivery per channel per action, however often it runs."""
        if self.kind == "reminder":
            return f"escalation:{alert_key}:reminder:{self.reminder_no}"
        return f"escalation:{alert_key}:{self.index}:{self.repeat}"


@dataclass(frozen=True, slots=True)
class Advance:
    actions: list[DueAction] = field(default_factory=list)
    cursor: Cursor = field(default_factory=Cursor)
    next_due_at: datetime | None = None  # None: nothing is due until the alert changes
    ended: str | None = None  # why the escalation is over ("resolved", "closed")


def advance(policy: EscalationPolicyIn, alert: AlertClock, cursor: Cursor, now: datetime) -> Advance:
    if alert.state in (AlertState.RESOLVED, AlertState.CLOSED):
        return Advance(cursor=cursor, ended=alert.state.value)
    if alert.state is AlertState.OPEN:
        actions, moved = _steps(policy, cursor, now)
        return Advance(actions, moved, moved.step_due_at)
    if alert.state is AlertState.ACKNOWLEDGED and policy.reminder is not None:
        return _reminders(policy.reminder.every_minutes, alert.acknowledged_at or now, cursor, now)
    return Advance(cursor=cursor)  # snoozed, or acknowledged without reminders: wait for a change


def _steps(policy: EscalationPolicyIn, cursor: Cursor, now: datetime) -> tuple[list[DueAction], Cursor]:
    steps = policy.steps
    due, position, repeat = cursor.step_due_at, min(cursor.position, len(steps)), cursor.repeat
    tz = ZoneInfo(policy.timezone)
    actions: list[DueAction] = []
    while due is not None and due <= now and len(actions) < MAX_ACTIONS_PER_ADVANCE:
        if position >= len(steps):
            if repeat >= policy.repeat_count:
                due = None
                break
            position, repeat = 0, repeat + 1
            continue
        if policy.active_window is not None and not in_window(policy.active_window, tz, due):
            due = next_window_start(policy.active_window, tz, due)
            continue
        step = steps[position]
        if isinstance(step, WaitStep):
            due = due + timedelta(minutes=step.minutes)
        else:
            actions.append(DueAction("step", due, step, position, repeat))
        position += 1
    if due is not None and position >= len(steps) and repeat >= policy.repeat_count:
        due = None  # the last step ran: nothing more is due
    return actions, Cursor(position, repeat, due, cursor.reminders, cursor.last_reminder_at)


def _reminders(every_minutes: int, acknowledged_at: datetime, cursor: Cursor, now: datetime) -> Advance:
    every = timedelta(minutes=every_minutes)
    since = max(acknowledged_at, cursor.last_reminder_at or acknowledged_at)
    due = since + every
    if due > now:
        return Advance(cursor=cursor, next_due_at=due)
    skipped = (now - due) // every  # a late tick sends one reminder and stays on the grid
    sent_for = due + skipped * every
    number = cursor.reminders + 1
    moved = replace(cursor, reminders=number, last_reminder_at=sent_for)
    return Advance([DueAction("reminder", sent_for, reminder_no=number)], moved, sent_for + every)


def in_window(window: ActiveWindow, tz: ZoneInfo, instant: datetime) -> bool:
    """Whether ``instant`` falls in a window; ``days`` name the day a window starts on."""
    local = wall_clock(instant, tz)
    clock = local.time()
    today = WEEKDAYS[local.weekday()]
    if window.start < window.end:
        return today in window.days and window.start <= clock < window.end
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    return (today in window.days and clock >= window.start) or (yesterday in window.days and clock < window.end)


def next_window_start(window: ActiveWindow, tz: ZoneInfo, instant: datetime) -> datetime:
    """The first window start after ``instant`` (DST-safe: a start in a gap moves to the change)."""
    local_day = wall_clock(instant, tz).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in window.days:
            continue
        start = local_instant(datetime.combine(day, window.start), tz)
        if start > instant:
            return start
    raise AssertionError("a window with at least one day starts within 8 days")
