"""Twin rules without telemetry: a twin update re-evaluates the device's twin rules in its own
transaction, and the convergence check's TwinNotConverged reaches ``twin_not_converged`` rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database
from pulse.twin.service import find_unconverged, set_twin_settings, update_twin
from pulse.twin.store import TwinSettings
from tests.builders import make_device, make_tenant
from tests.integration.rule_fixtures import add_rule, alerts

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FW_BEHIND = {
    "kind": "twin",
    "side": "reported",
    "path": "fw",
    "op": "!=",
    "value": {"ref": "twin.desired.fw"},
}


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.fixture
def app_db(database_url: str, sql) -> Iterator[Database]:
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    make_device(sql, "acme", "dev-2")
    db = Database(database_url, "pulse_app")
    yield db
    db.close()


def _report(db: Database, device_id: str, minute: float, **reported: object) -> None:
    update_twin(db, "acme", device_id, {"state": {"reported": reported}}, source="device", now=at(minute))


def _desire(db: Database, device_id: str, minute: float, **desired: object) -> None:
    update_twin(db, "acme", device_id, {"state": {"desired": desired}}, source="api", actor="u:ann", now=at(minute))


def test_a_twin_rule_opens_on_a_desired_change_and_resolves_on_the_devices_report(app_db, sql):
    add_rule(app_db, "acme", FW_BEHIND, rule_id="fw-behind")
    _report(app_db, "dev-1", 0, fw="1.0")
    assert alerts(sql, "acme") == []

    _desire(app_db, "dev-1", 1, fw="2.0")
    assert alerts(sql, "acme") == [("fw-behind", "dev-1", "open", at(1), None, "stream")]

    _report(app_db, "dev-1", 6, fw="2.0")
    assert alerts(sql, "acme") == [("fw-behind", "dev-1", "resolved", at(1), at(6), "stream")]
    events = sql.execute("SELECT event_type FROM events_outbox ORDER BY id").fetchall()
    assert events == [("AlertOpened",), ("AlertResolved",)]


def test_a_twin_rule_leaves_devices_outside_its_scope_alone(app_db, sql):
    add_rule(app_db, "acme", FW_BEHIND, rule_id="fw-behind", scope={"tenant_id": "acme", "device_ids": ["dev-2"]})
    _report(app_db, "dev-1", 0, fw="1.0")
    _desire(app_db, "dev-1", 1, fw="2.0")
    assert alerts(sql, "acme") == []
    assert sql.execute("SELECT count(*) FROM rule_state").fetchone() == (0,)


def test_twin_not_converged_opens_when_the_deadline_passes_and_resolves_when_the_device_reports(
    app_db, database_url, sql
):
    set_twin_settings(app_db, "acme", TwinSettings(auto_clear=False, convergence_minutes=15))
    add_rule(app_db, "acme", {"kind": "twin_not_converged", "path": "fw"}, rule_id="fw-stuck", severity="minor")
    _report(app_db, "dev-1", 0, fw="1.0")
    _desire(app_db, "dev-1", 1, fw="2.0")
    operator = Database(database_url)
    try:
        assert find_unconverged(operator, at(10)) == []
        assert alerts(sql, "acme") == []  # not converged yet, but still within the deadline

        [raised] = find_unconverged(operator, at(16))
    finally:
        operator.close()

    assert raised.path == "/fw"
    [opened] = alerts(sql, "acme")
    assert opened == ("fw-stuck", "dev-1", "open", at(16), None, "stream")
    [why] = sql.execute("SELECT explanation -> 'condition' ->> 'summary' FROM alerts").fetchone()
    assert why == "desired != reported at fw past the convergence deadline"

    _report(app_db, "dev-1", 20, fw="2.0")
    assert alerts(sql, "acme") == [("fw-stuck", "dev-1", "resolved", at(16), at(20), "stream")]


def test_a_new_desired_value_restarts_the_deadline_of_a_twin_not_converged_rule(app_db, database_url, sql):
    add_rule(app_db, "acme", {"kind": "twin_not_converged"}, rule_id="stuck")
    _desire(app_db, "dev-1", 0, mode="eco")
    operator = Database(database_url)
    try:
        find_unconverged(operator, at(16))
        assert [a[2] for a in alerts(sql, "acme")] == ["open"]

        _desire(app_db, "dev-1", 20, mode="boost")  # a new change: the device gets a new deadline
    finally:
        operator.close()

    assert alerts(sql, "acme") == [("stuck", "dev-1", "resolved", at(16), at(20), "stream")]
