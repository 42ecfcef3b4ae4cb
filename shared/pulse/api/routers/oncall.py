"""On-call: schedules with layers and rotations, overrides, the final schedule, who is on call now,
coverage gaps, shift swaps, and each schedule's iCal feed.

``GET /oncall/ical/{token}.ics`` takes no bearer token: the feed's secret in the path is the
credential (calendar clients cannot send headers), so API Gateway routes it without the JWT
authorizer. Everything else is per tenant like every route. The logic is ``pulse.oncall``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from pulse.api.deps import DbDep, IfMatchDep, PrincipalDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.oncall import service, swaps
from pulse.oncall.models import (
    CoverageGaps,
    FinalSchedule,
    IcalToken,
    OnCallNow,
    OnCallSchedule,
    OnCallScheduleIn,
    Override,
    OverrideCreated,
    OverrideIn,
    Swap,
    SwapIn,
    SwapState,
    Username,
)
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/oncall", tags=["oncall"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
StartQ = Annotated[AwareDatetime | None, Query(description="default: now")]
EndQ = Annotated[AwareDatetime | None, Query(description="default: start + 7 days; at most 366 days after start")]
_SCHEDULE = "/schedules/{schedule_id}"
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such schedule"}}
_SWAP_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the swap does not name the caller"},
    404: {},
    409: {"description": "already decided, the shift is over, or it is no longer the requester's"},
}
CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _range(svc: ServicesDep, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    begin = start or svc.clock()
    return begin, end or begin + timedelta(days=7)


@router.post("/schedules", status_code=status.HTTP_201_CREATED)
def create_schedule(scope: WriterDep, svc: ServicesDep, body: OnCallScheduleIn, response: Response) -> OnCallSchedule:
    """A schedule with its layers; each layer's rotation hands off at a local time in ``timezone``."""
    created = service.create_schedule(scope, body, now=svc.clock())
    response.headers["ETag"] = etag(created.version)
    return created


@router.get("/schedules")
def list_schedules(scope: TenantDep, limit: LimitQ = DEFAULT_LIMIT, cursor: str | None = None) -> Page[OnCallSchedule]:
    """By name."""
    return service.list_schedules(scope, limit=limit, cursor=cursor)


@router.get(_SCHEDULE, responses=_NOT_FOUND)
def get_schedule(scope: TenantDep, schedule_id: str, response: Response) -> OnCallSchedule:
    found = service.get_schedule(scope, schedule_id)
    response.headers["ETag"] = etag(found.version)
    return found


@router.put(_SCHEDULE, responses={**_NOT_FOUND, 412: {"description": "If-Match is stale"}, 428: {}})
def replace_schedule(
    scope: WriterDep,
    svc: ServicesDep,
    schedule_id: str,
    body: OnCallScheduleIn,
    if_match: IfMatchDep,
    response: Response,
) -> OnCallSchedule:
    """Replaces name, zone and layers (layers get new ids); overrides and swaps stay."""
    after = service.replace_schedule(scope, schedule_id, body, expected_version=if_match, now=svc.clock())
    response.headers["ETag"] = etag(after.version)
    return after


