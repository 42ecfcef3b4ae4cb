"""What an alert records and announces: the explanation captured when it fires, the event data.

The explanation holds the rule version, the evaluated condition tree with the values it compared,
and a snapshot of the device twin and its connectivity at trigger time, so that "why did this
fire" can be answered later even after the twin or the rule changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pulse.alerts.models import Alert, EventType
from pulse.alerts.suppression_store import DeviceFacts
from pulse.rules.model import Rule
from pulse.rules.signals import Explanation

EVENT_VERSION = 1


def explanation_tree(node: Explanation) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "result": node.result,
        "summary": node.summary,
        "observed": node.observed,
        "children": [explanation_tree(child) for child in node.children],
    }


def capture(rule: Rule, at: datetime, why: Explanation, facts: DeviceFacts) -> dict[str, Any]:
    silent_for = (at - facts.last_seen_at).total_seconds() if facts.last_seen_at is not None else None
    return {
        "rule": {
            "id": rule.id,
            "version": rule.version,
            "name": rule.name,
            "severity": rule.severity.value,
            "latch": rule.latch,
        },
        "fired_at": at.isoformat(),
        "condition": explanation_tree(why),
        "twin": None if facts.twin is None else {"version": facts.twin_version, "document": facts.twin},
        "connectivity": {
            "last_seen_at": facts.last_seen_at.isoformat() if facts.last_seen_at else None,
            "heartbeat_interval_s": facts.heartbeat_interval_s,
            "silent_for_s": silent_for,
        },
    }


def event_data(
    alert: Alert, event_type: EventType, at: datetime, actor: str, note: str = "", **extra: Any
) -> dict[str, Any]:
    """The ``data`` of an alert event on the bus (the publisher wraps it in ``metadata``)."""
    return {
        "alert_id": alert.id,
        "fingerprint": alert.fingerprint,
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "rule_name": alert.rule_name,
        "device_id": alert.device_id,
        "site_id": alert.site_id,
        "severity": alert.severity.value,
        "state": alert.state.value,
        "silenced": alert.silenced,
        "latched": alert.latched,
        "count": alert.count,
        "value": alert.last_value,
        "opened_at": alert.opened_at.isoformat(),
        "assignee": alert.assignee,
        "snoozed_until": alert.snoozed_until.isoformat() if alert.snoozed_until else None,
        "event": event_type.value,
        "at": at.isoformat(),
        "actor": actor,
        "note": note,
        **extra,
    }
