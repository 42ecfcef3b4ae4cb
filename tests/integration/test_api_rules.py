"""Rules over the API: versions under If-Match, enable/disable/delete, 422 with field paths, audit,
the metric catalog and mappings, and the backtest endpoint (read-only, limits, tenant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.builders import ApiHarness, make_device, store_points

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOT = {"kind": "threshold", "metric": "temp", "op": ">", "value": 80}


def draft(rule_id: str = "hot-pump", **changes: Any) -> dict[str, Any]:
    return {"id": rule_id, "name": "Pump too hot", "severity": "major", "condition": HOT} | changes


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex"):
        harness.create_tenant(tenant)
        make_device(sql, tenant, "pump-1")
    yield harness
    harness.close()


def _audit(sql, action: str) -> list[tuple[str, str]]:
    return sql.execute("SELECT tenant_id, entity_id FROM audit_log WHERE action = %s ORDER BY id", (action,)).fetchall()


def test_a_rule_is_created_at_version_1_for_the_callers_tenant_and_audited(api, sql):
    created = api.request("POST", "/rules", json=draft())
    assert created.status_code == 201, created.json()
    assert created.headers["ETag"] == '"1"'
    body = created.json()
    assert (body["id"], body["current_version"], body["enabled"]) == ("hot-pump", 1, True)
    assert body["rule"]["scope"]["tenant_id"] == "acme"
    condition = api.request("GET", "/rules/hot-pump").json()["rule"]["condition"]
    assert {k: condition[k] for k in HOT} == HOT
    assert api.request("POST", "/rules", json=draft()).status_code == 409
    assert _audit(sql, "rule.create") == [("acme", "hot-pump")]
    assert api.request("GET", "/rules/hot-pump", as_=("customer_admin", "globex")).status_code == 404


def test_an_invalid_rule_is_a_422_problem_naming_the_field(api):
    bad = draft(condition={"kind": "threshold", "metric": "temp", "op": ">", "value": "hot"})
    response = api.request("POST", "/rules", json=bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert "condition.threshold.value" in fields
    too_long = api.request("POST", "/rules", json=draft(condition={"kind": "absence", "duration": "30d"}))
    assert [e["field"] for e in too_long.json()["errors"]] == ["condition.absence.duration"]
    other_tenant = api.request("POST", "/rules", json=draft(scope={"tenant_id": "globex"}))
    assert other_tenant.status_code == 400 and other_tenant.json()["errors"][0]["field"] == "scope.tenant_id"


def test_put_writes_the_next_version_under_if_match(api, sql):
    api.request("POST", "/rules", json=draft())
    changed = draft(condition=HOT | {"value": 90})
    assert api.request("PUT", "/rules/hot-pump", json=changed).status_code == 428
    assert api.request("PUT", "/rules/hot-pump", json=changed, headers={"If-Match": '"7"'}).status_code == 412
    updated = api.request("PUT", "/rules/hot-pump", json=changed | {"id": ""}, headers={"If-Match": '"1"'})
    assert updated.status_code == 200, updated.json()
    assert updated.headers["ETag"] == '"2"' and updated.json()["rule"]["condition"]["value"] == 90
    renamed = api.request("PUT", "/rules/hot-pump", json=draft("other"), headers={"If-Match": '"2"'})
    assert renamed.status_code == 400
    versions = api.request("GET", "/rules/hot-pump/versions", params={"limit": 1}).json()
    assert [v["version"] for v in versions["items"]] == [2]
    older = api.request("GET", "/rules/hot-pump/versions", params={"cursor": versions["next_cursor"]}).json()
    assert [v["version"] for v in older["items"]] == [1] and older["next_cursor"] is None
    first = api.request("GET", "/rules/hot-pump/versions/1").json()
    assert first["rule"]["condition"]["value"] == 80
    assert api.request("GET", "/rules/hot-pump/versions/3").status_code == 404
    assert _audit(sql, "rule.update") == [("acme", "hot-pump")]


def test_disable_enable_delete_and_the_list(api, sql):
    for rule_id in ("a-rule", "b-rule", "c-rule"):
        api.request("POST", "/rules", json=draft(rule_id))
    disabled = api.request("POST", "/rules/b-rule:disable")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert api.request("POST", "/rules/b-rule:enable").json()["enabled"] is True
    assert api.request("DELETE", "/rules/c-rule").status_code == 204
    assert api.request("GET", "/rules/c-rule").status_code == 404
    assert api.request("POST", "/rules/c-rule:enable").status_code == 404
    page = api.request("GET", "/rules", params={"limit": 1}).json()
    rest = api.request("GET", "/rules", params={"cursor": page["next_cursor"]}).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == ["a-rule", "b-rule"]
    actions = {row[0] for row in sql.execute("SELECT action FROM audit_log WHERE entity_type = 'rule'")}
    assert {"rule.create", "rule.disable", "rule.enable", "rule.delete"} <= actions


def test_viewers_read_rules_but_may_not_change_them(api):
    api.request("POST", "/rules", json=draft())
    viewer = ("customer_viewer", "acme")
    assert api.request("GET", "/rules", as_=viewer).status_code == 200
    assert api.request("POST", "/rules", json=draft("x"), as_=viewer).status_code == 403
    assert api.request("POST", "/rules/hot-pump:disable", as_=viewer).status_code == 403
    assert api.request("DELETE", "/rules/hot-pump", as_=viewer).status_code == 403
    assert api.request("PUT", "/metrics/temp", json={}, as_=viewer).status_code == 403


def test_metric_catalog_and_model_mappings(api, sql):
    put = api.request("PUT", "/metrics/temp", json={"unit": "degC", "description": "water temperature"})
    assert put.status_code == 200 and put.json()["unit"] == "degC"
    assert api.request("GET", "/metrics/temp").json()["description"] == "water temperature"
    assert [m["name"] for m in api.request("GET", "/metrics").json()] == ["temp"]
    assert api.request("PUT", "/metrics/9bad", json={}).json()["errors"][0]["field"] == "name"
    mapping = {"metric": "temp", "multiplier": 0.5555555555555556, "offset": -17.77777777777778, "source_unit": "degF"}
    assert api.request("PUT", "/models/tf-100/metric-mappings/t_f", json=mapping).status_code == 200
    unknown = api.request("PUT", "/models/tf-100/metric-mappings/rh", json={"metric": "humidity"})
    assert unknown.status_code == 400
    assert api.request("GET", "/models/tf-100/metric-mappings").json()[0]["source"] == "t_f"
    assert api.request("DELETE", "/metrics/temp").status_code == 409
    assert api.request("DELETE", "/models/tf-100/metric-mappings/t_f").status_code == 204
    assert api.request("DELETE", "/metrics/temp").status_code == 204
    assert api.request("GET", "/metrics/temp").status_code == 404
    actions = [row[0] for row in sql.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-4:] == ["metric.create", "metric_mapping.put", "metric_mapping.delete", "metric.delete"]


def _backtest(api, rule: dict[str, Any], hours: float = 2, **extra: Any):
    body = {"rule": rule, "start": T0.isoformat(), "end": (T0 + timedelta(hours=hours)).isoformat(), **extra}
    return api.request("POST", "/rules:backtest", json=body)


def test_backtest_of_a_draft_answers_alerts_counts_and_days_without_writing(api, sql):
    series = [(0, 70.0), (10, 85.0), (20, 90.0), (30, 60.0)]
    store_points(sql, "acme", "pump-1", [(T0 + timedelta(minutes=m), "temp", v) for m, v in series])
    store_points(sql, "globex", "pump-1", [(T0, "temp", 99.0)])
    rule = {"name": "draft", "severity": "minor", "condition": {"kind": "for", "duration": "5m", "condition": HOT}}
    response = _backtest(api, rule)
    assert response.status_code == 200, response.json()
    result = response.json()
    [alert] = result["alerts"]
    assert (alert["device_id"], alert["opened_at"], alert["resolved_at"]) == (
        "pump-1",
        "2026-03-02T10:15:00Z",
        "2026-03-02T10:30:00Z",
    )
    assert result["per_device"] == [{"device_id": "pump-1", "samples": 4, "opened": 1, "resolved": 1, "suppressed": 0}]
    assert result["per_day"] == [{"day": "2026-03-02", "opened": 1, "resolved": 1}]
    assert sql.execute("SELECT count(*) FROM rules").fetchone() == (0,)
    assert sql.execute("SELECT count(*) FROM alerts").fetchone() == (0,)
    assert sql.execute("SELECT count(*) FROM rule_state").fetchone() == (0,)


def test_backtest_refusals_name_the_field_or_the_limit(api):
    invalid = _backtest(api, {"name": "d", "severity": "minor", "condition": {"kind": "window", "metric": "temp"}})
    assert invalid.status_code == 422
    assert all(e["field"].startswith("rule.condition.window") for e in invalid.json()["errors"])
    too_long = _backtest(api, {"name": "d", "severity": "minor", "condition": HOT}, hours=24 * 40)
    assert too_long.status_code == 422 and too_long.json()["title"] == "Backtest limit exceeded"
    foreign = _backtest(api, {"name": "d", "severity": "minor", "condition": HOT, "scope": {"tenant_id": "globex"}})
    assert foreign.status_code == 400
    unknown = _backtest(api, {"name": "d", "severity": "minor", "condition": HOT}, device_ids=["pump-9"])
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "device_ids"
