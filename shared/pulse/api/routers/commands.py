"""Commands: send to a device or a list, list a device's commands, read and cancel one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from pulse.api.deps import ServicesDep, TenantDep, WriterDep
from pulse.commands import service
from pulse.commands.models import BulkCommandIn, Command, CommandIn
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from pulse.twin.publishing import TwinPublisher, default_publisher

router = APIRouter(tags=["commands"])


def _publisher(request: Request, svc: ServicesDep) -> TwinPublisher:
    injected: TwinPublisher | None = getattr(request.app.state, "twin_publisher", None)
    return injected if injected is not None else default_publisher(svc.settings.iot_endpoint, svc.settings.iot_data_url)


@router.post("/devices/{device_id}/commands", status_code=status.HTTP_201_CREATED, responses={404: {}})
def send_command(scope: WriterDep, svc: ServicesDep, request: Request, device_id: str, body: CommandIn) -> Command:
    [command] = service.send(scope, [device_id], body, _publisher(request, svc), now=svc.clock())
    return command


@router.post("/commands", status_code=status.HTTP_201_CREATED, responses={404: {}})
def send_commands(scope: WriterDep, svc: ServicesDep, request: Request, body: BulkCommandIn) -> list[Command]:
    spec = CommandIn(name=body.name, params=body.params, ttl_s=body.ttl_s)
    return service.send(scope, body.device_ids, spec, _publisher(request, svc), now=svc.clock())


@router.get("/devices/{device_id}/commands")
def list_device_commands(
    scope: TenantDep,
    device_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Command]:
    return service.list_for_device(scope, device_id, limit=limit, cursor=cursor)


@router.get("/commands/{command_id}")
def get_command(scope: TenantDep, command_id: str) -> Command:
    return service.get(scope, command_id)


@router.post("/commands/{command_id}/cancel", responses={404: {}, 409: {}})
def cancel_command(scope: WriterDep, svc: ServicesDep, command_id: str) -> Command:
    return service.cancel(scope, command_id, now=svc.clock())
