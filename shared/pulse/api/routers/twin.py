"""Device twin: read (now, at a revision or a time), set desired under If-Match, history, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from pulse.api.deps import AdminDep, IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.twin import portal, service
from pulse.twin.document import TwinDocument
from pulse.twin.models import DesiredPatch, TwinHistoryPage, TwinRevisionView, TwinSettingsBody, TwinView
from pulse.twin.publishing import TwinPublisher, default_publisher
from pulse.twin.service import MAX_HISTORY_PAGE
from pulse.twin.store import TwinRevision

router = APIRouter(tags=["twin"])
_REFUSALS: dict[int | str, dict[str, str]] = {
    400: {"description": "invalid update (field named)"},
    404: {"description": "no such device"},
    409: {"description": "If-Match is stale: the twin changed since it was read (version conflict)"},
    412: {"description": "The `if` predicate is false"},
    413: {"description": "desired + reported over 8 KB"},
    428: {"description": "If-Match missing"},
}


def _view(document: TwinDocument, client_token: str | None = None) -> TwinView:
    return TwinView.model_validate(document.to_response(client_token))


def _revision_view(revision: TwinRevision) -> TwinRevisionView:
    return TwinRevisionView(
        version=revision.version,
        at=revision.at,
        source=revision.source,
        actor=revision.actor,
        client_token=revision.client_token,
        request=revision.request,
        document=_view(revision.document),
    )


def _publisher(request: Request, svc: ServicesDep) -> TwinPublisher:
    injected: TwinPublisher | None = getattr(request.app.state, "twin_publisher", None)
    return injected if injected is not None else default_publisher(svc.settings.iot_endpoint, svc.settings.iot_data_url)


@router.get("/devices/{device_id}/twin", response_model_exclude_none=True)
def get_twin(
    scope: TenantDep,
    device_id: str,
    response: Response,
    revision: Annotated[int | None, Query(ge=1, description="the twin after this revision")] = None,
    at: Annotated[datetime | None, Query(description="the twin as it was at this time")] = None,
) -> TwinView:
    if revision is None and at is None:
        document = service.get_twin(scope.db, scope.tenant_id, device_id)
        response.headers["ETag"] = etag(document.version)
        return _view(document)
    return _view(service.twin_at(scope.db, scope.tenant_id, device_id, revision=revision, at=at).document)


@router.patch("/devices/{device_id}/twin", response_model_exclude_none=True, responses=_REFUSALS)
def set_desired(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    device_id: str,
    body: DesiredPatch,
    if_match: IfMatchDep,
    response: Response,
) -> TwinView:
    change = portal.set_desired(scope, device_id, body, if_match, _publisher(request, svc), now=svc.clock())
    response.headers["ETag"] = etag(change.after.version)
    return _view(change.after, body.client_token)


@router.get("/devices/{device_id}/twin/history")
def twin_history(
    scope: TenantDep,
    device_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE)] = 50,
    before_version: Annotated[int | None, Query(ge=1)] = None,
) -> TwinHistoryPage:
    page = service.history(scope.db, scope.tenant_id, device_id, before_version=before_version, limit=limit)
    return TwinHistoryPage(items=[_revision_view(r) for r in page.items], next_before_version=page.next_before_version)


@router.get("/twin-settings")
def get_twin_settings(scope: TenantDep) -> TwinSettingsBody:
    return portal.get_settings(scope)


@router.put("/twin-settings")
def put_twin_settings(scope: AdminDep, body: TwinSettingsBody) -> TwinSettingsBody:
    return portal.put_settings(scope, body)
