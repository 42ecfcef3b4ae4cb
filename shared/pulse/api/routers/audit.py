"""Audit log of the tenant (every write) and the operator access log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from pulse.api.deps import DbDep, OperatorDep, TenantDep
from pulse.identity.scope import operator_transaction
from pulse.ops.audit import AuditEntry, AuditFilter, export_entries, list_entries
from pulse.ops.operator_audit import OperatorAccess, list_access
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["audit"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _filter(
    actor: str | None,
    action: str | None,
    entity_type: str | None,
    entity_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor, action=action, entity_type=entity_type, entity_id=entity_id, since=since, until=until
    )


@router.get("/audit")
def list_audit(
    scope: TenantDep,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AuditEntry]:
    with scope.transaction() as conn:
        return list_entries(
            conn,
            scope.tenant_id,
            _filter(actor, action, entity_type, entity_id, since, until),
            limit=limit,
            cursor=cursor,
        )


@router.get(
    "/audit/export", response_class=StreamingResponse, responses={200: {"content": {"application/x-ndjson": {}}}}
)
def export_audit(
    scope: TenantDep,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Literal["ndjson"] = "ndjson",
) -> StreamingResponse:
    """Every matching entry, oldest first, one JSON object per line."""
    f = _filter(actor, action, entity_type, entity_id, since, until)
    with scope.transaction() as conn:  # read fully in the request's transaction; audit pages are small rows
        lines = [orjson.dumps(e.model_dump(mode="json")) + b"\n" for e in export_entries(conn, scope.tenant_id, f)]

    def body() -> Iterator[bytes]:
        yield from lines

    return StreamingResponse(
        body(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="audit-{scope.tenant_id}.ndjson"'},
    )


@router.get("/operator-audit", tags=["operators"])
def list_operator_access(
    principal: OperatorDep,
    db: DbDep,
    tenant_id: str | None = None,
    operator: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[OperatorAccess]:
    with operator_transaction(db) as conn:
        return list_access(conn, tenant_id=tenant_id, operator=operator, limit=limit, cursor=cursor)
