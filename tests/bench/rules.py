"""Rules plane budgets: telemetry -> alert through ingest, and one scheduled tick over a large fleet.

telemetry_to_alert_p99_ms
    Batches of 1,000 messages (the ingest event source's batch size) from 1,000 devices of a tenant
    with 5 rules go through ``ingest_messages`` as pulse_ingest; one message per batch crosses a
    threshold. Timed: the message handed to ingest -> the batch's transaction committed with the
    alert row (checked after each batch).

scheduled_eval_s
    100,000 devices x 5 rules (two absence, two for-duration, one plain threshold), every state
    written as streaming evaluation and the previous tick left it after the fleet's recent history:
    90% of the devices reported within the last minute, 5% went silent at some minute of the last
    hour, 5% run hot since some minute of the last half hour. One tick runs what is due (``INFO``
    says how many rows, and which share, that is: what crossed a timer during the last minute).

scheduled_eval_all_due_s (INFO) and scheduled_eval_all_due_sharded_s
    The worst case for the machinery: every one of the 500,000 rows due (a forced ``next_due`` in
    the past; the evaluator still runs each state and every state is locked and written back). Once
    in one process, then as the evaluator fans out: ``SHARDS`` processes, one shard of the devices
    each, started together (wall time from the first shard starting to the last one done, on this
    machine's cores, which the database shares).

scheduled_alert_burst_s (INFO)
    A mass outage as the alerts plane sees it: 10,000 devices of another tenant went silent at the
    same minute, and one tick opens their 10,000 absence alerts (each with timeline and outbox rows).
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from pulse.connect.inbound import InboundMessage
from pulse.connect.service import ingest_messages
from pulse.connect.topics import thing_name
from pulse.db import Database
from pulse.rules import Rule, Sample, evaluate
from pulse.rules.cache import RuleCache
from pulse.rules.scheduled import TickReport, run_tick
from pulse.rules.state import RuleState
from pulse.rules.state_store import Shard
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.bench.report import Bench, info

TENANT = "bench"
LATENESS = timedelta(seconds=60)
RULES = [
    {"id": "offline", "condition": {"kind": "absence", "duration": "10m"}},
    {"id": "no-temp", "condition": {"kind": "absence", "metric": "temp", "duration": "30m"}},
    {
        "id": "hot",
        "condition": {
            "kind": "for",
            "duration": "5m",
            "condition": {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
        },
    },
    {
        "id": "battery",
        "condition": {
            "kind": "for",
            "duration": "15m",
            "condition": {"kind": "threshold", "metric": "battery", "op": "<", "value": 10},
        },
    },
    {"id": "overload", "condition": {"kind": "threshold", "metric": "load", "op": ">", "value": 95}},
]
# A fleet under some stress: 90% report every minute, 5% went silent at some minute of the last
# hour, 5% run hot since some minute of the last half hour. States are as the previous tick left
# them, so what is due now is what crossed a timer during the last minute.
SILENT_SHARE, HOT_SHARE = 0.05, 0.05
STEP_MIN = 0.25
SHARDS = 2
BURST_TENANT, BURST_DEVICES = "burst", 10_000


def _rules() -> list[Rule]:
    return [
        Rule.model_validate(
            {"name": r["id"], "severity": "major", "scope": {"tenant_id": TENANT}} | r  # type: ignore[operator]
        )
        for r in RULES
    ]


def _seed_tenant(
    conn: psycopg.Connection, devices: int, rules: list[Rule], created: datetime, tenant: str = TENANT
) -> None:
    conn.execute("INSERT INTO tenants (id, name, device_rate_per_minute) VALUES (%s, 'Bench', 1000000)", (tenant,))
    with conn.cursor().copy("COPY devices (tenant_id, id, thing_name, created_at, updated_at) FROM STDIN") as copy:
        for d in range(devices):
            copy.write_row((tenant, f"dev-{d:06d}", thing_name(tenant, f"dev-{d:06d}"), created, created))
    for rule in rules:
        conn.execute(
            """INSERT INTO rules (tenant_id, id, name, current_version, scope_synced_at, created_at, updated_at)
               VALUES (%s, %s, %s, 1, %s, %s, %s)""",
            (tenant, rule.id, rule.name, created, created, created),
        )
        conn.execute(
            "INSERT INTO rule_versions (tenant_id, rule_id, version, body) VALUES (%s, %s, 1, %s)",
            (tenant, rule.id, rule.model_dump_json()),
        )


def _history(last: datetime, hot_since: datetime | None) -> list[Sample]:
    """A device's messages, one a minute for 45 minutes up to ``last``; temp 90 from ``hot_since``."""
    samples = []
    for back in range(45, -1, -1):
        ts = last - timedelta(minutes=back)
        hot = hot_since is not None and ts >= hot_since
        samples.append(Sample(ts, {"temp": 90.0 if hot else 40.0, "battery": 80.0, "load": 50.0}))
    return samples


