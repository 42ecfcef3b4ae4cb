"""On-call for the API: schedules (with their layers), overrides, the final schedule, who is on call
now, coverage gaps, and the iCal feed's secret. Every write is audited in its own transaction.

Other planes (escalation) ask ``who_is_on_call`` inside their own transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg

from pulse.db import Database, tenant_transaction
from pulse.errors import RequestInvalid
from pulse.identity.scope import TenantScope
from pulse.oncall import gaps as coverage
from pulse.oncall import ical, store
from pulse.oncall.models import (
    CoverageGaps,
    FinalSchedule,
    IcalToken,
    Layer,
    OnCallNow,
    OnCallSchedule,
    OnCallScheduleIn,
    Override,
    OverrideCreated,
    OverrideIn,
    Segment,
)
from pulse.oncall.schedule import final_schedule, gaps
from pulse.ops.audit import record_change
from pulse.registry.errors import NotFound, PreconditionFailed, PreconditionRequired
from pulse.registry.paging import Page, decode_cursor, keyset_page

MAX_RANGE = timedelta(days=366)
ICAL_PATH = "/api/v1/oncall/ical/{token}.ics"
_CURSOR = "oncall_schedules_by_name"


def _layers(body: OnCallScheduleIn) -> list[Layer]:
    return [Layer(id=uuid.uuid4().hex[:12], **layer.model_dump()) for layer in body.layers]


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise RequestInvalid("end: must be after start")
    if end - start > MAX_RANGE:
        raise RequestInvalid(f"end: a range spans at most {MAX_RANGE.days} days")


def _schedule(conn: psycopg.Connection, tenant_id: str, schedule_id: str, *, lock: bool = False) -> OnCallSchedule:
    found = store.get_schedule(conn, tenant_id, schedule_id, lock=lock)
    if found is None:
        raise NotFound(f"no schedule {schedule_id!r}")
    return found


def final_between(
    conn: psycopg.Connection, tenant_id: str, schedule: OnCallSchedule, start: datetime, end: datetime
) -> list[Segment]:
    return final_schedule(schedule, store.overrides_between(conn, tenant_id, schedule.id, start, end), start, end)


def who_is_on_call(conn: psycopg.Connection, tenant_id: str, schedule_id: str, at: datetime) -> str | None:
    """The username on call at ``at``, None when nobody is (or there is no such schedule)."""
    schedule = store.get_schedule(conn, tenant_id, schedule_id)
    if schedule is None:
        return None
    [segment] = final_between(conn, tenant_id, schedule, at, at + timedelta(microseconds=1))
    return segment.username


# --- schedules ---------------------------------------------------------------------------------------


def create_schedule(scope: TenantScope, body: OnCallScheduleIn, *, now: datetime) -> OnCallSchedule:
    schedule = OnCallSchedule(
        id=uuid.uuid4().hex,
        name=body.name,
        timezone=body.timezone,
        description=body.description,
        alert_on_gaps=body.alert_on_gaps,
        layers=_layers(body),
        created_by=scope.actor.display,
        created_at=now,
        updated_at=now,
        version=1,
    )
    with scope.transaction() as conn:
        store.insert_schedule(conn, scope.tenant_id, schedule)
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.schedule.create", "schedule", schedule.id, None, schedule
        )
    return schedule


def list_schedules(scope: TenantScope, *, limit: int, cursor: str | None) -> Page[OnCallSchedule]:
    after = decode_cursor(cursor, _CURSOR)
    with scope.transaction() as conn:
        rows = store.list_schedules(
            conn, scope.tenant_id, after=(str(after[0]), str(after[1])) if after else None, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit, _CURSOR, lambda s: [s.name, s.id])
    return Page[OnCallSchedule](items=items, next_cursor=next_cursor)


def get_schedule(scope: TenantScope, schedule_id: str) -> OnCallSchedule:
    with scope.transaction() as conn:
        return _schedule(conn, scope.tenant_id, schedule_id)


def replace_schedule(
    scope: TenantScope, schedule_id: str, body: OnCallScheduleIn, *, expected_version: int | None, now: datetime
) -> OnCallSchedule:
    """The whole schedule (layers included) under ``If-Match``; layers get new ids."""
    if expected_version is None:
        raise PreconditionRequired("If-Match: send the schedule's ETag to replace it")
    with scope.transaction() as conn:
        before = _schedule(conn, scope.tenant_id, schedule_id, lock=True)
        if before.version != expected_version:
            raise PreconditionFailed(f"schedule {schedule_id!r} is at version {before.version}, not {expected_version}")
        after = before.model_copy(
            update={
                "name": body.name,
                "timezone": body.timezone,
                "description": body.description,
                "alert_on_gaps": body.alert_on_gaps,
                "layers": _layers(body),
                "updated_at": now,
                "version": before.version + 1,
            }
        )
        store.update_schedule(conn, scope.tenant_id, after)
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.schedule.update", "schedule", schedule_id, before, after
        )
    return after


def delete_schedule(scope: TenantScope, schedule_id: str, *, now: datetime) -> None:
    """Deletes the schedule with its overrides and swaps; its coverage-gap alert resolves."""
    with scope.transaction() as conn:
        before = _schedule(conn, scope.tenant_id, schedule_id, lock=True)
        coverage.resolve_coverage_alert(conn, scope.tenant_id, schedule_id, now, reason="schedule deleted")
        store.delete_schedule(conn, scope.tenant_id, schedule_id)
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.schedule.delete", "schedule", schedule_id, before, None
        )


# --- overrides ---------------------------------------------------------------------------------------


def create_override(scope: TenantScope, schedule_id: str, body: OverrideIn, *, now: datetime) -> OverrideCreated:
    """Puts ``body.username`` on call for the range; overlapping earlier overrides are named in the answer."""
    override = Override(
        id=uuid.uuid4().hex,
        schedule_id=schedule_id,
        username=body.username,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        source="override",
        swap_id=None,
        note=body.note,
        created_by=scope.actor.display,
        created_at=now,
    )
    with scope.transaction() as conn:
        _schedule(conn, scope.tenant_id, schedule_id, lock=True)
        overlaps = store.overrides_between(conn, scope.tenant_id, schedule_id, body.starts_at, body.ends_at)
        store.insert_override(conn, scope.tenant_id, override)
        audit = {**override.model_dump(mode="json"), "overlaps": [o.id for o in overlaps]}
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.override.create", "override", override.id, None, audit
        )
    return OverrideCreated(**override.model_dump(), overlaps=[o.id for o in overlaps])


def list_overrides(scope: TenantScope, schedule_id: str, start: datetime, end: datetime) -> list[Override]:
    check_range(start, end)
    with scope.transaction() as conn:
        _schedule(conn, scope.tenant_id, schedule_id)
        return store.overrides_between(conn, scope.tenant_id, schedule_id, start, end)


def delete_override(scope: TenantScope, schedule_id: str, override_id: str) -> None:
    with scope.transaction() as conn:
        before = store.get_override(conn, scope.tenant_id, schedule_id, override_id)
        if before is None:
            raise NotFound(f"no override {override_id!r} in schedule {schedule_id!r}")
        store.delete_override(conn, scope.tenant_id, override_id)
        record_change(
            conn, scope.tenant_id, scope.actor, "oncall.override.delete", "override", override_id, before, None
        )


# --- reading the final schedule ----------------------------------------------------------------------


def final(scope: TenantScope, schedule_id: str, start: datetime, end: datetime) -> FinalSchedule:
    check_range(start, end)
    with scope.transaction() as conn:
        schedule = _schedule(conn, scope.tenant_id, schedule_id)
        segments = final_between(conn, scope.tenant_id, schedule, start, end)
    return FinalSchedule(schedule_id=schedule_id, timezone=schedule.timezone, start=start, end=end, segments=segments)


def on_call_now(scope: TenantScope, schedule_id: str, *, now: datetime) -> OnCallNow:
    """The segment at ``now``, whole as far as one rotation length (plus a day) on either side."""
    with scope.transaction() as conn:
        schedule = _schedule(conn, scope.tenant_id, schedule_id)
        reach = timedelta(days=max((layer.rotation.days for layer in schedule.layers), default=1) + 1)
        segments = final_between(conn, scope.tenant_id, schedule, now - reach, now + reach)
    [segment] = [s for s in segments if s.start <= now < s.end]
    return OnCallNow(schedule_id=schedule_id, at=now, username=segment.username, segment=segment)


def coverage_gaps(scope: TenantScope, schedule_id: str, *, now: datetime, days: int) -> CoverageGaps:
    end = now + timedelta(days=days)
    check_range(now, end)
    with scope.transaction() as conn:
        schedule = _schedule(conn, scope.tenant_id, schedule_id)
        segments = final_between(conn, scope.tenant_id, schedule, now, end)
    return CoverageGaps(schedule_id=schedule_id, start=now, end=end, gaps=gaps(segments))


# --- iCal feed ---------------------------------------------------------------------------------------


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def rotate_ical_token(scope: TenantScope, schedule_id: str) -> IcalToken:
    """A new secret for the schedule's feed (192 random bits, stored hashed); the old one stops working."""
    token = secrets.token_urlsafe(24)
    with scope.transaction() as conn:
        _schedule(conn, scope.tenant_id, schedule_id, lock=True)
        store.set_ical_token_hash(conn, scope.tenant_id, schedule_id, _token_hash(token))
        audit: dict[str, Any] = {"ical_token": "rotated"}
        record_change(conn, scope.tenant_id, scope.actor, "oncall.ical.rotate", "schedule", schedule_id, None, audit)
    return IcalToken(schedule_id=schedule_id, token=token, path=ICAL_PATH.format(token=token))


def ical_feed(db: Database, token: str, *, now: datetime, days: int, username: str | None) -> str:
    """The schedule's final schedule (one user's shifts when ``username``) as an iCalendar document."""
    with db.transaction() as conn:
        found = store.find_ical_schedule(conn, _token_hash(token))
    if found is None:
        raise NotFound("no calendar feed for this token (it may have been rotated)")
    tenant_id, schedule_id = found
    start = now - timedelta(days=1)
    with tenant_transaction(db, tenant_id) as conn:
        schedule = _schedule(conn, tenant_id, schedule_id)
        segments = final_between(conn, tenant_id, schedule, start, now + timedelta(days=days))
    shown = [s for s in segments if s.username is not None and (username is None or s.username == username)]
    return ical.render(schedule, shown, stamp=now)
