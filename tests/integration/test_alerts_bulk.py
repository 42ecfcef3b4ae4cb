"""apply_transitions_bulk against apply_transitions: the same transitions, applied one (rule, device)
at a time in one fresh database and all at once in another, store the same alerts, timeline entries
and outbox events (generated ids and row creation times aside) and answer the same changes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from pulse.alerts import (
    AlertChange,
    AlertPolicy,
    TransitionBatch,
    apply_transitions,
    apply_transitions_bulk,
    bulk_store,
)
from pulse.alerts.models import Source
from pulse.db import Database
from pulse.local.pgcluster import PgCluster
from pulse.outbox.after_commit import publish_after_commit
from pulse.rules import Explanation, Opened, Resolved, Rule, Transition
from tests.builders import make_device, make_tenant
from tests.conftest import TEMPLATE_DB

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = AlertPolicy(min_open=timedelta(seconds=60), reopen_window=timedelta(seconds=300))
HOT = Explanation("threshold", True, "temp_c 35 > 30", 35.0)
COOL = Explanation("clear", True, "temp_c 20 no longer > 30", 20.0)


def rule(rule_id: str = "hot", *, latch: bool = False) -> Rule:
    return Rule.model_validate(
        {
            "id": rule_id,
            "name": f"Rule {rule_id}",
            "scope": {"tenant_id": "acme"},
            "severity": "major",
            "latch": latch,
            "condition": {"kind": "threshold", "metric": "temp_c", "op": ">", "value": 30},
        }
    )


def o(minutes: float) -> Opened:
    return Opened(T0 + timedelta(minutes=minutes), HOT)


def r(minutes: float, reason: Any = "cleared") -> Resolved:
    return Resolved(T0 + timedelta(minutes=minutes), COOL, reason)


@dataclass(frozen=True)
class Case:
    device: str
    before: tuple[Transition, ...]  # applied one at a time in both databases, before the tick
    tick: tuple[Transition, ...]  # the tick's transitions: per item in one database, in bulk in the other
    latch: bool = False
    value: float | None = 41.0


CASES = [
    Case("open", (), (o(10),)),
    Case("repeat", (o(0),), (o(10),)),
    Case("reopen-in-window", (o(0), r(2)), (o(4),)),
    Case("open-after-window", (o(0), r(2)), (o(10),)),
    Case("defer", (o(9.5),), (r(9.75),)),
    Case("flap-cancelled", (o(9), r(9.25)), (o(9.5),)),
    Case("deferred-due-then-reopen", (o(0), r(0.25)), (o(4),)),
    Case("deferred-due-then-resolve", (o(0), r(0.25)), (r(10),)),
    Case("latched", (o(0),), (r(10),), latch=True),
    Case("latch-released", (o(0),), (r(10, "released"),), latch=True),
    Case("latched-acknowledged", (o(0),), (r(10),), latch=True),
    Case("silenced", (), (o(10),)),
    Case("silenced-reopen", (o(0), r(8)), (o(10),)),
    Case("maintenance", (o(0), r(2)), (o(10),)),
    Case("site-maintenance", (), (o(10), r(12))),
    Case("open-then-resolve", (), (o(10), r(12))),
    Case("open-defer-repeat", (), (o(10), r(10.25), o(10.5))),
    Case("opens-twice", (), (o(1), r(3), o(10), r(10.5))),
    Case("resolve-nothing", (), (r(10),)),
    Case("no-value", (), (o(10),), value=None),
    Case("nothing", (), ()),
]


def arrange(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as sql:
        make_tenant(sql, "acme")
        for case in CASES:
            make_device(sql, "acme", case.device)
        sql.execute("UPDATE devices SET site_id = 'plant-a', tags = '{\"zone\": \"cold\"}'")
        sql.execute("UPDATE devices SET site_id = 'plant-m' WHERE id = 'site-maintenance'")
        sql.execute("UPDATE devices SET last_seen_at = %s, heartbeat_interval_s = 60 WHERE id = 'open'", (T0,))
        sql.execute(
            """INSERT INTO device_twins (tenant_id, device_id, document, version) VALUES ('acme', 'open', %s, 4)""",
            ('{"state": {"reported": {"fw": "1.2", "serial": 123456789012345678901234567890}}}',),
        )
        sql.execute(
            """INSERT INTO silences (tenant_id, id, device_id, starts_at, ends_at, created_by, created_at)
               VALUES ('acme', 's-1', 'silenced', %s, %s, 'ops', %s),
                      ('acme', 's-2', 'silenced-reopen', %s, %s, 'ops', %s),
                      ('acme', 's-3', 'silenced', %s, %s, 'ops', %s)""",
            (T0, T0 + timedelta(hours=1), T0) * 2 + (T0, T0 + timedelta(hours=2), T0),
        )
        sql.execute(
            """INSERT INTO silences (tenant_id, id, rule_id, tags, severities, starts_at, ends_at, created_by,
                                     created_at)
               VALUES ('acme', 's-other', 'hot', '{"zone": "warm"}', '{major}', %s, %s, 'ops', %s)""",
            (T0, T0 + timedelta(hours=1), T0),
        )
        sql.execute(
            """INSERT INTO maintenance_windows (tenant_id, id, device_id, site_id, starts_at, ends_at, created_by,
                                               created_at)
               VALUES ('acme', 'mw-1', 'maintenance', NULL, %s, %s, 'ops', %s),
                      ('acme', 'mw-2', NULL, 'plant-m', %s, %s, 'ops', %s)""",
            (T0 + timedelta(minutes=5), T0 + timedelta(hours=1), T0) * 2,
        )
    db = Database(database_url, "pulse_ingest")
    try:
        for case in CASES:
            for t in case.before:
                with db.transaction() as conn:
                    apply_transitions(
                        conn,
                        tenant_id="acme",
                        device_id=case.device,
                        rule=rule(latch=case.latch),
                        transitions=[t],
                        value=35.0,
                        policy=POLICY,
                    )
    finally:
        db.close()
    with psycopg.connect(database_url, autocommit=True) as sql:
        sql.execute(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = 'ann', "
            "version = version + 1 WHERE device_id = 'latched-acknowledged'",
            (T0 + timedelta(minutes=1),),
        )


def tick_items() -> list[TransitionBatch]:
    items = [TransitionBatch("acme", c.device, rule(latch=c.latch), c.tick, c.value) for c in CASES]
    items.insert(3, TransitionBatch("acme", "open", rule("cold"), (o(10),), 12.0))  # a second rule, same device
    items.append(TransitionBatch("acme", "repeat", rule(), (o(11),), 42.0))  # the fingerprint again
    items.append(TransitionBatch("acme", "gone", rule(), (o(10),), 1.0))  # an unknown device
    return items


def one_at_a_time(database_url: str, items: list[TransitionBatch], source: Source) -> list[list[AlertChange]]:
    db = Database(database_url, "pulse_ingest")
    try:
        with db.transaction() as conn:
            return [
                apply_transitions(
                    conn,
                    tenant_id=i.tenant_id,
                    device_id=i.device_id,
                    rule=i.rule,
                    transitions=i.transitions,
                    value=i.value,
                    source=source,
                    policy=POLICY,
                )
                for i in items
            ]
    finally:
        db.close()


def all_at_once(database_url: str, items: list[TransitionBatch], source: Source) -> list[list[AlertChange]]:
    db = Database(database_url, "pulse_ingest")
    try:
        with db.transaction() as conn:
            return apply_transitions_bulk(conn, items, source=source, policy=POLICY)
    finally:
        db.close()


def stored(database_url: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(alert id -> a name that does not depend on generated ids, every stored row by such names)."""
    with psycopg.connect(database_url, row_factory=dict_row) as sql:
        alerts = sql.execute("SELECT * FROM alerts ORDER BY fingerprint, opened_at").fetchall()
        names = {a["id"]: f"{a['fingerprint']}@{a['opened_at'].isoformat()}" for a in alerts}
        timeline = sql.execute("SELECT * FROM alert_events ORDER BY id").fetchall()
        outbox = sql.execute("SELECT * FROM events_outbox ORDER BY id").fetchall()
    rows: dict[str, Any] = {}
    for a in alerts:
        rows[names[a["id"]]] = {k: v for k, v in a.items() if k not in ("id", "created_at")}
    for e in timeline:
        entry = {k: v for k, v in e.items() if k not in ("id", "alert_id")}
        rows.setdefault(f"timeline {names[e['alert_id']]}", []).append(entry)
    for e in outbox:
        detail = {**e["detail"], "alert_id": names[e["detail"]["alert_id"]]}
        event = {k: v for k, v in e.items() if k not in ("id", "created_at", "correlation_id", "detail")}
        rows.setdefault(f"events {names[e['correlation_id']]}", []).append({**event, "detail": detail})
    return names, rows


