"""Rules and the metric catalog as the API uses them: versions, state kept or dropped, validation, isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pulse.db import Database, tenant_transaction
from pulse.errors import RequestInvalid
from pulse.registry.errors import Conflict, NotFound, PreconditionFailed
from pulse.rules.cache import RuleCache
from pulse.rules.normalize import CatalogMetric, MetricMapping
from pulse.rules.service import (
    create_rule,
    delete_catalog_metric,
    delete_rule,
    get_rule,
    list_mappings,
    list_rules,
    list_versions,
    put_catalog_metric,
    put_mapping,
    set_rule_enabled,
    update_rule,
)
from tests.builders import make_device, make_tenant
from tests.integration.rule_fixtures import ACTOR, ingest, rule_body

HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def app_db(database_url: str, sql) -> Iterator[Database]:
    for tenant in ("acme", "globex"):
        make_tenant(sql, tenant)
        make_device(sql, tenant, "dev-1")
    db = Database(database_url, "pulse_app")
    yield db
    db.close()


def test_an_update_writes_the_next_version_and_keeps_the_device_state(app_db, database_url, sql):
    with tenant_transaction(app_db, "acme") as conn:
        created = create_rule(conn, "acme", rule_body("acme", HOT, version=7), ACTOR)
    assert created.current_version == 1
    ingest_db = Database(database_url, "pulse_ingest")
    ingest(ingest_db, "acme", "dev-1", [(T0, {"temp": 90})], RuleCache())
    ingest_db.close()
    with tenant_transaction(app_db, "acme") as conn:
        updated = update_rule(conn, "acme", "r1", rule_body("acme", HOT | {"value": 85}), ACTOR, expected_version=1)
        with pytest.raises(PreconditionFailed):
            update_rule(conn, "acme", "r1", rule_body("acme", HOT), ACTOR, expected_version=1)
    assert updated.current_version == 2
    assert updated.rule.condition.value == 85  # type: ignore[union-attr]
    with tenant_transaction(app_db, "acme") as conn:
        assert [v.version for v in list_versions(conn, "acme", "r1")] == [2, 1]
    assert sql.execute("SELECT rule_version, firing FROM rule_state").fetchall() == [(1, True)]


def test_disable_and_delete_drop_the_state_and_report_the_firing_devices(app_db, database_url, sql):
    with tenant_transaction(app_db, "acme") as conn:
        create_rule(conn, "acme", rule_body("acme", HOT), ACTOR)
    ingest_db = Database(database_url, "pulse_ingest")
    ingest(ingest_db, "acme", "dev-1", [(T0, {"temp": 90})], RuleCache())
    ingest_db.close()
    with tenant_transaction(app_db, "acme") as conn:
        change = set_rule_enabled(conn, "acme", "r1", False, ACTOR)
        assert (change.record.enabled, change.dropped_firing) == (False, ["dev-1"])
        assert get_rule(conn, "acme", "r1").rule.enabled is False
        assert delete_rule(conn, "acme", "r1", ACTOR) == []
        with pytest.raises(NotFound):
            get_rule(conn, "acme", "r1")
        with pytest.raises(Conflict):
            create_rule(conn, "acme", rule_body("acme", HOT), ACTOR)
    assert sql.execute("SELECT count(*) FROM rule_state").fetchone() == (0,)
    actions = sql.execute("SELECT action FROM audit_log WHERE entity_type = 'rule' ORDER BY id").fetchall()
    assert [a[0] for a in actions] == ["rule.create", "rule.disable", "rule.delete"]


def test_rules_list_in_keyset_pages_and_stay_inside_their_tenant(app_db):
    with tenant_transaction(app_db, "acme") as conn:
        for i in range(5):
            create_rule(conn, "acme", rule_body("acme", HOT, f"r{i}"), ACTOR)
        with pytest.raises(RequestInvalid):
            create_rule(conn, "acme", rule_body("globex", HOT, "x"), ACTOR)
        first = list_rules(conn, "acme", limit=3)
        second = list_rules(conn, "acme", cursor=first.next_cursor, limit=3)
    assert [r.rule.id for r in first.items + second.items] == ["r0", "r1", "r2", "r3", "r4"]
    assert second.next_cursor is None
    with tenant_transaction(app_db, "globex") as conn:
        assert list_rules(conn, "globex").items == []
        with pytest.raises(NotFound):
            get_rule(conn, "globex", "r0")


def test_mappings_need_a_catalog_metric_and_one_source_per_metric_and_model(app_db):
    fahrenheit = MetricMapping(model="th-f", source="t_f", metric="temp_c", multiplier=5 / 9, offset=-160 / 9)
    with tenant_transaction(app_db, "acme") as conn:
        with pytest.raises(RequestInvalid):
            put_mapping(conn, "acme", fahrenheit, ACTOR)
        put_catalog_metric(conn, "acme", CatalogMetric(name="temp_c", unit="degC"), ACTOR)
        put_mapping(conn, "acme", fahrenheit, ACTOR)
        with pytest.raises(Conflict):
            put_mapping(conn, "acme", fahrenheit.model_copy(update={"source": "temp"}), ACTOR)
        with pytest.raises(Conflict):
            delete_catalog_metric(conn, "acme", "temp_c", ACTOR)
        assert list_mappings(conn, "acme", "th-f") == [fahrenheit]
    with tenant_transaction(app_db, "globex") as conn:
        assert list_mappings(conn, "globex") == []
