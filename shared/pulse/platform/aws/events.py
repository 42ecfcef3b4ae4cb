"""EventBridge adapter: puts outbox events on the Pulse bus (``events.put_events``, at most 10 a call).

The client is passed in (AWS, the local emulator, moto). A refused call becomes ``EventBusError``;
entries EventBridge rejected one by one are returned by outbox id, so the caller retries just those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError

MAX_ENTRIES_PER_CALL = 10


class EventBusError(PulseError):
    status = 502
    title = "Event bus error"


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One event for the bus; ``key`` identifies it to the caller (the outbox row id)."""

    key: int
    detail_type: str
    detail: dict[str, Any]
    time: datetime


class EventBridgeBus:
    def __init__(self, client: Any, bus_name: str, source: str) -> None:
        self._client = client
        self._bus_name = bus_name
        self._source = source

    def put(self, events: Sequence[BusEvent]) -> dict[int, str]:
        """Put up to 10 events; returns the error of each entry that was not accepted, by key."""
        if len(events) > MAX_ENTRIES_PER_CALL:
            raise ValueError(f"at most {MAX_ENTRIES_PER_CALL} events per call, got {len(events)}")
        if not events:
            return {}
        entries = [
            {
                "Source": self._source,
                "DetailType": event.detail_type,
                "Detail": orjson.dumps(event.detail).decode(),
                "EventBusName": self._bus_name,
                "Time": event.time,
            }
            for event in events
        ]
        try:
            response = self._client.put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise EventBusError(f"put_events on {self._bus_name}: {exc}") from exc
        if not response.get("FailedEntryCount"):
            return {}
        return {
            event.key: f"{result.get('ErrorCode', 'Unknown')}: {result.get('ErrorMessage', '')}"
            for event, result in zip(events, response.get("Entries", []), strict=False)
            if "ErrorCode" in result or "EventId" not in result
        }


def eventbridge_bus(bus_name: str, source: str) -> EventBridgeBus:
    import boto3

    return EventBridgeBus(boto3.client("events"), bus_name, source)
