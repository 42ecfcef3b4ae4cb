"""Reading alerts for the API: the filtered list (newest first, keyset pages), one alert, its timeline."""

from __future__ import annotations

from datetime import datetime

from pulse.alerts import store
from pulse.alerts.models import Alert, AlertDetail, AlertFilter, TimelineEntry
from pulse.identity.scope import TenantScope
from pulse.registry.errors import NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "alerts_opened_desc"
_TIMELINE = "alert_timeline"


def list_alerts(scope: TenantScope, f: AlertFilter, *, limit: int, cursor: str | None) -> Page[Alert]:
    after = decode_cursor(cursor, _SORT)
    key = (datetime.fromisoformat(str(after[0])), str(after[1])) if after else None
    with scope.transaction() as conn:
        rows = store.search(conn, scope.tenant_id, f, after=key, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda a: [a.opened_at.isoformat(), a.id])
    return Page[Alert](items=items, next_cursor=next_cursor)


def get_alert(scope: TenantScope, alert_id: str) -> AlertDetail:
    with scope.transaction() as conn:
        found = store.get(conn, scope.tenant_id, alert_id)
    if found is None:
        raise NotFound(f"no alert {alert_id!r}")
    return found


def timeline(scope: TenantScope, alert_id: str, *, limit: int, cursor: str | None) -> Page[TimelineEntry]:
    """Oldest first, the way the story is read."""
    after = decode_cursor(cursor, _TIMELINE)
    with scope.transaction() as conn:
        if store.get(conn, scope.tenant_id, alert_id) is None:
            raise NotFound(f"no alert {alert_id!r}")
        rows = store.timeline(
            conn, scope.tenant_id, alert_id, after_id=int(after[0]) if after else None, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit, _TIMELINE, lambda e: [e.id])
    return Page[TimelineEntry](items=items, next_cursor=next_cursor)
