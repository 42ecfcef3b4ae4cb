"""The delivery workflow on the local platform: an Alert* event on the deployed bus starts the deployed
state machine, whose notify function POSTs to a webhook receiver on 127.0.0.1.

This is where the emulator's error naming matters: every exception reaches Step Functions as
``Runtime.HandlerError``. A receiver that fails once must still be retried (the raised
``DeliveryRetryable`` arrives under the emulator's name, which the Retry entry also matches), and a
receiver that refuses with 4xx must be dead-lettered at once (the outcome is returned, not raised).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pulse.local import emulator
from pulse.local.layout import STAGE
from pulse.notify.sealing import KmsSealer
from pulse.platform.aws.kms import KmsCipher
from tests.builders import make_tenant
from tests.e2e.platform import LocalPlatform
from tests.notify_workflow import Receiver, alert_event_detail, route_to, webhook_channel

TENANT = "notify-e2e"
NOTIFY_FUNCTION = f"pulse-{STAGE}-notify"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def webhook_tenant(local_platform: LocalPlatform, receiver: Receiver) -> str:
    """A tenant whose only route sends every opened alert to ``receiver``, its secret sealed with the
    stack's KMS key as the API would. The local stage itself lets the notify function reach loopback."""
    functions = emulator.boto_client("lambda", local_platform.endpoint)
    variables = functions.get_function_configuration(FunctionName=NOTIFY_FUNCTION)["Environment"]["Variables"]
    assert json.loads(variables["PULSE_NOTIFY_EGRESS_ALLOW_CIDRS"]) == ["127.0.0.0/8"]
    assert variables["PULSE_NOTIFY_SEALING"] == "kms"
    key_id = variables["PULSE_NOTIFY_KMS_KEY_ID"]
    sealer = KmsSealer(KmsCipher(emulator.boto_client("kms", local_platform.endpoint), key_id))
    with psycopg.connect(local_platform.database_url, autocommit=True) as sql:
        make_tenant(sql, TENANT)
        route_to(sql, TENANT, [webhook_channel(sql, sealer, TENANT, receiver.url)])
    return TENANT


def _publish(platform: LocalPlatform, detail: dict[str, Any]) -> None:
    events = emulator.boto_client("events", platform.endpoint)
    response = events.put_events(
        Entries=[
            {
                "Source": "pulse.alerts",
                "DetailType": detail["metadata"]["event_name"],
                "Detail": json.dumps(detail),
                "EventBusName": platform.outputs["EventBusName"],
            }
        ]
    )
    assert response.get("FailedEntryCount", 0) == 0


def _execution_for(platform: LocalPlatform, event_id: str, timeout_s: float) -> dict[str, Any]:
    """The finished execution whose input is the event ``event_id``."""
    sfn = emulator.boto_client("stepfunctions", platform.endpoint)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for summary in sfn.list_executions(stateMachineArn=platform.outputs["DeliveryStateMachineArn"])["executions"]:
            described = sfn.describe_execution(executionArn=summary["executionArn"])
            started_by = json.loads(described["input"]).get("detail", {}).get("metadata", {}).get("event_id")
            if started_by == event_id and described["status"] != "RUNNING":
                return dict(described)
        time.sleep(0.5)
    raise AssertionError(f"no finished execution for event {event_id} within {timeout_s} s")


def _delivery(platform: LocalPlatform, event_id: str) -> tuple[str, int, list[tuple[str, int | None]]]:
    with psycopg.connect(platform.database_url, autocommit=True) as sql:
        [(delivery_id, status, attempts)] = sql.execute(
            "SELECT id, status, attempts FROM deliveries WHERE event_id = %s", (event_id,)
        ).fetchall()
        history = sql.execute(
            "SELECT status, response_code FROM delivery_attempts WHERE delivery_id = %s ORDER BY attempt_no",
            (delivery_id,),
        ).fetchall()
    return status, attempts, history


@pytest.mark.timeout(180)
def test_alert_event_on_the_bus_is_retried_past_a_failure_and_delivered_once(local_platform, webhook_tenant, receiver):
    receiver.fail(1)
    detail = alert_event_detail(webhook_tenant, event_id="e2e-delivered")
    _publish(local_platform, detail)

    execution = _execution_for(local_platform, "e2e-delivered", timeout_s=150)

    assert execution["status"] == "SUCCEEDED", execution
    [item] = json.loads(execution["output"])
    assert item["outcome"]["status"] == "delivered"
    assert [r.answered for r in receiver.requests] == [503, 200]
    assert _delivery(local_platform, "e2e-delivered") == ("delivered", 2, [("retryable", 503), ("delivered", 200)])


def test_a_receiver_refusing_with_4xx_is_dead_lettered_without_retries(local_platform, webhook_tenant, receiver):
    receiver.requests.clear()
    receiver.fail(1000, status=410)
    detail = alert_event_detail(webhook_tenant, event_id="e2e-refused")
    _publish(local_platform, detail)

    execution = _execution_for(local_platform, "e2e-refused", timeout_s=60)

    assert execution["status"] == "SUCCEEDED", execution
    [item] = json.loads(execution["output"])
    assert item["error"]["Error"] == "DeliveryPermanent"
    assert [r.answered for r in receiver.requests] == [410]
    status, attempts, _ = _delivery(local_platform, "e2e-refused")
    assert (status, attempts) == ("dead", 1)
