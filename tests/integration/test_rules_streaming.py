"""Streaming evaluation: ingest evaluates the samples it stored and opens alerts in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database, tenant_transaction
from pulse.rules.cache import RuleCache
from pulse.rules.normalize import CatalogMetric, MetricMapping
from pulse.rules.scheduled import run_tick
from pulse.rules.service import put_catalog_metric, put_mapping
from tests.builders import make_device, make_tenant
from tests.integration.rule_fixtures import ACTOR, add_rule, alerts, ingest

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.fixture
def ingest_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


@pytest.fixture
def fleet(sql, owner_db) -> Database:
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    make_device(sql, "acme", "dev-2")
    return owner_db


def test_a_threshold_crossed_in_a_batch_opens_an_alert_committed_with_the_telemetry(fleet, ingest_db, sql):
    add_rule(fleet, "acme", {"kind": "threshold", "metric": "temp", "op": ">", "value": 80})
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 70}), (at(1), {"temp": 91})], RuleCache())
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(1), None, "stream")]
    assert sql.execute("SELECT device_id, firing, rule_version FROM rule_state").fetchall() == [("dev-1", True, 1)]
    outbox = sql.execute("SELECT count(*) FROM events_outbox WHERE tenant_id = 'acme'").fetchone()
    assert outbox is not None
    assert outbox[0] >= 1


def test_any_across_two_metrics_opens_on_either_and_resolves_when_both_are_back(fleet, ingest_db, sql):
    add_rule(
        fleet,
        "acme",
        {
            "kind": "any",
            "conditions": [
                {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
                {"kind": "threshold", "metric": "hum", "op": ">", "value": 90},
            ],
        },
    )
    cache = RuleCache()
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 70, "hum": 50}), (at(2), {"hum": 95})], cache)
    ingest(ingest_db, "acme", "dev-1", [(at(5), {"temp": 85}), (at(8), {"hum": 60})], cache)
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(2), None, "stream")]
    ingest(ingest_db, "acme", "dev-1", [(at(12), {"temp": 70})], cache)
    assert alerts(sql, "acme") == [("r1", "dev-1", "resolved", at(2), at(12), "stream")]


def test_anomaly_stays_silent_during_warm_up_even_for_a_wild_value(fleet, ingest_db, sql):
    add_rule(fleet, "acme", {"kind": "anomaly", "metric": "temp", "warmup": 5, "z": 3, "alpha": 0.5})
    cache = RuleCache()
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 20}), (at(1), {"temp": 20.5}), (at(2), {"temp": 500})], cache)
    assert alerts(sql, "acme") == []
    calm = [(at(3 + i), {"temp": 20 + (i % 2) * 0.4}) for i in range(12)]
    ingest(ingest_db, "acme", "dev-1", [*calm, (at(15), {"temp": 90})], cache)
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(15), None, "stream")]


def test_rules_see_catalog_names_through_the_device_models_mapping(fleet, ingest_db, sql):
    sql.execute("UPDATE devices SET model = 'th-f' WHERE id = 'dev-2'")
    with tenant_transaction(fleet, "acme") as conn:
        put_catalog_metric(conn, "acme", CatalogMetric(name="temp_c", unit="degC"), ACTOR)
        fahrenheit = MetricMapping(model="th-f", source="t_f", metric="temp_c", multiplier=5 / 9, offset=-160 / 9)
        put_mapping(conn, "acme", fahrenheit, ACTOR)
    add_rule(fleet, "acme", {"kind": "threshold", "metric": "temp_c", "op": ">", "value": 30})
    cache = RuleCache()
    ingest(ingest_db, "acme", "dev-2", [(at(0), {"t_f": 80.0})], cache)  # 26.7 degC
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"t_f": 100.0})], cache)  # no mapping for its model
    assert alerts(sql, "acme") == []
    ingest(ingest_db, "acme", "dev-2", [(at(1), {"t_f": 100.0})], cache)  # 37.8 degC
    assert alerts(sql, "acme") == [("r1", "dev-2", "open", at(1), None, "stream")]


def test_a_tenant_without_rules_keeps_no_state(fleet, ingest_db, sql):
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 99})], RuleCache())
    assert sql.execute("SELECT count(*) FROM rule_state").fetchone() == (0,)


def test_a_rule_outside_the_devices_scope_is_not_evaluated(fleet, ingest_db, sql):
    sql.execute("""UPDATE devices SET tags = '{"zone": "a"}' WHERE id = 'dev-1'""")
    condition = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}
    add_rule(fleet, "acme", condition, scope={"tenant_id": "acme", "tags": {"zone": "a"}})
    cache = RuleCache()
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 90})], cache)
    ingest(ingest_db, "acme", "dev-2", [(at(0), {"temp": 90})], cache)
    assert [a[1] for a in alerts(sql, "acme")] == ["dev-1"]


def test_a_rule_created_while_the_cache_was_fresh_is_caught_up_by_the_tick(fleet, ingest_db, sql):
    cache = RuleCache(ttl_s=3600)
    ingest(ingest_db, "acme", "dev-1", [(at(0), {"temp": 70})], cache)  # caches "no rules"
    add_rule(fleet, "acme", {"kind": "threshold", "metric": "temp", "op": ">", "value": 80})
    run_tick(ingest_db, at(1), lateness=timedelta(0))  # starts the state from the last message
    ingest(ingest_db, "acme", "dev-1", [(at(2), {"temp": 95}), (at(3), {"temp": 96})], cache)
    assert alerts(sql, "acme") == []  # this container does not know the rule yet
    report = run_tick(ingest_db, at(5), lateness=timedelta(0))
    assert report.evaluated == 1
    assert alerts(sql, "acme") == [("r1", "dev-1", "open", at(2), None, "schedule")]
