"""Shift swaps: a user asks another to take a range of their shift; accepting makes it an override.

* request: ``from_user`` (the caller, or anyone when the caller may write for the tenant) must be the
  one on call for the whole range in the final schedule, and the range must not be over;
* accept: only ``to_user`` accepts; the range (what is left of it) must still be ``from_user``'s,
  otherwise the schedule changed under the request (409). The swap becomes an override with source
  ``swap`` above every layer; deleting that override undoes the swap;
* decline: ``to_user`` declines, ``from_user`` or the requester withdraws, or someone who may write
  for the tenant clears it.

Requests concern one's own shifts, so any signed-in user of the tenant (viewers included) may take
part in the swaps that name them. Every step is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg

from pulse.identity.models import Forbidden
from pulse.identity.scope import TenantScope
from pulse.oncall import store
from pulse.oncall.models import Override, Swap, SwapIn, SwapState
from pulse.oncall.schedule import on_call_during
from pulse.oncall.service import final_between
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page

_CURSOR = "oncall_swaps_newest"


def _still_theirs(conn: psycopg.Connection, tenant_id: str, swap: Swap, now: datetime) -> None:
    start = max(swap.starts_at, now)
    if swap.ends_at <= start:
        raise Conflict("the shift is over")
    schedule = store.get_schedule(conn, tenant_id, swap.schedule_id)
    if schedule is None:
        raise NotFound(f"no schedule {swap.schedule_id!r}")
    if not on_call_during(final_between(conn, tenant_id, schedule, start, swap.ends_at), swap.from_user):
        raise Conflict(f"{swap.from_user} is not the one on call for the whole range")


def _locked(conn: psycopg.Connection, tenant_id: str, schedule_id: str, swap_id: str) -> Swap:
    found = store.get_swap(conn, tenant_id, schedule_id, swap_id, lock=True)
    if found is None:
        raise NotFound(f"no swap {swap_id!r} in schedule {schedule_id!r}")
    if found.state is not SwapState.REQUESTED:
        raise Conflict(f"swap {swap_id!r} is already {found.state.value}")
    return found


def request_swap(
    scope: TenantScope, schedule_id: str, body: SwapIn, *, username: str, may_write: bool, now: datetime
) -> Swap:
    from_user = body.from_user or username
    if from_user != username and not may_write:
        raise Forbidden("only users who may change the tenant ask on someone else's behalf")
    if from_user == body.to_user:
        raise Conflict("to_user: must be someone else than the one on call")
    swap = Swap(
        id=uuid.uuid4().hex,
        schedule_id=schedule_id,
        from_user=from_user,
        to_user=body.to_user,
        requested_by=username,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        state=SwapState.REQUESTED,
        note=body.note,
        override_id=None,
        created_at=now,
        decided_by=None,
        decided_at=None,
    )
    with scope.transaction() as conn:
        _still_theirs(conn, scope.tenant_id, swap, now)
        store.insert_swap(conn, scope.tenant_id, swap)
        record_change(conn, scope.tenant_id, scope.actor, "oncall.swap.request", "swap", swap.id, None, swap)
    return swap


def accept_swap(scope: TenantScope, schedule_id: str, swap_id: str, *, username: str, now: datetime) -> Swap:
    with scope.transaction() as conn:
        before = _locked(conn, scope.tenant_id, schedule_id, swap_id)
        if username != before.to_user:
            raise Forbidden(f"only {before.to_user} may accept this swap")
        store.get_schedule(conn, scope.tenant_id, schedule_id, lock=True)  # one decision at a time per schedule
        _still_theirs(conn, scope.tenant_id, before, now)
        override = Override(
            id=uuid.uuid4().hex,
            schedule_id=schedule_id,
            username=before.to_user,
            starts_at=before.starts_at,
            ends_at=before.ends_at,
            source="swap",
            swap_id=before.id,
            note=before.note,
            created_by=scope.actor.display,
            created_at=now,
        )
        store.insert_override(conn, scope.tenant_id, override)
        after = before.model_copy(
            update={"state": SwapState.ACCEPTED, "override_id": override.id, "decided_by": username, "decided_at": now}
        )
        store.decide_swap(conn, scope.tenant_id, after)
        record_change(conn, scope.tenant_id, scope.actor, "oncall.swap.accept", "swap", swap_id, before, after)
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.override.create", "override", override.id, None, override
        )
    return after


def decline_swap(
    scope: TenantScope, schedule_id: str, swap_id: str, *, username: str, may_write: bool, now: datetime
) -> Swap:
    with scope.transaction() as conn:
        before = _locked(conn, scope.tenant_id, schedule_id, swap_id)
        if username not in (before.to_user, before.from_user, before.requested_by) and not may_write:
            raise Forbidden("only the people the swap names may decline it")
        after = before.model_copy(update={"state": SwapState.DECLINED, "decided_by": username, "decided_at": now})
        store.decide_swap(conn, scope.tenant_id, after)
        record_change(conn, scope.tenant_id, scope.actor, "oncall.swap.decline", "swap", swap_id, before, after)
    return after


def list_swaps(
    scope: TenantScope, schedule_id: str, *, state: SwapState | None, limit: int, cursor: str | None
) -> Page[Swap]:
    after = decode_cursor(cursor, _CURSOR)
    key = (datetime.fromisoformat(str(after[0])), str(after[1])) if after else None
    with scope.transaction() as conn:
        if store.get_schedule(conn, scope.tenant_id, schedule_id) is None:
            raise NotFound(f"no schedule {schedule_id!r}")
        rows = store.list_swaps(conn, scope.tenant_id, schedule_id, state=state, after=key, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _CURSOR, lambda s: [s.created_at.isoformat(), s.id])
    return Page[Swap](items=items, next_cursor=next_cursor)
