"""The alert policy: what one evaluator transition does to a fingerprint's alerts, decided purely.

Both the live path (``pulse.alerts.transitions``, in SQL) and the backtest
(``pulse.rules.backtest_alerts``, in memory) gather the same snapshot of a (rule, device)
fingerprint, ask ``decide`` and carry the decision out, so a backtest shows the alerts live
evaluation stores.

Opened
  * a device, or its site, in maintenance at that instant: ``suppress`` (nothing else happens);
  * the fingerprint has an active alert: ``repeat`` (a deferred resolve is cancelled);
  * its last alert resolved at most ``reopen_window`` before: ``reopen`` that alert;
  * otherwise ``open`` a new one.

Resolved
  * no active alert: ``ignore``;
  * a latched alert not released (neither acknowledged nor ``reason="released"``): ``latch``, it
    stays active with its condition cleared;
  * flap suppression: a resolve sooner than ``min_open`` after the episode started (it opened or
    reopened) is deferred (``defer``, ``until`` = episode start + ``min_open``); an Opened before
    then is a repeat;
  * otherwise ``resolve``.

Before either, a deferred resolve that fell due by the transition's instant is settled first
(``settle_at``: the active alert resolves at the instant it was due), as the minute sweep would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pulse.rules.signals import Opened, Transition
from pulse.settings import Settings

Action = Literal["suppress", "repeat", "reopen", "open", "ignore", "latch", "defer", "resolve"]


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    min_open: timedelta = timedelta(seconds=60)
    reopen_window: timedelta = timedelta(seconds=300)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        return cls(timedelta(seconds=settings.alert_min_open_s), timedelta(seconds=settings.alert_reopen_window_s))


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """The fingerprint's open / acknowledged / snoozed alert, as far as the policy cares."""

    episode_started_at: datetime
    resolve_due_at: datetime | None
    latched: bool
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    settle_at: datetime | None = None  # first resolve the active alert at this instant (deferred, due)
    until: datetime | None = None  # defer: when the resolve falls due


def due_resolve(active: ActiveAlert | None, at: datetime) -> datetime | None:
    """The instant ``active``'s deferred resolve fell due, when that is at or before ``at``."""
    if active is None or active.resolve_due_at is None or active.resolve_due_at > at:
        return None
    return active.resolve_due_at


def decide(
    transition: Transition,
    *,
    active: ActiveAlert | None,
    last_resolved_at: datetime | None,
    in_maintenance: bool,
    policy: AlertPolicy,
) -> Decision:
    """``last_resolved_at``: when the fingerprint's latest resolved (not closed) alert resolved;
    ``in_maintenance`` matters only for an Opened."""
    at = transition.at
    if isinstance(transition, Opened) and in_maintenance:
        return Decision("suppress")
    settle = due_resolve(active, at)
    if settle is not None:
        active, last_resolved_at = None, settle
    if isinstance(transition, Opened):
        if active is not None:
            return Decision("repeat", settle)
        if last_resolved_at is not None and last_resolved_at <= at <= last_resolved_at + policy.reopen_window:
            return Decision("reopen", settle)
        return Decision("open", settle)
    if active is None:
        return Decision("ignore", settle)
    released = transition.reason == "released" or active.acknowledged
    if active.latched and not released:
        return Decision("latch")
    if transition.reason != "released" and at < active.episode_started_at + policy.min_open:
        return Decision("defer", until=active.episode_started_at + policy.min_open)
    return Decision("resolve")
