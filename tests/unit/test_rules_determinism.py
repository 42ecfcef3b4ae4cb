"""One series, cut anywhere: the same transitions whether fed in one batch or in many calls with
ticks in between and the state restored from JSON each time (streaming vs scheduled, restarts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pulse.rules import Opened, Rule, RuleState, Sample, Transition, evaluate, tick
from pulse.rules.signals import EvaluationContext

T0 = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # the series may cross the Berlin spring change
CONTEXT = EvaluationContext(attributes={"limit": 50}, timezone="Europe/Berlin")

minutes = st.integers(1, 30).map(lambda m: f"{m}m")
value = st.integers(0, 100).map(float)


def comparison() -> st.SearchStrategy[dict[str, Any]]:
    ordered = st.fixed_dictionaries(
        {"op": st.sampled_from([">", ">=", "<", "<="]), "value": value | st.just({"ref": "attributes.limit"})},
        optional={"hysteresis": st.integers(0, 10).map(float)},
    )
    ranged = st.tuples(value, value).map(lambda b: {"op": "between", "low": min(b), "high": max(b)})
    return ordered | ranged | ranged.map(lambda c: c | {"op": "outside"}) | st.just({"op": "==", "value": 50.0})


metric = st.sampled_from(["temp", "hum"])
threshold = st.builds(lambda m, c: {"kind": "threshold", "metric": m} | c, metric, comparison())
window = st.builds(
    lambda m, a, w, c: {"kind": "window", "metric": m, "agg": a, "window": w} | c,
    metric,
    st.sampled_from(["avg", "min", "max", "sum", "count", "rate"]),
    minutes,
    comparison(),
)
absence = st.builds(lambda m, d: {"kind": "absence", "metric": m, "duration": d}, st.none() | metric, minutes)
anomaly = st.builds(
    lambda m, w, d: {"kind": "anomaly", "metric": m, "warmup": w, "z": 1.5, "alpha": 0.3, "direction": d},
    metric,
    st.integers(2, 6),
    st.sampled_from(["both", "up", "down"]),
)
leaf = threshold | window | absence | anomaly


def extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.builds(lambda c, d: {"kind": "for", "duration": d, "condition": c}, inner, minutes)
        | st.builds(lambda c, d: {"kind": "keep_firing_for", "duration": d, "condition": c}, inner, minutes)
        | st.builds(
            lambda c, n, d: {"kind": "repeat", "count": n, "within": d, "condition": c},
            inner,
            st.integers(1, 3),
            minutes,
        )
        | st.builds(lambda c: {"kind": "not", "condition": c}, inner)
        | st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"kind": "all", "conditions": cs})
        | st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"kind": "any", "conditions": cs})
    )


condition = st.recursive(leaf, extend, max_leaves=5)
schedule = st.builds(
    lambda a, b: {
        "weekdays": ["fri", "sat", "sun", "mon"],
        "start": f"{a // 60:02}:{a % 60:02}",
        "end": f"{b // 60:02}:{b % 60:02}",
    },
    st.integers(0, 1439),
    st.integers(0, 1439),
).filter(lambda s: s["start"] != s["end"])


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    body: dict[str, Any] = {
        "id": "r1",
        "name": "generated",
        "severity": "warning",
        "scope": {"tenant_id": "acme"},
        "condition": draw(condition),
        "latch": draw(st.booleans()),
    }
    if draw(st.booleans()):
        body["clear"] = draw(condition)
    if draw(st.booleans()):
        body["schedule"] = draw(schedule)
    return Rule.model_validate(body)


@st.composite
def series(draw: st.DrawFn) -> list[Sample]:
    at = T0
    samples = []
    for _ in range(draw(st.integers(1, 40))):
        at += timedelta(seconds=draw(st.sampled_from([0, 1, 30, 60, 90, 300, 600, 1800])))
        names = draw(st.sets(st.sampled_from(["temp", "hum", "other"]), min_size=1))
        samples.append(Sample(at, {name: draw(value) for name in names}))
    return samples


def _restored(state: RuleState) -> RuleState:
    return RuleState.model_validate_json(state.model_dump_json())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rules(), samples=series(), data=st.data())
def test_any_split_with_ticks_and_restarts_gives_the_same_transitions(
    rule: Rule, samples: list[Sample], data: st.DataObject
) -> None:
    # Given the whole series evaluated in one call and the clock run two hours past it
    end = samples[-1].ts + timedelta(hours=2)
    whole_state, whole = evaluate(rule, None, samples, end, CONTEXT)
    event(f"transitions: {min(len(whole), 3)}{'+' if len(whole) > 3 else ''}")

    # When the same series comes in chunks, each call's watermark at most the next chunk's first
    # sample, ticks in between, and the state restored from JSON before every call
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(samples) - 1)), max_size=6)))
    chunks = [samples[a:b] for a, b in zip([0, *cuts], [*cuts, len(samples)], strict=True) if samples[a:b]]
    state: RuleState | None = None
    pieces: list[Transition] = []
    for index, chunk in enumerate(chunks):
        following = chunks[index + 1][0].ts if index + 1 < len(chunks) else end
        room = int((following - chunk[-1].ts).total_seconds())
        # a watermark exactly at the next sample is the edge case: a timer due then must wait for it
        marks = sorted(data.draw(st.lists(st.integers(0, room) | st.just(room), max_size=3)))
        state, found = evaluate(
            rule, state and _restored(state), chunk, chunk[-1].ts + timedelta(seconds=marks[0] if marks else 0), CONTEXT
        )
        pieces += found
        for mark in marks[1:]:
            state, found = tick(rule, _restored(state), chunk[-1].ts + timedelta(seconds=mark), CONTEXT)
            pieces += found
    assert state is not None
    state, found = tick(rule, _restored(state), end, CONTEXT)
    pieces += found

    # Then the transitions, with their instants and explanations, and the final state are the same
    assert pieces == whole
    assert state.model_dump() == whole_state.model_dump()
    # and they alternate open/resolve in time order, each explained by a tree that holds
    assert [isinstance(t, Opened) for t in whole] == [index % 2 == 0 for index in range(len(whole))]
    assert [t.at for t in whole] == sorted(t.at for t in whole)
    assert all(t.explanation.result is True for t in whole if isinstance(t, Opened) or t.reason == "cleared")
    assert whole_state.firing == (len(whole) % 2 == 1)


def test_ingest_watermarks_and_minute_ticks_agree_on_a_fixed_series() -> None:
    rule = Rule.model_validate(
        {
            "id": "r1",
            "name": "fixed",
            "severity": "major",
            "scope": {"tenant_id": "acme"},
            "condition": {
                "kind": "any",
                "conditions": [
                    {
                        "kind": "for",
                        "duration": "3m",
                        "condition": {"kind": "threshold", "metric": "temp", "op": ">", "value": 80},
                    },
                    {"kind": "absence", "duration": "10m"},
                ],
            },
        }
    )
    samples = [
        Sample(T0 + timedelta(minutes=m), {"temp": v}) for m, v in [(0, 85), (2, 86), (7, 70), (30, 90), (31, 70)]
    ]
    _, whole = evaluate(rule, None, samples, T0 + timedelta(hours=1))
    state, streamed = None, []
    for minute in range(61):
        now = T0 + timedelta(minutes=minute)
        batch = [s for s in samples if s.ts == now]
        state, found = evaluate(rule, state, batch, now) if batch else tick(rule, state, now)
        streamed += found
    assert [(type(t).__name__, (t.at - T0) / timedelta(minutes=1)) for t in whole] == [
        ("Opened", 3),
        ("Resolved", 7),
        ("Opened", 17),
        ("Resolved", 30),
        ("Opened", 41),
    ]
    assert streamed == whole


def test_a_sample_at_the_instant_a_timer_is_due_counts_first_even_when_a_tick_got_there_before() -> None:
    rule = Rule.model_validate(
        {
            "id": "r1",
            "name": "silent",
            "severity": "major",
            "scope": {"tenant_id": "acme"},
            "condition": {"kind": "absence", "duration": "5m"},
        }
    )
    first, second = Sample(T0, {"temp": 1.0}), Sample(T0 + timedelta(minutes=5), {"temp": 2.0})
    _, whole = evaluate(rule, None, [first, second], second.ts)
    state, early = evaluate(rule, None, [first], first.ts)
    state, at_due = tick(rule, state, second.ts)  # the tick lands exactly when the silence reaches 5 minutes
    _, late = evaluate(rule, state, [second], second.ts)
    assert whole == early == at_due == late == []
