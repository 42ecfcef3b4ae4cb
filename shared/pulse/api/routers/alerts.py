"""Alerts: the filtered list, one alert with its explanation, its timeline, and the actions on it.

Actions are ``POST /alerts/{id}/<action>`` (like ``/commands/{id}/cancel``). Each answers the alert
as it is afterwards with its ETag; ``If-Match`` is honoured when sent (412 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

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


class AlertAction:
    """One action on the alert of the path, as the writer of the request: runs it, publishes the events
    it committed, and answers the alert as it is afterwards with its ETag."""

    def __init__(
        self,
        scope: WriterDep,
        svc: ServicesDep,
        request: Request,
        response: Response,
        alert_id: str,
        if_match: IfMatchDep,
    ) -> None:
        self._scope = scope
        self._svc = svc
        self._request = request
        self._response = response
        self._alert_id = alert_id
        self._if_match = if_match

    def __call__(self, action: Action, note: str, **extra: Any) -> AlertDetail:
        with publish_after_commit(self._svc.outbox()):
            alert = actions.act(
                self._scope,
                self._alert_id,
                action,
                now=self._svc.clock(),
                note=note,
                if_match=self._if_match,
                latch=_latch(self._request),
                **extra,
            )
        self._response.headers["ETag"] = etag(alert.version)
        return alert


ActDep = Annotated[AlertAction, Depends()]


@router.post("/{alert_id}/acknowledge", responses=_REFUSALS)
def acknowledge(act: ActDep, body: NoteIn | None = None) -> AlertDetail:
    """Someone is on it. A latched alert whose condition has cleared resolves."""
    return act("acknowledge", (body or NoteIn()).note)


@router.post("/{alert_id}/unacknowledge", responses=_REFUSALS)
def unacknowledge(act: ActDep, body: NoteIn | None = None) -> AlertDetail:
    return act("unacknowledge", (body or NoteIn()).note)


@router.post("/{alert_id}/snooze", responses=_REFUSALS)
def snooze(act: ActDep, body: SnoozeIn) -> AlertDetail:
    """Quiet until ``until`` (at most 7 days); then the alert is open again."""
    return act("snooze", body.note, until=body.until)


@router.post("/{alert_id}/assign", responses=_REFUSALS)
def assign(act: ActDep, body: AssignIn) -> AlertDetail:
    return act("assign", body.note, assignee=body.assignee)


@router.post("/{alert_id}/comment", responses=_REFUSALS)
def comment(act: ActDep, body: CommentIn) -> AlertDetail:
    return act("comment", body.note)


@router.post("/{alert_id}/resolve", responses=_REFUSALS)
def resolve(act: ActDep, body: NoteIn | None = None) -> AlertDetail:
    return act("resolve", (body or NoteIn()).note)


@router.post("/{alert_id}/close", responses=_REFUSALS)
def close(act: ActDep, body: NoteIn | None = None) -> AlertDetail:
    return act("close", (body or NoteIn()).note)


@router.post("/{alert_id}/reopen", responses=_REFUSALS)
def reopen(act: ActDep, body: NoteIn | None = None) -> AlertDetail:
    return act("reopen", (body or NoteIn()).note)
