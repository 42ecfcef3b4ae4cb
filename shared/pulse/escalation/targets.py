"""Who and what a step pages: channels as they are, a person through their personal notification
policy, the person on call in a schedule now. Lookups are cached for one engine tick.

A person's policy turns into one delivery per rule, due after the waits before it (``send_at``);
the engine starts each only when it is due and the alert is still open. A person without a policy
is paged on every enabled contact method at once; a person without one is named in the note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from pulse.escalation import people_store
from pulse.escalation.models import (
    NotificationPolicy,
    NotifyChannelsStep,
    NotifyOnCallStep,
    NotifyUsersStep,
    PolicyRule,
    Step,
)
from pulse.escalation.people_store import OwnedChannel
from pulse.oncall.service import who_is_on_call
from pulse.rules.model import Severity


@dataclass(frozen=True, slots=True)
class Page:
    channel_id: str
    send_at: datetime


@dataclass
class Resolved:
    pages: list[Page] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, other: Resolved) -> None:
        self.pages += other.pages
        self.targets += other.targets
        self.notes += other.notes


class Targets:
    def __init__(self) -> None:
        self._channels: dict[str, dict[str, bool]] = {}
        self._methods: dict[tuple[str, str], list[OwnedChannel]] = {}
        self._policies: dict[tuple[str, str], NotificationPolicy | None] = {}
        self._on_call: dict[tuple[str, str], str | None] = {}
        self._paged: dict[tuple[str, str, bool, datetime], tuple[tuple[Page, ...], tuple[str, ...]]] = {}

    def resolve(
        self, conn: psycopg.Connection, tenant_id: str, step: Step, severity: Severity, at: datetime
    ) -> Resolved:
        if isinstance(step, NotifyChannelsStep):
            return self.channels(conn, tenant_id, step.channel_ids, at)
        if isinstance(step, NotifyUsersStep):
            found = Resolved()
            for username in step.usernames:
                found.add(self.person(conn, tenant_id, username, severity, at))
            return found
        if isinstance(step, NotifyOnCallStep):
            key = (tenant_id, step.schedule_id)
            if key not in self._on_call:
                self._on_call[key] = who_is_on_call(conn, tenant_id, step.schedule_id, at)
            on_call = self._on_call[key]
            if on_call is None:
                return Resolved(notes=[f"nobody is on call in schedule {step.schedule_id}"])
            return self.person(conn, tenant_id, on_call, severity, at)
        return Resolved()

    def channels(self, conn: psycopg.Connection, tenant_id: str, ids: Sequence[str], at: datetime) -> Resolved:
        if tenant_id not in self._channels:
            rows = conn.execute("SELECT id, enabled FROM channels WHERE tenant_id = %s", (tenant_id,)).fetchall()
            self._channels[tenant_id] = {r[0]: bool(r[1]) for r in rows}
        known = self._channels[tenant_id]
        found = Resolved(targets=list(ids))
        for channel_id in ids:
            if known.get(channel_id):
                found.pages.append(Page(channel_id, at))
            else:
                found.notes.append(f"channel {channel_id} is {'disabled' if channel_id in known else 'deleted'}")
        return found

    def person(
        self, conn: psycopg.Connection, tenant_id: str, username: str, severity: Severity, at: datetime
    ) -> Resolved:
        key = (tenant_id, username, severity is Severity.CRITICAL, at)
        if key not in self._paged:
            self._paged[key] = self._page(conn, *key)
        pages, notes = self._paged[key]
        return Resolved(pages=list(pages), targets=[username], notes=list(notes))

    def _page(
        self, conn: psycopg.Connection, tenant_id: str, username: str, critical: bool, at: datetime
    ) -> tuple[tuple[Page, ...], tuple[str, ...]]:
        """A person's pages at ``at``, and the note when there are none (one answer per tick: a batch
        pages the same people for many alerts)."""
        key = (tenant_id, username)
        if key not in self._methods:
            self._methods[key] = people_store.contact_methods(conn, tenant_id, username)
            self._policies[key] = people_store.get_policy(conn, tenant_id, username)
        methods = {m.id: m for m in self._methods[key] if m.enabled}
        policy = self._policies[key]
        rules: list[PolicyRule]
        if policy is None:
            rules = [PolicyRule(contact_method_id=m) for m in methods]
        else:
            rules = policy.critical if critical and policy.critical else policy.default
        pages: list[Page] = []
        offset = 0
        for rule in rules:
            offset += rule.wait_minutes
            if rule.contact_method_id in methods:
                pages.append(Page(rule.contact_method_id, at + timedelta(minutes=offset)))
        return tuple(pages), () if pages else (f"{username} has no enabled contact method",)
