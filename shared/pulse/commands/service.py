"""Command use cases: send (one device or a list), device acknowledgement, expiry at TTL, cancel.

A send writes the ``queued`` rows and their audit rows in one transaction, then publishes each on
``tenant/{t}/device/{d}/commands`` and marks it ``sent``; a command whose publish failed stays
``queued`` and expires at its TTL like any unanswered one. Acks move an open command forward
(``accepted`` -> ``succeeded``/``failed``; a device may skip ``accepted``); a late or repeated ack of
a finished command changes nothing. Expiry runs on schedule and writes one ``CommandExpired`` event
per command into the ``twin_events`` outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pulse.commands import store
from pulse.commands.models import CANCELLABLE, COMMAND_EXPIRED, OPEN, Command, CommandAck, CommandIn, CommandStatus
from pulse.connect.topics import Topic, TopicKind, build_topic
from pulse.db import Database, tenant_transaction
from pulse.errors import PulseError
from pulse.identity.scope import TenantScope, operator_transaction
from pulse.observability import logger
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.paging import Page, decode_cursor, keyset_page
from pulse.twin import store as twin_store
from pulse.twin.protocol import OutgoingMessage
from pulse.twin.publishing import TwinPublisher

_SORT = "created_desc"


def send(
    scope: TenantScope, device_ids: list[str], spec: CommandIn, publisher: TwinPublisher, *, now: datetime
) -> list[Command]:
    """One command per device (all or none: an unknown device is 404 and nothing is sent)."""
    created: list[Command] = []
    with scope.transaction() as conn:
        for device_id in dict.fromkeys(device_ids):
            if not twin_store.device_exists(conn, scope.tenant_id, device_id):
                raise NotFound(f"no device {device_id!r}")
            command = Command(
                id=uuid.uuid4().hex,
                device_id=device_id,
                name=spec.name,
                params=spec.params,
                status=CommandStatus.QUEUED,
                expires_at=now + timedelta(seconds=spec.ttl_s),
                created_by=scope.actor.display,
                created_at=now,
            )
            store.insert(conn, scope.tenant_id, command)
            record_change(conn, scope.tenant_id, scope.actor, "command.send", "command", command.id, None, command)
            created.append(command)
    return [_publish(scope, command, publisher, now) for command in created]


def _publish(scope: TenantScope, command: Command, publisher: TwinPublisher, now: datetime) -> Command:
    topic = build_topic(scope.tenant_id, command.device_id, TopicKind.COMMANDS)
    try:
        publisher.publish([OutgoingMessage(TopicKind.COMMANDS.value, topic, command.device_message())])
    except PulseError as exc:
        logger.warning("command not published", extra={"command_id": command.id, "error": exc.detail})
        return command
    with scope.transaction() as conn:
        store.mark_sent(conn, scope.tenant_id, command.id, now)
    return command.model_copy(update={"status": CommandStatus.SENT, "sent_at": now})


def get(scope: TenantScope, command_id: str) -> Command:
    with scope.transaction() as conn:
        found = store.get(conn, scope.tenant_id, command_id)
    if found is None:
        raise NotFound(f"no command {command_id!r}")
    return found


def list_for_device(scope: TenantScope, device_id: str, *, limit: int, cursor: str | None) -> Page[Command]:
    after = decode_cursor(cursor, _SORT)
    with scope.transaction() as conn:
        if not twin_store.device_exists(conn, scope.tenant_id, device_id):
            raise NotFound(f"no device {device_id!r}")
        key = (datetime.fromisoformat(after[0]), str(after[1])) if after else None
        rows = store.for_device(conn, scope.tenant_id, device_id, after=key, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit, _SORT, lambda c: [c.created_at.isoformat(), c.id])
    return Page[Command](items=items, next_cursor=next_cursor)


def cancel(scope: TenantScope, command_id: str, *, now: datetime) -> Command:
    with scope.transaction() as conn:
        before = store.get(conn, scope.tenant_id, command_id, lock=True)
        if before is None:
            raise NotFound(f"no command {command_id!r}")
        if before.status not in CANCELLABLE:
            raise Conflict(
                f"command {command_id!r} is {before.status.value}; only queued or sent ones can be cancelled"
            )
        store.set_status(conn, scope.tenant_id, command_id, CommandStatus.CANCELLED, now)
        after = before.model_copy(update={"status": CommandStatus.CANCELLED, "finished_at": now})
        record_change(conn, scope.tenant_id, scope.actor, "command.cancel", "command", command_id, before, after)
    return after


def acknowledge(db: Database, topic: Topic, ack: CommandAck, *, now: datetime) -> Command | None:
    """Apply a device's ack; None when the command is not this device's or already finished."""
    assert topic.command_id is not None
    with tenant_transaction(db, topic.tenant_id) as conn:
        command = store.get(conn, topic.tenant_id, topic.command_id, lock=True)
        if command is None or command.device_id != topic.device_id or command.status not in OPEN:
            logger.warning(
                "command ack ignored",
                extra={"command_id": topic.command_id, "status": command.status.value if command else None},
            )
            return None
        store.record_ack(conn, topic.tenant_id, command.id, ack, now)
        found = store.get(conn, topic.tenant_id, command.id)
    logger.info("command acknowledged", extra={"command_id": topic.command_id, "status": ack.status})
    return found


def expire_due(db: Database, now: datetime, *, limit: int = 1000) -> list[Command]:
    """Scheduled, across tenants: open commands past their TTL end ``expired`` with one event each."""
    expired: list[Command] = []
    with operator_transaction(db) as conn:
        for tenant_id, command in store.expire_due(conn, now, limit):
            data: dict[str, Any] = {
                "command_id": command.id,
                "device_id": command.device_id,
                "name": command.name,
                "expires_at": command.expires_at.isoformat(),
            }
            twin_store.add_event(conn, tenant_id, command.device_id, COMMAND_EXPIRED, command.id, now, data)
            expired.append(command)
    if expired:
        logger.info("commands expired", extra={"count": len(expired)})
    return expired
