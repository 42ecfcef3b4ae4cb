"""The escalation engine against PostgreSQL, driven with explicit ``now`` values: an unacknowledged alert
walks its steps at the configured minutes, an acknowledgement stops the rest at once (a person's
later contact method included), reminders follow while it stays acknowledged, resolving ends it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pulse.alerts.actions import act
from pulse.db import Database
from pulse.escalation import people_store, store
from pulse.escalation.engine import tick
from pulse.escalation.models import EscalationPolicy, EscalationPolicyIn, NotificationPolicyIn
from pulse.identity.scope import Actor, TenantScope
from pulse.notify import store as notify_store
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.service import route_event
from pulse.notify.store import ChannelRow
from tests.builders import make_device, make_tenant
from tests.builders_alerts import raise_alert
from tests.integration.notify_fixtures import DirectStarter, RecordingMqtt, add_channel, add_route, alert_event
from tests.integration.notify_fixtures import sealer as make_sealer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_sms(self, phone_number: str, text: str) -> str:
        self.sent.append((phone_number, text))
        return f"msg-{len(self.sent)}"


def _policy(sql: Any, **fields: Any) -> EscalationPolicy:
    body = EscalationPolicyIn.model_validate({"name": "Ops", **fields})
    policy = EscalationPolicy(**body.model_dump(), id="esc-ops", version=1, created_at=T0, updated_at=T0)
    store.insert_policy(sql, "acme", policy)
    return policy


def _contact(sql: Any, username: str, channel_id: str, channel_type: str, config: dict[str, Any]) -> str:
    notify_store.insert_channel(
        sql,
        ChannelRow(
            "acme", channel_id, channel_type, f"{username} {channel_type}", config, None, None, None, True, 1, T0, T0
        ),
    )
    people_store.set_owner(sql, "acme", channel_id, username)
    return channel_id


class Stage:
    """One tenant, a device, team channels, alice's SMS and email, a route starting the policy."""

    def __init__(self, database_url: str, sql: Any) -> None:
        make_tenant(sql)
        make_device(sql)
        self.url, self.sql = database_url, sql
        self.ops = add_channel(sql, "ops")
        self.managers = add_channel(sql, "managers")
        self.sms = _contact(sql, "alice", "chn-alice-sms", "sms", {"phone_number": "+4915112345678"})
        self.mail = _contact(sql, "alice", "chn-alice-mail", "email", {"to": ["alice@example.com"]})
        self.mqtt, self.texts, self.mails = RecordingMqtt(), RecordingSms(), RecordingMails()
        self.ingest = Database(database_url, "pulse_ingest")
        ports = SenderPorts(mailer=self.mails, mqtt=self.mqtt, email_from="pulse@example.com", sms=self.texts)
        self.starter = DirectStarter(self.ingest, ports, make_sealer())
        self.app = Database(database_url, "pulse_app")
        self.scope = TenantScope(self.app, "acme", Actor.system("test"))

    def open_alert(self, at: datetime = T0) -> str:
        alert_id = raise_alert(self.url, at=at)
        plan = route_event(self.ingest, alert_event("AlertOpened", alert_id=alert_id, at=at), now=at)
        assert plan.outcome == "escalation started"
        return str(alert_id)

    def tick(self, minutes: float) -> None:
        tick(self.ingest, now=T0 + timedelta(minutes=minutes), starter=self.starter)

    def pages(self) -> list[str]:
        """Who got paged so far, in order: team channel names, then 'sms', 'mail'."""
        found = [topic.rsplit("/", 1)[1] for topic, _ in self.mqtt.published]
        return found + ["sms"] * len(self.texts.sent) + ["mail"] * len(self.mails.sent)

    def timeline(self, alert_id: str) -> list[str]:
        rows = self.sql.execute(
            "SELECT action FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.ingest.close()
        self.app.close()


class RecordingMails:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)


@pytest.fixture
def stage(database_url: str, sql: Any) -> Iterator[Stage]:
    built = Stage(database_url, sql)
    yield built
    built.close()


STEPS = [
    {"kind": "notify_channels", "channel_ids": ["chn-ops"]},
    {"kind": "wait", "minutes": 5},
    {"kind": "notify_users", "usernames": ["alice"]},
    {"kind": "wait", "minutes": 10},
    {"kind": "raise_severity", "severity": "critical"},
    {"kind": "notify_channels", "channel_ids": ["chn-managers"]},
]