def named(changes: list[list[AlertChange]], names: dict[str, str]) -> list[list[tuple[Any, ...]]]:
    return [
        [(c.action, c.at, names.get(c.alert_id or ""), c.event_type, c.silenced, c.reason) for c in item]
        for item in changes
    ]


@pytest.fixture
def second_url(pg_cluster: PgCluster) -> Iterator[str]:
    name = f"t{os.getpid()}_bulk"
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        yield pg_cluster.database_url(name)
    finally:
        with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("source", ["schedule", "backtest"])
def test_bulk_stores_what_one_at_a_time_stores(database_url: str, second_url: str, source: Source) -> None:
    arrange(database_url)
    arrange(second_url)
    items = tick_items()

    expected_changes = one_at_a_time(database_url, items, source)
    changes = all_at_once(second_url, items, source)

    expected_names, expected = stored(database_url)
    names, rows = stored(second_url)
    assert sorted(rows) == sorted(expected)
    for key, value in expected.items():
        assert rows[key] == value, key
    assert named(changes, names) == named(expected_changes, expected_names)
    actions = {a for item in expected_changes for a in (c.action for c in item)}
    assert actions == {
        "opened",
        "repeated",
        "reopened",
        "resolved",
        "resolve_deferred",
        "latched",
        "suppressed",
        "ignored",
    }
    assert any(c.silenced for item in expected_changes for c in item)


