"""The connectivity rule at its boundaries: 1.5x and 3x the heartbeat, connects and disconnects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.connectivity.models import ConnectivityStatus, LifecycleEvent
from pulse.connectivity.status import Presence, connectivity_status, status_deadlines

ONLINE, STALE, OFFLINE = ConnectivityStatus.ONLINE, ConnectivityStatus.STALE, ConnectivityStatus.OFFLINE
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HB = 60  # seconds
US = timedelta(microseconds=1)


def status(last_seen: datetime | None, presence: Presence | None = None) -> ConnectivityStatus:
    return connectivity_status(NOW, last_seen_at=last_seen, heartbeat_interval_s=HB, presence=presence)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(0), ONLINE),
        (timedelta(seconds=90), ONLINE),  # exactly 1.5x: still ONLINE
        (timedelta(seconds=90) + US, STALE),
        (timedelta(seconds=180), STALE),  # exactly 3x: still STALE
        (timedelta(seconds=180) + US, OFFLINE),
        (timedelta(days=30), OFFLINE),
        (-timedelta(seconds=5), ONLINE),  # seen "after" now (clock of the caller behind): ONLINE
    ],
)
def test_status_follows_the_time_since_the_last_message(age, expected):
    assert status(NOW - age) is expected


def test_a_device_never_heard_from_is_offline():
    assert status(None) is OFFLINE


def test_a_connect_counts_as_heard_from_at_connect_time_only():
    assert status(None, Presence(True, NOW - timedelta(seconds=90))) is ONLINE
    assert status(None, Presence(True, NOW - timedelta(seconds=91))) is STALE
    assert status(None, Presence(True, NOW - timedelta(seconds=181))) is OFFLINE
    # a connect after an old message restarts the clock
    assert status(NOW - timedelta(hours=1), Presence(True, NOW - timedelta(seconds=30))) is ONLINE


def test_a_disconnect_makes_the_device_offline_until_it_sends_again():
    assert status(NOW - timedelta(seconds=10), Presence(False, NOW - timedelta(seconds=5))) is OFFLINE
    assert status(NOW - timedelta(seconds=5), Presence(False, NOW - timedelta(seconds=5))) is OFFLINE  # same instant
    assert status(None, Presence(False, NOW - timedelta(seconds=5))) is OFFLINE
    # a message after the disconnect (HTTPS gateway, or the disconnect was late) counts as usual
    assert status(NOW - timedelta(seconds=4), Presence(False, NOW - timedelta(seconds=5))) is ONLINE
    assert status(NOW - timedelta(seconds=100), Presence(False, NOW - timedelta(seconds=200))) is STALE


def test_deadlines_are_the_first_instants_of_stale_and_offline():
    seen = NOW - timedelta(seconds=10)
    stale_at, offline_at = status_deadlines(last_seen_at=seen, heartbeat_interval_s=HB, presence=None)
    assert stale_at is not None and offline_at is not None
    at = connectivity_status
    assert at(stale_at - US, last_seen_at=seen, heartbeat_interval_s=HB, presence=None) is ONLINE
    assert at(stale_at, last_seen_at=seen, heartbeat_interval_s=HB, presence=None) is STALE
    assert at(offline_at - US, last_seen_at=seen, heartbeat_interval_s=HB, presence=None) is STALE
    assert at(offline_at, last_seen_at=seen, heartbeat_interval_s=HB, presence=None) is OFFLINE
    assert status_deadlines(last_seen_at=seen, heartbeat_interval_s=HB, presence=Presence(False, NOW)) == (None, None)


def test_lifecycle_events_order_by_time_then_version_then_disconnect_after_connect():
    def event(event_type: str, ms: int, version: int) -> LifecycleEvent:
        return LifecycleEvent.model_validate(
            {"clientId": "c", "eventType": event_type, "timestamp": ms, "versionNumber": version}
        )

    assert event("connected", 1000, 1).order_key() < event("disconnected", 1001, 0).order_key()
    assert event("disconnected", 1000, 4).order_key() < event("connected", 1000, 5).order_key()
    assert event("connected", 1000, 5).order_key() < event("disconnected", 1000, 5).order_key()
