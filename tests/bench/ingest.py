"""ingest_ratio: the real ingest pipeline vs. raw binary COPY of the same rows, same table, same run.

1,000,000 realistic envelopes (1-60 metrics each: every device has its own metric set of 1-60
metrics, uniformly distributed; ~1% invalid or duplicate) go through ``ingest_messages`` in
batches the size the SQS event source delivers, as the ingest role. Then the table is emptied and
exactly the rows ingest stored are written again with one binary COPY per batch (the fastest way
PostgreSQL takes rows). Both start from an empty table.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import psycopg

from pulse.connect.envelope import EnvelopeV1
from pulse.connect.inbound import InboundMessage
from pulse.connect.service import ingest_messages
from pulse.connect.topics import thing_name
from pulse.db import Database
from pulse.rules.cache import RuleCache
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.bench.report import Bench, info

METRIC_NAMES = [
    "temp_c",
    "humidity_pct",
    "pressure_psi",
    "battery_pct",
    "rssi_dbm",
    "snr_db",
    "vibration_g",
    "voltage_v",
    "current_a",
    "power_w",
    "energy_kwh",
    "frequency_hz",
    "flow_lpm",
    "level_pct",
    "co2_ppm",
    "pm25_ugm3",
    "door_open",
    "fan_on",
    "load_pct",
    "runtime_h",
]
METRIC_NAMES += [f"ch{i:02d}_value" for i in range(60 - len(METRIC_NAMES))]
BATCH = 1000  # the ingest event source's batch size (see cdk/pulse_cdk/connect.py)


def uniform_metric_count(rng: random.Random) -> int:
    """The issue's workload: 1 to 60 metrics per message."""
    return rng.randint(1, 60)


def sensor_heavy_metric_count(rng: random.Random) -> int:
    """A fleet dominated by simple sensors (mean ~9 metrics): per-message costs weigh more here."""
    roll = rng.random()
    if roll < 0.70:
        return rng.randint(1, 8)  # simple sensors
    if roll < 0.95:
        return rng.randint(9, 20)  # multi-sensors, UPS
    return rng.randint(21, 60)  # gateways and meters


def build_messages(
    n: int,
    devices: int,
    tenant: str,
    seed: int = 7,
    metric_count: Callable[[random.Random], int] = uniform_metric_count,
) -> list[InboundMessage]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    # Each device reports its own metric set (a model's schema) of 1-60 metrics; a message carries
    # that set, occasionally without a few metrics (a sensor that did not answer in time).
    schemas = {f"dev-{d:05d}": rng.sample(METRIC_NAMES, metric_count(rng)) for d in range(devices)}
    messages: list[InboundMessage] = []
    for i in range(n):
        device = f"dev-{rng.randrange(devices):05d}"
        topic = f"tenant/{tenant}/device/{device}/telemetry"
        roll = rng.random()
        if roll < 0.005 and messages:  # a redelivered earlier message
            prev = messages[-rng.randint(1, min(len(messages), 5000))]
            messages.append(InboundMessage(str(i), prev.topic, prev.payload, "mqtt", now, client_id=prev.client_id))
            continue
        names = schemas[device]
        if len(names) > 3 and rng.random() < 0.1:
            names = names[: len(names) - rng.randint(1, 3)]
        metrics = {
            m: (rng.random() < 0.5) if m in ("door_open", "fan_on") else round(rng.uniform(-50, 500), 3) for m in names
        }
        doc = {
            "v": 1,
            "ts": int((now - timedelta(seconds=rng.uniform(0, 3600))).timestamp() * 1000),
            "msg_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "seq": i,
            "metrics": metrics,
        }
        if roll < 0.0075:
            doc["metrics"] = {"temp_c": "n/a"}  # bad metric value
        elif roll < 0.0085:
            topic = f"tenant/{tenant}/device/ghost-{i}/telemetry"  # unknown device
        payload = orjson.dumps(doc) if roll >= 0.0095 or roll < 0.0085 else b'{"v":1,"ts":'  # malformed
        messages.append(
            InboundMessage(str(i), topic, payload, "mqtt", now, client_id=thing_name(tenant, topic.split("/")[3]))
        )
    return messages


