"""Rules: the rule model and the deterministic evaluator shared by the ingest and scheduled paths."""

from pulse.rules.evaluate import evaluate, initial_state, release_latch, tick, twin_changed
from pulse.rules.model import Condition, Rule, Schedule, Scope, Severity
from pulse.rules.signals import (
    EvaluationContext,
    Explanation,
    Opened,
    Resolved,
    RuleEvaluationError,
    Sample,
    Transition,
)
from pulse.rules.state import NodeState, RuleState

__all__ = [
    "Condition",
    "EvaluationContext",
    "Explanation",
    "NodeState",
    "Opened",
    "Resolved",
    "Rule",
    "RuleEvaluationError",
    "RuleState",
    "Sample",
    "Schedule",
    "Scope",
    "Severity",
    "Transition",
    "evaluate",
    "initial_state",
    "release_latch",
    "tick",
    "twin_changed",
]