def _device_class(rng: random.Random) -> tuple[str, float]:
    roll = rng.random()
    if roll < SILENT_SHARE:
        return "silent", STEP_MIN * rng.randrange(round(1 / STEP_MIN), round(60 / STEP_MIN))
    if roll < SILENT_SHARE + HOT_SHARE:
        return "hot", STEP_MIN * rng.randrange(2, round(30 / STEP_MIN))
    return "healthy", 0.0


def _seed_states(conn: psycopg.Connection, devices: int, rules: list[Rule], until: datetime) -> int:
    """Every (rule, device) state as streaming evaluation and the previous tick left it."""
    rng = random.Random(3)
    previous_tick = until - timedelta(minutes=1)
    templates: dict[tuple[str, float], tuple[datetime, list[tuple[str, RuleState, str]]]] = {}
    rows = 0
    last_seen: list[tuple[str, datetime]] = []
    with conn.cursor().copy(
        "COPY rule_state (tenant_id, rule_id, device_id, rule_version, state, firing, next_due, watermark) FROM STDIN"
    ) as copy:
        for d in range(devices):
            kind = _device_class(rng)
            if kind not in templates:
                silent = kind[1] if kind[0] == "silent" else 0.5
                last = until - timedelta(minutes=silent)
                hot_since = until - timedelta(minutes=kind[1]) if kind[0] == "hot" else None
                history = _history(last, hot_since)
                states = []
                for rule in rules:
                    state, _ = evaluate(rule, None, history, last)
                    if previous_tick > last:
                        state, _ = evaluate(rule, state, [], previous_tick)
                    states.append((rule.id, state, state.model_dump_json()))
                templates[kind] = (last, states)
            last, states = templates[kind]
            device = f"dev-{d:06d}"
            last_seen.append((device, last))
            for rule_id, state, text in states:
                copy.write_row((TENANT, rule_id, device, 1, text, state.firing, state.next_due, state.watermark))
                rows += 1
    conn.execute(
        """UPDATE devices d SET last_msg_ts = b.ts, last_seen_at = b.ts
           FROM unnest(%s::text[], %s::timestamptz[]) AS b(id, ts) WHERE d.tenant_id = %s AND d.id = b.id""",
        ([x[0] for x in last_seen], [x[1] for x in last_seen], TENANT),
    )
    conn.execute("VACUUM ANALYZE rule_state")
    conn.execute("VACUUM ANALYZE devices")
    return rows


def _force_all_due(database_url: str, until: datetime) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE rule_state SET next_due = %s", (until - timedelta(seconds=1),))
        conn.execute("VACUUM ANALYZE rule_state")


def _shard_tick(database_url: str, now: datetime, shard: Shard, start: Any, out: Any) -> None:
    """One shard invocation in its own process: connect, wait for the others, run the tick."""
    db = Database(database_url, "pulse_ingest")
    db.connection()
    start.wait()
    began = time.time()
    report = run_tick(db, now, lateness=LATENESS, deadline_s=600, shard=shard)
    out.put((shard.index, began, time.time(), report.due, report.evaluated, report.seconds["total"]))
    db.close()


def _fan_out(database_url: str, now: datetime, shards: int) -> tuple[float, list[tuple[int, int, int, float]]]:
    """All shards at once, each in its own process as the evaluator's fan-out runs them."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(shards), ctx.Queue()
    workers = [
        ctx.Process(target=_shard_tick, args=(database_url, now, Shard(i, shards), start, out)) for i in range(shards)
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=900) for _ in workers]
    for w in workers:
        w.join()
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    return wall, sorted((r[0], r[3], r[4], r[5]) for r in results)


def _seed_burst(conn: psycopg.Connection, until: datetime) -> Rule:
    """``BURST_DEVICES`` devices whose last message was 10.5 minutes before ``until``, with the
    ``offline`` rule's state as the previous tick left it: this tick opens every alert."""
    rule = next(r for r in _rules() if r.id == "offline").model_copy(
        update={"scope": _rules()[0].scope.model_copy(update={"tenant_id": BURST_TENANT})}
    )
    _seed_tenant(conn, BURST_DEVICES, [rule], until - timedelta(days=1), BURST_TENANT)
    conn.execute("UPDATE rules SET scope_synced_at = %s WHERE tenant_id = %s", (until, BURST_TENANT))
    last = until - timedelta(minutes=10, seconds=30)
    state, _ = evaluate(rule, None, _history(last, None), last)
    state, _ = evaluate(rule, state, [], until - timedelta(minutes=1))
    assert state.next_due is not None and state.next_due < until
    with conn.cursor().copy(
        "COPY rule_state (tenant_id, rule_id, device_id, rule_version, state, firing, next_due, watermark) FROM STDIN"
    ) as copy:
        for d in range(BURST_DEVICES):
            row = (BURST_TENANT, rule.id, f"dev-{d:06d}", 1, state.model_dump_json(), False, state.next_due)
            copy.write_row((*row, state.watermark))
    conn.execute(
        "UPDATE devices SET last_msg_ts = %s, last_seen_at = %s WHERE tenant_id = %s", (last, last, BURST_TENANT)
    )
    conn.execute("VACUUM ANALYZE")
    return rule


