"""Alerts: the lifecycle of what the rules raise, user actions, silences, maintenance windows.

The evaluator paths call ``apply_transitions`` (one rule and device) or ``apply_transitions_bulk``
(many, set-based) inside their own transaction; every alert change writes its timeline entry and its
outbox event (``pulse.outbox``) in that same transaction.
"""

from pulse.alerts.bulk import TransitionBatch, apply_transitions_bulk
from pulse.alerts.models import Alert, AlertChange, AlertDetail, AlertState, EventType, fingerprint
from pulse.alerts.policy import AlertPolicy
from pulse.alerts.transitions import apply_transitions

__all__ = [
    "Alert",
    "AlertChange",
    "AlertDetail",
    "AlertPolicy",
    "AlertState",
    "EventType",
    "TransitionBatch",
    "apply_transitions",
    "apply_transitions_bulk",
    "fingerprint",
]
