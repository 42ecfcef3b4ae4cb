"""What the alert lifecycle makes of one device's backtest transitions, in memory.

The evaluator says when a condition opened and cleared; live, ``pulse.alerts.transitions`` turns
that into alerts. The backtest asks the same policy (``pulse.alerts.policy.decide``: maintenance,
flap-deferred resolves, reopen window, latch) with a snapshot of its in-memory alerts and carries
the decision out on them, so it shows the alerts live evaluation would have stored. Nobody
acknowledges in a backtest, so a latched alert stays open after its condition clears.

Silences do not change alerts (a silenced alert is still stored), so they are not consulted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from pulse.alerts.policy import ActiveAlert, AlertPolicy, decide
from pulse.rules.signals import Explanation, Opened, Resolved, Transition


class BacktestAlert(BaseModel):
    """An alert the rule would have raised; ``resolved_at`` null: still open at the end of the range.

    ``fired`` counts the openings it absorbed (repeats during a deferred resolve, reopenings).
    """

    device_id: str
    opened_at: datetime
    resolved_at: datetime | None
    resolve_reason: str | None
    fired: int
    reopened: int
    opened_because: str
    resolved_because: str | None


def describe(explanation: Explanation) -> str:
    """One line for a whole explanation tree: ``for 5m, true since ... [temp_c > 30 (= 31.5)]``."""
    text = explanation.summary
    observed = explanation.observed
    if observed is not None:
        text += f" (= {observed:g})" if isinstance(observed, float) else f" (= {observed})"
    if explanation.children:
        text += " [" + "; ".join(describe(child) for child in explanation.children) + "]"
    return text


@dataclass(slots=True)
class _Active:
    alert: BacktestAlert
    episode_started_at: datetime
    resolve_due_at: datetime | None = None


@dataclass(slots=True)
class DeviceAlerts:
    alerts: list[BacktestAlert]
    suppressed: int  # openings a maintenance window swallowed


class _Lifecycle:
    def __init__(self, device_id: str, latch: bool, policy: AlertPolicy, in_maintenance: Callable[[datetime], bool]):
        self.device_id, self.latch, self.policy, self.in_maintenance = device_id, latch, policy, in_maintenance
        self.alerts: list[BacktestAlert] = []
        self.active: _Active | None = None
        self.suppressed = 0

    def _snapshot(self) -> ActiveAlert | None:
        if self.active is None:
            return None
        return ActiveAlert(self.active.episode_started_at, self.active.resolve_due_at, self.latch, acknowledged=False)

    def settle(self, at: datetime) -> None:
        """The active alert's deferred resolve, due at ``at``, resolves it."""
        assert self.active is not None
        self.active.alert.resolved_at = at
        self.active.alert.resolve_reason = "deferred"
        self.active = None

    def apply(self, transition: Transition) -> None:
        at, why = transition.at, transition.explanation
        last = self.alerts[-1] if self.alerts and self.active is None else None
        decision = decide(
            transition,
            active=self._snapshot(),
            last_resolved_at=last.resolved_at if last is not None else None,
            in_maintenance=isinstance(transition, Opened) and self.in_maintenance(at),
            policy=self.policy,
        )
        if decision.settle_at is not None:
            last = self.active.alert if self.active is not None else None
            self.settle(decision.settle_at)
        if decision.action == "suppress":
            self.suppressed += 1
        elif decision.action == "repeat":
            assert self.active is not None
            self.active.alert.fired += 1
            self.active.resolve_due_at = None
        elif decision.action == "reopen":
            assert last is not None
            last.resolved_at = last.resolve_reason = last.resolved_because = None
            last.fired += 1
            last.reopened += 1
            self.active = _Active(last, at)
        elif decision.action == "open":
            self._open(at, why)
        elif decision.action in ("defer", "resolve"):
            assert self.active is not None
            assert isinstance(transition, Resolved)
            self.active.alert.resolved_because = describe(why)
            if decision.action == "defer":
                self.active.resolve_due_at = decision.until
            else:
                self.active.alert.resolved_at, self.active.alert.resolve_reason = at, transition.reason
                self.active = None

    def _open(self, at: datetime, why: Explanation) -> None:
        alert = BacktestAlert(
            device_id=self.device_id,
            opened_at=at,
            resolved_at=None,
            resolve_reason=None,
            fired=1,
            reopened=0,
            opened_because=describe(why),
            resolved_because=None,
        )
        self.alerts.append(alert)
        self.active = _Active(alert, at)


def device_alerts(
    device_id: str,
    transitions: Sequence[Transition],
    *,
    latch: bool,
    policy: AlertPolicy,
    in_maintenance: Callable[[datetime], bool],
    end: datetime,
) -> DeviceAlerts:
    """The alerts ``transitions`` (one device, oldest first) raise; deferred resolves due before ``end`` settle."""
    lifecycle = _Lifecycle(device_id, latch, policy, in_maintenance)
    for transition in transitions:
        lifecycle.apply(transition)
    # the minute sweep settles a deferred resolve at its due instant
    due = lifecycle.active.resolve_due_at if lifecycle.active is not None else None
    if due is not None and due < end:
        lifecycle.settle(due)
    return DeviceAlerts(lifecycle.alerts, lifecycle.suppressed)
