"""``deliver``: one attempt of one delivery, with an exactly-once effect on the delivery's state.

Three short transactions, none held open across the network call:

1. claim: lock the delivery; ``delivered`` -> ``duplicate`` (nothing sent); a final status (dead,
   suppressed, throttled, over quota) -> ``permanent`` without an attempt; ``sending`` claimed less
   than ``CLAIM_LEASE`` ago (another attempt in flight) -> ``retryable`` without an attempt.
   Otherwise mark it ``sending``, count the attempt, close its notification (no event joins after
   this point) and read the channel; commit.
2. send: open the sealed secrets, build the notification, call the channel's sender.
3. record: the attempt row and the delivery's new status in one transaction: ``delivered``;
   ``pending`` again after a retryable failure (the workflow retries); ``dead`` after a permanent one.

A crash between 2 and 3 leaves the delivery ``sending``; after the lease the workflow's retry claims
it again and sends once more: receivers drop the repeat by the notification's ``idempotency_key``
(``{event_id}:{channel_id}``, the delivery's unique pair).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg

from pulse.db import Database
from pulse.notify import delivery_store as ds
from pulse.notify import store
from pulse.notify.channels import CHANNEL_CONFIG, Notification, SenderPorts, SendResult, load_secrets, send
from pulse.notify.channels.message import TEST_EVENT
from pulse.notify.channels.result import clip
from pulse.notify.channels.secrets import ChannelSecrets, WebhookSecrets
from pulse.notify.models import DeliveryAttempt, DeliveryOutcome, DeliveryStatus
from pulse.notify.sealing import SecretSealer, open_secrets
from pulse.notify.store import ChannelRow
from pulse.observability import logger

Transaction = Callable[[], AbstractContextManager[psycopg.Connection]]
CLAIM_LEASE = timedelta(seconds=120)  # longer than the deliver function's timeout
GROUP_EVENTS_SHOWN = 50
_FINAL = {
    DeliveryStatus.DEAD: "the delivery is dead; redrive it to send again",
    DeliveryStatus.SUPPRESSED: "the delivery was suppressed when routed",
    DeliveryStatus.THROTTLED: "the delivery was throttled when routed",
    DeliveryStatus.QUOTA_EXCEEDED: "the delivery was over the daily quota when routed",
}


@dataclass(frozen=True, slots=True)
class _Claim:
    tenant_id: str
    channel_id: str
    event_id: str
    attempt_no: int
    events: list[dict[str, Any]]
    channel: ChannelRow | None


def deliver(
    db: Database,
    delivery_id: str,
    *,
    attempt: int,
    sealer: SecretSealer,
    ports: SenderPorts,
    now: datetime,
    execution_id: str | None = None,
) -> DeliveryOutcome:
    """One attempt of ``delivery_id`` (``attempt``: the workflow's attempt number, 1 first)."""
    return deliver_in(
        db.transaction, delivery_id, attempt=attempt, sealer=sealer, ports=ports, now=now, execution_id=execution_id
    )


def deliver_in(
    transaction: Transaction,
    delivery_id: str,
    *,
    attempt: int,
    sealer: SecretSealer,
    ports: SenderPorts,
    now: datetime,
    execution_id: str | None = None,
    final: bool = False,
) -> DeliveryOutcome:
    """``deliver`` in the caller's kind of transaction (the API's tenant scope for a send-test).
    ``final``: no retry follows (send-test), so a retryable failure ends the delivery dead too."""
    with transaction() as conn:
        claimed = _claim(conn, delivery_id, now, execution_id)
    if isinstance(claimed, DeliveryOutcome):
        return claimed
    result = _send(claimed, sealer, ports, now, delivery_id)
    status = {"delivered": DeliveryStatus.DELIVERED, "retryable": DeliveryStatus.PENDING}.get(
        result.status, DeliveryStatus.DEAD
    )
    if final and status is DeliveryStatus.PENDING:
        status = DeliveryStatus.DEAD
    latency = round(result.latency_ms)
    record = DeliveryAttempt(
        attempt_no=claimed.attempt_no,
        workflow_attempt=attempt,
        execution_id=execution_id,
        started_at=now,
        finished_at=now + timedelta(milliseconds=latency),
        status=result.status,
        response_code=result.response_code,
        latency_ms=latency,
        error=result.error or None,
    )
    with transaction() as conn:
        ds.record_attempt(conn, claimed.tenant_id, delivery_id, record)
        ds.finish_delivery(
            conn, delivery_id, status, record.finished_at, error=record.error, response_code=result.response_code
        )
    logger.info(
        "delivery attempt recorded",
        extra={
            "delivery_id": delivery_id,
            "tenant_id": claimed.tenant_id,
            "attempt_no": claimed.attempt_no,
            "status": result.status,
            "response_code": result.response_code,
        },
    )
    return DeliveryOutcome(
        delivery_id=delivery_id,
        status=result.status,
        response_code=result.response_code,
        error=result.error,
        latency_ms=latency,
        attempt_no=claimed.attempt_no,
    )


def _claim(
    conn: psycopg.Connection, delivery_id: str, now: datetime, execution_id: str | None
) -> _Claim | DeliveryOutcome:
    found = ds.get_delivery(conn, None, delivery_id, lock=True)
    if found is None:
        return DeliveryOutcome(delivery_id, "permanent", error=f"no delivery {delivery_id!r}")
    if found.status is DeliveryStatus.DELIVERED:
        return DeliveryOutcome(delivery_id, "duplicate", response_code=found.last_response_code)
    if found.status in _FINAL:
        return DeliveryOutcome(delivery_id, "permanent", error=found.last_error or _FINAL[found.status])
    if found.status is DeliveryStatus.SENDING:
        since = ds.claimed_at(conn, delivery_id)
        if since is not None and since > now - CLAIM_LEASE:
            return DeliveryOutcome(delivery_id, "retryable", error="another attempt of this delivery is in flight")
    tenant_id = ds.delivery_tenant(conn, delivery_id)
    assert tenant_id is not None
    attempt_no = ds.mark_sending(conn, delivery_id, now, execution_id)
    events = ds.close_notification(conn, found.notification_id, now) if found.notification_id else []
    channel = store.get_channel(conn, tenant_id, found.channel_id)
    return _Claim(tenant_id, found.channel_id, found.event_id, attempt_no, events, channel)


def _send(claim: _Claim, sealer: SecretSealer, ports: SenderPorts, now: datetime, delivery_id: str) -> SendResult:
    channel = claim.channel
    if channel is None:
        return SendResult("permanent", None, 0.0, "the channel was deleted")
    if not claim.events:
        return SendResult("permanent", None, 0.0, "the delivery's notification has no event")
    try:
        config = CHANNEL_CONFIG.validate_python({**channel.config, "type": channel.type})
        secrets = channel_secrets(channel, sealer, now)
        notification = notification_for(claim.events, claim.channel_id, claim.event_id)
    except Exception as exc:  # a stored channel that no longer validates or unseals: nothing to retry
        logger.warning("delivery cannot be prepared", extra={"delivery_id": delivery_id, "error": str(exc)})
        return SendResult("permanent", None, 0.0, clip(f"channel {channel.id!r} cannot be used: {exc}"))
    return send(config, secrets, notification, ports=ports)


def channel_secrets(channel: ChannelRow, sealer: SecretSealer, now: datetime) -> ChannelSecrets:
    """The channel's secrets; a webhook's rotated-out secret rides along while its grace lasts."""
    if channel.sealed_secret is None:
        return load_secrets(orjson.dumps({"type": channel.type}))
    where = {"tenant_id": channel.tenant_id, "channel_id": channel.id}
    secrets = open_secrets(sealer, channel.sealed_secret, **where)
    if (
        isinstance(secrets, WebhookSecrets)
        and channel.previous_sealed_secret is not None
        and channel.previous_valid_until is not None
        and channel.previous_valid_until > now
    ):
        previous = open_secrets(sealer, channel.previous_sealed_secret, **where)
        if isinstance(previous, WebhookSecrets):
            secrets = secrets.model_copy(
                update={"previous": previous.signing_secret, "previous_valid_until": channel.previous_valid_until}
            )
    return secrets


def notification_for(events: list[dict[str, Any]], channel_id: str, event_id: str) -> Notification:
    """The notification of the delivery's first event; a group's other events ride in ``alert.group``."""
    first = next((e for e in events if str(e["metadata"]["event_id"]) == event_id), events[0])
    notification = Notification.from_event(first, channel_id, test=first["metadata"]["event_name"] == TEST_EVENT)
    if len(events) == 1:
        return notification
    group = {
        "count": len(events),
        "events": [
            {
                "event_id": str(e["metadata"]["event_id"]),
                "event_name": e["metadata"]["event_name"],
                "occurred_at": e["metadata"]["occurred_at"],
                **{k: e["data"].get(k) for k in ("alert_id", "rule_id", "device_id", "site_id", "severity", "state")},
            }
            for e in events[:GROUP_EVENTS_SHOWN]
        ],
    }
    return notification.model_copy(update={"alert": {**notification.alert, "group": group}})