def test_an_unacknowledged_alert_walks_every_step_at_its_minute(stage):
    _policy(stage.sql, steps=STEPS)
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    alert_id = stage.open_alert()

    stage.tick(0)
    assert stage.pages() == ["ops"]
    stage.tick(4.9)
    assert stage.pages() == ["ops"]
    stage.tick(5)
    assert stage.pages() == ["ops", "sms", "mail"]  # alice has no policy: every contact method at once
    stage.tick(14)
    assert stage.pages() == ["ops", "sms", "mail"]
    stage.tick(15)
    assert stage.pages() == ["ops", "managers", "sms", "mail"]
    stage.tick(60)  # nothing is left
    assert len(stage.mqtt.published) == 2

    severity = stage.sql.execute("SELECT severity FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert severity == ("critical",)
    assert stage.timeline(alert_id).count("escalated") == 4
    outbox = stage.sql.execute(
        "SELECT count(*) FROM events_outbox WHERE event_type = 'AlertEscalated' AND correlation_id = %s", (alert_id,)
    ).fetchone()
    assert outbox == (4,)
    manager_note = [p for _, p in stage.mqtt.published][1]
    assert b'"severity":"critical"' in manager_note


def test_a_late_tick_catches_up_each_step_once_and_a_repeat_tick_pages_nobody_again(stage):
    _policy(stage.sql, steps=STEPS)
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    stage.open_alert()

    stage.tick(30)  # the engine was down for half an hour: every step runs, once
    assert sorted(stage.pages()) == ["mail", "managers", "ops", "sms"]
    stage.tick(30)
    stage.tick(31)
    assert len(stage.pages()) == 4
    keys = stage.sql.execute("SELECT DISTINCT event_id FROM deliveries ORDER BY 1").fetchall()
    assert [k[0].split(":", 2)[2] for k in keys] == ["0:0", "2:0", "5:0"]


def test_a_step_run_again_or_naming_a_channel_twice_pages_each_channel_once(stage):
    _policy(stage.sql, steps=[{"kind": "notify_channels", "channel_ids": ["chn-ops", "chn-ops", "chn-managers"]}])
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    alert_id = stage.open_alert()

    stage.tick(0)
    assert sorted(stage.pages()) == ["managers", "ops"]
    # an operator rewinds the escalation: the step runs again, its channels were paged already
    stage.sql.execute(
        "UPDATE alert_escalations SET position = 0, step_due_at = %s, next_due_at = %s WHERE alert_id = %s",
        (T0, T0, alert_id),
    )
    stage.tick(1)
    assert sorted(stage.pages()) == ["managers", "ops"]
    deliveries = stage.sql.execute("SELECT channel_id FROM deliveries ORDER BY channel_id").fetchall()
    assert deliveries == [("chn-managers",), ("chn-ops",)]
    assert stage.timeline(alert_id).count("escalated") == 2


def test_an_acknowledgement_between_steps_stops_the_rest_and_reminders_follow(stage):
    _policy(stage.sql, steps=STEPS, reminder={"every_minutes": 30, "channel_ids": ["chn-ops"]})
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    people_store.put_policy(
        stage.sql,
        "acme",
        "alice",
        NotificationPolicyIn.model_validate(
            {
                "default": [
                    {"contact_method_id": "chn-alice-sms"},
                    {"contact_method_id": "chn-alice-mail", "wait_minutes": 10},
                ]
            }
        ),
        1,
        "alice",
        T0,
    )
    alert_id = stage.open_alert()

    stage.tick(0)
    stage.tick(5)
    assert stage.pages() == ["ops", "sms"]  # the email waits 10 minutes in alice's policy
    act(stage.scope, alert_id, "acknowledge", now=T0 + timedelta(minutes=8))
    stage.tick(15)  # the email and the managers step were due: neither goes out
    stage.tick(20)
    assert stage.pages() == ["ops", "sms"]
    suppressed = stage.sql.execute("SELECT channel_id, reason FROM deliveries WHERE status = 'suppressed'").fetchall()
    assert suppressed == [("chn-alice-mail", "the alert was acknowledged before this was due")]

    stage.tick(37.9)
    assert stage.pages() == ["ops", "sms"]
    stage.tick(38)  # acknowledged at minute 8: a reminder every 30 minutes
    stage.tick(68)
    assert stage.pages() == ["ops", "ops", "ops", "sms"]
    reminder = stage.mqtt.published[-1][1]
    assert b'"type":"AlertReminder"' in reminder
    assert stage.timeline(alert_id).count("reminded") == 2

    act(stage.scope, alert_id, "resolve", now=T0 + timedelta(minutes=70))
    stage.tick(71)
    stage.tick(200)
    assert len(stage.pages()) == 4
    status = stage.sql.execute("SELECT status, ended_reason FROM alert_escalations").fetchone()
    assert status == ("done", "resolved")


def test_unacknowledging_resumes_the_steps_where_they_stopped(stage):
    _policy(stage.sql, steps=STEPS)
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    alert_id = stage.open_alert()
    stage.tick(0)
    act(stage.scope, alert_id, "acknowledge", now=T0 + timedelta(minutes=1))
    stage.tick(6)
    assert stage.pages() == ["ops"]
    act(stage.scope, alert_id, "unacknowledge", now=T0 + timedelta(minutes=7))
    stage.tick(7.5)  # the alert changed: picked up at once, the overdue step runs
    assert stage.pages() == ["ops", "sms", "mail"]


def test_a_policy_repeats_and_waits_for_its_active_window(stage):
    # 09:00 UTC on a Monday is 10:00 in Berlin; the window opens at 10:30 local.
    _policy(
        stage.sql,
        steps=[{"kind": "notify_channels", "channel_ids": ["chn-ops"]}, {"kind": "wait", "minutes": 10}],
        repeat_count=2,
        timezone="Europe/Berlin",
        active_window={"days": ["mon"], "start": "10:30", "end": "18:00"},
    )
    add_route(stage.sql, 0, [], escalation_policy_id="esc-ops")
    stage.open_alert()
    stage.tick(29)
    assert stage.pages() == []
    for minute in (30, 39, 40, 50, 60, 90):
        stage.tick(minute)
    assert stage.pages() == ["ops", "ops", "ops"]  # first pass and two repeats, ten minutes apart
