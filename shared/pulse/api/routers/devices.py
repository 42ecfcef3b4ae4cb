"""Devices: fleet listing and counts, catalogue changes, provisioning and credentials, bulk import and tagging."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from pulse.api.deps import AdminDep, IdentitiesDep, IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.errors import PayloadTooLarge, RequestInvalid
from pulse.registry import bulk_import, bulk_tag, provisioning, service
from pulse.registry.fleet import FleetCounts, FleetQuery, FleetSort, count_devices, list_devices, parse_tag_filters
from pulse.registry.models import (
    ActivationCode,
    CredentialsBundle,
    Device,
    DeviceIn,
    DevicePatch,
    DeviceStatus,
    DeviceToken,
    ProvisionedDevice,
)
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/devices", tags=["devices"])
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _fleet_query(
    status_: list[DeviceStatus],
    site_id: list[str],
    model: list[str],
    firmware_version: list[str],
    tag: list[str],
    q: str | None,
    sort: FleetSort,
    order: Literal["asc", "desc"],
    limit: int,
    cursor: str | None,
) -> FleetQuery:
    return FleetQuery(
        status=status_,
        site_id=site_id,
        model=model,
        firmware_version=firmware_version,
        tags=parse_tag_filters(tag),
        q=q,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )


StatusQ = Annotated[list[DeviceStatus], Query(alias="status")]
ListQ = Annotated[list[str], Query()]
TextQ = Annotated[str | None, Query(max_length=100, description="substring of name or id")]
TagQ = Annotated[list[str], Query(description="key:value, repeatable (all must match)")]


@router.get("")
def list_fleet(
    scope: TenantDep,
    status_: StatusQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    site_id: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    model: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    firmware_version: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    tag: TagQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    q: TextQ = None,
    sort: FleetSort = FleetSort.NAME,
    order: Literal["asc", "desc"] = "asc",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Device]:
    query = _fleet_query(status_, site_id, model, firmware_version, tag, q, sort, order, limit, cursor)
    with scope.transaction() as conn:
        return list_devices(conn, scope.tenant_id, query)


@router.get("/counts")
def fleet_counts(
    scope: TenantDep,
    status_: StatusQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    site_id: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    model: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    firmware_version: ListQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    tag: TagQ = [],  # noqa: B006 - FastAPI copies query defaults per request
    q: TextQ = None,
) -> FleetCounts:
    query = _fleet_query(status_, site_id, model, firmware_version, tag, q, FleetSort.NAME, "asc", 1, None)
    with scope.transaction() as conn:
        return count_devices(conn, scope.tenant_id, query)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_device(scope: WriterDep, body: DeviceIn, identities: IdentitiesDep, svc: ServicesDep) -> ProvisionedDevice:
    """Provisions the device: IoT thing, certificate and policy; the credentials appear only in this answer."""
    return provisioning.provision_device(scope, body, identities, svc.provisioning)


@router.post("/import")
async def import_devices(
    scope: WriterDep, request: Request, identities: IdentitiesDep, dry_run: bool = False
) -> bulk_import.ImportReport:
    """CSV body (``text/csv``); ``dry_run=true`` validates every row and creates nothing."""
    raw = await request.body()
    if len(raw) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"file: at most {MAX_IMPORT_BYTES} bytes per import")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequestInvalid("file: the CSV must be UTF-8") from None
    return bulk_import.import_devices(scope, text, identities, dry_run=dry_run)


@router.post(":bulk-tag", responses={403: {"description": "administrators only"}})
def bulk_tag_devices(scope: AdminDep, body: bulk_tag.BulkTagIn) -> bulk_tag.BulkTagResult:
    """Administrators: set and/or remove tag keys on up to 1000 devices in one transaction. Each changed
    device gets a new version (ETag) and its own audit row; ids the tenant does not have come back in
    ``not_found``, devices that would exceed 50 tags in ``refused`` (left as they were)."""
    return bulk_tag.bulk_tag(scope, body)


@router.get("/{device_id}")
def get_device(scope: TenantDep, device_id: str, response: Response) -> Device:
    found = service.get_device(scope, device_id)
    response.headers["ETag"] = etag(found.version)
    return found


@router.patch("/{device_id}", responses={412: {}, 428: {}})
def update_device(
    scope: WriterDep, device_id: str, body: DevicePatch, if_match: IfMatchDep, response: Response
) -> Device:
    updated = service.update_device(scope, device_id, body, if_match)
    response.headers["ETag"] = etag(updated.version)
    return updated


@router.post("/{device_id}/token")
def issue_token(scope: WriterDep, device_id: str) -> DeviceToken:
    """A new HTTPS device token (shown once); the previous token stops working."""
    return provisioning.issue_token(scope, device_id)


@router.post("/{device_id}/rotate")
def rotate_credentials(
    scope: WriterDep, device_id: str, identities: IdentitiesDep, svc: ServicesDep
) -> CredentialsBundle:
    """A new certificate now; the old one is revoked when the grace period ends."""
    return provisioning.rotate_certificate(scope, device_id, identities, svc.provisioning, svc.clock())


@router.post("/{device_id}/revoke")
def revoke_device(scope: WriterDep, device_id: str, identities: IdentitiesDep) -> Device:
    return provisioning.revoke_device(scope, device_id, identities)


@router.post("/{device_id}/decommission")
def decommission_device(scope: WriterDep, device_id: str, identities: IdentitiesDep) -> Device:
    return provisioning.decommission_device(scope, device_id, identities)


@router.post("/{device_id}/activation-code", status_code=status.HTTP_201_CREATED)
def create_activation_code(scope: WriterDep, device_id: str, svc: ServicesDep) -> ActivationCode:
    return provisioning.create_activation_code(scope, device_id, svc.provisioning, svc.clock())
