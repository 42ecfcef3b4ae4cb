"""Builders for the rules and alerts planes: a threshold rule, alerts raised through the evaluator's
entry point, and an outbox starter that records its starts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def make_rule(rule_id: str = "hot", tenant_id: str = "acme", **fields: Any) -> Any:
    """A threshold rule (temp_c > 30, severity major) with ``fields`` overriding the document."""
    from pulse.rules import Rule

    doc: dict[str, Any] = {
        "id": rule_id,
        "name": "Too hot",
        "scope": {"tenant_id": tenant_id},
        "severity": "major",
        "condition": {"kind": "threshold", "metric": "temp_c", "op": ">", "value": 30},
    }
    return Rule.model_validate({**doc, **fields})


def raise_alert(
    database_url: str,
    tenant_id: str = "acme",
    device_id: str = "dev-1",
    *,
    rule: Any = None,
    at: datetime | None = None,
    value: float = 35.0,
) -> Any:
    """Opens an alert as the ingest path does (role pulse_ingest, committed); returns its id, None when
    nothing was raised (maintenance)."""
    from pulse.alerts import apply_transitions
    from pulse.db import Database
    from pulse.rules import Explanation, Opened

    db = Database(database_url, "pulse_ingest")
    try:
        with db.transaction() as conn:
            [change] = apply_transitions(
                conn,
                tenant_id=tenant_id,
                device_id=device_id,
                rule=rule or make_rule(tenant_id=tenant_id),
                transitions=[Opened(at or datetime.now(UTC), Explanation("threshold", True, "temp_c > 30", value))],
                value=value,
            )
    finally:
        db.close()
    return change.alert_id


class RecordingOutboxStarter:
    """An ``OutboxStarter`` that counts how often a writer would have started the outbox function."""

    def __init__(self, error: Exception | None = None) -> None:
        self.starts = 0
        self.error = error

    def start(self) -> None:
        self.starts += 1
        if self.error is not None:
            raise self.error
