"""The pure escalation walk: steps at their minutes, repeats, an overnight window across DST, reminders on
a grid, and what a contact method's address must look like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pulse.alerts.models import AlertState
from pulse.escalation.models import ActiveWindow, EscalationPolicyIn
from pulse.escalation.policy import AlertClock, Cursor, advance, in_window, next_window_start, start_cursor
from pulse.notify.channels import CHANNEL_CONFIG
from pulse.notify.channels.message import Notification
from pulse.notify.channels.senders.sms import SMS_TEXT_LIMIT, sms_text

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
OPEN = AlertClock(AlertState.OPEN)


def _policy(**fields):
    steps = [
        {"kind": "notify_channels", "channel_ids": ["a"]},
        {"kind": "wait", "minutes": 5},
        {"kind": "notify_channels", "channel_ids": ["b"]},
    ]
    return EscalationPolicyIn.model_validate({"name": "p", "steps": steps, **fields})


def _walk(policy, minutes, alert=OPEN):
    cursor, fired = start_cursor(T0), []
    for minute in minutes:
        moved = advance(policy, alert, cursor, T0 + timedelta(minutes=minute))
        fired += [(minute, a.index, a.repeat) for a in moved.actions]
        cursor = moved.cursor
    return fired, cursor


def test_steps_run_at_their_minutes_and_then_nothing_is_due():
    fired, cursor = _walk(_policy(), [0, 4, 5, 60])
    assert fired == [(0, 0, 0), (5, 2, 0)]
    assert cursor.step_due_at is None


def test_repeats_start_over_after_the_last_step():
    policy = _policy(steps=[{"kind": "notify_channels", "channel_ids": ["a"]}, {"kind": "wait", "minutes": 10}],
                     repeat_count=2)  # fmt: skip
    fired, _ = _walk(policy, [0, 10, 20, 30, 40])
    assert fired == [(0, 0, 0), (10, 0, 1), (20, 0, 2)]


def test_an_overnight_window_defers_a_step_to_its_next_start_in_local_time():
    berlin = ZoneInfo("Europe/Berlin")
    window = ActiveWindow(days=["sat"], start="22:00", end="06:00")
    # Saturday 28 March 2026, 21:00 UTC = 22:00 CET: inside; Sunday 05:30 CEST (03:30 UTC): inside.
    assert in_window(window, berlin, T0 + timedelta(hours=1))
    assert in_window(window, berlin, datetime(2026, 3, 29, 3, 30, tzinfo=UTC))
    assert not in_window(window, berlin, datetime(2026, 3, 29, 4, 0, tzinfo=UTC))  # 06:00 CEST
    assert next_window_start(window, berlin, T0) == datetime(2026, 3, 28, 21, 0, tzinfo=UTC)


def test_reminders_while_acknowledged_stay_on_their_grid_and_a_late_tick_sends_one():
    policy = _policy(reminder={"every_minutes": 30, "channel_ids": ["a"]})
    acked = AlertClock(AlertState.ACKNOWLEDGED, acknowledged_at=T0)
    moved = advance(policy, acked, Cursor(), T0 + timedelta(minutes=29))
    assert moved.actions == [] and moved.next_due_at == T0 + timedelta(minutes=30)
    moved = advance(policy, acked, Cursor(), T0 + timedelta(minutes=95))  # three were due: one is sent
    assert [a.reminder_no for a in moved.actions] == [1]
    assert moved.next_due_at == T0 + timedelta(minutes=120)


def test_resolved_ends_and_snoozed_waits():
    assert advance(_policy(), AlertClock(AlertState.RESOLVED), start_cursor(T0), T0).ended == "resolved"
    snoozed = advance(_policy(), AlertClock(AlertState.SNOOZED), start_cursor(T0), T0)
    assert snoozed.actions == [] and snoozed.next_due_at is None


@pytest.mark.parametrize("steps", [[{"kind": "wait", "minutes": 5}], []])
def test_a_policy_must_do_something(steps):
    with pytest.raises(ValidationError):
        _policy(steps=steps)


@pytest.mark.parametrize(
    ("given", "stored"), [("+49 (151) 123-4567", "+491511234567"), ("+1.415.555.0100", "+14155550100")]
)
def test_phone_numbers_are_stored_in_e164(given, stored):
    assert CHANNEL_CONFIG.validate_python({"type": "sms", "phone_number": given}).phone_number == stored


@pytest.mark.parametrize("given", ["0151 1234567", "+0123456789", "+49", "call me"])
def test_numbers_without_a_country_code_are_refused(given):
    with pytest.raises(ValidationError):
        CHANNEL_CONFIG.validate_python({"type": "sms", "phone_number": given})


def test_an_sms_keeps_its_link_within_two_segments():
    notification = Notification(tenant_id="acme", channel_id="c", event_name="AlertEscalated", event_id="e",
                                occurred_at=T0, alert={"alert_id": "al-1", "rule_name": "x" * 400})  # fmt: skip
    text = sms_text(notification, "https://portal.example.com")
    assert len(text) <= SMS_TEXT_LIMIT and text.endswith("https://portal.example.com/alerts/al-1")