def test_every_event_written_in_bulk_is_counted_for_the_publisher(database_url: str) -> None:
    arrange(database_url)
    db = Database(database_url, "pulse_ingest")
    count = "SELECT count(*) FROM events_outbox"
    try:
        with db.transaction() as conn:
            before = conn.execute(count).fetchone()
        with publish_after_commit(None) as tally, db.transaction() as conn:
            apply_transitions_bulk(conn, tick_items(), source="schedule", policy=POLICY)
        with db.transaction() as conn:
            after = conn.execute(count).fetchone()
    finally:
        db.close()
    assert before is not None and after is not None
    assert tally.count == after[0] - before[0] > 0


def test_a_fingerprint_opened_by_another_transaction_is_repeated_not_opened_twice(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrange(database_url)
    monkeypatch.setattr(bulk_store, "active_alerts", lambda conn, keys: {})  # as if it opened after the read
    db = Database(database_url, "pulse_ingest")
    try:
        with db.transaction() as conn:
            [changes, fresh] = apply_transitions_bulk(
                conn,
                [TransitionBatch("acme", "repeat", rule(), (o(10),), 41.0), tick_items()[0]],
                source="schedule",
                policy=POLICY,
            )
        with db.transaction() as conn:
            counts = conn.execute(
                "SELECT device_id, count(*), max(count) FROM alerts WHERE device_id IN ('repeat', 'open') GROUP BY 1"
            ).fetchall()
    finally:
        db.close()
    assert [c.action for c in changes] == ["repeated"] and [c.action for c in fresh] == ["opened"]
    assert sorted(counts) == [("open", 1, 1), ("repeat", 1, 2)]
