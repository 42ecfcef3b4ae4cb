"""Condition nodes at one instant: observe a sample, evaluate the tree, find the next time it can change.

Results are three-valued (True, False, None for unknown: no data yet, a missing ref, warm-up);
``all`` / ``any`` / ``not`` follow Kleene logic and only True opens an alert.

``mode`` carries hysteresis: +1 widens every comparison towards true (an open alert stays open
until the value is clearly back), -1 narrows it (under a ``not``), 0 compares exactly.

A tree's value changes only when a sample arrives or at an instant this module can name in
advance (``next_change``): a window sample leaving the window, an absence or ``for`` duration
elapsing, a ``keep_firing_for`` or ``repeat`` period ending. The evaluator steps exactly there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pulse.rules.model import (
    Absence,
    Aggregate,
    All,
    Anomaly,
    AnyOf,
    Comparison,
    Condition,
    For,
    KeepFiringFor,
    Not,
    Ref,
    Repeat,
    Threshold,
    Twin,
    TwinNotConverged,
    Window,
    children,
)
from pulse.rules.signals import EvaluationContext, Explanation, Observed, Sample, dig
from pulse.rules.state import NodeState, RuleState

Truth = bool | None
MAX_WINDOW_SAMPLES = 10_000


def node_keys(root: Condition, prefix: str) -> dict[int, str]:
    """A state key for every node: its path in the tree and a fingerprint of its JSON."""
    keys: dict[int, str] = {}

    def walk(node: Condition, path: str) -> None:
        digest = hashlib.blake2b(node.model_dump_json().encode(), digest_size=4).hexdigest()
        keys[id(node)] = f"{prefix}{path}:{digest}"
        for index, child in enumerate(children(node)):
            walk(child, f"{path}.{index}")

    walk(root, "")
    return keys


def walk(root: Condition) -> Iterator[Condition]:
    yield root
    for child in children(root):
        yield from walk(child)


def read_metrics(root: Condition) -> set[str]:
    """The metric names a tree reads, whose latest value and last-seen time the state keeps."""
    return {
        node.metric for node in walk(root) if isinstance(node, Threshold | Window | Anomaly | Absence) and node.metric
    }


def observe(root: Condition, keys: dict[int, str], state: RuleState, sample: Sample) -> None:
    """Feed one sample to the nodes that keep history (windows, anomaly baselines)."""
    for node in walk(root):
        if not isinstance(node, Window | Anomaly) or node.metric not in sample.metrics:
            continue
        value = float(sample.metrics[node.metric])
        ns = state.node(keys[id(node)])
        if isinstance(node, Window):
            ns.samples.append((sample.ts, value))
            del ns.samples[:-MAX_WINDOW_SAMPLES]
        else:
            _observe_anomaly(node, ns, value)


def _observe_anomaly(node: Anomaly, ns: NodeState, value: float) -> None:
    """z-score of ``value`` against the history before it, then fold it into the EWMA."""
    if ns.n >= node.warmup:
        std = ns.var**0.5
        if std > 0:
            ns.last_z = (value - ns.mean) / std
        else:
            ns.last_z = 0.0 if value == ns.mean else (1e9 if value > ns.mean else -1e9)
    else:
        ns.last_z = None
    ns.last_value = value
    if ns.n == 0:
        ns.mean, ns.var = value, 0.0
    else:
        diff = value - ns.mean
        increment = node.alpha * diff
        ns.mean += increment
        ns.var = (1 - node.alpha) * (ns.var + diff * increment)
    ns.n += 1


def _operand(value: Any, context: EvaluationContext) -> Any:
    if isinstance(value, Ref):
        found = context.lookup(value.ref)
        return float(found) if isinstance(found, int | float) and not isinstance(found, bool) else found
    return value


def _describe(operand: Any) -> str:
    if isinstance(operand, Ref):
        return operand.ref
    if isinstance(operand, float):
        return f"{operand:g}"
    return repr(operand)


def compare(node: Comparison, observed: Observed, context: EvaluationContext, mode: int) -> tuple[Truth, str]:
    """``observed op operand`` with hysteresis applied in the direction of ``mode``."""
    shift = node.hysteresis * mode
    if node.op in ("between", "outside"):
        low, high = _operand(node.low, context), _operand(node.high, context)
        text = f"{node.op} {_describe(node.low)}..{_describe(node.high)}"
    else:
        low = high = _operand(node.value, context)
        text = f"{node.op} {_describe(node.value)}"
        if isinstance(node.value, Ref) and low is not None:
            text += f" (= {_describe(low)})"
    if shift:
        text += f" (hysteresis {node.hysteresis:g})"
    if observed is None or low is None or high is None:
        return None, text
    if node.op == "==":
        return observed == low, text
    if node.op == "!=":
        return observed != low, text
    if isinstance(observed, str) or isinstance(low, str | bool) or isinstance(high, str | bool):
        return None, text
    value, lo, hi = float(observed), float(low), float(high)
    results = {
        ">": value > lo - shift,
        ">=": value >= lo - shift,
        "<": value < lo + shift,
        "<=": value <= lo + shift,
        "between": lo - shift <= value <= hi + shift,
        "outside": value < lo + shift or value > hi - shift,
    }
    return results[node.op], text


def span(duration: timedelta) -> str:
    """``5m``, ``90s``, ``1h30m``: how a duration reads in an explanation."""
    seconds = int(duration.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0s"


def _aggregate(node: Window, samples: list[tuple[datetime, float]]) -> float | None:
    values = [value for _, value in samples]
    if node.agg is Aggregate.COUNT:
        return float(len(values))
    if node.agg is Aggregate.SUM:
        return float(sum(values))
    if not values:
        return None
    if node.agg is Aggregate.AVG:
        return sum(values) / len(values)
    if node.agg is Aggregate.MIN:
        return min(values)
    if node.agg is Aggregate.MAX:
        return max(values)
    (first_ts, first), (last_ts, last) = samples[0], samples[-1]
    minutes = (last_ts - first_ts).total_seconds() / 60
    return (last - first) / minutes if minutes > 0 else None


def _converged(desired: Any, reported: Any) -> bool:
    if isinstance(desired, dict):
        return isinstance(reported, dict) and all(_converged(v, reported.get(k)) for k, v in desired.items())
    return bool(desired == reported)


def _kleene(results: list[Truth], *, every: bool) -> Truth:
    decisive = not every
    if decisive in results:
        return decisive
    return None if None in results else every


def evaluate_node(
    node: Condition, keys: dict[int, str], state: RuleState, at: datetime, context: EvaluationContext, mode: int
) -> tuple[Truth, Explanation]:
    """The node's result at ``at``; temporal nodes record what changed in their state."""
    if isinstance(node, All | AnyOf):
        parts = [evaluate_node(child, keys, state, at, context, mode) for child in node.conditions]
        result = _kleene([truth for truth, _ in parts], every=isinstance(node, All))
        return result, Explanation(node.kind, result, node.kind, children=tuple(why for _, why in parts))
    if isinstance(node, Not):
        inner, why = evaluate_node(node.condition, keys, state, at, context, -mode)
        result = None if inner is None else not inner
        return result, Explanation("not", result, "not", children=(why,))
    if isinstance(node, For | KeepFiringFor | Repeat):
        inner, why = evaluate_node(node.condition, keys, state, at, context, mode)
        return _temporal(node, state.node(keys[id(node)]), inner, why, at)
    return _leaf(node, keys, state, at, context, mode)


