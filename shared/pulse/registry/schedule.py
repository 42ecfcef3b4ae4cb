"""The registry's scheduled task: subscription lifecycle by date, then certificate retirement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse import runtime
from pulse.db import Database
from pulse.identity.scope import operator_transaction
from pulse.observability import logger
from pulse.registry.identities import DeviceIdentities
from pulse.registry.provisioning import retire_certificates
from pulse.registry.subscriptions import advance_subscriptions


def run_registry_schedule(db: Database, identities: DeviceIdentities, now: datetime) -> dict[str, Any]:
    with operator_transaction(db) as conn:
        changed = advance_subscriptions(conn, now)
    retired = retire_certificates(db, identities, now)
    logger.info("registry schedule", extra={"subscriptions_changed": len(changed), "certificates_retired": retired})
    return {"ok": True, "subscriptions": changed, "certificates_retired": retired}


def handle_scheduled_event(event: dict[str, Any]) -> dict[str, Any]:
    """Entry of ``functions/subscriptions``: input ``{"task": "subscriptions"}`` from EventBridge Scheduler."""
    if event.get("task") != "subscriptions":
        logger.warning("unknown scheduled task", extra={"event_task": event.get("task")})
        return {"ok": False}
    from pulse.registry.iot_identities import iot_device_identities
    from pulse.settings import get_settings

    settings = get_settings()
    identities = iot_device_identities(settings.device_policy_name)
    return run_registry_schedule(runtime.database(), identities, datetime.now(UTC))
