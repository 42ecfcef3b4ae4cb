"""Sites: address, coordinates, time zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from pulse.api.deps import IfMatchDep, TenantDep, WriterDep, etag
from pulse.registry import service
from pulse.registry.models import Site, SiteIn, SitePatch
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("")
def list_sites(
    scope: TenantDep, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Site]:
    return service.list_sites(scope, limit=limit, cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_site(scope: WriterDep, body: SiteIn, response: Response) -> Site:
    site = service.create_site(scope, body)
    response.headers["ETag"] = etag(site.version)
    return site


@router.get("/{site_id}")
def get_site(scope: TenantDep, site_id: str, response: Response) -> Site:
    site = service.get_site(scope, site_id)
    response.headers["ETag"] = etag(site.version)
    return site


@router.patch("/{site_id}", responses={412: {}, 428: {}})
def update_site(scope: WriterDep, site_id: str, body: SitePatch, if_match: IfMatchDep, response: Response) -> Site:
    site = service.update_site(scope, site_id, body, if_match)
    response.headers["ETag"] = etag(site.version)
    return site


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses={412: {}, 428: {}})
def delete_site(scope: WriterDep, site_id: str, if_match: IfMatchDep) -> None:
    service.delete_site(scope, site_id, if_match)
