"""The rule model: JSON in and out, and refusals that name the field at fault."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pulse.rules.model import Rule, Scope


def body(condition: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "name": "hot",
        "severity": "major",
        "scope": {"tenant_id": "acme"},
        "condition": condition,
    } | extra


def refusal(document: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        Rule.model_validate(document)
    return [(tuple(err["loc"]), err["msg"]) for err in caught.value.errors()]


def hot(**extra: Any) -> dict[str, Any]:
    return {"kind": "threshold", "metric": "temp", "op": ">", "value": 80} | extra


def test_a_nested_rule_round_trips_through_json():
    rule = Rule.model_validate(
        body(
            {
                "kind": "all",
                "conditions": [
                    {"kind": "for", "duration": "5m", "condition": hot(hysteresis=2)},
                    {"kind": "not", "condition": {"kind": "absence", "metric": "hum", "duration": 600}},
                    {"kind": "window", "metric": "hum", "agg": "rate", "window": "PT10M", "op": "<", "value": -1},
                    {"kind": "anomaly", "metric": "vib", "warmup": 50},
                    {"kind": "repeat", "count": 3, "within": "1h", "condition": hot(value={"ref": "attributes.max"})},
                    {"kind": "twin", "side": "desired", "path": "mode", "op": "==", "value": "eco"},
                ],
            },
            clear={"kind": "keep_firing_for", "duration": "2m", "condition": {"kind": "twin_not_converged"}},
            schedule={"weekdays": ["mon", "fri"], "start": "08:00", "end": "18:00", "timezone": "Europe/Berlin"},
            latch=True,
        )
    )
    assert Rule.model_validate_json(rule.model_dump_json()) == rule
    assert rule.condition.conditions[0].duration == timedelta(minutes=5)  # type: ignore[union-attr]


def test_between_with_low_above_high_names_high():
    errors = refusal(body({"kind": "threshold", "metric": "temp", "op": "between", "low": 30, "high": 10}))
    assert errors[0][0] == ("condition", "threshold", "high")
    assert "below low" in errors[0][1]


def test_range_ops_need_both_bounds_and_no_value():
    errors = refusal(body({"kind": "threshold", "metric": "temp", "op": "outside", "value": 3, "high": 10}))
    assert {loc[-1] for loc, _ in errors} == {"value", "low"}


def test_ordering_op_without_value_or_with_a_string_is_refused():
    assert refusal(body({"kind": "threshold", "metric": "temp", "op": ">"}))[0][0] == (
        "condition",
        "threshold",
        "value",
    )
    assert "compares numbers" in refusal(body(hot(value="hot")))[0][1]


def test_unknown_metric_name_pattern_names_the_metric():
    errors = refusal(body(hot(metric="9 bad name")))
    assert errors[0][0] == ("condition", "threshold", "metric")


def test_zero_window_and_overlong_durations_are_refused():
    window = {"kind": "window", "metric": "temp", "agg": "avg", "window": 0, "op": ">", "value": 1}
    errors = refusal(body(window))
    assert errors[0][0] == ("condition", "window", "window")
    assert "longer than zero" in errors[0][1]
    errors = refusal(body({"kind": "for", "duration": "8d", "condition": hot()}))
    assert errors[0][0] == ("condition", "for", "duration")


def test_nested_errors_carry_the_path_through_the_tree():
    errors = refusal(body({"kind": "any", "conditions": [hot(), {"kind": "not", "condition": hot(hysteresis=-1)}]}))
    assert errors[0][0] == ("condition", "any", "conditions", 1, "not", "condition", "threshold", "hysteresis")


def test_hysteresis_on_equality_and_unknown_kinds_and_fields_are_refused():
    assert refusal(body(hot(op="==", hysteresis=1)))[0][0][-1] == "hysteresis"
    assert refusal(body({"kind": "median", "metric": "t"}))[0][0] == ("condition",)
    assert refusal(body(hot(colour="red")))[0][0][-1] == "colour"


def test_refs_must_point_at_attributes_or_twin_sides():
    assert refusal(body(hot(value={"ref": "secrets.key"})))[0][0][:3] == ("condition", "threshold", "value")


def test_schedule_refuses_unknown_zones_empty_windows_and_repeated_days():
    schedule = {"weekdays": ["mon"], "start": "08:00", "end": "18:00"}
    assert refusal(body(hot(), schedule=schedule | {"timezone": "Mars/Olympus"}))[0][0] == ("schedule", "timezone")
    assert refusal(body(hot(), schedule=schedule | {"end": "08:00"}))[0][0] == ("schedule", "end")
    assert refusal(body(hot(), schedule=schedule | {"weekdays": ["mon", "mon"]}))[0][0] == ("schedule", "weekdays")


def test_severity_and_tree_size_are_bounded():
    assert refusal(body(hot(), severity="urgent"))[0][0] == ("severity",)
    wide = {"kind": "all", "conditions": [{"kind": "any", "conditions": [hot()] * 3} for _ in range(20)]}
    assert "condition nodes" in refusal(body(wide))[0][1]


def test_scope_matches_tenant_sites_models_devices_and_all_tags():
    scope = Scope(tenant_id="acme", site_ids=["s1"], models=["m1"], tags={"line": "a", "zone": "2"})
    device = {
        "tenant_id": "acme",
        "device_id": "d1",
        "site_id": "s1",
        "model": "m1",
        "tags": {"line": "a", "zone": "2"},
    }
    assert scope.matches(**device)
    assert not scope.matches(**device | {"tags": {"line": "a"}})
    assert not scope.matches(**device | {"tenant_id": "other"})
    assert not scope.matches(**device | {"site_id": "s2"})
    assert Scope(tenant_id="acme").matches(**device | {"site_id": None, "model": None})
