"""The delivery workflow in process: pulse's state machine definition executed by moto, its Lambda
tasks dispatched to ``functions/notify/handler.py``, a webhook receiver on 127.0.0.1.

Used by ``tests/integration/test_notify_workflow.py`` and the delivery bench. moto runs the ASL
(``execute_state_machine``) in a thread per execution; this harness

- answers the Lambda ``Invoke`` calls of task states by calling the notify handler in this process.
  A raised exception comes back as Lambda reports it: ``FunctionError`` with ``errorType`` = the
  exception's class (``naming="aws"``) or ``Runtime.HandlerError`` for every exception, as the local
  emulator does (``naming="emulator"``);
- makes Retry and Wait instant while recording what they asked for: each retry's interval before
  jitter (``backoff_ceilings``) and after it (``backoff_waits``), and Wait durations (``waits``).
"""

from __future__ import annotations

import io
import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import orjson
import psycopg

from pulse.notify import store
from pulse.notify.channels import SenderPorts
from pulse.notify.channels.secrets import WebhookSecrets
from pulse.notify.channels.ssrf import parse_allow_list
from pulse.notify.models import Route, RouteIn
from pulse.notify.sealing import LocalKeySealer, SecretSealer, seal_secrets
from pulse.notify.tasks import DeliveryPorts
from pulse.notify.workflow import render
from pulse.platform.aws.events import BusEvent
from tests.builders import FakeLambdaContext

ACCOUNT = "123456789012"
REGION = "eu-west-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pulse-test-notify"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pulse-test-deliver"
EVENT_SOURCE = "pulse.alerts"
Naming = Literal["aws", "emulator"]


# --- the receiver ---------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    at: float  # time.perf_counter() when the request arrived
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers ``failure_status`` to the next ``fail_next`` requests."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.fail_next = 0
        self.failure_status = 503
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._answer()
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(at, self.path, dict(self.headers.items()), orjson.loads(body or b"{}"), status)
                    )
                receiver.arrived.set()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self) -> int:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.failure_status
            return 200

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def fail(self, times: int, status: int = 503) -> None:
        with self._lock:
            self.fail_next, self.failure_status = times, status

    def delivered(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.answered == 200]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- tenant, channel, route -----------------------------------------------------------------------


def delivery_ports(sealer: LocalKeySealer) -> DeliveryPorts:
    """Production ports except that the loopback receiver is an allowed destination."""

    class _NoMail:
        def send(self, message: Any) -> None:
            raise AssertionError("no email in these tests")

    class _NoMqtt:
        def publish_payload(self, topic: str, payload: bytes, *, qos: int) -> None:
            raise AssertionError("no MQTT in these tests")

    ports = SenderPorts(
        mailer=_NoMail(), mqtt=_NoMqtt(), email_from="", egress_allow=parse_allow_list(("127.0.0.1/32",))
    )
    return DeliveryPorts(sealer=sealer, ports=ports)


def webhook_channel(
    sql: psycopg.Connection, sealer: SecretSealer, tenant_id: str, url: str, channel_id: str = "hook"
) -> str:
    now = datetime.now(UTC)
    secrets = WebhookSecrets.model_validate({"signing_secret": "s" * 32})
    store.insert_channel(
        sql,
        store.ChannelRow(
            tenant_id=tenant_id,
            id=channel_id,
            type="webhook",
            name=f"Webhook {channel_id}",
            config={"type": "webhook", "url": url, "timeout_s": 5.0},
            sealed_secret=seal_secrets(sealer, secrets, tenant_id=tenant_id, channel_id=channel_id),
            previous_sealed_secret=None,
            previous_valid_until=None,
            enabled=True,
            version=1,
            created_at=now,
            updated_at=now,
        ),
    )
    return channel_id


def route_to(sql: psycopg.Connection, tenant_id: str, channel_ids: list[str], route_id: str = "all") -> str:
    now = datetime.now(UTC)
    route = RouteIn.model_validate({"name": f"Route {route_id}", "channel_ids": channel_ids})
    store.insert_route(
        sql,
        tenant_id,
        Route(**route.model_dump(by_alias=False), id=route_id, position=0, version=1, created_at=now, updated_at=now),
    )
    return route_id


_alert_numbers = itertools.count(1)


def alert_event_detail(
    tenant_id: str, *, event_name: str = "AlertOpened", event_id: str | None = None
) -> dict[str, Any]:
    """The ``detail`` the outbox publisher puts on the bus (``pulse.outbox.publisher.envelope``)."""
    n = next(_alert_numbers)
    now = datetime.now(UTC)
    return {
        "metadata": {
            "event_name": event_name,
            "event_version": 1,
            "event_id": event_id or str(10_000 + n),
            "tenant_id": tenant_id,
            "correlation_id": f"alert-{n}",
            "occurred_at": now.isoformat(),
        },
        "data": {
            "alert_id": f"alert-{n}",
            "fingerprint": f"hot/dev-{n}",
            "rule_id": "hot",
            "rule_name": "Too hot",
            "device_id": f"dev-{n}",
            "site_id": None,
            "severity": "critical",
            "state": "open",
            "value": 91.5,
            "at": now.isoformat(),
        },
    }


