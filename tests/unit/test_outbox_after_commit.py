"""Starting the outbox publisher after a commit: only when the block wrote events and did not fail,
once per block, never failing the writer; the Lambda adapter invokes asynchronously."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import orjson
import pytest
from botocore.stub import Stubber

from functions.outbox import handler
from pulse.outbox.after_commit import count_written, publish_after_commit
from pulse.platform.aws.lambda_invoke import PUBLISH_PAYLOAD, LambdaOutboxStarter, OutboxStartError
from tests.builders import FakeLambdaContext
from tests.builders_alerts import RecordingOutboxStarter


def _lambda_client() -> Any:
    return boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def test_a_block_that_wrote_events_starts_the_publisher_once_after_it_ends():
    starter = RecordingOutboxStarter()
    with publish_after_commit(starter) as written:
        count_written()
        count_written()
        assert starter.starts == 0  # never inside the transaction
    assert (written.count, starter.starts) == (2, 1)


def test_a_block_without_events_starts_nothing():
    starter = RecordingOutboxStarter()
    with publish_after_commit(starter):
        pass
    assert starter.starts == 0


def _write_then_fail(starter: RecordingOutboxStarter) -> None:
    with publish_after_commit(starter):
        count_written()
        raise RuntimeError("rolled back")


def test_a_block_that_failed_starts_nothing():
    starter = RecordingOutboxStarter()
    with pytest.raises(RuntimeError):
        _write_then_fail(starter)
    assert starter.starts == 0


def test_events_outside_any_block_are_not_counted_and_blocks_nest():
    count_written()  # no enclosing block: nothing to start
    outer, inner = RecordingOutboxStarter(), RecordingOutboxStarter()
    with publish_after_commit(outer):
        with publish_after_commit(inner):
            count_written()
        assert inner.starts == 1
    assert outer.starts == 0


def test_a_publisher_that_cannot_be_started_does_not_fail_the_writer():
    starter = RecordingOutboxStarter(OutboxStartError("invoke pulse-outbox: throttled"))
    with publish_after_commit(starter) as written:
        count_written()
    assert (written.count, starter.starts) == (1, 1)


def test_no_starter_configured_starts_nothing():
    with publish_after_commit(None) as written:
        count_written()
    assert written.count == 1


def test_the_lambda_starter_invokes_the_outbox_function_asynchronously_to_publish_only():
    client = _lambda_client()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {"FunctionName": "pulse-dev-outbox", "InvocationType": "Event", "Payload": PUBLISH_PAYLOAD},
        )
        LambdaOutboxStarter(client, "pulse-dev-outbox").start()
        stub.assert_no_pending_responses()
    assert PUBLISH_PAYLOAD == b'{"task": "publish"}'


def test_a_refused_invoke_becomes_an_outbox_start_error():
    client = _lambda_client()
    with Stubber(client) as stub:
        stub.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)
        with pytest.raises(OutboxStartError, match="Rate exceeded"):
            LambdaOutboxStarter(client, "pulse-dev-outbox").start()


def test_the_outbox_function_treats_the_payload_as_publish_only(monkeypatch):
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(handler, "run_outbox", lambda db, bus, **kwargs: calls.append(kwargs) or {})
    monkeypatch.setattr(handler.runtime, "database", lambda: None)
    monkeypatch.setattr(handler, "eventbridge_bus", lambda *_: None)

    handler.lambda_handler(orjson.loads(PUBLISH_PAYLOAD), FakeLambdaContext())
    assert calls[0]["sweep"] is False and calls[0]["now"] <= datetime.now(UTC)
