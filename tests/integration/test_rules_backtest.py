"""Backtest over stored telemetry: exact open/resolve instants, scope, histogram, limits, paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pulse.alerts.transitions import AlertPolicy
from pulse.db import Database, tenant_transaction
from pulse.errors import RequestInvalid
from pulse.rules import Rule
from pulse.rules.backtest import BacktestLimitExceeded, BacktestLimits, backtest
from pulse.stream.replay import replay
from tests.builders import make_device, make_tenant, store_points

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def rule(condition: dict[str, Any], **scope: Any) -> Rule:
    return Rule.model_validate(
        {
            "id": "draft",
            "name": "backtest",
            "severity": "major",
            "scope": {"tenant_id": "acme", **scope},
            "condition": condition,
        }
    )


HOT_FOR_2M = {
    "kind": "for",
    "duration": "2m",
    "condition": {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
}


def store_messages(sql, device_id: str, minutes: list[float]) -> None:
    """Ledger rows as ingest writes them, one per message (heartbeats carry no metric rows)."""
    for minute in minutes:
        sql.execute("SELECT pulse_ensure_day_partition('telemetry_messages', %s)", (at(minute).date(),))
        sql.execute(
            """INSERT INTO telemetry_messages (tenant_id, device_id, msg_key, ts, metric_count, source)
               VALUES ('acme', %s, %s, %s, 0, 'mqtt')""",
            (device_id, f"m{minute}", at(minute)),
        )


@pytest.fixture
def fleet(sql):
    make_tenant(sql, "acme")
    make_tenant(sql, "globex")
    for device_id, tags in (("pump-1", {"zone": "a"}), ("pump-2", {"zone": "a"}), ("pump-3", {"zone": "b"})):
        make_device(sql, "acme", device_id)
        sql.execute("UPDATE devices SET tags = %s::jsonb WHERE id = %s", (f'{{"zone": "{tags["zone"]}"}}', device_id))
    make_device(sql, "globex", "pump-1")
    return sql


@pytest.fixture
def app_db(database_url):
    db = Database(database_url, "pulse_app")
    yield db
    db.close()


def run(db: Database, r: Rule, start: float, end: float, **kwargs: Any):
    with tenant_transaction(db, "acme") as conn:
        return backtest(conn, r, start=at(start), end=at(end), **kwargs)


def test_for_duration_opens_when_held_and_resolves_at_the_first_value_back(fleet, app_db):
    series = [(0, 70), (1, 85), (2, 90), (4, 88), (6, 60)]
    store_points(fleet, "acme", "pump-1", [(at(m), "temp", v) for m, v in series])
    result = run(app_db, rule(HOT_FOR_2M), -1, 10)
    [alert] = result.alerts
    assert (alert.device_id, alert.opened_at, alert.resolved_at) == ("pump-1", at(3), at(6))
    assert alert.opened_because.startswith("for 2m, true since") and "temp > 80 (= 90)" in alert.opened_because
    assert alert.resolve_reason == "cleared"
    assert [(d.device_id, d.samples, d.opened, d.resolved) for d in result.per_device] == [
        ("pump-1", 5, 1, 1),
        ("pump-2", 0, 0, 0),
        ("pump-3", 0, 0, 0),
    ]
    assert result.points == 5 and result.devices == 3


def test_alert_still_open_at_the_end_has_no_resolved_at_and_days_are_utc(fleet, app_db):
    store_points(fleet, "acme", "pump-2", [(at(m), "temp", v) for m, v in [(0, 90), (130, 95), (200, 50), (240, 99)]])
    result = run(app_db, rule(HOT_FOR_2M), 0, 300)
    assert [(a.opened_at, a.resolved_at) for a in result.alerts] == [(at(2), at(200)), (at(242), None)]
    assert [(d.day, d.opened, d.resolved) for d in result.per_day] == [
        (date(2026, 3, 2), 1, 0),
        (date(2026, 3, 3), 1, 1),
    ]
    assert (result.opened, result.resolved) == (2, 1)


def test_absence_of_any_message_counts_heartbeats_from_the_ledger(fleet, app_db):
    store_points(fleet, "acme", "pump-1", [(at(0), "temp", 20.0)])
    store_messages(fleet, "pump-1", [0, 4, 8])  # message 0 carried temp; 4 and 8 were heartbeats
    silent = rule({"kind": "absence", "duration": "5m"})
    result = run(app_db, silent, 0, 20, device_ids=["pump-1"])
    assert [(a.opened_at, a.resolved_at) for a in result.alerts] == [(at(13), None)]
    assert result.per_device[0].samples == 3


def test_scope_tags_and_device_ids_choose_the_devices(fleet, app_db):
    for device in ("pump-1", "pump-2", "pump-3"):
        store_points(fleet, "acme", device, [(at(0), "temp", 99.0)])
    opened = {a.device_id for a in run(app_db, rule(HOT_FOR_2M | {"duration": "1s"}, tags={"zone": "a"}), 0, 5).alerts}
    assert opened == {"pump-1", "pump-2"}
    narrowed = run(app_db, rule(HOT_FOR_2M, tags={"zone": "a"}), 0, 5, device_ids=["pump-2"])
    assert [d.device_id for d in narrowed.per_device] == ["pump-2"]
    with pytest.raises(RequestInvalid, match="pump-3"):
        run(app_db, rule(HOT_FOR_2M, tags={"zone": "a"}), 0, 5, device_ids=["pump-3"])


def test_another_tenants_devices_and_points_are_never_read(fleet, app_db):
    store_points(fleet, "globex", "pump-1", [(at(0), "temp", 99.0), (at(5), "temp", 99.0)])
    result = run(app_db, rule(HOT_FOR_2M), 0, 10)
    assert result.alerts == [] and result.points == 0


def test_limits_refuse_with_a_clear_reason(fleet, app_db):
    store_points(fleet, "acme", "pump-1", [(at(m), "temp", 50.0) for m in range(10)])
    with pytest.raises(BacktestLimitExceeded, match="more than 2 devices"):
        run(app_db, rule(HOT_FOR_2M), 0, 10, limits=BacktestLimits(max_devices=2))
    with pytest.raises(BacktestLimitExceeded, match="at most 31 days"):
        run(app_db, rule(HOT_FOR_2M), 0, 32 * 24 * 60)
    with pytest.raises(BacktestLimitExceeded, match="more than 5 telemetry points"):
        run(app_db, rule(HOT_FOR_2M), 0, 10, limits=BacktestLimits(max_points=5))
    with pytest.raises(RequestInvalid, match="after start"):
        run(app_db, rule(HOT_FOR_2M), 10, 0)


def test_alert_list_is_capped_but_counts_cover_everything(fleet, app_db):
    flapping = [(at(m), "temp", 90.0 if m % 2 == 0 else 10.0) for m in range(20)]
    store_points(fleet, "acme", "pump-1", flapping)
    r = rule({"kind": "threshold", "metric": "temp", "op": ">", "value": 80})
    no_flap_policy = AlertPolicy(min_open=timedelta(0), reopen_window=timedelta(0))
    result = run(app_db, r, 0, 30, limits=BacktestLimits(max_alerts=3), policy=no_flap_policy)
    assert len(result.alerts) == 3 and result.alerts_truncated
    assert result.opened == 10 and result.per_device[0].opened == 10


HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}


def test_flapping_follows_the_live_alert_policy(fleet, app_db):
    # open 0, clear 0.5 (deferred to 1), open 0.75 (repeat), clear 3, open 5 (reopens: within 5 min), clear 20
    series = [(0, 90), (0.5, 10), (0.75, 90), (3, 10), (5, 90), (20, 10)]
    store_points(fleet, "acme", "pump-1", [(at(m), "temp", float(v)) for m, v in series])
    policy = AlertPolicy(min_open=timedelta(minutes=1), reopen_window=timedelta(minutes=5))
    [alert] = run(app_db, rule(HOT), 0, 30, device_ids=["pump-1"], policy=policy).alerts
    assert (alert.opened_at, alert.resolved_at, alert.fired, alert.reopened) == (at(0), at(20), 3, 1)
    # a resolve inside min_open with nothing after it settles when it falls due
    store_points(fleet, "acme", "pump-2", [(at(0), "temp", 90.0), (at(0.25), "temp", 10.0)])
    [short] = run(app_db, rule(HOT), 0, 30, device_ids=["pump-2"], policy=policy).alerts
    assert (short.resolved_at, short.resolve_reason) == (at(1), "deferred")


def test_openings_during_maintenance_raise_nothing(fleet, app_db):
    store_points(fleet, "acme", "pump-1", [(at(m), "temp", float(v)) for m, v in [(0, 90), (10, 10), (20, 90)]])
    fleet.execute(
        """INSERT INTO maintenance_windows (tenant_id, id, device_id, starts_at, ends_at, created_by, created_at)
           VALUES ('acme', 'mw-1', 'pump-1', %s, %s, 'ops', %s)""",
        (at(-5), at(5), at(-5)),
    )
    result = run(app_db, rule(HOT), 0, 30, device_ids=["pump-1"])
    assert [(a.opened_at, a.resolved_at) for a in result.alerts] == [(at(20), None)]
    assert result.per_device[0].suppressed == 1


def test_metrics_are_normalized_with_the_models_mappings(fleet, app_db):
    fleet.execute("UPDATE devices SET model = 'tf-100' WHERE id = 'pump-3'")
    fleet.execute("INSERT INTO metric_catalog (tenant_id, name, unit) VALUES ('acme', 'temp', 'degC')")
    fleet.execute(
        """INSERT INTO metric_mappings (tenant_id, model, source, metric, multiplier, "offset")
           VALUES ('acme', 'tf-100', 't_f', 'temp', 0.5555555555555556, -17.77777777777778)"""
    )
    store_points(fleet, "acme", "pump-3", [(at(0), "t_f", 150.0), (at(1), "t_f", 212.0)])  # 65.6 degC, 100 degC
    [alert] = run(app_db, rule(HOT), 0, 5, device_ids=["pump-3"]).alerts
    assert alert.opened_at == at(1) and "temp > 80 (= 100)" in alert.opened_because


def test_replay_groups_rows_of_one_instant_across_cursor_pages(fleet, app_db):
    rows = [(at(m), metric, float(m)) for m in range(5) for metric in ("a", "b", "c")]
    store_points(fleet, "acme", "pump-1", rows)
    with tenant_transaction(app_db, "acme") as conn:
        found = list(replay(conn, "acme", "pump-1", ["a", "c"], start=at(1), end=at(4), page_size=2))
    assert [(m.ts, m.metrics, m.rows) for m in found] == [(at(m), {"a": m, "c": m}, 2) for m in (1, 2, 3)]
