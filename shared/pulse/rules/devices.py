"""What rule evaluation needs to know about a device: scope facts, evaluation context, last message.

Loaded in one query for a set of devices, with the twin document (and the desired leaves past
the convergence deadline) only when a rule that is about to run reads twin values (twin
predicates or ``twin.*`` refs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from pulse.rules.conditions import walk
from pulse.rules.model import Comparison, Rule, Twin, TwinNotConverged
from pulse.rules.normalize import MetricMapping, normalize_metrics
from pulse.rules.signals import EvaluationContext, Sample
from pulse.twin.document import parse_pointer

DeviceKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    tenant_id: str
    device_id: str
    site_id: str | None
    model: str
    tags: Mapping[str, str]
    attributes: Mapping[str, Any]
    timezone: str | None
    last_msg_ts: datetime | None
    last_metrics: Mapping[str, float | bool]
    reported: Mapping[str, Any] = field(default_factory=dict)
    desired: Mapping[str, Any] = field(default_factory=dict)
    overdue: frozenset[str] = frozenset()

    def context(self) -> EvaluationContext:
        return EvaluationContext(self.attributes, self.reported, self.desired, self.timezone, self.overdue)

    def in_scope(self, rule: Rule) -> bool:
        return rule.scope.matches(
            tenant_id=self.tenant_id,
            device_id=self.device_id,
            site_id=self.site_id,
            model=self.model,
            tags=dict(self.tags),
        )

    def last_sample(self, mappings: Mapping[str, Mapping[str, MetricMapping]]) -> Sample | None:
        """The device's last known message (latest value of each metric), normalized; None if silent."""
        if self.last_msg_ts is None:
            return None
        return Sample(self.last_msg_ts, normalize_metrics(self.last_metrics, mappings.get(self.model, {})))


def reads_twin(rule: Rule) -> bool:
    """Whether evaluating ``rule`` needs the device twin (twin predicates or twin refs)."""
    roots = [rule.condition] if rule.clear is None else [rule.condition, rule.clear]
    for root in roots:
        for node in walk(root):
            if isinstance(node, Twin | TwinNotConverged):
                return True
            if isinstance(node, Comparison):
                operands = (node.value, node.low, node.high)
                if any(getattr(o, "ref", "").startswith("twin.") for o in operands):
                    return True
    return False


def load_devices(
    conn: psycopg.Connection, keys: Iterable[DeviceKey], *, with_twin: bool, active_only: bool = True
) -> dict[DeviceKey, DeviceFacts]:
    """Facts of the given devices (missing and, with ``active_only``, inactive ones are left out)."""
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    twin = "t.document -> 'state'" if with_twin else "NULL::jsonb"
    join = "LEFT JOIN device_twins t ON t.tenant_id = d.tenant_id AND t.device_id = d.id" if with_twin else ""
    overdue = (
        """ARRAY(SELECT p.path FROM twin_pending_desired p
                 WHERE p.tenant_id = d.tenant_id AND p.device_id = d.id AND p.notified_at IS NOT NULL)"""
        if with_twin
        else "NULL::text[]"
    )
    rows = conn.execute(
        f"""SELECT d.tenant_id, d.id, d.site_id, d.model, d.tags, d.attributes, s.timezone, d.last_msg_ts,
                   d.last_metrics, {twin}, {overdue}
            FROM unnest(%b::text[], %b::text[]) AS k(tenant_id, device_id)
            JOIN devices d ON d.tenant_id = k.tenant_id AND d.id = k.device_id
            LEFT JOIN sites s ON s.tenant_id = d.tenant_id AND s.id = d.site_id
            {join}
            WHERE NOT %b OR d.status = 'active'""",
        ([k[0] for k in ordered], [k[1] for k in ordered], active_only),
    ).fetchall()
    found: dict[DeviceKey, DeviceFacts] = {}
    for r in rows:
        state = r[9] or {}
        found[(r[0], r[1])] = DeviceFacts(
            tenant_id=r[0],
            device_id=r[1],
            site_id=r[2],
            model=r[3],
            tags=r[4],
            attributes=r[5],
            timezone=r[6],
            last_msg_ts=r[7],
            last_metrics=r[8],
            reported=state.get("reported") or {},
            desired=state.get("desired") or {},
            overdue=frozenset(".".join(parse_pointer(pointer)) for pointer in r[10] or ()),
        )
    return found
