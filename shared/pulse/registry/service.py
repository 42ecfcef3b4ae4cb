"""Sites and device catalogue changes: validation against the tenant's data, versions, audit."""

from __future__ import annotations

import psycopg

from pulse.identity.scope import TenantScope
from pulse.ops.audit import record_change
from pulse.registry import store
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from pulse.registry.models import Device, DevicePatch, Site, SiteIn, SitePatch
from pulse.registry.paging import DEFAULT_LIMIT, Page, decode_cursor, encode_cursor


def check_version(current: int, expected: int | None, what: str) -> None:
    """Optimistic concurrency for updates that can race (If-Match)."""
    if expected is None:
        raise PreconditionRequired(f"send If-Match with the ETag of the {what} you read")
    if expected != current:
        raise PreconditionFailed(f"the {what} changed since you read it (version {current}, you sent {expected})")


# --- sites -------------------------------------------------------------------------------------


def create_site(scope: TenantScope, new: SiteIn) -> Site:
    with scope.transaction() as conn:
        site = store.insert_site(conn, scope.tenant_id, new)
        if site is None:
            raise Conflict(f"site {new.id!r} exists")
        record_change(conn, scope.tenant_id, scope.actor, "site.create", "site", site.id, None, site)
        return site


def get_site(scope: TenantScope, site_id: str) -> Site:
    with scope.transaction() as conn:
        return _site(conn, scope.tenant_id, site_id)


def _site(conn: psycopg.Connection, tenant_id: str, site_id: str, *, lock: bool = False) -> Site:
    site = store.get_site(conn, tenant_id, site_id, lock=lock)
    if site is None:
        raise NotFound(f"no site {site_id!r}")
    return site


def list_sites(scope: TenantScope, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Site]:
    after = decode_cursor(cursor, "sites")
    with scope.transaction() as conn:
        rows = store.list_sites(conn, scope.tenant_id, after=str(after[0]) if after else None, limit=limit + 1)
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor("sites", [items[-1].id]) if len(rows) > limit else None)


def update_site(scope: TenantScope, site_id: str, patch: SitePatch, expected_version: int | None) -> Site:
    with scope.transaction() as conn:
        before = _site(conn, scope.tenant_id, site_id, lock=True)
        check_version(before.version, expected_version, "site")
        after = store.update_site(conn, scope.tenant_id, site_id, patch)
        record_change(conn, scope.tenant_id, scope.actor, "site.update", "site", site_id, before, after)
        return after


def delete_site(scope: TenantScope, site_id: str, expected_version: int | None) -> None:
    with scope.transaction() as conn:
        before = _site(conn, scope.tenant_id, site_id, lock=True)
        check_version(before.version, expected_version, "site")
        in_use = store.devices_at_site(conn, scope.tenant_id, site_id)
        if in_use:
            raise Conflict(f"site {site_id!r} still has {in_use} device(s); move or decommission them first")
        store.delete_site(conn, scope.tenant_id, site_id)
        record_change(conn, scope.tenant_id, scope.actor, "site.delete", "site", site_id, before, None)


# --- devices -----------------------------------------------------------------------------------


def device(conn: psycopg.Connection, tenant_id: str, device_id: str, *, lock: bool = False) -> Device:
    found = store.get_device(conn, tenant_id, device_id, lock=lock)
    if found is None:
        raise NotFound(f"no device {device_id!r}")
    return found


def get_device(scope: TenantScope, device_id: str) -> Device:
    with scope.transaction() as conn:
        return device(conn, scope.tenant_id, device_id)


def check_site(conn: psycopg.Connection, tenant_id: str, site_id: str | None) -> None:
    if site_id is not None and not store.site_exists(conn, tenant_id, site_id):
        raise NotFound(f"site_id: no site {site_id!r}")


def update_device(scope: TenantScope, device_id: str, patch: DevicePatch, expected_version: int | None) -> Device:
    with scope.transaction() as conn:
        before = device(conn, scope.tenant_id, device_id, lock=True)
        check_version(before.version, expected_version, "device")
        if "site_id" in patch.model_fields_set:
            check_site(conn, scope.tenant_id, patch.site_id)
        after = store.update_device(conn, scope.tenant_id, device_id, patch)
        record_change(conn, scope.tenant_id, scope.actor, "device.update", "device", device_id, before, after)
        return after
