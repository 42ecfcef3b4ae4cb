"""The rules plane's side of acknowledging a latched alert (``pulse.alerts.actions.LatchReleaser``).

Loads the (rule, device) state locked, runs ``release_latch`` with the rule version that state was
evaluated with, writes the state back and answers its transitions, all in the acknowledging
transaction. ``Resolved(reason="released")`` when the condition had already cleared; otherwise the
state remembers the release, and the evaluator resolves the alert when the condition clears.
No state (the rule was disabled or deleted, or the tick has not started it yet): no transitions,
and the alert's own ``condition_cleared_at`` decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from pulse.rules import store
from pulse.rules.evaluate import release_latch
from pulse.rules.signals import Transition
from pulse.rules.state_store import lock_states, update_states


def release_rule_latch(
    conn: psycopg.Connection, *, tenant_id: str, rule_id: str, device_id: str, at: datetime
) -> Sequence[Transition]:
    key = (tenant_id, rule_id, device_id)
    state = lock_states(conn, [key]).get(key)
    if state is None:
        return ()
    rule = store.fetch_version(conn, tenant_id, rule_id, state.rule_version)
    if rule is None:
        return ()
    released, transitions = release_latch(rule, state, at)
    update_states(conn, [(key, released)], at)
    return transitions
