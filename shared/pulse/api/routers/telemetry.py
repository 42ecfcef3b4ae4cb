"""Telemetry reads: raw points, bucketed aggregates, latest values, streaming export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from pulse.api.deps import TenantDep
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.registry import store as registry_store
from pulse.registry.errors import NotFound
from pulse.registry.paging import Page
from pulse.stream import export, query
from pulse.stream.models import BucketedSeries, DeviceLatest, RawCursor, RawPoint

router = APIRouter(tags=["telemetry"])

MetricsQuery = Annotated[list[str], Query(alias="metric", description="repeat for several metrics")]
StartQuery = Annotated[datetime, Query(description="inclusive, RFC 3339 with offset")]
EndQuery = Annotated[datetime, Query(description="exclusive, RFC 3339 with offset")]


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise RequestInvalid(f"{name}: give an offset, e.g. 2026-11-22T10:00:00Z")
    return value


def _require_device(conn: psycopg.Connection, scope: TenantScope, device_id: str) -> None:
    if registry_store.get_device(conn, scope.tenant_id, device_id) is None:
        raise NotFound(f"no device {device_id!r}")


@router.get("/devices/{device_id}/telemetry")
def raw_points(
    scope: TenantDep,
    device_id: str,
    metrics: MetricsQuery,
    start: StartQuery,
    end: EndQuery,
    limit: Annotated[int, Query(ge=1, le=query.MAX_RAW_LIMIT)] = query.DEFAULT_RAW_LIMIT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Page[RawPoint]:
    """A page of raw points ordered by (ts, metric); follow ``next_cursor`` for the rest."""
    after = RawCursor.decode(cursor) if cursor else None
    with scope.transaction() as conn:
        _require_device(conn, scope, device_id)
        page = query.raw_range(
            conn,
            scope.tenant_id,
            device_id,
            metrics,
            start=_aware("start", start),
            end=_aware("end", end),
            limit=limit,
            after=after,
        )
    return Page[RawPoint](items=page.points, next_cursor=page.next_cursor.encode() if page.next_cursor else None)


@router.get("/devices/{device_id}/telemetry/buckets")
def bucketed_points(
    scope: TenantDep,
    device_id: str,
    metrics: MetricsQuery,
    start: StartQuery,
    end: EndQuery,
    bucket: Annotated[str, Query(description="1m, 5m, 15m, 1h, 6h or 1d")] = "5m",
) -> BucketedSeries:
    """avg / min / max / count / last per metric and bucket (empty buckets are left out)."""
    with scope.transaction() as conn:
        _require_device(conn, scope, device_id)
        return query.bucketed(
            conn,
            scope.tenant_id,
            device_id,
            metrics,
            start=_aware("start", start),
            end=_aware("end", end),
            bucket=bucket,
        )


@router.get("/telemetry/latest")
def latest_values(
    scope: TenantDep,
    device_ids: Annotated[list[str] | None, Query(alias="device_id", description="repeat; none for all")] = None,
) -> list[DeviceLatest]:
    """Each device's latest value per metric and the time of its newest message."""
    with scope.transaction() as conn:
        return query.latest(conn, scope.tenant_id, device_ids)


def _stream_in_transaction(
    scope: TenantScope, make: Callable[[psycopg.Connection], Iterator[bytes]]
) -> Iterator[bytes]:
    """Opens the transaction now (so bad input is a 4xx before any byte is sent) and keeps it open
    while the response streams; a server-side cursor lives inside its transaction."""
    stack = ExitStack()
    conn = stack.enter_context(scope.transaction())
    try:
        chunks = make(conn)
    except BaseException:
        stack.close()
        raise

    def body() -> Iterator[bytes]:
        with stack:
            yield from chunks

    return body()


@router.get(
    "/telemetry/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_telemetry(
    scope: TenantDep,
    start: StartQuery,
    end: EndQuery,
    fmt: Annotated[Literal["csv", "jsonl"], Query(alias="format")] = "csv",
    device_ids: Annotated[list[str] | None, Query(alias="device_id")] = None,
    metrics: Annotated[list[str] | None, Query(alias="metric")] = None,
) -> StreamingResponse:
    """Raw telemetry of a range as CSV (``ts,device_id,metric,value``) or JSON Lines, streamed."""
    start, end = _aware("start", start), _aware("end", end)
    writer = export.export_csv if fmt == "csv" else export.export_jsonl
    body = _stream_in_transaction(
        scope, lambda conn: writer(conn, scope.tenant_id, device_ids, metrics, start=start, end=end)
    )
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    filename = f"telemetry-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.{fmt}"
    return StreamingResponse(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
