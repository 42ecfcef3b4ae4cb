"""What the evaluator reads and what it says: samples, device context, transitions with explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pulse.errors import PulseError

Observed = float | bool | str | None


class RuleEvaluationError(PulseError):
    """The evaluator was called with inputs it cannot order or attribute (a caller bug)."""

    title = "Rule evaluation refused"


@dataclass(frozen=True, slots=True)
class Sample:
    """One telemetry point of one device: a timestamp (timezone-aware) and its metric values."""

    ts: datetime
    metrics: Mapping[str, float | bool]


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """What the evaluator knows about the device besides telemetry.

    ``reported`` / ``desired`` are the twin's state documents; ``timezone`` is the site's IANA zone;
    ``overdue`` the dotted paths of desired leaves the device has not reported within the tenant's
    convergence deadline (the twin's convergence check raised ``TwinNotConverged`` for them).
    """

    attributes: Mapping[str, Any] = field(default_factory=dict)
    reported: Mapping[str, Any] = field(default_factory=dict)
    desired: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    overdue: frozenset[str] = frozenset()

    def lookup(self, ref: str) -> Any:
        """The value at a ref path (``attributes.x``, ``twin.reported.a.b``); None when missing."""
        head, _, rest = ref.partition(".")
        if head == "twin":
            side, _, rest = rest.partition(".")
            return dig(self.reported if side == "reported" else self.desired, rest)
        return dig(self.attributes, rest)


def dig(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in nested mappings; None when any step is missing."""
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


@dataclass(frozen=True, slots=True)
class Explanation:
    """One node of the condition tree as evaluated: its result, what it compared, its children."""

    kind: str
    result: bool | None
    summary: str
    observed: Observed = None
    children: tuple[Explanation, ...] = ()


@dataclass(frozen=True, slots=True)
class Opened:
    at: datetime
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class Resolved:
    at: datetime
    explanation: Explanation
    reason: Literal["cleared", "schedule", "released"] = "cleared"


Transition = Opened | Resolved