@router.delete(_SCHEDULE, status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_schedule(scope: WriterDep, svc: ServicesDep, schedule_id: str) -> None:
    """With its overrides and swaps; its coverage-gap alert resolves."""
    service.delete_schedule(scope, schedule_id, now=svc.clock())


@router.post(_SCHEDULE + "/overrides", status_code=status.HTTP_201_CREATED, responses=_NOT_FOUND)
def create_override(scope: WriterDep, svc: ServicesDep, schedule_id: str, body: OverrideIn) -> OverrideCreated:
    """``username`` is on call for the range above every layer. Overlapping overrides are allowed and
    listed in ``overlaps``: where they overlap, the newest one wins."""
    return service.create_override(scope, schedule_id, body, now=svc.clock())


@router.get(_SCHEDULE + "/overrides", responses=_NOT_FOUND)
def list_overrides(
    scope: TenantDep, svc: ServicesDep, schedule_id: str, start: StartQ = None, end: EndQ = None
) -> list[Override]:
    """Overrides (and accepted swaps) overlapping the range, oldest start first."""
    return service.list_overrides(scope, schedule_id, *_range(svc, start, end))


@router.delete(_SCHEDULE + "/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def delete_override(scope: WriterDep, schedule_id: str, override_id: str) -> None:
    service.delete_override(scope, schedule_id, override_id)


@router.get(_SCHEDULE + "/final", responses=_NOT_FOUND)
def final_schedule(
    scope: TenantDep, svc: ServicesDep, schedule_id: str, start: StartQ = None, end: EndQ = None
) -> FinalSchedule:
    """Contiguous segments covering the range: who is on call and why (layer, override, swap), or
    nobody (``username`` null)."""
    return service.final(scope, schedule_id, *_range(svc, start, end))


@router.get(_SCHEDULE + "/now", responses=_NOT_FOUND)
def on_call_now(scope: TenantDep, svc: ServicesDep, schedule_id: str) -> OnCallNow:
    return service.on_call_now(scope, schedule_id, now=svc.clock())


@router.get(_SCHEDULE + "/gaps", responses=_NOT_FOUND)
def coverage_gaps(
    scope: TenantDep, svc: ServicesDep, schedule_id: str, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> CoverageGaps:
    """Stretches of the next ``days`` with nobody on call."""
    return service.coverage_gaps(scope, schedule_id, now=svc.clock(), days=days)


@router.post(_SCHEDULE + "/swaps", status_code=status.HTTP_201_CREATED, responses=_SWAP_REFUSALS)
def request_swap(scope: TenantDep, principal: PrincipalDep, svc: ServicesDep, schedule_id: str, body: SwapIn) -> Swap:
    """Asks ``to_user`` to take the range, which must be ``from_user``'s (default: the caller's) throughout."""
    return swaps.request_swap(
        scope, schedule_id, body, username=principal.username, may_write=principal.can_write, now=svc.clock()
    )


@router.get(_SCHEDULE + "/swaps", responses=_NOT_FOUND)
def list_swaps(
    scope: TenantDep,
    schedule_id: str,
    state: SwapState | None = None,
    limit: LimitQ = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Swap]:
    """Newest first."""
    return swaps.list_swaps(scope, schedule_id, state=state, limit=limit, cursor=cursor)


@router.post(_SCHEDULE + "/swaps/{swap_id}/accept", responses=_SWAP_REFUSALS)
def accept_swap(scope: TenantDep, principal: PrincipalDep, svc: ServicesDep, schedule_id: str, swap_id: str) -> Swap:
    """``to_user`` takes the range: it becomes an override with source ``swap``."""
    return swaps.accept_swap(scope, schedule_id, swap_id, username=principal.username, now=svc.clock())


@router.post(_SCHEDULE + "/swaps/{swap_id}/decline", responses=_SWAP_REFUSALS)
def decline_swap(scope: TenantDep, principal: PrincipalDep, svc: ServicesDep, schedule_id: str, swap_id: str) -> Swap:
    """``to_user`` declines, or the requester withdraws."""
    return swaps.decline_swap(
        scope, schedule_id, swap_id, username=principal.username, may_write=principal.can_write, now=svc.clock()
    )


@router.post(_SCHEDULE + "/ical-token", responses=_NOT_FOUND)
def rotate_ical_token(scope: WriterDep, schedule_id: str) -> IcalToken:
    """A new secret feed URL for the schedule (shown once); the previous URL stops working."""
    return service.rotate_ical_token(scope, schedule_id)


@router.get(
    "/ical/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: {"description": "unknown or rotated token"}},
)
def ical_feed(
    db: DbDep,
    svc: ServicesDep,
    token: str,
    days: Annotated[int, Query(ge=1, le=366)] = 60,
    user: Annotated[Username | None, Query(description="only this user's shifts")] = None,
) -> Response:
    """The final schedule from yesterday to ``days`` ahead as iCalendar (no bearer token: the secret is
    the credential)."""
    body = service.ical_feed(db, token, now=svc.clock(), days=days, username=user)
    return Response(body, media_type=CALENDAR_TYPE, headers={"Cache-Control": "private, max-age=300"})