def _phases(report: TickReport) -> str:
    return " ".join(f"{k}={v:.2f}s" for k, v in report.seconds.items())


def scheduled(database_url: str, devices: int = 100_000) -> list[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    rules = _rules()
    with psycopg.connect(database_url, autocommit=True) as conn:
        _seed_tenant(conn, devices, rules, now - timedelta(days=1))
        conn.execute("UPDATE rules SET scope_synced_at = %s", (now - timedelta(minutes=1),))  # the previous tick
        rows = _seed_states(conn, devices, rules, now - LATENESS)
    db = Database(database_url, "pulse_ingest")
    try:
        report = run_tick(db, now, lateness=LATENESS, deadline_s=600)
        _force_all_due(database_url, now - LATENESS)
        worst = run_tick(db, now, lateness=LATENESS, deadline_s=600)
        _force_all_due(database_url, now - LATENESS)
        fanned, shards = _fan_out(database_url, now, SHARDS)
        with psycopg.connect(database_url, autocommit=True) as conn:
            _seed_burst(conn, now - LATENESS)
        burst = run_tick(db, now, lateness=LATENESS, deadline_s=600)
        with db.transaction() as conn:
            row = conn.execute("SELECT count(*) FROM alerts WHERE tenant_id = %s", (BURST_TENANT,)).fetchone()
        assert row is not None and row[0] == BURST_DEVICES, "every silent device's absence alert must open"
    finally:
        db.close()
    per_shard = " ".join(f"shard{i}={total:.2f}s/{due}rows" for i, due, _, total in shards)
    return [
        info("scheduled_eval_states", rows, "rule x device states"),
        f"INFO scheduled_eval_due rows={report.due} share={report.due / rows:.2%} "
        f"evaluated={report.evaluated} transitions={report.transitions} {_phases(report)}",
        Bench("scheduled_eval_s", report.seconds["total"], "s", "<=", 10).line(),
        f"INFO scheduled_eval_all_due_s {worst.seconds['total']:.3f} s rows={worst.due} "
        f"evaluated={worst.evaluated} one process (worst case, every row due) {_phases(worst)}",
        f"INFO scheduled_eval_all_due_sharded_s {fanned:.3f} s shards={SHARDS} {per_shard} "
        f"(every row due, shards in parallel processes sharing this machine's cores with the database)",
        f"INFO scheduled_alert_burst_s {burst.seconds['total']:.3f} s alerts_opened={row[0]} "
        f"transitions={burst.transitions} ({burst.seconds['total'] / row[0] * 1000:.2f} ms per alert) {_phases(burst)}",
    ]


def _message(device: str, ts: datetime, temp: float) -> InboundMessage:
    doc = {"v": 1, "ts": int(ts.timestamp() * 1000), "msg_id": uuid.uuid4().hex, "metrics": {"temp": temp}}
    topic = f"tenant/{TENANT}/device/{device}/telemetry"
    return InboundMessage(uuid.uuid4().hex, topic, orjson.dumps(doc), "mqtt", ts, client_id=thing_name(TENANT, device))


def telemetry_to_alert(database_url: str, devices: int = 1_000, batches: int = 60) -> list[str]:
    rules = _rules()
    with psycopg.connect(database_url, autocommit=True) as conn:
        _seed_tenant(conn, devices, rules, datetime.now(UTC) - timedelta(days=1))
    db = Database(database_url, "pulse_ingest")
    cache, partitions, settings = RuleCache(), PartitionCache(), Settings()
    latencies: list[float] = []
    try:
        for b in range(batches):
            now = datetime.now(UTC)
            overloaded = f"dev-{b % devices:06d}"
            batch = [_message(f"dev-{d:06d}", now, 40.0) for d in range(devices) if f"dev-{d:06d}" != overloaded]
            doc = {"v": 1, "ts": int(now.timestamp() * 1000), "msg_id": uuid.uuid4().hex, "metrics": {"load": 99.0}}
            probe = InboundMessage(
                uuid.uuid4().hex,
                f"tenant/{TENANT}/device/{overloaded}/telemetry",
                orjson.dumps(doc),
                "mqtt",
                now,
                client_id=thing_name(TENANT, overloaded),
            )
            started = time.perf_counter()
            ingest_messages(db, [*batch, probe], settings, now, partitions, rules=cache)
            latencies.append((time.perf_counter() - started) * 1000)
            with db.transaction() as conn:
                row = conn.execute(
                    "SELECT count(*) FROM alerts WHERE tenant_id = %s AND device_id = %s AND rule_id = 'overload'",
                    (TENANT, overloaded),
                ).fetchone()
            assert row is not None and row[0] == 1, "the probe's alert must be committed with its batch"
    finally:
        db.close()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    return [
        info("telemetry_to_alert_batches", len(latencies), "batches of 1,000 messages"),
        f"INFO telemetry_to_alert_p50_ms {statistics.median(latencies):.1f}",
        Bench("telemetry_to_alert_p99_ms", p99, "ms", "<=", 1000).line(),
    ]
