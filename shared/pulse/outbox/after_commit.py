"""Start the outbox publisher right after a commit that wrote outbox rows, never inside it.

A writer wraps its transaction in ``publish_after_commit(starter)``. ``store.put`` counts each row
it writes into the innermost such block (a context variable, so the count follows the code path:
ingest -> rules -> alerts -> outbox, without threading a parameter through). When the block ends
without an exception (the transaction inside it committed) and rows were written, the starter runs
once. A starter that fails is logged and counted (``OutboxStartFailed``) and never fails the
caller: the outbox function's minute sweep publishes those rows anyway. No starter (local target,
tests, an empty ``outbox_function_name``): nothing is started.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from pulse.errors import PulseError
from pulse.observability import logger, metrics


class OutboxStarter(Protocol):
    def start(self) -> None: ...


@dataclass(slots=True)
class WrittenEvents:
    count: int = 0


_written: ContextVar[WrittenEvents | None] = ContextVar("outbox_written", default=None)


def count_written() -> None:
    """Called for every outbox row written; counts it for the enclosing ``publish_after_commit``."""
    tally = _written.get()
    if tally is not None:
        tally.count += 1


@contextmanager
def publish_after_commit(starter: OutboxStarter | None) -> Iterator[WrittenEvents]:
    """Runs the block (which commits its own transaction); starts the publisher if it wrote events."""
    tally = WrittenEvents()
    token = _written.set(tally)
    try:
        yield tally
    finally:
        _written.reset(token)
    if tally.count and starter is not None:
        try:
            starter.start()
        except PulseError as exc:
            logger.warning("outbox publisher not started", extra={"error": exc.detail, "events": tally.count})
            metrics.add_metric(name="OutboxStartFailed", unit=MetricUnit.Count, value=1)