def _temporal(
    node: For | KeepFiringFor | Repeat, ns: NodeState, inner: Truth, why: Explanation, at: datetime
) -> tuple[Truth, Explanation]:
    was = ns.inner
    ns.inner = inner
    if isinstance(node, For):
        ns.pending_since = (ns.pending_since or at) if inner is True else None
        held = ns.pending_since is not None and at - ns.pending_since >= node.duration
        result: Truth = True if held else (None if inner is None else False)
        since = f", true since {ns.pending_since.isoformat()}" if ns.pending_since else ""
        return result, Explanation("for", result, f"for {span(node.duration)}{since}", children=(why,))
    if isinstance(node, KeepFiringFor):
        if inner is True:
            ns.false_since = None
        elif was is True:
            ns.false_since = at
        kept = ns.false_since is not None and at - ns.false_since < node.duration
        result = True if inner is True or kept else inner
        return result, Explanation("keep_firing_for", result, f"keep firing for {span(node.duration)}", children=(why,))
    if inner is True and was is not True:
        ns.edges.append(at)
    ns.edges = [edge for edge in ns.edges if at - edge < node.within][-node.count :]
    result = len(ns.edges) >= node.count
    text = f"{node.count} times within {span(node.within)}"
    return result, Explanation("repeat", result, text, observed=float(len(ns.edges)), children=(why,))


