"""Per (rule, device) evaluation state: small, JSON-serializable, enough to resume after a restart.

``RuleState`` holds what the evaluator must remember between calls: where its clock is, whether
the alert is firing, the latest values and last-seen times of the metrics the rule reads, and one
``NodeState`` per stateful condition node, keyed by the node's path and a fingerprint of its JSON
so that a new rule version keeps the state of nodes it did not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

STATE_SCHEMA_VERSION = 1
MetricValue = float | bool


class NodeState(BaseModel):
    """State of one condition node; a node kind uses only its own fields, the rest stay empty."""

    model_config = ConfigDict(extra="forbid")

    # for / keep_firing_for / repeat: the inner condition's last result and when it changed
    inner: bool | None = None
    pending_since: AwareDatetime | None = None
    false_since: AwareDatetime | None = None
    edges: list[AwareDatetime] = Field(default_factory=list)
    # window: the samples still inside the window, oldest first
    samples: list[tuple[AwareDatetime, float]] = Field(default_factory=list)
    # anomaly: EWMA mean and variance, values seen, the z-score of the last value
    mean: float = 0.0
    var: float = 0.0
    n: int = 0
    last_z: float | None = None
    last_value: float | None = None


class RuleState(BaseModel):
    """Everything the evaluator knows about one (rule, device).

    ``stepped_at`` is the last instant the condition was evaluated; ``watermark`` the latest ``now``
    a call was made with. Samples older than the watermark arrive too late to be evaluated in order
    and are only counted in ``late_samples``. ``next_due`` lets the scheduled path pick only the
    (rule, device) rows whose timers are due: a tick with ``now`` at or before it changes nothing.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: int = STATE_SCHEMA_VERSION
    rule_id: str
    rule_version: int
    stepped_at: AwareDatetime | None = None
    watermark: AwareDatetime | None = None
    next_due: AwareDatetime | None = None  # the next instant the clock alone can change the result
    firing: bool = False
    opened_at: AwareDatetime | None = None
    cleared_at: AwareDatetime | None = None  # a latched alert's condition has cleared at
    latch_released: bool = False  # acknowledged while the condition still held
    values: dict[str, MetricValue] = Field(default_factory=dict)
    seen: dict[str, AwareDatetime] = Field(default_factory=dict)
    last_seen: AwareDatetime | None = None
    nodes: dict[str, NodeState] = Field(default_factory=dict)
    late_samples: Annotated[int, Field(ge=0)] = 0

    def node(self, key: str) -> NodeState:
        """The state of the node at ``key``, created empty on first use."""
        found = self.nodes.get(key)
        if found is None:
            found = self.nodes[key] = NodeState()
        return found

    def since(self, metric: str | None) -> datetime | None:
        """When ``metric`` (or any message, for None) was last seen."""
        return self.last_seen if metric is None else self.seen.get(metric)
