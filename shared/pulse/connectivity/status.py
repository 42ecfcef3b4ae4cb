"""The connectivity rule, as a pure function of last-seen, heartbeat interval, presence and now.

``heard_at`` is the later of ``last_seen_at`` (last message received) and, while the MQTT session is
open, the time it connected. Then, in this order:

* OFFLINE when the last lifecycle event is a disconnect and no message came after it
  (a message at the very instant of the disconnect counts as before it), or never heard from;
* ONLINE  while ``now - heard_at <= 1.5 x heartbeat_interval_s``;
* STALE   while ``now - heard_at <= 3 x heartbeat_interval_s``;
* OFFLINE after that.

A connect counts as being heard from once, at connect time: an open session alone does not keep a
device ONLINE, its heartbeats do (a lost disconnect event must not leave a dead device ONLINE).
SQL ``pulse_connectivity_status`` (migration 0013) is the same rule; a test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pulse.connectivity.models import ConnectivityStatus

ONLINE_FACTOR = 1.5
STALE_FACTOR = 3


@dataclass(frozen=True, slots=True)
class Presence:
    """The newest lifecycle event of a device: session open or closed, and when."""

    connected: bool
    at: datetime


def heard_at(last_seen_at: datetime | None, presence: Presence | None) -> datetime | None:
    connected_at = presence.at if presence is not None and presence.connected else None
    times = [t for t in (last_seen_at, connected_at) if t is not None]
    return max(times) if times else None


def _closed_since_last_message(last_seen_at: datetime | None, presence: Presence | None) -> bool:
    if presence is None or presence.connected:
        return False
    return last_seen_at is None or presence.at >= last_seen_at


def connectivity_status(
    now: datetime, *, last_seen_at: datetime | None, heartbeat_interval_s: int, presence: Presence | None
) -> ConnectivityStatus:
    heard = heard_at(last_seen_at, presence)
    if heard is None or _closed_since_last_message(last_seen_at, presence):
        return ConnectivityStatus.OFFLINE
    age = now - heard
    if age <= timedelta(seconds=ONLINE_FACTOR * heartbeat_interval_s):
        return ConnectivityStatus.ONLINE
    if age <= timedelta(seconds=STALE_FACTOR * heartbeat_interval_s):
        return ConnectivityStatus.STALE
    return ConnectivityStatus.OFFLINE


def status_deadlines(
    *, last_seen_at: datetime | None, heartbeat_interval_s: int, presence: Presence | None
) -> tuple[datetime | None, datetime | None]:
    """When the device turns STALE and OFFLINE if nothing more is heard (None: already OFFLINE for good)."""
    heard = heard_at(last_seen_at, presence)
    if heard is None or _closed_since_last_message(last_seen_at, presence):
        return None, None
    # A hair past each boundary: the status at exactly heard + 1.5x is still ONLINE.
    step = timedelta(microseconds=1)
    return (
        heard + timedelta(seconds=ONLINE_FACTOR * heartbeat_interval_s) + step,
        heard + timedelta(seconds=STALE_FACTOR * heartbeat_interval_s) + step,
    )
