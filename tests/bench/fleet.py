"""fleet_search_p95_ms: fleet listing for a tenant with 100,000 devices, mixed filters and sorts.

The devices are written with COPY (varied status, site, model, firmware, tags, last seen), then
each query shape runs through ``pulse.registry.fleet.list_devices`` as ``pulse_app`` under RLS,
first pages and follow-up pages (keyset cursors), timed end to end including row decoding.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import orjson
import psycopg

from pulse.db import Database
from pulse.identity.scope import Actor, TenantScope
from pulse.registry.fleet import FleetQuery, FleetSort, list_devices
from pulse.registry.models import DeviceStatus
from tests.bench.report import Bench, info

TENANT = "bench"
MODELS = [f"model-{i}" for i in range(20)]
FIRMWARE = [f"{major}.{minor}" for major in range(1, 5) for minor in range(5)]


def _seed(url: str, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name) VALUES (%s, 'Bench')", (TENANT,))
        conn.execute(
            "INSERT INTO sites (tenant_id, id, name) SELECT %s, 'site-' || g, 'Site ' || g "
            "FROM generate_series(0, 199) g",
            (TENANT,),
        )
        with conn.cursor().copy(
            "COPY devices (tenant_id, id, name, status, site_id, model, firmware_version, tags, "
            "last_seen_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                roll = rng.random()
                status = "active" if roll < 0.93 else ("revoked" if roll < 0.97 else "decommissioned")
                tags = {"floor": str(rng.randrange(10)), "zone": rng.choice("abcdef")}
                seen = None if rng.random() < 0.05 else now - timedelta(seconds=rng.randrange(86_400))
                copy.write_row(
                    (
                        TENANT,
                        f"dev-{i:06d}",
                        f"{rng.choice(['pump', 'fan', 'ups', 'meter'])}-{i:06d}",
                        status,
                        f"site-{rng.randrange(200)}",
                        rng.choice(MODELS),
                        rng.choice(FIRMWARE),
                        orjson.dumps(tags).decode(),
                        seen,
                    )
                )
        conn.execute("VACUUM ANALYZE devices")


def _queries(rng: random.Random) -> list[FleetQuery]:
    shapes = [
        FleetQuery(),
        FleetQuery(sort=FleetSort.ID, order="desc"),
        FleetQuery(status=[DeviceStatus.ACTIVE], sort=FleetSort.NAME),
        FleetQuery(status=[DeviceStatus.REVOKED], sort=FleetSort.CREATED_AT, order="desc"),
        FleetQuery(site_id=[f"site-{rng.randrange(200)}"], sort=FleetSort.NAME),
        FleetQuery(model=[rng.choice(MODELS)], firmware_version=[rng.choice(FIRMWARE)], sort=FleetSort.ID),
        FleetQuery(tags={"floor": str(rng.randrange(10)), "zone": rng.choice("abcdef")}, sort=FleetSort.MODEL),
        FleetQuery(q=f"{rng.randrange(1000):03d}", sort=FleetSort.NAME),
        FleetQuery(q="pump", status=[DeviceStatus.ACTIVE], sort=FleetSort.FIRMWARE_VERSION, order="desc"),
        FleetQuery(sort=FleetSort.SITE_ID, order="desc"),
        FleetQuery(sort=FleetSort.STATUS),
        FleetQuery(sort=FleetSort.LAST_SEEN_AT, order="desc"),
    ]
    return shapes


def run(database_url: str, n: int = 100_000, rounds: int = 20) -> list[str]:
    _seed(database_url, n)
    db = Database(database_url, "pulse_app")
    scope = TenantScope(db, TENANT, Actor.system("bench"))
    rng = random.Random(5)
    timings: list[float] = []
    try:
        for _ in range(rounds):
            for query in _queries(rng):
                start = time.perf_counter()
                with scope.transaction() as conn:
                    page = list_devices(conn, TENANT, query)
                timings.append((time.perf_counter() - start) * 1000)
                if page.next_cursor:  # and the page after it, through the cursor
                    nxt = query.model_copy(update={"cursor": page.next_cursor})
                    start = time.perf_counter()
                    with scope.transaction() as conn:
                        list_devices(conn, TENANT, nxt)
                    timings.append((time.perf_counter() - start) * 1000)
    finally:
        db.close()
    p95 = statistics.quantiles(timings, n=20)[18]
    return [
        info("fleet_devices", n, "devices"),
        info("fleet_queries", len(timings), "queries"),
        Bench("fleet_search_p95_ms", p95, "ms", "<=", 50).line(),
    ]
