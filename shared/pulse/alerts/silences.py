"""Silences and maintenance windows: create, list, end early; each write audited in its transaction.

Ending a silence or window sets its end to now (to its start when it had not begun: cancelled);
the minute sweep then writes one ``SilenceExpired`` event for the silence.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pulse.alerts import suppression_store as guards
from pulse.alerts.suppression import MaintenanceIn, MaintenanceWindow, Silence, SilenceIn
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry import store as registry_store
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page
from pulse.twin import store as twin_store

_SILENCES = "silences_starts_desc"
_MAINTENANCE = "maintenance_starts_desc"


def _window(starts_at: datetime | None, ends_at: datetime, now: datetime) -> datetime:
    if ends_at <= now:
        raise RequestInvalid("ends_at: must be in the future")
    start = starts_at or now
    if ends_at <= start:
        raise RequestInvalid("ends_at: must be after starts_at")
    return start


def _key(after: list[Any] | None) -> tuple[datetime, str] | None:
    return (datetime.fromisoformat(str(after[0])), str(after[1])) if after else None


def create_silence(scope: TenantScope, body: SilenceIn, *, now: datetime) -> Silence:
    silence = Silence(
        id=uuid.uuid4().hex,
        site_id=body.site_id,
        device_id=body.device_id,
        rule_id=body.rule_id,
        tags=body.tags,
        severities=list(dict.fromkeys(body.severities)),
        starts_at=_window(body.starts_at, body.ends_at, now),
        ends_at=body.ends_at,
        reason=body.reason,
        created_by=scope.actor.display,
        created_at=now,
    )
    with scope.transaction() as conn:
        guards.insert_silence(conn, scope.tenant_id, silence)
        record_change(conn, scope.tenant_id, scope.actor, "silence.create", "silence", silence.id, None, silence)
    return silence


def get_silence(scope: TenantScope, silence_id: str) -> Silence:
    with scope.transaction() as conn:
        found = guards.get_silence(conn, scope.tenant_id, silence_id)
    if found is None:
        raise NotFound(f"no silence {silence_id!r}")
    return found


def list_silences(scope: TenantScope, *, active_at: datetime | None, limit: int, cursor: str | None) -> Page[Silence]:
    after = _key(decode_cursor(cursor, _SILENCES))
    with scope.transaction() as conn:
        rows = guards.list_silences(conn, scope.tenant_id, active_at=active_at, after=after, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _SILENCES, lambda s: [s.starts_at.isoformat(), s.id])
    return Page[Silence](items=items, next_cursor=next_cursor)


def expire_silence(scope: TenantScope, silence_id: str, *, now: datetime) -> Silence:
    with scope.transaction() as conn:
        before = guards.get_silence(conn, scope.tenant_id, silence_id, lock=True)
        if before is None:
            raise NotFound(f"no silence {silence_id!r}")
        if before.ends_at <= now:
            raise Conflict(f"silence {silence_id!r} already ended at {before.ends_at.isoformat()}")
        end = max(now, before.starts_at)
        guards.end_silence(conn, scope.tenant_id, silence_id, end)
        after = before.model_copy(update={"ends_at": end})
        record_change(conn, scope.tenant_id, scope.actor, "silence.expire", "silence", silence_id, before, after)
    return after


def start_maintenance(scope: TenantScope, body: MaintenanceIn, *, now: datetime) -> MaintenanceWindow:
    window = MaintenanceWindow(
        id=uuid.uuid4().hex,
        device_id=body.device_id,
        site_id=body.site_id,
        starts_at=_window(body.starts_at, body.ends_at, now),
        ends_at=body.ends_at,
        reason=body.reason,
        created_by=scope.actor.display,
        created_at=now,
    )
    with scope.transaction() as conn:
        if body.device_id is not None and not twin_store.device_exists(conn, scope.tenant_id, body.device_id):
            raise NotFound(f"no device {body.device_id!r}")
        if body.site_id is not None and not registry_store.site_exists(conn, scope.tenant_id, body.site_id):
            raise NotFound(f"no site {body.site_id!r}")
        guards.insert_maintenance(conn, scope.tenant_id, window)
        record_change(conn, scope.tenant_id, scope.actor, "maintenance.start", "maintenance", window.id, None, window)
    return window


def list_maintenance(
    scope: TenantScope,
    *,
    active_at: datetime | None,
    device_id: str | None,
    site_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[MaintenanceWindow]:
    after = _key(decode_cursor(cursor, _MAINTENANCE))
    with scope.transaction() as conn:
        rows = guards.list_maintenance(
            conn,
            scope.tenant_id,
            active_at=active_at,
            device_id=device_id,
            site_id=site_id,
            after=after,
            limit=limit + 1,
        )
    items, next_cursor = keyset_page(rows, limit, _MAINTENANCE, lambda w: [w.starts_at.isoformat(), w.id])
    return Page[MaintenanceWindow](items=items, next_cursor=next_cursor)


def end_maintenance(scope: TenantScope, window_id: str, *, now: datetime) -> MaintenanceWindow:
    with scope.transaction() as conn:
        before = guards.get_maintenance(conn, scope.tenant_id, window_id, lock=True)
        if before is None:
            raise NotFound(f"no maintenance window {window_id!r}")
        if before.ends_at <= now:
            raise Conflict(f"maintenance window {window_id!r} already ended at {before.ends_at.isoformat()}")
        end = max(now, before.starts_at)
        guards.end_maintenance(conn, scope.tenant_id, window_id, end, scope.actor.display)
        after = before.model_copy(update={"ends_at": end, "ended_by": scope.actor.display})
        record_change(conn, scope.tenant_id, scope.actor, "maintenance.end", "maintenance", window_id, before, after)
    return after
