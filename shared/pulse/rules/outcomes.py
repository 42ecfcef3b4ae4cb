"""Hands the evaluator's transitions to the alerts plane, in the evaluating transaction.

Streaming evaluation (a batch of messages, a few transitions) applies them per (rule, device);
the scheduled tick, which may raise thousands at once in an outage, applies a chunk's together
(``apply_transitions_bulk``: the same decisions and rows in a few set-based statements)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from pulse.alerts.bulk import TransitionBatch, apply_transitions_bulk
from pulse.alerts.models import Source
from pulse.alerts.transitions import apply_transitions
from pulse.rules.model import Rule
from pulse.rules.signals import Explanation, Transition


@dataclass(frozen=True, slots=True)
class Fired:
    """Transitions of one (rule, device) from one evaluation, oldest first."""

    tenant_id: str
    device_id: str
    rule: Rule
    transitions: Sequence[Transition]


def trigger_value(explanation: Explanation) -> float | bool | None:
    """The first value the explanation compared on a branch that held (what the alert shows)."""
    if explanation.result is True and isinstance(explanation.observed, float | bool):
        return explanation.observed
    for child in explanation.children:
        found = trigger_value(child)
        if found is not None:
            return found
    return None


def raise_alerts(conn: psycopg.Connection, fired: Sequence[Fired], source: Source) -> int:
    """Applies every (rule, device)'s transitions; returns how many transitions were applied."""
    count = 0
    for f in fired:
        if f.transitions:
            value = trigger_value(f.transitions[-1].explanation)
            apply_transitions(
                conn,
                tenant_id=f.tenant_id,
                device_id=f.device_id,
                rule=f.rule,
                transitions=f.transitions,
                value=value,
                source=source,
            )
            count += len(f.transitions)
    return count


def raise_alerts_in_bulk(conn: psycopg.Connection, fired: Sequence[Fired], source: Source) -> int:
    """``raise_alerts`` of a whole chunk in one set-based call; returns how many transitions were applied."""
    batches = [
        TransitionBatch(f.tenant_id, f.device_id, f.rule, f.transitions, trigger_value(f.transitions[-1].explanation))
        for f in fired
        if f.transitions
    ]
    apply_transitions_bulk(conn, batches, source=source)
    return sum(len(b.transitions) for b in batches)
