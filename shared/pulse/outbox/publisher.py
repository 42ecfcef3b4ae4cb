"""Moves outbox rows to the event bus: claim a batch (``FOR UPDATE SKIP LOCKED``), put it, mark it.

Runs right after a commit (callers invoke the outbox function) and every minute as the sweeper,
so an event whose writer died between commit and publish still leaves within a minute. Each batch
is claimed, sent and marked in one transaction: a concurrent publisher skips rows held by another,
and a crash after ``put_events`` but before the commit sends those rows again (at-least-once;
``metadata.event_id`` is stable, so consumers deduplicate). Rows EventBridge rejects keep
``published_at`` empty, count an attempt and record the error; the next run retries them.

On the bus each event is ``{"metadata": {...}, "data": <outbox detail>}`` (ARCHITECTURE §5) with
``detail-type`` = the event name and ``source`` = ``settings.event_source``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from pulse.db import Database
from pulse.errors import PulseError
from pulse.observability import logger, metrics
from pulse.outbox import store
from pulse.outbox.store import OutboxRow
from pulse.platform.aws.events import MAX_ENTRIES_PER_CALL, BusEvent

EVENT_VERSION = 1


class EventBus(Protocol):
    def put(self, events: Sequence[BusEvent]) -> dict[int, str]: ...


@dataclass(frozen=True, slots=True)
class PublishResult:
    published: int
    failed: int


def envelope(row: OutboxRow) -> dict[str, Any]:
    """The event as consumers receive it in ``detail``."""
    return {
        "metadata": {
            "event_name": row.event_type,
            "event_version": EVENT_VERSION,
            "event_id": str(row.id),
            "tenant_id": row.tenant_id,
            "correlation_id": row.correlation_id,
            "occurred_at": row.occurred_at.isoformat(),
        },
        "data": row.detail,
    }


def publish_pending(db: Database, bus: EventBus, *, max_events: int = 1000) -> PublishResult:
    """Publish unpublished rows oldest first, each at most once per run, up to ``max_events``."""
    published = failed = 0
    last_id = 0
    while published + failed < max_events:
        batch = min(MAX_ENTRIES_PER_CALL, max_events - published - failed)
        with db.transaction() as conn:
            rows = store.claim(conn, batch, after_id=last_id)
            if not rows:
                break
            last_id = rows[-1].id
            events = [BusEvent(row.id, row.event_type, envelope(row), row.occurred_at) for row in rows]
            try:
                failures = bus.put(events)
            except PulseError as exc:
                failures = {row.id: exc.detail for row in rows}
            sent = [row.id for row in rows if row.id not in failures]
            if sent:
                store.mark_published(conn, sent, datetime.now(UTC))
            if failures:
                store.mark_failed(conn, failures)
        published += len(sent)
        failed += len(failures)
        if failures:
            logger.warning(
                "outbox events not accepted", extra={"count": len(failures), "errors": list(failures.values())[:3]}
            )
    metrics.add_metric(name="OutboxPublished", unit=MetricUnit.Count, value=published)
    metrics.add_metric(name="OutboxPublishFailed", unit=MetricUnit.Count, value=failed)
    return PublishResult(published, failed)
