"""Coverage gaps raised as alerts: the hourly ``check_coverage`` task.

For every schedule of every tenant (``alert_on_gaps`` on), the final schedule of ``[now, now + days)``
is computed; any stretch with nobody on call is a gap. A schedule with gaps has one active alert,
rule ``system.oncall-coverage``, fingerprint ``system.oncall-coverage/<schedule id>``, whose subject
is the schedule (``device_id`` holds the schedule id, ``subject = 'schedule'``: migration 0050).
It goes through the alerts lifecycle like any alert (timeline, ``AlertOpened`` / ``AlertResolved``
in the outbox, acknowledge / snooze through the alerts API, silences matching the rule id or the
schedule id). When the gaps change, the alert's explanation is replaced, its count goes up and the
timeline says so; when no gap is left (an override filled it, the schedule changed) it resolves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from aws_lambda_powertools.metrics import MetricUnit

from pulse.alerts import lifecycle
from pulse.alerts import store as alerts
from pulse.alerts import suppression_store as guards
from pulse.alerts.models import AlertDetail, AlertState, EventType, fingerprint
from pulse.db import Database
from pulse.observability import logger, metrics
from pulse.oncall import store
from pulse.oncall.models import Gap, OnCallSchedule
from pulse.oncall.schedule import final_schedule, gaps
from pulse.rules.model import Severity

RULE_ID = "system.oncall-coverage"
ACTOR = "system:oncall"
SEVERITY = Severity.MAJOR
DEFAULT_DAYS = 7


@dataclass(slots=True)
class CoverageReport:
    schedules: int = 0
    with_gaps: int = 0
    opened: int = 0
    changed: int = 0
    resolved: int = 0


def _gap_doc(found: list[Gap]) -> list[dict[str, str]]:
    return [{"start": g.start.isoformat(), "end": g.end.isoformat()} for g in found]


def _explanation(schedule: OnCallSchedule, found: list[Gap], now: datetime, end: datetime) -> dict[str, Any]:
    hours = sum((g.end - g.start for g in found), timedelta()) / timedelta(hours=1)
    return {
        "kind": "oncall-coverage",
        "summary": f"{len(found)} gap(s), {hours:g} h with nobody on call before {end.isoformat()}",
        "schedule": {"id": schedule.id, "name": schedule.name, "timezone": schedule.timezone},
        "checked_at": now.isoformat(),
        "window": {"start": now.isoformat(), "end": end.isoformat()},
        "gaps": _gap_doc(found),
    }


def _shape(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Gaps as compared between checks: a gap already under way is 'ongoing' (its clipped start moves)."""
    checked = doc.get("checked_at", "")
    return [("ongoing" if g["start"] <= checked else g["start"], g["end"]) for g in doc.get("gaps", [])]


def resolve_coverage_alert(
    conn: psycopg.Connection, tenant_id: str, schedule_id: str, now: datetime, *, reason: str
) -> bool:
    """Resolves the schedule's active coverage alert; False when it had none."""
    active = alerts.active_for(conn, tenant_id, fingerprint(RULE_ID, schedule_id))
    if active is None:
        return False
    lifecycle.resolve(conn, tenant_id, active, now, ACTOR, reason=reason, detail={"subject": "schedule"})
    return True


def _open(
    conn: psycopg.Connection, tenant_id: str, schedule: OnCallSchedule, explanation: dict[str, Any], now: datetime
) -> bool:
    silence = guards.matching_silence(
        conn, tenant_id, now, site_id=None, device_id=schedule.id, rule_id=RULE_ID, tags={}, severity=SEVERITY.value
    )
    alert = AlertDetail(
        id=uuid.uuid4().hex,
        fingerprint=fingerprint(RULE_ID, schedule.id),
        rule_id=RULE_ID,
        rule_version=1,
        rule_name=f"On-call coverage gap: {schedule.name}"[:200],
        device_id=schedule.id,
        site_id=None,
        severity=SEVERITY,
        state=AlertState.OPEN,
        source="schedule",
        latched=False,
        silenced=silence is not None,
        silence_id=silence,
        snoozed_until=None,
        assignee=None,
        count=1,
        first_value=None,
        last_value=None,
        opened_at=now,
        episode_started_at=now,
        last_fired_at=now,
        acknowledged_at=None,
        acknowledged_by=None,
        condition_cleared_at=None,
        resolve_due_at=None,
        resolved_at=None,
        resolved_by=None,
        closed_at=None,
        updated_at=now,
        version=1,
        explanation=explanation,
    )
    if not store.insert_schedule_alert(conn, tenant_id, alert):
        return False  # another check opened it first
    detail: dict[str, Any] = {"subject": "schedule", "gaps": explanation["gaps"]}
    if silence:
        detail["silence_id"] = silence
    lifecycle.record(conn, tenant_id, alert, now, "opened", ACTOR, event=EventType.OPENED, detail=detail)
    return True


def sync_coverage_alert(
    conn: psycopg.Connection, tenant_id: str, schedule: OnCallSchedule, found: list[Gap], now: datetime, end: datetime
) -> str:
    """Brings the schedule's alert in line with ``found``: opened / changed / resolved / unchanged / none."""
    if not found:
        return (
            "resolved"
            if resolve_coverage_alert(conn, tenant_id, schedule.id, now, reason="coverage restored")
            else "none"
        )
    explanation = _explanation(schedule, found, now, end)
    active = alerts.active_for(conn, tenant_id, fingerprint(RULE_ID, schedule.id))
    if active is None:
        return "opened" if _open(conn, tenant_id, schedule, explanation, now) else "unchanged"
    stored = alerts.get(conn, tenant_id, active.id)
    if stored is not None and _shape(stored.explanation) == _shape(explanation):
        return "unchanged"
    alerts.update(conn, tenant_id, active.id, now, count=active.count + 1, last_fired_at=now, explanation=explanation)
    alerts.add_timeline(conn, tenant_id, active.id, now, "gaps_changed", ACTOR, detail={"gaps": explanation["gaps"]})
    return "changed"


def check_coverage(db: Database, now: datetime, days: int = DEFAULT_DAYS) -> CoverageReport:
    """Every schedule's gaps in ``[now, now + days)`` as alerts; one transaction per schedule."""
    end = now + timedelta(days=days)
    report = CoverageReport()
    with db.transaction() as conn:
        keys = store.schedule_keys(conn)
    for tenant_id, schedule_id in keys:
        with db.transaction() as conn:
            schedule = store.get_schedule(conn, tenant_id, schedule_id)
            if schedule is None:
                continue  # deleted meanwhile (deleting resolved its alert)
            overrides = store.overrides_between(conn, tenant_id, schedule_id, now, end)
            found = gaps(final_schedule(schedule, overrides, now, end)) if schedule.alert_on_gaps else []
            outcome = sync_coverage_alert(conn, tenant_id, schedule, found, now, end)
        report.schedules += 1
        report.with_gaps += bool(found)
        report.opened += outcome == "opened"
        report.changed += outcome == "changed"
        report.resolved += outcome == "resolved"
        if outcome not in ("none", "unchanged"):
            logger.info(
                "coverage alert changed",
                extra={"tenant_id": tenant_id, "schedule_id": schedule_id, "outcome": outcome, "gaps": len(found)},
            )
    metrics.add_metric(name="OncallCoverageGaps", unit=MetricUnit.Count, value=report.with_gaps)
    return report