def _seed(conn: psycopg.Connection, tenant: str, devices: int) -> None:
    conn.execute("INSERT INTO tenants (id, name, device_rate_per_minute) VALUES (%s, 'Bench', 1000000)", (tenant,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (tenant_id, id, thing_name) VALUES (%s, %s, %s)",
            [(tenant, f"dev-{d:05d}", thing_name(tenant, f"dev-{d:05d}")) for d in range(devices)],
        )


def _empty_telemetry(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE telemetry")
    conn.execute("VACUUM ANALYZE telemetry")
    conn.execute("CHECKPOINT")


def _stored_rows(batch: list[InboundMessage], accepted_ids: set[str]) -> list[tuple[object, ...]]:
    """The telemetry rows ingest wrote for this batch (rebuilt outside the timed section)."""
    rows: list[tuple[object, ...]] = []
    for message in batch:
        if message.message_id in accepted_ids:
            envelope = EnvelopeV1.model_validate_json(message.payload)
            _, tenant, _, device, _ = message.topic.split("/")
            rows += [
                (tenant, device, envelope.timestamp, name, float(value)) for name, value in envelope.metrics.items()
            ]
    return rows


def _copy_rows(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> float:
    """One binary COPY of ``rows`` and its commit; returns the seconds it took."""
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy("COPY telemetry (tenant_id, device_id, ts, metric, value) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["text", "text", "timestamptz", "text", "float8"])
        for row in rows:
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started


def run(database_url: str, n: int = 1_000_000, devices: int = 5_000, *, with_rule_cache: bool = True) -> list[str]:
    """``with_rule_cache`` as the ingest Lambda runs (the bench tenant has no rules, so this measures
    what streaming evaluation costs a tenant that does not use it)."""
    tenant = "bench"
    with psycopg.connect(database_url, autocommit=True) as conn:
        _seed(conn, tenant, devices)
    messages = build_messages(n, devices, tenant)
    batches = [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]
    settings = Settings(max_message_age_s=86_400 * 2)

    db = Database(database_url, "pulse_ingest")
    partitions = PartitionCache()
    rules = RuleCache() if with_rule_cache else None
    accepted_ids: list[set[str]] = []
    quarantined = duplicate = rows = 0
    started = time.perf_counter()
    for batch in batches:
        result = ingest_messages(db, batch, settings, datetime.now(UTC), partitions, rules=rules)
        accepted_ids.append({o.message_id for o in result.outcomes if o.status == "accepted"})
        quarantined += result.count("quarantined")
        duplicate += result.count("duplicate")
        rows += result.metric_rows
    ours_s = time.perf_counter() - started
    db.close()

    with psycopg.connect(database_url, autocommit=True) as conn:
        _empty_telemetry(conn)
    # The same rows, batch by batch, into the emptied table: only the COPY and its commit are timed;
    # one batch of rows is in memory at a time.
    copy_s = 0.0
    copied = 0
    with psycopg.connect(database_url) as conn:
        for batch, ids in zip(batches, accepted_ids, strict=True):
            batch_rows = _stored_rows(batch, ids)
            copied += len(batch_rows)
            copy_s += _copy_rows(conn, batch_rows)
    assert copied == rows, "baseline must write exactly the rows ingest stored"
    accepted = sum(len(ids) for ids in accepted_ids)

    ratio = copy_s / ours_s
    return [
        info("ingest_messages_per_s", n / ours_s, "msg/s"),
        info("ingest_rows_per_s", rows / ours_s, "rows/s"),
        info("raw_copy_rows_per_s", rows / copy_s, "rows/s"),
        f"INFO ingest_outcomes accepted={accepted} duplicate={duplicate} quarantined={quarantined} rows={rows}",
        Bench("ingest_ratio", ratio, "x", ">=", 0.5).line(),
    ]
