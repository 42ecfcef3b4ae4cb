"""Time-driven alert work, run every minute across tenants (as ``pulse_ingest``) before the outbox
is published: deferred resolves that fell due, snoozes that ended, silences that expired.

Each sweep claims its rows with ``FOR UPDATE SKIP LOCKED`` and marks them in the same transaction
as their outbox event, so concurrent or repeated runs announce each occurrence exactly once.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from pulse.alerts import lifecycle, store
from pulse.alerts import suppression_store as guards
from pulse.alerts.models import AlertState, EventType
from pulse.outbox import store as outbox

SWEEP_BATCH = 500
SCHEDULER_ACTOR = "system:scheduler"


def settle_deferred_resolves(conn: psycopg.Connection, now: datetime, *, limit: int = SWEEP_BATCH) -> int:
    """Resolve alerts whose flap-deferred resolve is due (at the instant it fell due)."""
    due = store.resolve_due(conn, now, limit)
    for tenant_id, alert in due:
        assert alert.resolve_due_at is not None
        lifecycle.resolve(conn, tenant_id, alert, alert.resolve_due_at, lifecycle.SYSTEM_ACTOR, reason="deferred")
    return len(due)


def wake_snoozed(conn: psycopg.Connection, now: datetime, *, limit: int = SWEEP_BATCH) -> int:
    """Snoozed alerts whose ``snoozed_until`` passed are open again (``AlertUnsnoozed``)."""
    due = store.snooze_due(conn, now, limit)
    for tenant_id, alert in due:
        assert alert.snoozed_until is not None
        at = alert.snoozed_until
        store.update(conn, tenant_id, alert.id, at, state=AlertState.OPEN, snoozed_until=None)
        after = alert.model_copy(update={"state": AlertState.OPEN, "snoozed_until": None})
        lifecycle.record(conn, tenant_id, after, at, "snooze_ended", SCHEDULER_ACTOR, event=EventType.UNSNOOZED)
    return len(due)


def expire_silences(conn: psycopg.Connection, now: datetime, *, limit: int = SWEEP_BATCH) -> int:
    """One ``SilenceExpired`` event per silence that ended by ``now``; returns how many were announced."""
    ended = guards.expired_silences(conn, now, limit)
    for tenant_id, silence in ended:
        data = silence.model_dump(mode="json", exclude={"expiry_notified_at"})
        outbox.put(conn, tenant_id, EventType.SILENCE_EXPIRED.value, silence.id, silence.ends_at, data)
        guards.mark_silence_announced(conn, tenant_id, silence.id, now)
    return len(ended)


def run_sweeps(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
    return {
        "resolved": settle_deferred_resolves(conn, now),
        "unsnoozed": wake_snoozed(conn, now),
        "silences_expired": expire_silences(conn, now),
    }
