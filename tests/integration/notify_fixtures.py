"""Builders for the notification tests: bus events, channel and route rows, fake ports."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import Any

import psycopg

from pulse.db import Database
from pulse.notify import store
from pulse.notify.channels.ports import SenderPorts
from pulse.notify.models import Route, RouteIn
from pulse.notify.sealing import LocalKeySealer
from pulse.notify.service import deliver
from pulse.notify.store import ChannelRow
from pulse.platform.aws.iot_data import IotDataError

_ids = itertools.count(1000)


def alert_event(
    name: str = "AlertOpened",
    *,
    tenant_id: str = "acme",
    at: datetime | None = None,
    event_id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """The ``detail`` of an alert event as the outbox publisher puts it on the bus."""
    at = at or datetime.now(UTC)
    fields: dict[str, Any] = {
        "alert_id": "al-1",
        "fingerprint": "hot/dev-1",
        "rule_id": "hot",
        "rule_name": "Too hot",
        "device_id": "dev-1",
        "site_id": None,
        "severity": "major",
        "state": "open",
        "silenced": False,
        "value": 35.0,
        "opened_at": at.isoformat(),
        "event": name,
        "at": at.isoformat(),
        "actor": "system:rules",
        "note": "",
        **data,
    }
    if "fingerprint" not in data:
        fields["fingerprint"] = f"{fields['rule_id']}/{fields['device_id']}"
    return {
        "metadata": {
            "event_name": name,
            "event_version": 1,
            "event_id": event_id or str(next(_ids)),
            "tenant_id": tenant_id,
            "correlation_id": fields["alert_id"],
            "occurred_at": at.isoformat(),
        },
        "data": fields,
    }


def add_channel(
    sql: psycopg.Connection, name: str, *, tenant_id: str = "acme", enabled: bool = True, topic: str | None = None
) -> str:
    """An MQTT channel (no secrets) publishing on ``tenant/<tenant>/out/<name>``."""
    now = datetime.now(UTC)
    channel_id = f"chn-{name}"
    store.insert_channel(
        sql,
        ChannelRow(
            tenant_id=tenant_id,
            id=channel_id,
            type="mqtt",
            name=name,
            config={"topic": topic or f"tenant/{tenant_id}/out/{name}", "qos": 1},
            sealed_secret=None,
            previous_sealed_secret=None,
            previous_valid_until=None,
            enabled=enabled,
            version=1,
            created_at=now,
            updated_at=now,
        ),
    )
    return channel_id


def add_route(
    sql: psycopg.Connection, position: int, channel_ids: list[str], *, tenant_id: str = "acme", **fields: Any
) -> Route:
    now = datetime.now(UTC)
    body = RouteIn.model_validate({"name": f"route {position}", "channel_ids": channel_ids, **fields})
    route = Route(
        **body.model_dump(), id=f"rte-{position}", position=position, version=1, created_at=now, updated_at=now
    )
    store.insert_route(sql, tenant_id, route)
    return route


class RecordingMqtt:
    """The MQTT port: keeps what it would publish; ``failures`` are raised first, one per publish."""

    def __init__(self, *failures: IotDataError) -> None:
        self.failures = list(failures)
        self.published: list[tuple[str, bytes]] = []

    def publish_payload(self, topic: str, payload: bytes, *, qos: int) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.published.append((topic, payload))


class NoMail:
    def send(self, message: Any) -> None:
        raise AssertionError("no email is sent in these tests")


def sender_ports(mqtt: RecordingMqtt) -> SenderPorts:
    return SenderPorts(mailer=NoMail(), mqtt=mqtt, email_from="pulse@example.com")


def sealer() -> LocalKeySealer:
    return LocalKeySealer(os.urandom(32))


class DirectStarter:
    """``DeliveryStarter`` that runs ``deliver`` for each id right away, as the workflow would."""

    def __init__(self, db: Database, ports: SenderPorts, key: LocalKeySealer) -> None:
        self.db, self.ports, self.key = db, ports, key
        self.started: list[list[str]] = []

    def start(self, delivery_ids: list[str]) -> str:
        self.started.append(list(delivery_ids))
        for delivery_id in delivery_ids:
            deliver(self.db, delivery_id, attempt=1, sealer=self.key, ports=self.ports, now=datetime.now(UTC))
        return f"exec-{len(self.started)}"
