"""Saved fleet filters: named ``GET /devices`` queries, personal or shared with the tenant.

Who may do what:
- everyone in the tenant, viewers included, saves personal filters: a saved view changes no fleet
  data, and only its owner (the token's subject) sees it;
- customer and operator administrators save filters shared with the whole tenant;
- a personal filter is deleted by its owner only (to anyone else it does not exist: 404), a shared
  one by an administrator (others: 403).
Each create and delete is in the tenant's audit log. At most ``MAX_PER_OWNER`` personal filters per
user and as many shared ones per tenant.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ValidationError

from pulse.dashboard import filter_store
from pulse.dashboard.models import FilterScope, FleetFilter, SavedFilter, SavedFilterIn
from pulse.errors import RequestInvalid
from pulse.identity.models import Forbidden
from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.fleet import FleetQuery, parse_tag_filters
from pulse.registry.paging import Page, decode_cursor, keyset_page

MAX_PER_OWNER = 100
_SORT = "saved-filters:name"


def _fleet_query(query: FleetFilter) -> FleetQuery:
    """The fleet list's own model accepts the filter (same limits as ``GET /devices``)."""
    try:
        return FleetQuery(
            status=query.status,
            site_id=query.site_id,
            model=query.model,
            firmware_version=query.firmware_version,
            tags=parse_tag_filters(query.tag),
            q=query.q,
            sort=query.sort,
            order=query.order,
        )
    except ValidationError as exc:
        raise RequestInvalid(f"query: {exc.errors()[0]['msg']}") from None


def _saved(row: filter_store.FilterRow, subject: str, is_admin: bool) -> SavedFilter:
    return SavedFilter(
        id=row.id,
        name=row.name,
        scope="personal" if row.owner is not None else "tenant",
        query=FleetFilter.model_validate(row.query),
        created_by=row.created_by,
        created_at=row.created_at,
        can_delete=row.owner == subject if row.owner is not None else is_admin,
    )


def list_filters(
    scope: TenantScope, *, is_admin: bool, only: FilterScope | None, limit: int, cursor: str | None
) -> Page[SavedFilter]:
    """The caller's personal filters and the tenant's shared ones, by name."""
    subject = scope.actor.subject
    after = decode_cursor(cursor, _SORT)
    if after is not None and len(after) != 2:
        raise RequestInvalid("cursor: malformed")
    with scope.transaction() as conn:
        rows = filter_store.visible(
            conn,
            scope.tenant_id,
            subject,
            personal=only != "tenant",
            shared=only != "personal",
            after=(str(after[0]), str(after[1])) if after else None,
            limit=limit + 1,
        )
    found = [_saved(r, subject, is_admin) for r in rows]
    items, next_cursor = keyset_page(found, limit, _SORT, lambda f: [f.name, f.id])
    return Page[SavedFilter](items=items, next_cursor=next_cursor)


def create_filter(scope: TenantScope, new: SavedFilterIn, *, is_admin: bool, now: datetime) -> SavedFilter:
    if new.scope == "tenant" and not is_admin:
        raise Forbidden("scope: only administrators share filters with the tenant; save it as personal")
    _fleet_query(new.query)
    owner = scope.actor.subject if new.scope == "personal" else None
    row = filter_store.FilterRow(
        id=f"flt_{uuid.uuid4().hex}",
        owner=owner,
        name=new.name,
        query=new.query.model_dump(mode="json", exclude_defaults=True),
        created_by=scope.actor.display,
        created_at=now,
    )
    with scope.transaction() as conn:
        filter_store.lock_owner(conn, scope.tenant_id, owner)
        if filter_store.count(conn, scope.tenant_id, owner) >= MAX_PER_OWNER:
            raise Conflict(f"scope: at most {MAX_PER_OWNER} {new.scope} saved filters; delete one first")
        inserted = filter_store.insert(conn, scope.tenant_id, row)
        if inserted is None:
            raise Conflict(f"name: a {new.scope} saved filter named {new.name!r} exists")
        saved = _saved(inserted, scope.actor.subject, is_admin)
        record_change(conn, scope.tenant_id, scope.actor, "saved_filter.create", "saved_filter", saved.id, None, saved)
    return saved


def delete_filter(scope: TenantScope, filter_id: str, *, is_admin: bool) -> None:
    subject = scope.actor.subject
    with scope.transaction() as conn:
        row = filter_store.get_visible(conn, scope.tenant_id, filter_id, subject)
        if row is None:
            raise NotFound(f"no saved filter {filter_id!r}")
        saved = _saved(row, subject, is_admin)
        if not saved.can_delete:
            raise Forbidden("only administrators delete filters shared with the tenant")
        filter_store.delete(conn, scope.tenant_id, filter_id)
        record_change(conn, scope.tenant_id, scope.actor, "saved_filter.delete", "saved_filter", filter_id, saved, None)
