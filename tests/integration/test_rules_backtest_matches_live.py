"""Done when: a backtest over a stored range returns the same alerts live evaluation opened for it.

Two hours of telemetry of three devices go through the real ingest pipeline minute by minute with
a saved rule, while the one-minute evaluator ticks and the outbox sweep settles flap-deferred
resolves, as deployed. The draft of the same rule is then backtested over the range through the
API, and every device's alerts must open and resolve at the same instants as the stored ones: a
``for`` promotion, a flap (resolve deferred by ``min_open``, then reopened inside the reopen
window), an absence of any message that opens on the clock alone, and a device whose raw metric is
mapped onto the catalog name the rule uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.alerts.sweeps import settle_deferred_resolves
from pulse.db import Database
from pulse.rules.cache import RuleCache
from pulse.rules.scheduled import run_tick
from tests.builders import ApiHarness, make_device
from tests.integration.rule_fixtures import alerts, ingest

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MINUTES = 120
HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}
RULE = {
    "id": "pump-health",
    "name": "Pump hot or silent",
    "severity": "major",
    "condition": {
        "kind": "any",
        "conditions": [{"kind": "for", "duration": "3m", "condition": HOT}, {"kind": "absence", "duration": "10m"}],
    },
}


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def pump_1(minute: int) -> list[tuple[datetime, dict[str, Any]]]:
    """Hot 10-19 (opens at 13); hot 40-43 with a drop at 43.5 (resolve deferred to 44, settled by the
    sweep); hot again 46-51 (opens at 49: reopens the same alert); silent 70-99 (absence opens at 79)."""
    if 70 <= minute < 100:
        return []
    hot = 10 <= minute < 20 or 40 <= minute <= 43 or 46 <= minute < 52
    points = [(at(minute), {"temp": 85.0 if hot else 60.0})]
    if minute == 43:
        points.append((at(43.5), {"temp": 60.0}))
    return points


def pump_2(minute: int) -> list[tuple[datetime, dict[str, Any]]]:
    """Model tf-100 reports Fahrenheit as t_f: 185 F (85 C) from 30 to 39, 140 F otherwise."""
    return [(at(minute), {"t_f": 185.0 if 30 <= minute < 40 else 140.0})]


def pump_3(minute: int) -> list[tuple[datetime, dict[str, Any]]]:
    return [(at(minute), {"temp": 50.0})]


SERIES = {"pump-1": pump_1, "pump-2": pump_2, "pump-3": pump_3}


@pytest.fixture
def api(database_url, aws, sql) -> Iterator[ApiHarness]:
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    for device in SERIES:
        make_device(sql, "acme", device)
    sql.execute("UPDATE devices SET model = 'tf-100' WHERE id = 'pump-2'")
    yield harness
    harness.close()


@pytest.fixture
def ingest_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


def live(ingest_db: Database) -> None:
    """Minute by minute: each device's messages of the minute, then the evaluator tick and the sweep."""
    rules = RuleCache()
    for minute in range(MINUTES):
        for device, series in SERIES.items():
            points = series(minute)
            if points:
                ingest(ingest_db, "acme", device, points, rules)
        tick = at(minute + 0.75)
        run_tick(ingest_db, tick, lateness=timedelta(0))
        with ingest_db.transaction() as conn:
            settle_deferred_resolves(conn, tick)


def test_backtest_of_the_draft_opens_and_resolves_exactly_what_live_evaluation_stored(api, ingest_db, sql):
    assert api.request("PUT", "/metrics/temp", json={"unit": "degC"}).status_code == 200
    mapping = {"metric": "temp", "multiplier": 5 / 9, "offset": -160 / 9}
    assert api.request("PUT", "/models/tf-100/metric-mappings/t_f", json=mapping).status_code == 200
    assert api.request("POST", "/rules", json=RULE).status_code == 201

    live(ingest_db)
    stored = {(device, opened, resolved) for _, device, _, opened, resolved, _ in alerts(sql, "acme")}
    assert stored == {
        ("pump-1", at(13), at(20)),
        ("pump-1", at(43), at(52)),  # deferred to 44, reopened at 49
        ("pump-1", at(79), at(100)),  # last message at 69
        ("pump-2", at(33), at(40)),
    }

    draft = {key: value for key, value in RULE.items() if key != "id"}
    end = at(MINUTES - 1 + 0.75)  # the last tick: timers due later never ran live either
    response = api.request(
        "POST", "/rules:backtest", json={"rule": draft, "start": at(-1).isoformat(), "end": end.isoformat()}
    )
    assert response.status_code == 200, response.json()
    result = response.json()
    replayed = {
        (
            a["device_id"],
            datetime.fromisoformat(a["opened_at"]),
            a["resolved_at"] and datetime.fromisoformat(a["resolved_at"]),
        )
        for a in result["alerts"]
    }
    assert replayed == stored
    flap = next(a for a in result["alerts"] if a["opened_at"].startswith("2026-11-30T08:43"))
    assert (flap["fired"], flap["reopened"]) == (2, 1)
    assert {d["device_id"]: d["opened"] for d in result["per_device"]} == {"pump-1": 3, "pump-2": 1, "pump-3": 0}
