"""IoT data plane adapter: publishes the twin's outgoing messages to devices (``iot-data.publish``).

The client is passed in (AWS, the local emulator, moto). SDK failures become ``IotDataError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError
from pulse.twin.protocol import OutgoingMessage

RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ServiceUnavailableException", "InternalFailureException", "RequestTimeoutException"}
)


class IotDataError(PulseError):
    status = 502
    title = "IoT data plane error"

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        super().__init__(detail)
        self.retryable = retryable


class IotDataPublisher:
    """Thin adapter over a boto3 ``iot-data`` client."""

    def __init__(self, client: Any, *, qos: int = 1) -> None:
        self._client = client
        self._qos = qos

    def publish(self, messages: Iterable[OutgoingMessage]) -> int:
        """Publishes in order; returns how many were sent."""
        sent = 0
        for message in messages:
            try:
                self._client.publish(
                    topic=message.topic,
                    qos=self._qos,
                    payload=orjson.dumps(message.payload),
                    contentType="application/json",
                )
            except (ClientError, BotoCoreError) as exc:
                raise IotDataError(f"publish to {message.topic}: {exc}") from exc
            sent += 1
        return sent

    def publish_payload(self, topic: str, payload: bytes, *, qos: int) -> None:
        """One message with its own QoS (notification channels). Refusals other than throttling and
        service faults (unauthorized, invalid topic, payload too large) are marked not retryable."""
        try:
            self._client.publish(topic=topic, qos=qos, payload=payload, contentType="application/json")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise IotDataError(f"publish to {topic}: {exc}", retryable=code in RETRYABLE_CODES) from exc
        except BotoCoreError as exc:
            raise IotDataError(f"publish to {topic}: {exc}") from exc
