"""The delivery workflow's entry points: ``route_event`` (route step), ``deliver`` (per delivery, with
retries), ``dead_letter`` (retries exhausted) and ``redrive`` (dead deliveries started again).

``route_event`` runs once per event: the first call records the event in ``routed_events`` and
writes every delivery in one transaction; a repeated call (the workflow or EventBridge delivering
the same event again) writes nothing and returns the plan rebuilt from the stored deliveries. For
each route that takes the event (``pulse.notify.routing``), per channel of the route, in order:

1. a channel an earlier route of this event already covered is skipped (a channel gets an event once);
2. silenced alert (``data.silenced``): delivery recorded ``suppressed`` / ``silenced``;
3. a disabled or deleted channel: ``suppressed`` / ``channel disabled`` (deleted: skipped);
4. repeat interval (per route): ``suppressed`` / ``repeat interval``;
5. grouping: joining an open notification of the group writes no delivery (the notification's
   deliveries, planned by the event that opened it, carry this one too);
6. route throttle (one count per new notification): ``throttled``;
7. tenant's daily quota (one count per delivery to run): ``quota_exceeded``;
8. otherwise ``pending``, due at the notification's ``send_at``: returned to run.

An ``AlertOpened`` / ``AlertReopened`` that a route with an ``escalation_policy_id`` takes also
starts that escalation for the alert (``pulse.escalation``), in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pulse.db import Database
from pulse.escalation.store import start as start_escalation
from pulse.notify import delivery_store as ds
from pulse.notify import store
from pulse.notify.deadletters import dead_letter, redrive
from pulse.notify.delivery import deliver
from pulse.notify.models import DeliveryStatus, PlannedDelivery, RecordedDelivery, Route, RoutePlan
from pulse.notify.routing import AlertEvent, first_send_at, group_key, select_routes, throttle_window
from pulse.observability import logger

__all__ = ["dead_letter", "deliver", "redrive", "route_event"]

RUN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def route_event(
    db: Database, detail: Mapping[str, Any], *, now: datetime, execution_id: str | None = None
) -> RoutePlan:
    """Plans the deliveries of one bus event (its ``detail``, or the whole EventBridge event)."""
    event = AlertEvent.parse(detail)
    with db.transaction() as conn:
        if not ds.claim_event(conn, event.tenant_id, event.event_id, event.event_name, event.alert_id, now):
            return _replay(conn, event)
        plan = _Planner(conn, event, now, execution_id).run()
        ds.set_outcome(conn, event.event_id, plan.outcome, plan_routes(plan))
    logger.info(
        "event routed",
        extra={
            "event_id": event.event_id,
            "tenant_id": event.tenant_id,
            "outcome": plan.outcome,
            "deliveries": len(plan.deliveries),
            "recorded": len(plan.recorded),
        },
    )
    return plan


def plan_routes(plan: RoutePlan) -> list[str]:
    return sorted({d.route_id for d in plan.deliveries if d.route_id})


def _replay(conn: psycopg.Connection, event: AlertEvent) -> RoutePlan:
    stored = ds.deliveries_of_event(conn, event.event_id)
    return RoutePlan(
        event_id=event.event_id,
        tenant_id=event.tenant_id,
        outcome=ds.event_outcome(conn, event.event_id),
        deliveries=[PlannedDelivery(d.id, d.channel_id, d.route_id, d.send_at) for d in stored if d.status in RUN],
        recorded=[RecordedDelivery(d.id, d.channel_id, d.status, d.reason) for d in stored if d.status not in RUN],
        replayed=True,
    )


class _Planner:
    """One event's walk over its routes, in the router's transaction."""

    def __init__(self, conn: psycopg.Connection, event: AlertEvent, now: datetime, execution_id: str | None) -> None:
        self.conn = conn
        self.event = event
        self.now = now
        self.execution_id = execution_id
        self.tenant_id = event.tenant_id
        self.covered: set[str] = set()
        self.deliveries: list[PlannedDelivery] = []
        self.recorded: list[RecordedDelivery] = []
        self.grouped: list[str] = []
        self.quota_limit: int | None = None
        self.quota_checked = False

    def run(self) -> RoutePlan:
        outcome = self._walk()
        return RoutePlan(
            event_id=self.event.event_id,
            tenant_id=self.tenant_id,
            outcome=outcome,
            deliveries=self.deliveries,
            recorded=self.recorded,
            grouped_into=self.grouped,
        )

    def _walk(self) -> str:
        if self.event.kind is None:
            return "not an alert event"
        routes = store.list_routes(self.conn, self.tenant_id)
        tags = (
            ds.device_tags(self.conn, self.tenant_id, self.event.device_id)
            if any(r.matchers.tags for r in routes)
            else {}
        )
        taken = select_routes(routes, self.event, tags)
        if not taken:
            return "no route matched"
        escalating = self._escalate(taken)
        channels = store.channels_by_id(self.conn, self.tenant_id, sorted({c for r in taken for c in r.channel_ids}))
        for route in taken:
            targets = [c for c in route.channel_ids if c in channels and c not in self.covered]
            self.covered.update(targets)
            live = [c for c in targets if channels[c].enabled]
            for channel_id in targets:
                if not channels[channel_id].enabled:
                    self._record(route, channel_id, DeliveryStatus.SUPPRESSED, "channel disabled")
            if live:
                self._route(route, live)
        if self.event.silenced:
            return "silenced"
        if self.deliveries or self.grouped:
            return "planned"
        return "escalation started" if escalating else "nothing to send"

    def _escalate(self, taken: list[Route]) -> bool:
        """An opened (or reopened) alert a route with an escalation policy takes starts that policy
        (the first such route's); the escalation engine pages from there."""
        route = next((r for r in taken if r.escalation_policy_id), None)
        alert_id = self.event.alert_id
        if route is None or alert_id is None or self.event.silenced or self.event.kind not in ("opened", "reopened"):
            return False
        assert route.escalation_policy_id is not None
        return start_escalation(
            self.conn,
            self.tenant_id,
            alert_id,
            route.escalation_policy_id,
            route.id,
            self.now,
            restart=self.event.kind == "reopened",
        )

    def _route(self, route: Route, channel_ids: list[str]) -> None:
        if self.event.silenced:
            for channel_id in channel_ids:
                self._record(route, channel_id, DeliveryStatus.SUPPRESSED, "silenced")
            return
        if route.repeat_interval_s and ds.recently_carried(
            self.conn,
            self.tenant_id,
            route.id,
            self.event.event_name,
            self.event.field("fingerprint"),
            self.now - timedelta(seconds=route.repeat_interval_s),
        ):
            for channel_id in channel_ids:
                self._record(route, channel_id, DeliveryStatus.SUPPRESSED, "repeat interval")
            return
        key = group_key(route, self.event)
        group = ds.lock_group(self.conn, self.tenant_id, route.id, key) if route.group_by else None
        if group is not None and group.open and group.last_send_at > self.now:
            ds.join_notification(self.conn, group.notification_id, self.event.detail, self.event.alert_id)
            self.grouped.append(group.notification_id)
            return
        if route.throttle is not None and not ds.take_throttle(
            self.conn,
            self.tenant_id,
            route.id,
            throttle_window(self.now, route.throttle.window_s),
            route.throttle.limit,
        ):
            for channel_id in channel_ids:
                self._record(
                    route,
                    channel_id,
                    DeliveryStatus.THROTTLED,
                    f"throttle {route.throttle.limit} per {route.throttle.window_s} s",
                )
            return
        send_at = first_send_at(route, self.now, group.last_send_at if group else None)
        notification_id = f"ntf_{uuid.uuid4().hex}"
        ds.insert_notification(
            self.conn,
            self.tenant_id,
            notification_id,
            route.id,
            key,
            send_at,
            self.event.detail,
            self.event.alert_id,
            self.now,
        )
        if route.group_by:
            ds.put_group(self.conn, self.tenant_id, route.id, key, notification_id, send_at)
        for channel_id in channel_ids:
            if self._within_quota():
                self._plan(route, channel_id, notification_id, send_at)
            else:
                self._record(
                    route,
                    channel_id,
                    DeliveryStatus.QUOTA_EXCEEDED,
                    f"daily delivery quota of {self.quota_limit} used up",
                    notification_id,
                )

    def _within_quota(self) -> bool:
        if not self.quota_checked:
            self.quota_limit = ds.daily_limit(self.conn, self.tenant_id)
            self.quota_checked = True
        return ds.take_quota(self.conn, self.tenant_id, self.now.astimezone(UTC).date(), self.quota_limit)

    def _insert(
        self,
        route: Route,
        channel_id: str,
        status: DeliveryStatus,
        reason: str,
        notification_id: str | None,
        send_at: datetime,
    ) -> str | None:
        delivery_id = f"dlv_{uuid.uuid4().hex}"
        written = ds.insert_delivery(
            self.conn,
            ds.NewDelivery(
                tenant_id=self.tenant_id,
                id=delivery_id,
                event_id=self.event.event_id,
                event_name=self.event.event_name,
                alert_id=self.event.alert_id,
                channel_id=channel_id,
                route_id=route.id,
                notification_id=notification_id,
                status=status,
                reason=reason,
                send_at=send_at,
                execution_id=self.execution_id,
                created_at=self.now,
            ),
        )
        return delivery_id if written else None

    def _plan(self, route: Route, channel_id: str, notification_id: str, send_at: datetime) -> None:
        delivery_id = self._insert(route, channel_id, DeliveryStatus.PENDING, "", notification_id, send_at)
        if delivery_id is not None:
            self.deliveries.append(PlannedDelivery(delivery_id, channel_id, route.id, send_at))

    def _record(
        self, route: Route, channel_id: str, status: DeliveryStatus, reason: str, notification_id: str | None = None
    ) -> None:
        delivery_id = self._insert(route, channel_id, status, reason, notification_id, self.now)
        if delivery_id is not None:
            self.recorded.append(RecordedDelivery(delivery_id, channel_id, status, reason))
