"""Arranging rules, devices and telemetry for the rules-plane integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg

from pulse.connect.inbound import InboundMessage
from pulse.connect.service import IngestResult, ingest_messages
from pulse.connect.topics import thing_name
from pulse.db import Database, tenant_transaction
from pulse.identity.scope import Actor
from pulse.rules import Rule
from pulse.rules.cache import RuleCache
from pulse.rules.service import create_rule
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.builders import telemetry_topic

ACTOR = Actor(subject="user-1", display="Ada", role="customer_admin")
SETTINGS = Settings(max_message_age_s=7 * 86_400)


def rule_body(tenant_id: str, condition: dict[str, Any], rule_id: str = "r1", **extra: Any) -> Rule:
    body = {"id": rule_id, "name": f"rule {rule_id}", "severity": "major", "scope": {"tenant_id": tenant_id}}
    return Rule.model_validate(body | {"condition": condition} | extra)


def add_rule(db: Database, tenant_id: str, condition: dict[str, Any], rule_id: str = "r1", **extra: Any) -> Rule:
    with tenant_transaction(db, tenant_id) as conn:
        return create_rule(conn, tenant_id, rule_body(tenant_id, condition, rule_id, **extra), ACTOR).rule


def ingest(
    db: Database,
    tenant_id: str,
    device_id: str,
    points: Sequence[tuple[datetime, dict[str, Any]]],
    rules: RuleCache | None,
    partitions: PartitionCache | None = None,
) -> IngestResult:
    """Messages of one device through the real pipeline, received just after the newest of them."""
    topic = telemetry_topic(tenant_id, device_id)
    received = max(ts for ts, _ in points) + timedelta(seconds=1)
    messages = [
        InboundMessage(
            uuid.uuid4().hex,
            topic,
            orjson.dumps({"v": 1, "ts": int(ts.timestamp() * 1000), "msg_id": uuid.uuid4().hex, "metrics": metrics}),
            "mqtt",
            received,
            client_id=thing_name(tenant_id, device_id),
        )
        for ts, metrics in points
    ]
    result = ingest_messages(db, messages, SETTINGS, received, partitions or PartitionCache(), rules=rules)
    assert result.count("accepted") == len(points), result.outcomes
    return result


def alerts(sql: psycopg.Connection, tenant_id: str) -> list[tuple[Any, ...]]:
    """(rule, device, state, opened_at, resolved_at, source) of a tenant's alerts, oldest first."""
    return sql.execute(
        """SELECT rule_id, device_id, state, opened_at, resolved_at, source FROM alerts
           WHERE tenant_id = %s ORDER BY opened_at, id""",
        (tenant_id,),
    ).fetchall()
