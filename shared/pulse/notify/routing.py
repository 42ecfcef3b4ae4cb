"""Pure routing rules: which routes an alert event matches, its group, when a group's notification is due.

Routes are tried in ``position`` order. A matching route takes the event and stops the walk unless
it says ``continue``; disabled routes are skipped. Grouping works like Alertmanager's, reduced to
one rule that can be checked against a timeline:

- a route without ``group_by`` sends every event on its own, right away;
- with ``group_by``, the event's values of those fields name its group. An event joins the group's
  open notification while that one is not yet due; otherwise it starts a new notification, due at
  ``previous due time + group_interval`` when that is still ahead (the group is active), else at
  ``now + group_wait`` (a new or quiet group). A notification carries every event that joined it;
- ``repeat_interval``: an event of the same kind for the same alert fingerprint that a notification
  of the route already carried within that interval is not sent again (recorded ``suppressed``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pulse.alerts.models import SEVERITY_RANK
from pulse.errors import RequestInvalid
from pulse.notify.models import Route
from pulse.rules.model import Severity


class InvalidEvent(RequestInvalid):
    title = "Invalid event"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """The parts of a bus event (``{"metadata": ..., "data": ...}``) routing looks at."""

    event_id: str
    event_name: str
    tenant_id: str
    occurred_at: datetime
    detail: dict[str, Any]

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> AlertEvent:
        """From the event's ``detail``, or the whole EventBridge event that carries it under ``detail``."""
        detail = event.get("detail") if "metadata" not in event and isinstance(event.get("detail"), Mapping) else event
        assert detail is not None
        metadata = detail.get("metadata")
        data = detail.get("data")
        if not isinstance(metadata, Mapping) or not isinstance(data, Mapping):
            raise InvalidEvent("event: expected {'metadata': {...}, 'data': {...}}")
        try:
            event_id = str(metadata["event_id"])
            name = str(metadata["event_name"])
            tenant_id = str(metadata["tenant_id"])
            occurred_at = datetime.fromisoformat(str(metadata["occurred_at"]))
        except (KeyError, ValueError) as exc:
            raise InvalidEvent(f"event.metadata: missing or invalid {exc}") from None
        if not event_id or not tenant_id or occurred_at.tzinfo is None:
            raise InvalidEvent("event.metadata: event_id, tenant_id and a zoned occurred_at are required")
        return cls(event_id, name, tenant_id, occurred_at, {"metadata": dict(metadata), "data": dict(data)})

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.detail["data"]
        return data

    @property
    def kind(self) -> str | None:
        """``AlertOpened`` -> ``opened``; None for events that are not about an alert."""
        if not self.event_name.startswith("Alert") or len(self.event_name) <= len("Alert"):
            return None
        return self.event_name.removeprefix("Alert").lower()

    def field(self, name: str) -> str:
        value = self.data.get(name)
        return "" if value is None else str(value)

    @property
    def alert_id(self) -> str | None:
        return self.field("alert_id") or None

    @property
    def device_id(self) -> str:
        return self.field("device_id")

    @property
    def silenced(self) -> bool:
        return bool(self.data.get("silenced"))

    @property
    def severity_rank(self) -> int:
        try:
            return SEVERITY_RANK[Severity(self.field("severity"))]
        except ValueError:
            return 0


def route_matches(route: Route, event: AlertEvent, device_tags: Mapping[str, Any]) -> bool:
    m = route.matchers
    if event.kind not in m.events:
        return False
    if m.severity_at_least is not None and event.severity_rank < SEVERITY_RANK[m.severity_at_least]:
        return False
    if m.rule_ids and event.field("rule_id") not in m.rule_ids:
        return False
    if m.site_ids and event.field("site_id") not in m.site_ids:
        return False
    if m.device_id_prefixes and not any(event.device_id.startswith(p) for p in m.device_id_prefixes):
        return False
    return all(key in device_tags and str(device_tags[key]) == value for key, value in m.tags.items())


def select_routes(routes: Sequence[Route], event: AlertEvent, device_tags: Mapping[str, Any]) -> list[Route]:
    """The routes that take the event, in order: the first match stops the walk unless it continues."""
    taken: list[Route] = []
    for route in sorted(routes, key=lambda r: r.position):
        if not route.enabled or not route_matches(route, event, device_tags):
            continue
        taken.append(route)
        if not route.continue_:
            break
    return taken


def group_key(route: Route, event: AlertEvent) -> str:
    """``rule_id=hot|site_id=berlin``; empty when the route does not group."""
    return "|".join(f"{name}={event.field(name)}" for name in route.group_by)


def first_send_at(route: Route, now: datetime, previous_send_at: datetime | None) -> datetime:
    """When a new notification of the route's group is due (see the module docstring)."""
    if not route.group_by:
        return now
    if previous_send_at is not None:
        next_tick = previous_send_at + timedelta(seconds=route.group_interval_s)
        if next_tick > now:
            return next_tick
    return now + timedelta(seconds=route.group_wait_s)


def throttle_window(now: datetime, window_s: int) -> datetime:
    """Start of the fixed window ``now`` falls in (windows are aligned to the Unix epoch)."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_s, tz=now.tzinfo)
