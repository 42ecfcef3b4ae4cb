"""Property: a series evaluated by ingest (streaming) or only by the scheduled ticks opens the same alerts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse.db import Database
from pulse.rules.cache import RuleCache
from pulse.rules.scheduled import run_tick
from tests.builders import make_device, make_tenant
from tests.integration.rule_fixtures import add_rule, alerts, ingest

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}
CONDITIONS: list[dict[str, Any]] = [
    HOT | {"hysteresis": 5},
    {"kind": "for", "duration": "3m", "condition": HOT},
    {"kind": "absence", "duration": "4m"},
    {"kind": "window", "metric": "temp", "agg": "avg", "window": "5m", "op": ">", "value": 70},
    {"kind": "any", "conditions": [HOT, {"kind": "threshold", "metric": "hum", "op": ">", "value": 90}]},
]
_tenants = itertools.count()

# a series: gaps in seconds between samples, each sample's temp and (maybe) hum; batches split it
point = st.tuples(st.integers(10, 400), st.sampled_from([40.0, 78.0, 82.0, 95.0]), st.sampled_from([None, 50.0, 99.0]))


@pytest.fixture
def dbs(database_url: str, owner_db: Database) -> Iterator[tuple[Database, Database]]:
    db = Database(database_url, "pulse_ingest")
    yield owner_db, db
    db.close()


def _replay(owner: Database, db: Database, sql, condition, batches, streaming: bool) -> list[tuple[Any, ...]]:
    tenant = f"p{next(_tenants)}"
    make_tenant(sql, tenant)
    make_device(sql, tenant, "dev-1")
    add_rule(owner, tenant, condition)
    run_tick(db, T0, lateness=timedelta(0))  # both start the state before the first sample
    cache = RuleCache() if streaming else None
    for i, batch in enumerate(batches):
        ingest(db, tenant, "dev-1", batch, cache)
        upto = batches[i + 1][0][0] - timedelta(seconds=1) if i + 1 < len(batches) else batch[-1][0]
        run_tick(db, upto, lateness=timedelta(0))
    run_tick(db, batches[-1][-1][0] + timedelta(minutes=30), lateness=timedelta(0))
    return [(state, opened, resolved) for _, _, state, opened, resolved, _ in alerts(sql, tenant)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    condition=st.sampled_from(CONDITIONS),
    points=st.lists(point, min_size=1, max_size=10),
    cuts=st.lists(st.integers(1, 3), min_size=10, max_size=10),
)
def test_streaming_and_scheduled_paths_open_the_same_alerts(dbs, sql, condition, points, cuts):
    owner, db = dbs
    samples, ts = [], T0
    for gap, temp, hum in points:
        ts += timedelta(seconds=gap)
        samples.append((ts, {"temp": temp} | ({"hum": hum} if hum is not None else {})))
    batches, start = [], 0
    for size in cuts:
        if start < len(samples):
            batches.append(samples[start : start + size])
            start += size
    streamed = _replay(owner, db, sql, condition, batches, streaming=True)
    scheduled = _replay(owner, db, sql, condition, batches, streaming=False)
    assert streamed == scheduled
