"""Replay a device's stored telemetry in time order, one message instant at a time, without loading it.

A backtest (``pulse.rules.backtest``) feeds a rule's evaluator what ingest fed it live: per
message, its timestamp and metric values. The store keeps one row per (message, metric), so rows
are grouped back by timestamp; two messages of one device at the same instant become one. With
``messages`` the ledger's timestamps are merged in too, so a message carrying none of the asked
metrics (a heartbeat, another sensor) still appears, as an instant with no values.

Rows come through a server-side cursor in pages of ``page_size``: a year of one-second data is
never held in memory, and the caller can stop early (a points limit) without reading the rest.
Run it inside ``tenant_transaction`` (a server-side cursor lives in its transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

DEFAULT_PAGE_SIZE = 5000

_SERIES = """
SELECT ts, metric, value FROM telemetry
WHERE tenant_id = %(tenant)s AND device_id = %(device)s AND metric = ANY(%(metrics)s::text[])
  AND ts >= %(start)s AND ts < %(end)s
UNION ALL
SELECT ts, NULL, NULL FROM telemetry_messages
WHERE %(messages)s AND tenant_id = %(tenant)s AND device_id = %(device)s
  AND ts >= %(start)s AND ts < %(end)s
ORDER BY 1, 2 NULLS FIRST, 3
"""


@dataclass(slots=True)
class ReplayedMessage:
    """One instant of a device's stream: the metric values stored at ``ts`` (may be empty)."""

    ts: datetime
    metrics: dict[str, float] = field(default_factory=dict)
    rows: int = 0  # telemetry rows folded into it (a ledger-only instant has 0)


def replay(
    conn: psycopg.Connection,
    tenant_id: str,
    device_id: str,
    metrics: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    messages: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[ReplayedMessage]:
    """The device's stored instants in [start, end), oldest first, with the values of ``metrics``.

    Without ``messages`` only instants holding one of ``metrics`` are yielded.
    """
    params = {
        "tenant": tenant_id,
        "device": device_id,
        "metrics": list(dict.fromkeys(metrics)),
        "start": start,
        "end": end,
        "messages": messages,
    }
    current: ReplayedMessage | None = None
    with conn.cursor(name=f"replay_{uuid.uuid4().hex[:12]}") as cursor:
        cursor.itersize = page_size
        cursor.execute(_SERIES, params)
        for ts, metric, value in cursor:
            if current is None or ts != current.ts:
                if current is not None:
                    yield current
                current = ReplayedMessage(ts)
            if metric is not None:
                current.metrics[metric] = value
                current.rows += 1
    if current is not None:
        yield current
