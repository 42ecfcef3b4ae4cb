"""What the alert lifecycle makes of one device's backtest transitions, in memory.

The evaluator says when a condition opened and cleared; live, ``pulse.alerts.transitions`` turns
that into alerts with a policy the backtest must follow to show the same alerts:

* an ``Opened`` during a maintenance window of the device or its site raises nothing;
* flap suppression: a resolve sooner than ``min_open`` after the episode started is deferred to
  episode start + ``min_open``; an ``Opened`` before then keeps the alert open (a repeat);
* an ``Opened`` at most ``reopen_window`` after the alert resolved reopens that alert;
* a latched alert stays open after its condition clears (nobody acknowledges in a backtest).

Silences do not change alerts (a silenced alert is still stored), so they are not consulted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from pulse.alerts.transitions import AlertPolicy
from pulse.rules.signals import Explanation, Opened, Transition


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

    def settle_due(self, at: datetime) -> None:
        """A deferred resolve that fell due by ``at`` resolves at the instant it was due."""
        if self.active is not None and self.active.resolve_due_at is not None and self.active.resolve_due_at <= at:
            self.active.alert.resolved_at = self.active.resolve_due_at
            self.active.alert.resolve_reason = "deferred"
            self.active = None

    def opened(self, at: datetime, why: Explanation) -> None:
        if self.in_maintenance(at):
            self.suppressed += 1
            return
        self.settle_due(at)
        if self.active is not None:
            self.active.alert.fired += 1
            self.active.resolve_due_at = None
            return
        last = self.alerts[-1] if self.alerts else None
        if last is not None and last.resolved_at is not None and at <= last.resolved_at + self.policy.reopen_window:
            last.resolved_at = last.resolve_reason = last.resolved_because = None
            last.fired += 1
            last.reopened += 1
            self.active = _Active(last, at)
            return
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

    def resolved(self, at: datetime, why: Explanation, reason: str) -> None:
        self.settle_due(at)
        active = self.active
        if active is None or (self.latch and reason != "released"):
            return
        active.alert.resolved_because = describe(why)
        if reason != "released" and at < active.episode_started_at + self.policy.min_open:
            active.resolve_due_at = active.episode_started_at + self.policy.min_open
            return
        active.alert.resolved_at, active.alert.resolve_reason = at, reason
        self.active = None


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
        if isinstance(transition, Opened):
            lifecycle.opened(transition.at, transition.explanation)
        else:
            lifecycle.resolved(transition.at, transition.explanation, transition.reason)
    # the minute sweep settles a deferred resolve at its due instant
    due = lifecycle.active.resolve_due_at if lifecycle.active is not None else None
    if due is not None and due < end:
        lifecycle.settle_due(due)
    return DeviceAlerts(lifecycle.alerts, lifecycle.suppressed)
