"""apply_transitions on real PostgreSQL as the ingest role: one alert per fingerprint, repeats,
maintenance, silences, flap suppression, latch and the explanation captured at trigger time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from pulse.alerts import AlertChange, AlertPolicy, apply_transitions
from pulse.alerts.sweeps import settle_deferred_resolves
from pulse.db import Database
from pulse.rules import Explanation, Opened, Resolved, Rule, Transition
from tests.builders import make_device, make_tenant

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = AlertPolicy(min_open=timedelta(seconds=60), reopen_window=timedelta(seconds=300))
HOT = Explanation("threshold", True, "temp_c 35 > 30", 35.0)
COOL = Explanation("clear", True, "temp_c 20 no longer > 30", 20.0)


def hot_rule(*, latch: bool = False, version: int = 1, severity: str = "major") -> Rule:
    return Rule.model_validate(
        {
            "id": "hot",
            "version": version,
            "name": "Too hot",
            "scope": {"tenant_id": "acme"},
            "severity": severity,
            "latch": latch,
            "condition": {"kind": "threshold", "metric": "temp_c", "op": ">", "value": 30},
        }
    )


def opened(minutes: float) -> Opened:
    return Opened(T0 + timedelta(minutes=minutes), HOT)


def resolved(minutes: float, reason: Any = "cleared") -> Resolved:
    return Resolved(T0 + timedelta(minutes=minutes), COOL, reason)


@pytest.fixture
def ingest_db(database_url: str, sql: psycopg.Connection) -> Iterator[Database]:
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    sql.execute("UPDATE devices SET site_id = 'plant-a', tags = '{\"zone\": \"cold\"}' WHERE id = 'dev-1'")
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


def apply(db: Database, *transitions: Transition, rule: Rule | None = None, value: float = 35.0) -> list[AlertChange]:
    with db.transaction() as conn:
        return apply_transitions(
            conn,
            tenant_id="acme",
            device_id="dev-1",
            rule=rule or hot_rule(),
            transitions=list(transitions),
            value=value,
            policy=POLICY,
        )


def alerts(sql: psycopg.Connection) -> list[dict[str, Any]]:
    with sql.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM alerts ORDER BY opened_at").fetchall()


def outbox(sql: psycopg.Connection) -> list[tuple[str, dict[str, Any]]]:
    return [(r[0], r[1]) for r in sql.execute("SELECT event_type, detail FROM events_outbox ORDER BY id")]


def timeline(sql: psycopg.Connection, alert_id: str) -> list[str]:
    return [r[0] for r in sql.execute("SELECT action FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,))]


def test_open_writes_alert_timeline_and_event_with_explanation(ingest_db: Database, sql: psycopg.Connection) -> None:
    sql.execute(
        """INSERT INTO device_twins (tenant_id, device_id, document, version)
           VALUES ('acme', 'dev-1', '{"state": {"reported": {"fw": "1.2"}}}', 4)"""
    )
    sql.execute("UPDATE devices SET last_seen_at = %s, heartbeat_interval_s = 60", (T0 - timedelta(seconds=30),))

    [change] = apply(ingest_db, opened(0))

    assert change.action == "opened" and change.event_type == "AlertOpened" and not change.silenced
    [alert] = alerts(sql)
    assert (alert["state"], alert["count"], alert["fingerprint"]) == ("open", 1, "hot/dev-1")
    assert alert["site_id"] == "plant-a"
    assert alert["first_value"] == 35.0 and alert["severity"] == "major"
    why = alert["explanation"]
    assert why["rule"] == {"id": "hot", "version": 1, "name": "Too hot", "severity": "major", "latch": False}
    assert why["condition"]["summary"] == "temp_c 35 > 30" and why["condition"]["observed"] == 35.0
    assert why["twin"] == {"version": 4, "document": {"state": {"reported": {"fw": "1.2"}}}}
    assert why["connectivity"]["heartbeat_interval_s"] == 60 and why["connectivity"]["silent_for_s"] == 30.0
    assert timeline(sql, alert["id"]) == ["opened"]
    [(event_type, detail)] = outbox(sql)
    assert event_type == "AlertOpened"
    assert detail["alert_id"] == alert["id"] and detail["silenced"] is False and detail["device_id"] == "dev-1"


def test_repeat_of_an_open_fingerprint_counts_instead_of_opening_a_second_alert(
    ingest_db: Database, sql: psycopg.Connection
) -> None:
    apply(ingest_db, opened(0), value=35.0)

    changes = apply(ingest_db, opened(5), value=41.0)

    assert [c.action for c in changes] == ["repeated"] and changes[0].event_type is None
    [alert] = alerts(sql)
    assert (alert["count"], alert["first_value"], alert["last_value"]) == (2, 35.0, 41.0)
    assert alert["last_fired_at"] == T0 + timedelta(minutes=5)
    assert [e for e, _ in outbox(sql)] == ["AlertOpened"]


def test_two_rules_on_one_device_are_two_alerts(ingest_db: Database, sql: psycopg.Connection) -> None:
    other = hot_rule().model_copy(update={"id": "hot-2"})

    apply(ingest_db, opened(0))
    apply(ingest_db, opened(0), rule=other)

    assert sorted(a["fingerprint"] for a in alerts(sql)) == ["hot-2/dev-1", "hot/dev-1"]


def test_device_in_maintenance_raises_nothing(ingest_db: Database, sql: psycopg.Connection) -> None:
    sql.execute(
        """INSERT INTO maintenance_windows
               (tenant_id, id, device_id, starts_at, ends_at, reason, created_by, created_at)
           VALUES ('acme', 'mw-1', 'dev-1', %s, %s, 'firmware upgrade', 'ops', %s)""",
        (T0 - timedelta(hours=1), T0 + timedelta(hours=1), T0),
    )

    [change] = apply(ingest_db, opened(10))

    assert change.action == "suppressed" and change.reason == "maintenance mw-1"
    assert alerts(sql) == [] and outbox(sql) == []
    [after] = apply(ingest_db, opened(61))  # the window has ended
    assert after.action == "opened"


def test_site_in_maintenance_raises_nothing_for_its_devices(ingest_db: Database, sql: psycopg.Connection) -> None:
    sql.execute(
        """INSERT INTO maintenance_windows (tenant_id, id, site_id, starts_at, ends_at, created_by, created_at)
           VALUES ('acme', 'mw-2', 'plant-a', %s, %s, 'ops', %s)""",
        (T0, T0 + timedelta(hours=1), T0),
    )

    assert [c.action for c in apply(ingest_db, opened(1))] == ["suppressed"]
    assert alerts(sql) == []


@pytest.mark.parametrize(
    ("matchers", "silenced"),
    [
        ({"site_id": "plant-a"}, True),
        ({"tags": '{"zone": "cold"}'}, True),
        ({"rule_id": "hot", "severities": ["major", "critical"]}, True),
        ({"device_id": "dev-1", "severities": ["critical"]}, False),
        ({"site_id": "plant-b"}, False),
    ],
)
def test_alert_matching_an_active_silence_is_recorded_silenced(
    ingest_db: Database, sql: psycopg.Connection, matchers: dict[str, Any], silenced: bool
) -> None:
    columns = ", ".join(matchers)
    sql.execute(
        f"""INSERT INTO silences (tenant_id, id, {columns}, starts_at, ends_at, created_by, created_at)
            VALUES ('acme', 's-1', {", ".join(["%s"] * len(matchers))}, %s, %s, 'ops', %s)""",
        (*matchers.values(), T0 - timedelta(minutes=5), T0 + timedelta(hours=1), T0),
    )

    [change] = apply(ingest_db, opened(0))

    assert change.silenced is silenced
    [alert] = alerts(sql)
    assert alert["silenced"] is silenced and alert["silence_id"] == ("s-1" if silenced else None)
    [(_, detail)] = outbox(sql)
    assert detail["silenced"] is silenced


def test_resolve_after_min_open_resolves_and_announces(ingest_db: Database, sql: psycopg.Connection) -> None:
    apply(ingest_db, opened(0))

    [change] = apply(ingest_db, resolved(5))

    assert change.action == "resolved"
    [alert] = alerts(sql)
    assert alert["state"] == "resolved" and alert["resolved_at"] == T0 + timedelta(minutes=5)
    assert [e for e, _ in outbox(sql)] == ["AlertOpened", "AlertResolved"]
    assert timeline(sql, alert["id"]) == ["opened", "resolved"]


def test_flap_resolve_within_min_open_is_deferred_and_a_refire_cancels_it(
    ingest_db: Database, sql: psycopg.Connection
) -> None:
    apply(ingest_db, opened(0))

    changes = apply(ingest_db, resolved(0.25), opened(0.5))

    assert [c.action for c in changes] == ["resolve_deferred", "repeated"]
    [alert] = alerts(sql)
    assert (alert["state"], alert["count"], alert["resolve_due_at"]) == ("open", 2, None)
    assert timeline(sql, alert["id"]) == ["opened", "resolve_deferred", "resolve_cancelled"]
    assert [e for e, _ in outbox(sql)] == ["AlertOpened"]  # the flap never reached anyone


def test_deferred_resolve_takes_effect_at_min_open_when_nothing_refires(
    ingest_db: Database, sql: psycopg.Connection
) -> None:
    apply(ingest_db, opened(0), resolved(0.25))
    with ingest_db.transaction() as conn:
        assert settle_deferred_resolves(conn, T0 + timedelta(seconds=59)) == 0
    with ingest_db.transaction() as conn:
        assert settle_deferred_resolves(conn, T0 + timedelta(minutes=2)) == 1

    [alert] = alerts(sql)
    assert alert["state"] == "resolved" and alert["resolved_at"] == T0 + timedelta(seconds=60)
    assert [e for e, _ in outbox(sql)] == ["AlertOpened", "AlertResolved"]
    with ingest_db.transaction() as conn:
        assert settle_deferred_resolves(conn, T0 + timedelta(minutes=3)) == 0


def test_refire_shortly_after_resolve_reopens_the_same_alert(ingest_db: Database, sql: psycopg.Connection) -> None:
    apply(ingest_db, opened(0), resolved(2))

    [change] = apply(ingest_db, opened(4))

    [alert] = alerts(sql)
    assert change.action == "reopened" and change.alert_id == alert["id"]
    assert (alert["state"], alert["count"], alert["resolved_at"]) == ("open", 2, None)
    assert timeline(sql, alert["id"]) == ["opened", "resolved", "reopened"]
    assert [e for e, _ in outbox(sql)] == ["AlertOpened", "AlertResolved", "AlertReopened"]


def test_refire_after_the_reopen_window_opens_a_new_alert(ingest_db: Database, sql: psycopg.Connection) -> None:
    apply(ingest_db, opened(0), resolved(2))

    [change] = apply(ingest_db, opened(2 + 5.1))

    assert change.action == "opened"
    assert [a["state"] for a in alerts(sql)] == ["resolved", "open"]


def test_closed_alert_is_never_reopened_by_the_evaluator(ingest_db: Database, sql: psycopg.Connection) -> None:
    apply(ingest_db, opened(0), resolved(2))
    sql.execute("UPDATE alerts SET state = 'closed', closed_at = %s", (T0 + timedelta(minutes=3),))

    [change] = apply(ingest_db, opened(3.5))

    assert change.action == "opened" and len(alerts(sql)) == 2


def test_latched_alert_stays_open_when_its_condition_clears(ingest_db: Database, sql: psycopg.Connection) -> None:
    rule = hot_rule(latch=True)
    apply(ingest_db, opened(0), rule=rule)

    [change] = apply(ingest_db, resolved(5), rule=rule)

    assert change.action == "latched"
    [alert] = alerts(sql)
    assert alert["state"] == "open" and alert["latched"] and alert["condition_cleared_at"] == T0 + timedelta(minutes=5)
    assert [e for e, _ in outbox(sql)] == ["AlertOpened"]


def test_latch_released_by_the_evaluator_resolves_even_inside_min_open(
    ingest_db: Database, sql: psycopg.Connection
) -> None:
    rule = hot_rule(latch=True)
    apply(ingest_db, opened(0), rule=rule)

    [change] = apply(ingest_db, resolved(0.1, "released"), rule=rule)

    assert change.action == "resolved" and alerts(sql)[0]["state"] == "resolved"


def test_resolve_without_an_active_alert_changes_nothing(ingest_db: Database, sql: psycopg.Connection) -> None:
    assert [c.action for c in apply(ingest_db, resolved(1))] == ["ignored"]
    assert alerts(sql) == [] and outbox(sql) == []


def test_backtest_writes_no_events(ingest_db: Database, sql: psycopg.Connection) -> None:
    with ingest_db.transaction() as conn:
        changes = apply_transitions(
            conn, tenant_id="acme", device_id="dev-1", rule=hot_rule(), transitions=[opened(0)], source="backtest"
        )

    assert changes[0].action == "opened" and changes[0].event_type is None
    assert outbox(sql) == []
