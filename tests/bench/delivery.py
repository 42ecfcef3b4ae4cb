"""alert_to_first_attempt_p99_ms: an alert event published -> the first HTTP request at its receiver.

In process, through what AWS runs: an ``AlertOpened`` row in the events outbox is published by
``publish_pending`` onto a bus that does what the Alert* rule does (start an execution of pulse's
state machine, here executed by moto), the route and deliver tasks run in the notify handler (as
``pulse_ingest``), and the webhook sender POSTs to a receiver on 127.0.0.1. Timed: just before the
publisher claims the row -> the receiver reads the request. One tenant, one route without grouping
(due at once), one webhook channel; each event runs to completion before the next is published.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

import psycopg

from pulse import runtime
from pulse.db import Database
from pulse.notify.sealing import LocalKeySealer
from pulse.observability import logger
from pulse.outbox import store as outbox
from pulse.outbox.publisher import publish_pending
from tests.bench.report import Bench, info
from tests.notify_workflow import (
    Receiver,
    WorkflowBus,
    alert_event_detail,
    delivery_ports,
    moto_workflow,
    route_to,
    webhook_channel,
)

TENANT = "bench"
EVENTS = 200
WARMUP = 10


def _prepare(database_url: str, sealer: LocalKeySealer, receiver_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as sql:
        sql.execute("INSERT INTO tenants (id, name, status) VALUES (%s, %s, 'active')", (TENANT, "Bench"))
        channel = webhook_channel(sql, sealer, TENANT, receiver_url)
        route_to(sql, TENANT, [channel])


def alert_to_first_attempt(database_url: str, *, events: int = EVENTS) -> list[str]:
    import functions.notify.handler as handler

    saved_env = {key: os.environ.get(key) for key in ("PULSE_DATABASE_URL", "PULSE_DB_ROLE")}
    saved_ports, saved_level = handler.delivery_ports, logger.log_level
    os.environ.update(PULSE_DATABASE_URL=database_url, PULSE_DB_ROLE="pulse_ingest")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "bench")
    runtime.reset()
    sealer = LocalKeySealer(os.urandom(32))
    handler.delivery_ports = lambda: delivery_ports(sealer)  # type: ignore[assignment]
    logger.setLevel("WARNING")  # one INFO line per step would drown the BENCH lines
    db = Database(database_url)
    latencies: list[float] = []
    try:
        with Receiver() as receiver, moto_workflow() as workflow:
            _prepare(database_url, sealer, receiver.url)
            bus = WorkflowBus(workflow)
            for n in range(WARMUP + events):
                data = alert_event_detail(TENANT)["data"]
                with db.transaction() as conn:
                    outbox.put(conn, TENANT, "AlertOpened", data["alert_id"], datetime.now(UTC), data)
                seen = len(receiver.requests)
                receiver.arrived.clear()
                started = time.perf_counter()
                publish_pending(db, bus)
                while len(receiver.requests) == seen:
                    if not receiver.arrived.wait(10):
                        raise RuntimeError("no request reached the receiver within 10 s")
                    receiver.arrived.clear()
                if n >= WARMUP:
                    latencies.append((receiver.requests[seen].at - started) * 1000)
                workflow.output(bus.executions[-1])
    finally:
        db.close()
        handler.delivery_ports = saved_ports  # type: ignore[assignment]
        logger.setLevel(saved_level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        runtime.reset()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    return [
        info("alert_to_first_attempt_events", len(latencies), "events"),
        info("alert_to_first_attempt_p50_ms", statistics.median(latencies), "ms"),
        Bench("alert_to_first_attempt_p99_ms", p99, "ms", "<=", 1000).line(),
    ]
