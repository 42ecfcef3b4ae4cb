"""MQTT topics: ``tenant/{tenant_id}/device/{device_id}/{kind}`` (ARCHITECTURE §5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
_TENANT = r"[a-z0-9][a-z0-9-]{1,62}"


class TopicKind(StrEnum):
    TELEMETRY = "telemetry"
    HEARTBEAT = "heartbeat"
    EVENT = "event"
    TWIN_UPDATE = "twin/update"
    TWIN_GET = "twin/get"
    TWIN_DELTA = "twin/delta"
    TWIN_UPDATE_ACCEPTED = "twin/update/accepted"
    TWIN_UPDATE_REJECTED = "twin/update/rejected"
    TWIN_GET_ACCEPTED = "twin/get/accepted"
    TWIN_GET_REJECTED = "twin/get/rejected"
    COMMANDS = "commands"
    COMMAND_ACK = "commands/ack"  # on the wire: commands/{command_id}/ack


DEVICE_TO_CLOUD = frozenset(
    {
        TopicKind.TELEMETRY,
        TopicKind.HEARTBEAT,
        TopicKind.EVENT,
        TopicKind.TWIN_UPDATE,
        TopicKind.TWIN_GET,
        TopicKind.COMMAND_ACK,
    }
)
TELEMETRY_KINDS = frozenset({TopicKind.TELEMETRY, TopicKind.HEARTBEAT, TopicKind.EVENT})

_TOPIC = re.compile(rf"^tenant/(?P<tenant>{_TENANT})/device/(?P<device>{_ID})/(?P<rest>.+)$")
_COMMAND_ACK = re.compile(rf"^commands/(?P<command>{_ID})/ack$")


class TopicError(ValueError):
    """The topic is not a Pulse device topic."""


@dataclass(frozen=True, slots=True)
class Topic:
    tenant_id: str
    device_id: str
    kind: TopicKind
    command_id: str | None = None

    def __str__(self) -> str:
        return build_topic(self.tenant_id, self.device_id, self.kind, self.command_id)


def parse_topic(topic: str) -> Topic:
    match = _TOPIC.match(topic)
    if match is None:
        raise TopicError(f"not a device topic: {topic[:200]!r}")
    rest = match["rest"]
    ack = _COMMAND_ACK.match(rest)
    if ack is not None:
        return Topic(match["tenant"], match["device"], TopicKind.COMMAND_ACK, ack["command"])
    try:
        kind = TopicKind(rest)
    except ValueError:
        raise TopicError(f"unknown topic kind {rest[:60]!r}") from None
    if kind is TopicKind.COMMAND_ACK:
        raise TopicError("a command ack topic names its command: commands/{id}/ack")
    return Topic(match["tenant"], match["device"], kind)


def build_topic(tenant_id: str, device_id: str, kind: TopicKind, command_id: str | None = None) -> str:
    if not re.fullmatch(_TENANT, tenant_id) or not re.fullmatch(_ID, device_id):
        raise TopicError(f"invalid tenant or device id: {tenant_id!r}/{device_id!r}")
    if kind is TopicKind.COMMAND_ACK:
        if command_id is None or not re.fullmatch(_ID, command_id):
            raise TopicError("a command ack topic needs a valid command id")
        return f"tenant/{tenant_id}/device/{device_id}/commands/{command_id}/ack"
    return f"tenant/{tenant_id}/device/{device_id}/{kind.value}"


def thing_name(tenant_id: str, device_id: str) -> str:
    """The IoT thing (and MQTT client id) of a device: unique across tenants, valid for IoT Core."""
    return f"{tenant_id}--{device_id}".replace(".", "_")
