"""Notification channels: CRUD under If-Match, webhook secret rotation, and send-test.

Secrets are write-only: a body may carry ``secrets`` (sealed at once); answers show ``secret_set``
and ``secret_rotation`` only. ``POST /channels/{id}/test`` sends a test notification through the
delivery path right away and answers the attempt's result; it is recorded in the delivery log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from pulse.api.deps import IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.notify import channel_admin
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.defaults import default_sealer, default_senders
from pulse.notify.models import Channel, ChannelIn, SecretRotateIn, TestResult
from pulse.notify.sealing import SecretSealer
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/channels", tags=["notifications"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
_WRITE_REFUSALS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such channel"},
    409: {"description": "the name is taken, or the type would change"},
    412: {"description": "If-Match is stale"},
    422: {"description": "config or secrets do not fit the type (field named)"},
    428: {"description": "If-Match missing"},
}


def get_sealer(request: Request, svc: ServicesDep) -> SecretSealer:
    injected: SecretSealer | None = getattr(request.app.state, "notify_sealer", None)
    return injected if injected is not None else default_sealer(svc.settings)


def get_senders(request: Request, svc: ServicesDep) -> SenderPorts:
    injected: SenderPorts | None = getattr(request.app.state, "notify_senders", None)
    return injected if injected is not None else default_senders(svc.settings)


SealerDep = Annotated[SecretSealer, Depends(get_sealer)]
SendersDep = Annotated[SenderPorts, Depends(get_senders)]


def _answer(channel: Channel, response: Response) -> Channel:
    response.headers["ETag"] = etag(channel.version)
    return channel


@router.post("", status_code=status.HTTP_201_CREATED, responses=_WRITE_REFUSALS)
def create_channel(
    scope: WriterDep, svc: ServicesDep, sealer: SealerDep, body: ChannelIn, response: Response
) -> Channel:
    return _answer(channel_admin.create_channel(scope, body, sealer, now=svc.clock()), response)


@router.get("")
def list_channels(
    scope: TenantDep, svc: ServicesDep, limit: LimitQ = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Channel]:
    """By name."""
    return channel_admin.list_channels(scope, now=svc.clock(), limit=limit, cursor=cursor)


@router.get("/{channel_id}", responses={404: {"description": "no such channel"}})
def get_channel(scope: TenantDep, svc: ServicesDep, channel_id: str, response: Response) -> Channel:
    return _answer(channel_admin.get_channel(scope, channel_id, now=svc.clock()), response)


@router.put("/{channel_id}", responses=_WRITE_REFUSALS)
def update_channel(
    scope: WriterDep,
    svc: ServicesDep,
    sealer: SealerDep,
    channel_id: str,
    body: ChannelIn,
    if_match: IfMatchDep,
    response: Response,
) -> Channel:
    """Replaces name, config and enabled; ``secrets`` replaces the secrets (omit it to keep them)."""
    channel = channel_admin.update_channel(scope, channel_id, body, sealer, if_match=if_match, now=svc.clock())
    return _answer(channel, response)


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such channel"}, 409: {"description": "routes use it"}, 412: {}},
)
def delete_channel(scope: WriterDep, svc: ServicesDep, channel_id: str, if_match: IfMatchDep) -> None:
    channel_admin.delete_channel(scope, channel_id, if_match=if_match, now=svc.clock())


@router.post(
    "/{channel_id}/rotate-secret",
    responses={404: {}, 409: {"description": "not a webhook channel"}, 412: {}},
)
def rotate_secret(
    scope: WriterDep,
    svc: ServicesDep,
    sealer: SealerDep,
    channel_id: str,
    body: SecretRotateIn,
    if_match: IfMatchDep,
    response: Response,
) -> Channel:
    """A new webhook signing secret; deliveries carry signatures by both secrets for ``grace_s``."""
    channel = channel_admin.rotate_secret(scope, channel_id, body, sealer, if_match=if_match, now=svc.clock())
    return _answer(channel, response)


@router.post("/{channel_id}/test", responses={404: {"description": "no such channel"}})
def send_test(
    scope: WriterDep, svc: ServicesDep, sealer: SealerDep, senders: SendersDep, channel_id: str
) -> TestResult:
    """Sends a test notification now (one attempt, no retry) and answers how the receiver took it."""
    return channel_admin.send_test(scope, channel_id, sealer, senders, now=svc.clock())