def _leaf(
    node: Condition, keys: dict[int, str], state: RuleState, at: datetime, context: EvaluationContext, mode: int
) -> tuple[Truth, Explanation]:
    if isinstance(node, Threshold):
        observed: Observed = state.values.get(node.metric)
        result, text = compare(node, observed, context, mode)
        return result, Explanation("threshold", result, f"{node.metric} {text}", observed)
    if isinstance(node, Window):
        ns = state.node(keys[id(node)])
        ns.samples = [(ts, value) for ts, value in ns.samples if at - ts < node.window]
        observed = _aggregate(node, ns.samples)
        result, text = compare(node, observed, context, mode)
        summary = f"{node.agg.value}({node.metric}) over {span(node.window)} of {len(ns.samples)} samples {text}"
        return result, Explanation("window", result, summary, observed)
    if isinstance(node, Absence):
        since = state.since(node.metric)
        what = f"no {node.metric}" if node.metric else "no message"
        if since is None:
            return None, Explanation("absence", None, f"{what} for {span(node.duration)}; never seen")
        silent = at - since
        result = silent >= node.duration
        summary = f"{what} for {span(node.duration)}; last at {since.isoformat()}"
        return result, Explanation("absence", result, summary, silent.total_seconds())
    if isinstance(node, Anomaly):
        ns = state.node(keys[id(node)])
        z = ns.last_z
        limits = {"both": z is not None and abs(z) >= node.z, "up": z is not None and z >= node.z}
        limits["down"] = z is not None and z <= -node.z
        result = None if z is None else limits[node.direction]
        warm = "" if z is not None else f" (warming up, {ns.n}/{node.warmup} samples)"
        bound = {"both": f"|z| >= {node.z:g}", "up": f"z >= {node.z:g}", "down": f"z <= -{node.z:g}"}[node.direction]
        summary = f"{node.metric} {bound}{warm}; value {ns.last_value}"
        return result, Explanation("anomaly", result, summary, z)
    if isinstance(node, Twin):
        value = dig(context.reported if node.side == "reported" else context.desired, node.path)
        observed = value if isinstance(value, float | bool | str) or value is None else str(value)
        if isinstance(value, int) and not isinstance(value, bool):
            observed = float(value)
        result, text = compare(node, observed, context, mode)
        return result, Explanation("twin", result, f"{node.side}.{node.path} {text}", observed)
    assert isinstance(node, TwinNotConverged)
    desired = dig(context.desired, node.path) if node.path else dict(context.desired)
    reported = dig(context.reported, node.path) if node.path else dict(context.reported)
    under = node.path + "." if node.path else ""
    overdue = sorted(p for p in context.overdue if p == node.path or p.startswith(under))
    result = bool(overdue) and desired not in (None, {}) and not _converged(desired, reported)
    where = node.path or "any path"
    summary = f"desired != reported at {where} past the convergence deadline"
    return result, Explanation("twin_not_converged", result, summary, ", ".join(overdue) or None)


def next_change(root: Condition, keys: dict[int, str], state: RuleState, after: datetime) -> datetime | None:
    """The earliest instant after ``after`` at which the tree can change without a new sample."""
    found: list[datetime] = []
    for node in walk(root):
        ns = state.nodes.get(keys[id(node)])
        if isinstance(node, Absence):
            since = state.since(node.metric)
            found += [since + node.duration] if since else []
        elif ns is None:
            continue
        elif isinstance(node, Window):
            found += [ts + node.window for ts, _ in ns.samples if ts + node.window > after][:1]
        elif isinstance(node, For) and ns.pending_since:
            found.append(ns.pending_since + node.duration)
        elif isinstance(node, KeepFiringFor) and ns.false_since:
            found.append(ns.false_since + node.duration)
        elif isinstance(node, Repeat):
            found += [edge + node.within for edge in ns.edges]
    return min((instant for instant in found if instant > after), default=None)
