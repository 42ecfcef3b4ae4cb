"""Alerts: the filtered list, one alert with its explanation, its timeline, and the actions on it.

Actions are ``POST /alerts/{id}/<action>`` (like ``/commands/{id}/cancel``). Each answers the alert
as it is afterwards with its ETag; ``If-Match`` is honoured when sent (412 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pulse.alerts import actions, service
from pulse.alerts.actions import Action, LatchReleaser, no_rule_state
from pulse.alerts.models import (
    Alert,
    AlertDetail,
    AlertFilter,
    AlertState,
    AssignIn,
    CommentIn,
    NoteIn,
    SnoozeIn,
    TimelineEntry,
)
from pulse.api.deps import IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.outbox.after_commit import publish_after_commit
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from pulse.rules.model import Severity

router = APIRouter(prefix="/alerts", tags=["alerts"])
_REFUSALS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such alert"},
    409: {"description": "the alert's state does not allow this action"},
    412: {"description": "If-Match is stale"},
}
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _latch(request: Request) -> LatchReleaser:
    """The rules plane's latch release (``create_app`` sets ``app.state.latch_releaser``)."""
    injected: LatchReleaser | None = getattr(request.app.state, "latch_releaser", None)
    return injected if injected is not None else no_rule_state


@router.get("")
def list_alerts(
    scope: TenantDep,
    state: Annotated[list[AlertState], Query()] = [],  # noqa: B006 - FastAPI copies query defaults per request
    severity: Annotated[Severity | None, Query(description="this severity or worse")] = None,
    rule_id: str | None = None,
    device_id: str | None = None,
    site_id: str | None = None,
    silenced: bool | None = None,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Alert]:
    """Newest first (by when the alert opened)."""
    f = AlertFilter(
        state=state,
        severity_at_least=severity,
        rule_id=rule_id,
        device_id=device_id,
        site_id=site_id,
        silenced=silenced,
    )
    return service.list_alerts(scope, f, limit=limit, cursor=cursor)


@router.get("/{alert_id}", responses={404: {}})
def get_alert(scope: TenantDep, alert_id: str, response: Response) -> AlertDetail:
    alert = service.get_alert(scope, alert_id)
    response.headers["ETag"] = etag(alert.version)
    return alert


@router.get("/{alert_id}/timeline", responses={404: {}})
def get_timeline(
    scope: TenantDep, alert_id: str, limit: LimitQ = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[TimelineEntry]:
    """Oldest first: what happened to the alert, who did it, their notes."""
    return service.timeline(scope, alert_id, limit=limit, cursor=cursor)


def _act(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    action: Action,
    if_match: int | None,
    note: str,
    **extra: Any,
) -> AlertDetail:
    with publish_after_commit(svc.outbox()):
        alert = actions.act(
            scope, alert_id, action, now=svc.clock(), note=note, if_match=if_match, latch=_latch(request), **extra
        )
    response.headers["ETag"] = etag(alert.version)
    return alert


@router.post("/{alert_id}/acknowledge", responses=_REFUSALS)
def acknowledge(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> AlertDetail:
    """Someone is on it. A latched alert whose condition has cleared resolves."""
    return _act(scope, svc, request, response, alert_id, "acknowledge", if_match, (body or NoteIn()).note)


@router.post("/{alert_id}/unacknowledge", responses=_REFUSALS)
def unacknowledge(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "unacknowledge", if_match, (body or NoteIn()).note)


@router.post("/{alert_id}/snooze", responses=_REFUSALS)
def snooze(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: SnoozeIn,
) -> AlertDetail:
    """Quiet until ``until`` (at most 7 days); then the alert is open again."""
    return _act(scope, svc, request, response, alert_id, "snooze", if_match, body.note, until=body.until)


@router.post("/{alert_id}/assign", responses=_REFUSALS)
def assign(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: AssignIn,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "assign", if_match, body.note, assignee=body.assignee)


@router.post("/{alert_id}/comment", responses=_REFUSALS)
def comment(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: CommentIn,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "comment", if_match, body.note)


@router.post("/{alert_id}/resolve", responses=_REFUSALS)
def resolve(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "resolve", if_match, (body or NoteIn()).note)


@router.post("/{alert_id}/close", responses=_REFUSALS)
def close(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "close", if_match, (body or NoteIn()).note)


@router.post("/{alert_id}/reopen", responses=_REFUSALS)
def reopen(
    scope: WriterDep,
    svc: ServicesDep,
    request: Request,
    response: Response,
    alert_id: str,
    if_match: IfMatchDep,
    body: NoteIn | None = None,
) -> AlertDetail:
    return _act(scope, svc, request, response, alert_id, "reopen", if_match, (body or NoteIn()).note)
