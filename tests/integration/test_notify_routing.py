"""Routing alert events to deliveries: route order and continue, matchers, silenced events, the
grouping timeline, repeat interval, throttle windows, the daily quota, and idempotency per event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse.db import Database
from pulse.identity.scope import Actor, operator_transaction
from pulse.notify.service import deliver, route_event
from pulse.outbox import store as outbox
from pulse.outbox.publisher import envelope
from pulse.registry.models import TenantIn
from pulse.registry.subscriptions import create_tenant
from tests.builders import make_device, make_tenant
from tests.builders_alerts import raise_alert
from tests.integration.notify_fixtures import (
    RecordingMqtt,
    add_channel,
    add_route,
    alert_event,
    sealer,
    sender_ports,
)

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def ingest_db(database_url):
    db = Database(database_url, "pulse_ingest")
    yield db
    db.close()


@pytest.fixture
def acme(sql):
    make_tenant(sql, "acme")
    make_device(sql, "acme", "dev-1")
    sql.execute("""UPDATE devices SET tags = '{"floor": "2"}' WHERE id = 'dev-1'""")
    return "acme"


def _channels(plan):
    return sorted(d.channel_id for d in plan.deliveries)


def _statuses(sql, event_id):
    return sorted(
        sql.execute("SELECT channel_id, status, reason FROM deliveries WHERE event_id = %s", (event_id,)).fetchall()
    )


def test_first_matching_route_stops_the_walk_unless_it_continues(ingest_db, sql, acme):
    a, b, c = (add_channel(sql, n) for n in ("a", "b", "c"))
    add_route(sql, 0, [a], matchers={"severity_at_least": "critical"})
    add_route(sql, 1, [b], matchers={"rule_ids": ["hot"]}, **{"continue": True})
    add_route(sql, 2, [c])

    major = route_event(ingest_db, alert_event(severity="major"), now=T0)
    critical = route_event(ingest_db, alert_event(severity="critical"), now=T0)
    other_rule = route_event(ingest_db, alert_event(rule_id="smoke"), now=T0)

    assert _channels(major) == [b, c]
    assert _channels(critical) == [a]
    assert _channels(other_rule) == [c]
    assert all(d.send_at == T0 for d in major.deliveries)


@pytest.mark.parametrize(
    ("matchers", "data", "name", "matches"),
    [
        ({"events": ["resolved"]}, {}, "AlertOpened", False),
        ({"events": ["resolved"]}, {}, "AlertResolved", True),
        ({}, {}, "AlertCommented", False),  # default events: opened, reopened, escalated, resolved
        ({"site_ids": ["berlin"]}, {"site_id": "berlin"}, "AlertOpened", True),
        ({"site_ids": ["berlin"]}, {"site_id": None}, "AlertOpened", False),
        ({"tags": {"floor": "2"}}, {}, "AlertOpened", True),
        ({"tags": {"floor": "3"}}, {}, "AlertOpened", False),
        ({"device_id_prefixes": ["ups-", "dev-"]}, {}, "AlertOpened", True),
        ({"device_id_prefixes": ["ups-"]}, {}, "AlertOpened", False),
        ({"severity_at_least": "minor"}, {"severity": "warning"}, "AlertOpened", False),
    ],
)
def test_each_matcher_decides(ingest_db, sql, acme, matchers, data, name, matches):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel], matchers=matchers)

    plan = route_event(ingest_db, alert_event(name, **data), now=T0)

    assert (plan.delivery_ids != []) is matches
    assert plan.outcome == ("planned" if matches else "no route matched")


def test_an_event_routed_twice_is_planned_once(ingest_db, sql, acme):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel])
    event = alert_event()

    first = route_event(ingest_db, event, now=T0)
    again = route_event(ingest_db, {"detail": event, "detail-type": "AlertOpened"}, now=T0 + timedelta(minutes=1))

    assert again.replayed and again.delivery_ids == first.delivery_ids and len(first.delivery_ids) == 1
    assert sql.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1


def test_a_channel_named_by_two_matching_routes_gets_the_event_once(ingest_db, sql, acme):
    a, b = add_channel(sql, "a"), add_channel(sql, "b")
    add_route(sql, 0, [a], **{"continue": True})
    add_route(sql, 1, [a, b])

    plan = route_event(ingest_db, alert_event(), now=T0)

    assert _channels(plan) == [a, b]


def test_silenced_events_are_recorded_suppressed_and_not_delivered(ingest_db, sql, acme):
    channel = add_channel(sql, "ops")
    off = add_channel(sql, "off", enabled=False)
    add_route(sql, 0, [channel, off])
    event = alert_event(silenced=True)

    plan = route_event(ingest_db, event, now=T0)

    assert plan.delivery_ids == [] and plan.outcome == "silenced"
    assert _statuses(sql, event["metadata"]["event_id"]) == [
        (off, "suppressed", "channel disabled"),
        (channel, "suppressed", "silenced"),
    ]
    assert sql.execute("SELECT outcome FROM routed_events").fetchone()[0] == "silenced"


def test_a_real_alert_event_from_the_outbox_routes(ingest_db, database_url, sql, acme):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel], matchers={"rule_ids": ["hot"], "severity_at_least": "major"})
    raise_alert(database_url)
    with ingest_db.transaction() as conn:
        [row] = outbox.claim(conn, 10)

    plan = route_event(ingest_db, envelope(row), now=T0)

    assert _channels(plan) == [channel]


def test_grouping_timeline_batches_within_group_wait_then_every_group_interval(ingest_db, sql, acme):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel], group_by=["rule_id"], group_wait_s=30, group_interval_s=300)
    mqtt = RecordingMqtt()
    key, ports = sealer(), sender_ports(mqtt)

    first = route_event(ingest_db, alert_event(device_id="dev-1"), now=T0)
    joined = route_event(ingest_db, alert_event(device_id="dev-2"), now=T0 + timedelta(seconds=10))
    other_group = route_event(ingest_db, alert_event(rule_id="smoke"), now=T0 + timedelta(seconds=12))

    assert [d.send_at for d in first.deliveries] == [T0 + timedelta(seconds=30)]
    assert joined.delivery_ids == [] and len(joined.grouped_into) == 1 and joined.outcome == "planned"
    assert [d.send_at for d in other_group.deliveries] == [T0 + timedelta(seconds=42)]

    sent = deliver(ingest_db, first.delivery_ids[0], attempt=1, sealer=key, ports=ports, now=T0 + timedelta(seconds=30))
    assert sent.status == "delivered" and len(mqtt.published) == 1
    assert b'"count":2' in mqtt.published[0][1]  # one notification carrying both events of the group

    after_send = route_event(ingest_db, alert_event(device_id="dev-3"), now=T0 + timedelta(seconds=40))
    assert [d.send_at for d in after_send.deliveries] == [T0 + timedelta(seconds=330)]  # next group tick
    late = route_event(ingest_db, alert_event(device_id="dev-4"), now=T0 + timedelta(seconds=340))
    assert [d.send_at for d in late.deliveries] == [T0 + timedelta(seconds=630)]
    quiet = route_event(ingest_db, alert_event(device_id="dev-5"), now=T0 + timedelta(hours=1))
    assert [d.send_at for d in quiet.deliveries] == [T0 + timedelta(hours=1, seconds=30)]  # group wait again


def test_repeat_interval_suppresses_the_same_event_of_the_same_alert(ingest_db, sql, acme):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel], repeat_interval_s=3600)

    first = route_event(ingest_db, alert_event("AlertReopened"), now=T0)
    repeat = alert_event("AlertReopened")
    again = route_event(ingest_db, repeat, now=T0 + timedelta(minutes=20))
    resolved = route_event(ingest_db, alert_event("AlertResolved"), now=T0 + timedelta(minutes=21))
    later = route_event(ingest_db, alert_event("AlertReopened"), now=T0 + timedelta(minutes=61))

    assert len(first.delivery_ids) == 1 and again.delivery_ids == []
    assert _statuses(sql, repeat["metadata"]["event_id"]) == [(channel, "suppressed", "repeat interval")]
    assert len(resolved.delivery_ids) == 1 and len(later.delivery_ids) == 1


def test_throttle_records_notifications_over_the_window_limit(ingest_db, sql, acme):
    channel = add_channel(sql, "ops")
    add_route(sql, 0, [channel], throttle={"limit": 2, "window_s": 60})
    events = [alert_event(device_id=f"dev-{i}") for i in range(3)]

    plans = [route_event(ingest_db, e, now=T0 + timedelta(seconds=i)) for i, e in enumerate(events)]
    next_window = route_event(ingest_db, alert_event(), now=T0 + timedelta(seconds=61))

    assert [len(p.delivery_ids) for p in plans] == [1, 1, 0]
    assert _statuses(sql, events[2]["metadata"]["event_id"]) == [(channel, "throttled", "throttle 2 per 60 s")]
    assert len(next_window.delivery_ids) == 1


def test_quota_exceeded_is_recorded_and_resets_the_next_day(ingest_db, owner_db, sql):
    with operator_transaction(owner_db) as conn:
        create_tenant(conn, TenantIn(id="acme", name="Acme", plan_id="trial"), Actor.system("test"), T0)
    sql.execute("UPDATE plans SET deliveries_per_day = 2 WHERE id = 'trial'")
    a, b = add_channel(sql, "a"), add_channel(sql, "b")
    add_route(sql, 0, [a, b])
    over = alert_event()

    first = route_event(ingest_db, alert_event(), now=T0)
    second = route_event(ingest_db, over, now=T0 + timedelta(minutes=1))
    tomorrow = route_event(ingest_db, alert_event(), now=T0 + timedelta(days=1))

    assert len(first.delivery_ids) == 2 and second.delivery_ids == []
    assert [r[1:] for r in _statuses(sql, over["metadata"]["event_id"])] == [
        ("quota_exceeded", "daily delivery quota of 2 used up")
    ] * 2
    assert len(tomorrow.delivery_ids) == 2


def test_events_that_are_not_about_alerts_plan_nothing(ingest_db, sql, acme):
    add_route(sql, 0, [add_channel(sql, "ops")])

    plan = route_event(ingest_db, alert_event("SilenceExpired"), now=T0)

    assert plan.delivery_ids == [] and plan.outcome == "not an alert event"
