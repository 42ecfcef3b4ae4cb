"""The delivery log for the API: deliveries newest first with filters and keyset pages, and one
delivery with every attempt and the events its notification carried."""

from __future__ import annotations

from datetime import datetime

from pulse.identity.scope import TenantScope
from pulse.notify import delivery_store as ds
from pulse.notify.models import Delivery, DeliveryDetail, DeliveryFilter
from pulse.registry.errors import NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page

_SORT = "deliveries_created_desc"


def list_deliveries(scope: TenantScope, f: DeliveryFilter, *, limit: int, cursor: str | None) -> Page[Delivery]:
    after = decode_cursor(cursor, _SORT)
    key = (datetime.fromisoformat(str(after[0])), str(after[1])) if after else None
    with scope.transaction() as conn:
        rows = ds.search(conn, scope.tenant_id, f, after=key, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda d: [d.created_at.isoformat(), d.id])
    return Page[Delivery](items=items, next_cursor=next_cursor)


def get_delivery(scope: TenantScope, delivery_id: str) -> DeliveryDetail:
    with scope.transaction() as conn:
        found = ds.get_delivery(conn, scope.tenant_id, delivery_id)
        if found is None:
            raise NotFound(f"no delivery {delivery_id!r}")
        history = ds.attempts_of(conn, delivery_id)
        events = ds.notification_events(conn, found.notification_id)
    return DeliveryDetail(**found.model_dump(), history=history, events=events)
