"""Rule timelines: given a telemetry series with timestamps, the exact instants alerts open and resolve."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from pulse.rules import (
    EvaluationContext,
    Opened,
    Rule,
    RuleEvaluationError,
    RuleState,
    Sample,
    Transition,
    evaluate,
    release_latch,
    tick,
    twin_changed,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def rule(condition: dict[str, Any], **extra: Any) -> Rule:
    body = {"id": "r1", "name": "test rule", "severity": "major", "scope": {"tenant_id": "acme"}}
    return Rule.model_validate(body | {"condition": condition} | extra)


def series(metric: str, points: list[tuple[float, float]]) -> list[Sample]:
    return [Sample(at(minute), {metric: value}) for minute, value in points]


def timeline(
    r: Rule, samples: list[Sample], until: float, context: EvaluationContext | None = None
) -> list[tuple[str, float]]:
    _, transitions = evaluate(r, None, samples, at(until), context)
    return [(("open" if isinstance(t, Opened) else "resolve"), (t.at - T0) / timedelta(minutes=1)) for t in transitions]


def hot(op: str = ">", value: float = 80, **extra: Any) -> dict[str, Any]:
    return {"kind": "threshold", "metric": "temp", "op": op, "value": value} | extra


# --- threshold ------------------------------------------------------------------------------------


def test_threshold_opens_at_the_first_value_over_and_resolves_at_the_first_value_back():
    samples = series("temp", [(0, 70), (1, 81), (2, 90), (3, 80), (4, 85)])
    assert timeline(rule(hot()), samples, 5) == [("open", 1), ("resolve", 3), ("open", 4)]


def test_threshold_ops_compare_exactly_at_the_boundary():
    samples = series("temp", [(0, 79), (1, 80), (2, 81)])
    assert timeline(rule(hot(">=")), samples, 3) == [("open", 1)]
    assert timeline(rule(hot("==")), samples, 3) == [("open", 1), ("resolve", 2)]
    assert timeline(rule(hot("!=")), samples, 3) == [("open", 0), ("resolve", 1), ("open", 2)]
    assert timeline(rule(hot("<=")), samples, 3) == [("open", 0), ("resolve", 2)]


def test_between_and_outside_include_their_bounds():
    samples = series("temp", [(0, 9), (1, 10), (2, 20), (3, 21)])
    between = {"kind": "threshold", "metric": "temp", "op": "between", "low": 10, "high": 20}
    assert timeline(rule(between), samples, 4) == [("open", 1), ("resolve", 3)]
    assert timeline(rule(between | {"op": "outside"}), samples, 4) == [("open", 0), ("resolve", 1), ("open", 3)]


def test_hysteresis_keeps_a_wobbling_value_from_flapping():
    samples = series("temp", [(0, 81), (1, 79.5), (2, 80.5), (3, 79), (4, 78.5), (5, 78)])
    assert timeline(rule(hot()), samples, 6) == [("open", 0), ("resolve", 1), ("open", 2), ("resolve", 3)]
    assert timeline(rule(hot(hysteresis=2)), samples, 6) == [("open", 0), ("resolve", 5)]


def test_any_across_two_metrics_stays_open_while_either_holds():
    condition = {"kind": "any", "conditions": [hot(), {"kind": "threshold", "metric": "hum", "op": ">", "value": 90}]}
    samples = [
        Sample(at(0), {"temp": 70, "hum": 50}),
        Sample(at(1), {"temp": 85}),
        Sample(at(2), {"hum": 95}),
        Sample(at(3), {"temp": 70}),
        Sample(at(5), {"hum": 60}),
        Sample(at(6), {"hum": 99}),
    ]
    assert timeline(rule(condition), samples, 7) == [("open", 1), ("resolve", 5), ("open", 6)]


def test_all_needs_both_metrics_and_not_inverts():
    condition = {"kind": "all", "conditions": [hot(), {"kind": "not", "condition": hot(value=95)}]}
    samples = series("temp", [(0, 70), (1, 85), (2, 96), (3, 90)])
    assert timeline(rule(condition), samples, 4) == [("open", 1), ("resolve", 2), ("open", 3)]


def test_a_metric_never_seen_is_unknown_and_not_of_unknown_opens_nothing():
    condition = {"kind": "not", "condition": hot()}
    assert timeline(rule(condition), series("other", [(0, 1), (1, 2)]), 2) == []


def test_dynamic_threshold_reads_the_device_attribute_and_a_missing_ref_never_opens():
    r = rule(hot(value={"ref": "attributes.max_temp"}))  # type: ignore[arg-type]
    samples = series("temp", [(0, 50), (1, 61), (2, 59)])
    assert timeline(r, samples, 3, EvaluationContext(attributes={"max_temp": 60})) == [("open", 1), ("resolve", 2)]
    assert timeline(r, samples, 3, EvaluationContext()) == []


def test_threshold_on_a_twin_value_and_twin_predicates():
    r = rule(hot(value={"ref": "twin.desired.limits.temp"}))  # type: ignore[arg-type]
    ctx = EvaluationContext(desired={"limits": {"temp": 40}})
    assert timeline(r, series("temp", [(0, 41)]), 1, ctx) == [("open", 0)]
    fw = rule({"kind": "twin", "side": "reported", "path": "fw.version", "op": "!=", "value": "2.0"})
    ping = series("temp", [(0, 1)])
    assert timeline(fw, ping, 1, EvaluationContext(reported={"fw": {"version": "1.9"}})) == [("open", 0)]
    assert timeline(fw, ping, 1, EvaluationContext(reported={"fw": {"version": "2.0"}})) == []


def test_twin_not_converged_holds_for_a_mismatch_past_the_convergence_deadline():
    r = rule({"kind": "twin_not_converged", "path": "mode"})
    ping = series("temp", [(0, 1)])
    mismatch = {"desired": {"mode": "eco"}, "reported": {"mode": "boost"}}
    assert timeline(r, ping, 1, EvaluationContext(**mismatch, overdue=frozenset({"mode"}))) == [("open", 0)]
    assert timeline(r, ping, 1, EvaluationContext(**mismatch)) == []  # still within the deadline
    assert timeline(r, ping, 1, EvaluationContext(**mismatch, overdue=frozenset({"fan.speed"}))) == []
    converged = EvaluationContext(desired={"mode": "eco"}, reported={"mode": "eco"}, overdue=frozenset({"mode"}))
    assert timeline(r, ping, 1, converged) == []
    anywhere = rule({"kind": "twin_not_converged"})
    ctx = EvaluationContext(desired={"fan": {"speed": 2}}, reported={"fan": {"speed": 2, "auto": True}})
    assert timeline(anywhere, ping, 1, ctx) == []
    late = EvaluationContext(
        desired={"fan": {"speed": 3}}, reported={"fan": {"speed": 2}}, overdue=frozenset({"fan.speed"})
    )
    assert timeline(anywhere, ping, 1, late) == [("open", 0)]
    assert timeline(rule({"kind": "twin_not_converged", "path": "fan"}), ping, 1, late) == [("open", 0)]


# --- time -----------------------------------------------------------------------------------------


def test_for_opens_after_the_condition_held_for_the_duration_and_a_break_restarts_it():
    r = rule({"kind": "for", "duration": "5m", "condition": hot()})
    samples = series("temp", [(0, 85), (3, 70), (4, 85), (7, 90), (12, 70)])
    assert timeline(r, samples, 20) == [("open", 9), ("resolve", 12)]


def test_for_promotes_on_a_tick_without_new_samples():
    r = rule({"kind": "for", "duration": "5m", "condition": hot()})
    state, opened = evaluate(r, None, series("temp", [(0, 85)]), at(0))
    assert opened == []
    state, opened = tick(r, state, at(4.5))
    assert opened == []
    _, opened = tick(r, state, at(6))
    assert [t.at for t in opened] == [at(5)]


def test_for_duration_survives_a_restart_through_json():
    r = rule({"kind": "for", "duration": "10m", "condition": hot()})
    state, _ = evaluate(r, None, series("temp", [(0, 85), (4, 86)]), at(4))
    stored = state.model_dump_json()
    restored = RuleState.model_validate_json(stored)
    _, transitions = evaluate(r, restored, series("temp", [(8, 87)]), at(11))
    assert [(type(t).__name__, t.at) for t in transitions] == [("Opened", at(10))]


def test_keep_firing_for_holds_the_alert_after_the_condition_stops():
    r = rule({"kind": "keep_firing_for", "duration": "5m", "condition": hot()})
    samples = series("temp", [(0, 85), (3, 70), (5, 90), (6, 70)])
    assert timeline(r, samples, 30) == [("open", 0), ("resolve", 11)]


def test_repeat_counts_rising_edges_within_the_period():
    r = rule({"kind": "repeat", "count": 3, "within": "10m", "condition": hot()})
    samples = series("temp", [(0, 85), (1, 70), (4, 85), (5, 70), (7, 85), (8, 70), (25, 85)])
    assert timeline(r, samples, 30) == [("open", 7), ("resolve", 10)]


def test_window_average_opens_on_a_sample_and_resolves_when_samples_leave_the_window():
    r = rule({"kind": "window", "metric": "temp", "agg": "avg", "window": "5m", "op": ">", "value": 50})
    samples = series("temp", [(0, 40), (1, 70), (2, 60)])
    # avg 40 -> 55 -> 56.7; at 5 the 40 leaves (65); at 6 the 70 leaves (60); at 7 nothing is left
    assert timeline(r, samples, 10) == [("open", 1), ("resolve", 7)]


def test_window_count_and_rate_of_change():
    count = rule({"kind": "window", "metric": "door", "agg": "count", "window": "10m", "op": ">=", "value": 3})
    opens = series("door", [(0, 1), (2, 1), (4, 1), (30, 1)])
    assert timeline(count, opens, 40) == [("open", 4), ("resolve", 10)]
    rate = rule({"kind": "window", "metric": "temp", "agg": "rate", "window": "10m", "op": ">", "value": 2})
    rising = series("temp", [(0, 20), (1, 21), (2, 25), (20, 25)])  # per minute: 1, 2.5, then one sample
    assert timeline(rate, rising, 21) == [("open", 2), ("resolve", 11)]  # at 11 one sample: no rate


def test_absence_fires_on_a_tick_with_no_further_messages_and_resolves_on_the_next_message():
    r = rule({"kind": "absence", "duration": "10m"})
    state, transitions = evaluate(r, None, series("temp", [(0, 20), (3, 21)]), at(3))
    assert transitions == []
    state, transitions = tick(r, state, at(12))
    assert transitions == []
    state, transitions = tick(r, state, at(14))
    assert [(type(t).__name__, t.at) for t in transitions] == [("Opened", at(13))]
    _, transitions = evaluate(r, state, series("temp", [(20, 22)]), at(20))
    assert [(type(t).__name__, t.at) for t in transitions] == [("Resolved", at(20))]


def test_absence_of_one_metric_while_others_keep_arriving():
    r = rule({"kind": "absence", "metric": "temp", "duration": "5m"})
    samples = [Sample(at(0), {"temp": 20, "hum": 50}), *series("hum", [(m, 50) for m in range(1, 10)])]
    assert timeline(r, samples, 10) == [("open", 5)]


def test_anomaly_is_silent_during_warm_up_then_flags_a_spike():
    calm = [20.2, 19.8, 20.1, 19.9] * 4
    points = [(0, 20), (1, 20.4), (2, 19.6), (3, 30)] + [(4 + i, v) for i, v in enumerate(calm)] + [(20, 30), (21, 20)]
    warming = rule({"kind": "anomaly", "metric": "temp", "warmup": 5, "z": 4, "alpha": 0.2})
    assert timeline(warming, series("temp", points), 22) == [("open", 20), ("resolve", 21)]
    no_warm_up = rule({"kind": "anomaly", "metric": "temp", "warmup": 2, "z": 4, "alpha": 0.2})
    assert timeline(no_warm_up, series("temp", points), 22)[0] == ("open", 3)


def test_anomaly_of_a_flat_history_flags_any_change():
    r = rule({"kind": "anomaly", "metric": "temp", "warmup": 3})
    assert timeline(r, series("temp", [(0, 5), (1, 5), (2, 5), (3, 5), (4, 6)]), 5) == [("open", 4)]


# --- lifecycle ------------------------------------------------------------------------------------


def test_latch_keeps_the_alert_open_after_the_condition_clears_until_released():
    r = rule(hot(), latch=True)
    state, transitions = evaluate(r, None, series("temp", [(0, 85), (1, 70), (2, 90), (3, 70)]), at(4))
    assert [(type(t).__name__, t.at) for t in transitions] == [("Opened", at(0))]
    assert state.firing
    assert state.cleared_at == at(3)
    state, transitions = release_latch(r, state, at(5))
    assert [(type(t).__name__, t.at, t.reason) for t in transitions] == [("Resolved", at(5), "released")]  # type: ignore[union-attr]
    assert not state.firing


def test_latch_released_while_the_condition_holds_resolves_when_it_clears():
    r = rule(hot(), latch=True)
    state, _ = evaluate(r, None, series("temp", [(0, 85)]), at(0))
    state, transitions = release_latch(r, state, at(1))
    assert transitions == []
    _, transitions = evaluate(r, state, series("temp", [(2, 70)]), at(2))
    assert [type(t).__name__ for t in transitions] == ["Resolved"]


def test_explicit_clear_condition_decides_resolution():
    r = rule(hot(), clear={"kind": "for", "duration": "3m", "condition": hot("<", 60)})
    samples = series("temp", [(0, 85), (1, 70), (2, 55), (4, 58), (6, 90)])
    assert timeline(r, samples, 10) == [("open", 0), ("resolve", 5), ("open", 6)]


def test_explanation_names_the_values_that_made_it_true():
    r = rule({"kind": "any", "conditions": [hot(), {"kind": "threshold", "metric": "hum", "op": ">", "value": 90}]})
    _, (opened,) = evaluate(r, None, [Sample(at(0), {"temp": 85, "hum": 40})], at(0))
    assert opened.explanation.kind == "any"
    assert opened.explanation.result is True
    temp, hum = opened.explanation.children
    assert (temp.summary, temp.observed, temp.result) == ("temp > 80", 85.0, True)
    assert (hum.observed, hum.result) == (40.0, False)


def test_late_samples_are_counted_and_not_evaluated():
    r = rule(hot())
    state, _ = evaluate(r, None, series("temp", [(5, 70)]), at(5))
    state, transitions = evaluate(r, state, series("temp", [(4, 90)]), at(6))
    assert transitions == []
    assert state.late_samples == 1


# --- persistence ----------------------------------------------------------------------------------


def test_next_due_names_the_timer_and_a_tick_before_it_changes_nothing():
    r = rule({"kind": "for", "duration": "5m", "condition": hot()})
    state, _ = evaluate(r, None, series("temp", [(0, 85)]), at(1))
    assert state.next_due == at(5)
    same, transitions = tick(r, state, at(5))
    assert transitions == []
    assert same.model_dump(exclude={"watermark"}) == state.model_dump(exclude={"watermark"})
    done, transitions = tick(r, state, at(5.01))
    assert [t.at for t in transitions] == [at(5)]
    assert done.next_due is None


def test_a_new_rule_version_keeps_the_state_of_conditions_it_did_not_change():
    pending = {"kind": "for", "duration": "10m", "condition": hot()}
    v1 = rule({"kind": "all", "conditions": [pending, {"kind": "threshold", "metric": "hum", "op": "<", "value": 90}]})
    state, _ = evaluate(v1, None, [Sample(at(0), {"temp": 85, "hum": 50})], at(1))
    changed = {"kind": "threshold", "metric": "hum", "op": "<", "value": 95}
    v2 = rule({"kind": "all", "conditions": [pending, changed]}, version=2)
    _, transitions = tick(v2, state, at(11))
    assert [t.at for t in transitions] == [at(10)]  # the for kept its start at minute 0
    v3 = rule({"kind": "all", "conditions": [pending | {"duration": "12m"}, changed]}, version=3)
    state, transitions = tick(v3, state, at(12.5))
    assert transitions == []  # a changed for starts over when the version takes over (minute 1)
    assert state.rule_version == 3
    _, transitions = tick(v3, state, at(14))
    assert [t.at for t in transitions] == [at(13)]


def test_state_of_another_rule_is_refused():
    other = rule(hot()).model_copy(update={"id": "r2"})
    state, _ = evaluate(rule(hot()), None, series("temp", [(0, 85)]), at(0))
    with pytest.raises(RuleEvaluationError, match="state of rule 'r1'"):
        tick(other, state, at(1))


def test_samples_out_of_order_or_without_a_zone_are_refused():
    with pytest.raises(RuleEvaluationError, match="time order"):
        evaluate(rule(hot()), None, series("temp", [(1, 85), (0, 85)]), at(2))
    with pytest.raises(RuleEvaluationError, match="timezone-aware"):
        evaluate(rule(hot()), None, [Sample(datetime(2026, 3, 2, 12, 0), {"temp": 1})], at(2))


def test_transitions_serialize_to_json_with_the_explanation_tree():
    r = rule({"kind": "for", "duration": "90s", "condition": hot()})
    _, transitions = evaluate(r, None, series("temp", [(0, 85), (2, 86)]), at(2))
    document = json.loads(TypeAdapter(list[Transition]).dump_json(transitions))
    assert document == [
        {
            "at": "2026-03-02T12:01:30Z",
            "explanation": {
                "kind": "for",
                "result": True,
                "summary": "for 1m30s, true since 2026-03-02T12:00:00+00:00",
                "observed": None,
                "children": [
                    {"kind": "threshold", "result": True, "summary": "temp > 80", "observed": 85.0, "children": []}
                ],
            },
        }
    ]


def test_twin_not_converged_for_ten_minutes_opens_on_the_clock_and_resolves_when_reported_catches_up():
    """Overdue from minute 0 (the convergence check raised TwinNotConverged); ``for`` adds 10 minutes."""
    r = rule({"kind": "for", "duration": "10m", "condition": {"kind": "twin_not_converged", "path": "mode"}})
    waiting = EvaluationContext(desired={"mode": "eco"}, reported={"mode": "boost"}, overdue=frozenset({"mode"}))
    state, transitions = twin_changed(r, None, at(0), waiting)
    assert transitions == []
    state, transitions = tick(r, state, at(12), waiting)
    assert [(type(t).__name__, t.at) for t in transitions] == [("Opened", at(10))]
    converged = EvaluationContext(desired={"mode": "eco"}, reported={"mode": "eco"})
    state, transitions = twin_changed(r, state, at(13), converged)
    assert [(type(t).__name__, t.at) for t in transitions] == [("Resolved", at(13))]
    assert state.last_seen is None  # a twin update is not a telemetry message


def test_ordering_a_text_twin_value_is_unknown_and_opens_nothing():
    r = rule({"kind": "twin", "side": "reported", "path": "fw", "op": ">", "value": 2})
    ctx = EvaluationContext(reported={"fw": "2.1-beta"})
    assert timeline(r, series("temp", [(0, 1)]), 1, ctx) == []
    assert timeline(r, series("temp", [(0, 1)]), 1, EvaluationContext(reported={"fw": 3})) == [("open", 0)]