def eventbridge_event(detail_type: str, detail: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """What the EventBridge rule hands to Step Functions as the execution input."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": EVENT_SOURCE,
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


# --- moto running the state machine -----------------------------------------------------------------


@dataclass
class Recorded:
    backoff_ceilings: list[float] = field(default_factory=list)
    backoff_waits: list[float] = field(default_factory=list)
    waits: list[int] = field(default_factory=list)
    invocations: list[dict[str, Any]] = field(default_factory=list)


class _InProcessLambda:
    """The ``lambda`` client moto's task states call, answering with the notify handler."""

    def __init__(self, recorded: Recorded, naming: Naming) -> None:
        self._recorded = recorded
        self._naming = naming

    def invoke(self, FunctionName: str, Payload: bytes, **_: Any) -> dict[str, Any]:
        from functions.notify.handler import lambda_handler

        event = orjson.loads(Payload)
        self._recorded.invocations.append(event)
        try:
            result = lambda_handler(event, FakeLambdaContext())
        except Exception as exc:
            error_type = type(exc).__name__ if self._naming == "aws" else "Runtime.HandlerError"
            body = {"errorType": error_type, "errorMessage": str(exc)}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(orjson.dumps(body))}
        return {"StatusCode": 200, "Payload": io.BytesIO(orjson.dumps(result))}


class Workflow:
    """pulse's state machine in moto; ``start`` an EventBridge event, ``wait`` for the execution."""

    def __init__(self, client: Any, state_machine_arn: str, recorded: Recorded) -> None:
        self.client = client
        self.arn = state_machine_arn
        self.recorded = recorded

    def start(self, event: dict[str, Any], name: str | None = None) -> str:
        # EventBridge names its executions itself; moto would name every unnamed one "None"
        response = self.client.start_execution(
            stateMachineArn=self.arn, input=orjson.dumps(event).decode(), name=name or uuid.uuid4().hex
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, timeout_s: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            described: dict[str, Any] = self.client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"execution {execution_arn} still running after {timeout_s} s")
            time.sleep(0.005)

    def output(self, execution_arn: str) -> Any:
        described = self.wait(execution_arn)
        assert described["status"] == "SUCCEEDED", described
        return orjson.loads(described["output"])


@contextmanager
def moto_workflow(naming: Naming = "aws") -> Iterator[Workflow]:
    """moto with state machines executed, Retry/Wait instant and recorded, tasks run in process."""
    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser.asl.component.common.retry import jitter_strategy_decl, retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    recorded = Recorded()
    # moto logs an ERROR for every IsPresent test of a missing path (the Plan state on an EventBridge event)
    moto_states_log = logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component")
    moto_log_level = moto_states_log.level
    moto_states_log.setLevel(logging.CRITICAL)

    class _Sleep:
        @staticmethod
        def sleep(seconds: float) -> None:
            recorded.backoff_waits.append(seconds)

    class _Jitter:
        @staticmethod
        def uniform(low: float, high: float) -> float:
            recorded.backoff_ceilings.append(high)
            return random.uniform(low, high)

    def _wait(self: Any, env: Any, wait_seconds: int) -> None:
        recorded.waits.append(wait_seconds)

    saved = (
        lambda_eval_utils.boto_client_for,
        retrier_decl.time,
        jitter_strategy_decl.random,
        wait_function.WaitFunction._wait_interval,
    )
    lambda_eval_utils.boto_client_for = lambda **_: _InProcessLambda(recorded, naming)  # type: ignore[assignment]
    retrier_decl.time = _Sleep  # type: ignore[assignment]
    jitter_strategy_decl.random = _Jitter  # type: ignore[assignment]
    wait_function.WaitFunction._wait_interval = _wait  # type: ignore[method-assign]
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            client = boto3.client("stepfunctions", region_name=REGION)
            definition = render(route_arn=FUNCTION_ARN, deliver_arn=FUNCTION_ARN, dead_letter_arn=FUNCTION_ARN)
            machine = client.create_state_machine(name="pulse-test-deliver", definition=definition, roleArn=ROLE_ARN)
            yield Workflow(client, machine["stateMachineArn"], recorded)
    finally:
        moto_states_log.setLevel(moto_log_level)
        (
            lambda_eval_utils.boto_client_for,
            retrier_decl.time,
            jitter_strategy_decl.random,
            wait_function.WaitFunction._wait_interval,
        ) = saved


class WorkflowBus:
    """``EventBus`` for the outbox publisher that does what the Alert* rule does: start an execution."""

    def __init__(self, workflow: Workflow) -> None:
        self._workflow = workflow
        self.executions: list[str] = []

    def put(self, events: Sequence[BusEvent]) -> dict[int, str]:
        for event in events:
            if event.detail_type.startswith("Alert"):
                self.executions.append(self._workflow.start(eventbridge_event(event.detail_type, event.detail)))
        return {}
