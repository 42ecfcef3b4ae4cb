"""Dead letters: deliveries that will not be tried again, listed with their last error, and redrive.

``dead_letter`` is the workflow's last step (retries exhausted, or a permanent failure the deliver
step already recorded); it is idempotent. ``redrive`` resets dead deliveries to ``pending`` (the
attempt count and every attempt row stay: the history shows the redrive) and starts one workflow
execution per delivery through the ``DeliveryStarter`` port, after the reset has committed, so the
execution always finds the delivery claimable. A start the port refuses puts that delivery back to
``dead`` with the reason, and it is not counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pulse.db import Database
from pulse.errors import PulseError
from pulse.identity.scope import TenantScope
from pulse.notify import delivery_store as ds
from pulse.notify.models import DeadLetterFilter, Delivery, DeliveryStatus, RedriveIn, RedriveResult
from pulse.observability import logger
from pulse.ops.audit import record_change
from pulse.registry.errors import NotFound
from pulse.registry.paging import Page, decode_cursor, encode_cursor

MAX_REDRIVE = 1000
_SORT = "dead_letters_desc"
_COLUMNS = (
    "id, event_id, event_name, alert_id, channel_id, route_id, notification_id, status, reason, send_at, attempts, "
    "last_error, last_response_code, execution_id, created_at, delivered_at, dead_at"
)


class DeliveryStarter(Protocol):
    """Starts the delivery workflow for existing deliveries; returns the execution id."""

    def start(self, delivery_ids: list[str]) -> str: ...


def dead_letter(db: Database, delivery_id: str, *, error: str, now: datetime) -> bool:
    """Ends a pending or sending delivery ``dead`` with ``error``; False when there was nothing to end
    (already dead, delivered, or never to be sent)."""
    with db.transaction() as conn:
        found = ds.get_delivery(conn, None, delivery_id, lock=True)
        if found is None or found.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            return False
        ds.finish_delivery(
            conn, delivery_id, DeliveryStatus.DEAD, now, error=error[:2000], response_code=found.last_response_code
        )
    return True


def _where(tenant_id: str, f: DeadLetterFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["tenant_id = %s", "status = 'dead'"]
    params: list[Any] = [tenant_id]
    if f.channel_id is not None:
        clauses.append("channel_id = %s")
        params.append(f.channel_id)
    if f.alert_id is not None:
        clauses.append("(alert_id = %s OR notification_id IN (SELECT id FROM notifications WHERE %s = ANY(alert_ids)))")
        params += [f.alert_id, f.alert_id]
    if f.since is not None:
        clauses.append("dead_at >= %s")
        params.append(f.since)
    if f.until is not None:
        clauses.append("dead_at < %s")
        params.append(f.until)
    return clauses, params


def list_dead_letters(scope: TenantScope, f: DeadLetterFilter, *, limit: int, cursor: str | None) -> Page[Delivery]:
    """Most recently dead first."""
    clauses, params = _where(scope.tenant_id, f)
    after = decode_cursor(cursor, _SORT)
    if after is not None:
        clauses.append("(dead_at, id) < (%s, %s)")
        params += [datetime.fromisoformat(str(after[0])), str(after[1])]
    with scope.transaction() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY dead_at DESC, id DESC LIMIT %s",
            (*params, limit + 1),
        ).fetchall()
    items = [Delivery(**dict(zip(_COLUMNS.split(", "), r, strict=True))) for r in rows[:limit]]
    last = items[-1] if items else None
    more = len(rows) > limit and last is not None and last.dead_at is not None
    return Page[Delivery](
        items=items,
        next_cursor=encode_cursor(_SORT, [last.dead_at.isoformat(), last.id])
        if more and last and last.dead_at
        else None,
    )


def redrive(scope: TenantScope, request: RedriveIn, starter: DeliveryStarter, *, now: datetime) -> RedriveResult:
    """Resets the selected dead deliveries and starts each again; ids that are not dead are a 404."""
    with scope.transaction() as conn:
        if request.ids is not None:
            rows = conn.execute(
                """SELECT id FROM deliveries WHERE tenant_id = %s AND id = ANY(%s) AND status = 'dead'
                   ORDER BY id FOR UPDATE""",
                (scope.tenant_id, request.ids),
            ).fetchall()
            missing = sorted(set(request.ids) - {r[0] for r in rows})
            if missing:
                raise NotFound(f"no dead delivery {', '.join(repr(m) for m in missing[:5])}")
        else:
            clauses, params = _where(scope.tenant_id, request.all_matching or DeadLetterFilter())
            rows = conn.execute(
                f"SELECT id FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY dead_at, id LIMIT %s FOR UPDATE",
                (*params, MAX_REDRIVE),
            ).fetchall()
        ids = [r[0] for r in rows]
        if ids:
            conn.execute(
                """UPDATE deliveries SET status = 'pending', dead_at = NULL, claimed_at = NULL, send_at = %s
                   WHERE tenant_id = %s AND id = ANY(%s)""",
                (now, scope.tenant_id, ids),
            )
            record_change(
                conn,
                scope.tenant_id,
                scope.actor,
                "delivery.redrive",
                "delivery",
                ids[0] if len(ids) == 1 else "*",
                None,
                {"ids": ids, "count": len(ids)},
            )
    executions: list[str] = []
    for delivery_id in ids:
        try:
            execution_id = starter.start([delivery_id])
        except PulseError as exc:
            logger.warning("redrive could not start", extra={"delivery_id": delivery_id, "error": exc.detail})
            with scope.transaction() as conn:
                ds.finish_delivery(
                    conn,
                    delivery_id,
                    DeliveryStatus.DEAD,
                    now,
                    error=f"redrive could not start: {exc.detail}",
                    response_code=None,
                )
            continue
        with scope.transaction() as conn:
            conn.execute(
                "UPDATE deliveries SET execution_id = %s WHERE tenant_id = %s AND id = %s",
                (execution_id, scope.tenant_id, delivery_id),
            )
        executions.append(execution_id)
    return RedriveResult(count=len(executions), execution_ids=executions)
