"""Lambda adapter: starts the outbox function asynchronously (``InvocationType="Event"``).

A writer calls it right after a commit that wrote outbox rows, so those events leave in well under
a second instead of at the next minute sweep. The payload ``{"task": "publish"}`` makes the outbox
function only publish (its schedule sends ``{"task": "sweep"}``). A refused call becomes
``OutboxStartError``; the caller logs it and carries on, the sweep publishes the rows anyway.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pulse.errors import PulseError

PUBLISH_PAYLOAD = b'{"task": "publish"}'


class OutboxStartError(PulseError):
    status = 502
    title = "Outbox publisher could not be started"


class LambdaOutboxStarter:
    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function_name = function_name

    def start(self) -> None:
        try:
            response = self._client.invoke(
                FunctionName=self._function_name, InvocationType="Event", Payload=PUBLISH_PAYLOAD
            )
        except (ClientError, BotoCoreError) as exc:
            raise OutboxStartError(f"invoke {self._function_name}: {exc}") from exc
        status = int(response.get("StatusCode", 0))
        if status != 202:
            raise OutboxStartError(f"invoke {self._function_name}: status {status}, expected 202")


def lambda_outbox_starter(function_name: str) -> LambdaOutboxStarter:
    import boto3

    return LambdaOutboxStarter(boto3.client("lambda"), function_name)
