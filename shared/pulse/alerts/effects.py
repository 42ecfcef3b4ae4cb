"""What each of the policy's decisions changes on an alert and what its timeline entry says.

Shared by the two ways the decisions are carried out, so they store the same rows:
``pulse.alerts.transitions`` (one transition at a time, a statement per step) and
``pulse.alerts.bulk`` (many fingerprints at once, in memory, then a few set-based statements).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pulse.alerts.explain import capture, explanation_tree
from pulse.alerts.models import Alert, AlertDetail, AlertState, AlertValue, Source, fingerprint
from pulse.alerts.policy import ActiveAlert, AlertPolicy
from pulse.alerts.suppression_store import DeviceFacts
from pulse.rules.model import Rule
from pulse.rules.signals import Opened, Resolved


def policy_view(active: Alert | None) -> ActiveAlert | None:
    """The fingerprint's active alert as ``policy.decide`` sees it."""
    if active is None:
        return None
    acknowledged = active.state is AlertState.ACKNOWLEDGED
    return ActiveAlert(active.episode_started_at, active.resolve_due_at, active.latched, acknowledged)


def new_alert(
    rule: Rule,
    device_id: str,
    facts: DeviceFacts,
    t: Opened,
    *,
    value: AlertValue,
    source: Source,
    silence: str | None,
) -> AlertDetail:
    """The alert an ``open`` decision stores (``AlertOpened``)."""
    return AlertDetail(
        id=uuid.uuid4().hex,
        fingerprint=fingerprint(rule.id, device_id),
        rule_id=rule.id,
        rule_version=rule.version,
        rule_name=rule.name,
        device_id=device_id,
        site_id=facts.site_id,
        severity=rule.severity,
        state=AlertState.OPEN,
        source=source,
        latched=rule.latch,
        silenced=silence is not None,
        silence_id=silence,
        snoozed_until=None,
        assignee=None,
        count=1,
        first_value=value,
        last_value=value,
        opened_at=t.at,
        episode_started_at=t.at,
        last_fired_at=t.at,
        acknowledged_at=None,
        acknowledged_by=None,
        condition_cleared_at=None,
        resolve_due_at=None,
        resolved_at=None,
        resolved_by=None,
        closed_at=None,
        updated_at=t.at,
        version=1,
        explanation=capture(rule, t.at, t.explanation, facts),
    )


def opened_detail(silence: str | None) -> dict[str, Any]:
    return {"silence_id": silence} if silence else {}


def repeat(active: Alert, rule: Rule, t: Opened, value: AlertValue) -> dict[str, Any]:
    """A ``repeat``: counted, last value and last fired; a deferred resolve is cancelled."""
    return {
        "count": active.count + 1,
        "last_value": value,
        "last_fired_at": max(active.last_fired_at, t.at),
        "resolve_due_at": None,
        "condition_cleared_at": None,
        "rule_version": rule.version,
    }


def cancelled_detail(active: Alert) -> dict[str, Any] | None:
    """The ``resolve_cancelled`` entry's detail when a repeat cancels a deferred resolve, else None."""
    if active.resolve_due_at is None:
        return None
    return {"deferred_until": active.resolve_due_at.isoformat(), "reason": "fired again (flap)"}


def reopen(
    previous: Alert, rule: Rule, t: Opened, value: AlertValue, facts: DeviceFacts, silence: str | None
) -> dict[str, Any]:
    """A ``reopen``: the last resolved alert open again, a new episode, explanation captured anew."""
    return {
        "state": AlertState.OPEN,
        "count": previous.count + 1,
        "last_value": value,
        "last_fired_at": t.at,
        "episode_started_at": t.at,
        "resolved_at": None,
        "resolved_by": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "condition_cleared_at": None,
        "silenced": silence is not None,
        "silence_id": silence,
        "rule_version": rule.version,
        "explanation": capture(rule, t.at, t.explanation, facts),
    }


def reopened_detail(previous: Alert, t: Opened, silence: str | None) -> dict[str, Any]:
    assert previous.resolved_at is not None
    gap = (t.at - previous.resolved_at).total_seconds()
    return {"resolved_for_s": gap, **opened_detail(silence)}


def latched_detail(t: Resolved) -> dict[str, Any]:
    return {"latched": True, "condition": explanation_tree(t.explanation)}


def deferred_detail(due: datetime, policy: AlertPolicy) -> dict[str, Any]:
    return {"until": due.isoformat(), "min_open_s": policy.min_open.total_seconds()}


def resolved_detail(t: Resolved) -> dict[str, Any]:
    return {"condition": explanation_tree(t.explanation)}
