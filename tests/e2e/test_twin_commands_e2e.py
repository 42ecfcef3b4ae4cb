"""Twin and commands end to end: a simulated device over mTLS MQTT, the API, the twin Lambda, PostgreSQL.

The device is the simulator's own (``MqttLink`` with ``DeviceStateHandler``), connected to the
emulator's broker with its certificate. Desired state set through the API reaches it as a
``twin/delta`` (API Lambda -> iot-data), it applies and reports it (IoT rule -> twin Lambda), and
the twin converges; a command sent through the API is acked by the device (ack rule -> twin
Lambda) and ends ``succeeded`` with its result, or ``failed`` with the device's error message.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pulse.local import demo, emulator, gaps
from pulse_sim.credentials import DeviceIdentity, resolve_identity
from pulse_sim.fleet import SIM_FIRMWARE
from pulse_sim.inbound import DeviceStateHandler, Outbox
from pulse_sim.mqtt import MqttTransport
from tests.e2e.platform import LocalPlatform

WAIT_S = 90.0  # cold starts of the twin and API functions on a busy 2-core machine take tens of seconds


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]  # names in lower case: the gateway may change their case

    @property
    def version(self) -> int:
        """The twin version in the ETag (``"7"``)."""
        return int(self.headers["etag"].strip('"'))


class Api:
    """The deployed HTTP API as the demo tenant's admin."""

    def __init__(self, platform: LocalPlatform, token: str) -> None:
        self._base = gaps.http_api_local_url(platform.endpoint, platform.outputs["ApiUrl"]) + "api/v1"
        self._token = token

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        request = urllib.request.Request(
            self._base + path,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token}", **(headers or {})},
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, json.loads(response.read() or b"null"), _lower(response.headers))
        except urllib.error.HTTPError as error:
            return Reply(error.code, json.loads(error.read() or b"null"), _lower(error.headers))


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def eventually(probe: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            last = probe()
        except TimeoutError:  # a cold start behind a queue of them: ask again
            continue
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout_s} s")


@pytest.fixture(scope="module")
def api(local_platform: LocalPlatform) -> Api:
    cognito = emulator.boto_client("cognito-idp", local_platform.endpoint)
    pool = local_platform.outputs["UserPoolId"]
    # The platform's own logins file, so another module's logins keep their passwords.
    logins = demo.seed_logins(cognito, pool, "demo", local_platform.layout.logins_file)
    admin = next(login for login in logins if login.role == "customer_admin")
    token = demo.id_token(cognito, pool, local_platform.outputs["UserPoolClientId"], admin.email, admin.password)
    return Api(local_platform, token)


class SimDeviceState(DeviceStateHandler):
    """The simulator's handler, and an event set once the device is subscribed (its connect hook ran)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed = threading.Event()

    def connected(self, device: DeviceIdentity, outbox: Outbox) -> None:
        super().connected(device, outbox)
        self.subscribed.set()


@contextmanager
def simulated_device(platform: LocalPlatform, device_id: str, handler: SimDeviceState) -> Iterator[None]:
    """The simulator's MQTT link for ``device_id`` (mutual TLS), answering through ``handler``."""
    identity = resolve_identity(platform.credentials, device_id, "demo")
    link = MqttTransport(platform.credentials).open(identity, handler)
    link.connect()
    try:
        assert handler.subscribed.wait(20), f"{device_id} did not connect and subscribe"
        yield
    finally:
        link.close(time.monotonic() + 5)


def reported(api: Api, device_id: str, key: str) -> Callable[[], Reply | None]:
    """A probe: the twin once its reported state has ``key``."""

    def probe() -> Reply | None:
        reply = api.call("GET", f"/devices/{device_id}/twin")
        return reply if reply.status == 200 and key in reply.body["state"].get("reported", {}) else None

    return probe


def test_desired_state_set_through_the_api_reaches_the_device_and_the_twin_converges(api: Api, local_platform):
    handler = SimDeviceState(initial_states={"sim-01": {"firmware": SIM_FIRMWARE, "fan": {"speed": 1}}})
    with simulated_device(local_platform, "sim-01", handler):
        # Given the device has connected and reported its initial state
        first = eventually(reported(api, "sim-01", "firmware"), "the initial report")
        assert first.body["state"]["reported"] == {"firmware": SIM_FIRMWARE, "fan": {"speed": 1}}
        # When an admin sets desired state on the twin version they read
        patch = api.call(
            "PATCH",
            "/devices/sim-01/twin",
            {"state": {"desired": {"fan": {"speed": 3}}}},
            {"If-Match": first.headers["etag"]},
        )
        assert patch.status == 200, patch.body
        assert patch.body["state"]["delta"] == {"fan": {"speed": 3}}

        # Then the device receives the delta over MQTT, applies it and reports it, so the delta empties
        def converged() -> Reply | None:
            reply = api.call("GET", "/devices/sim-01/twin")
            state = reply.body["state"]
            return reply if state.get("reported", {}).get("fan") == {"speed": 3} and "delta" not in state else None

        twin = eventually(converged, "the device's report of the new desired state")
        assert twin.body["state"]["desired"] == {"fan": {"speed": 3}}
        assert twin.body["state"]["reported"] == {"firmware": SIM_FIRMWARE, "fan": {"speed": 3}}
        assert handler.states["sim-01"] == {"firmware": SIM_FIRMWARE, "fan": {"speed": 3}}

    # And the revision history shows the three steps, newest first
    history = api.call("GET", "/devices/sim-01/twin/history?limit=3")
    assert history.status == 200
    steps = [(r["source"], r["actor"], r["document"]["state"]) for r in reversed(history.body["items"])]
    assert [source for source, _, _ in steps] == ["device", "api", "device"]
    assert steps[0][1] == steps[2][1] == "device:sim-01"
    assert steps[0][2] == {"reported": {"firmware": SIM_FIRMWARE, "fan": {"speed": 1}}}
    assert steps[1][2]["delta"] == {"fan": {"speed": 3}}
    assert "delta" not in steps[2][2]
    versions = [r["version"] for r in history.body["items"]]
    assert versions == sorted(versions, reverse=True) and versions[0] == twin.version


def send_and_wait(api: Api, device_id: str, done: set[str]) -> dict[str, Any]:
    sent = api.call(
        "POST", f"/devices/{device_id}/commands", {"name": "reboot", "params": {"delay_s": 1}, "ttl_s": 120}
    )
    assert sent.status == 201, sent.body
    assert sent.body["status"] == "sent"

    def finished() -> dict[str, Any] | None:
        reply = api.call("GET", f"/commands/{sent.body['id']}")
        return reply.body if reply.status == 200 and reply.body["status"] in done else None

    return eventually(finished, f"the ack of command {sent.body['id']}")  # type: ignore[no-any-return]


def test_a_command_sent_through_the_api_is_acked_by_the_device_and_succeeds_with_its_result(api: Api, local_platform):
    handler = SimDeviceState(initial_states={"sim-01": {"firmware": SIM_FIRMWARE}})
    with simulated_device(local_platform, "sim-01", handler):
        command = send_and_wait(api, "sim-01", {"succeeded", "failed", "expired"})
    assert command["status"] == "succeeded"
    assert command["result"] == {"name": "reboot", "params": {"delay_s": 1}}
    assert command["error"] is None
    assert command["acked_at"] and command["finished_at"]


def test_a_device_that_fails_a_command_leaves_it_failed_with_its_error_message(api: Api, local_platform):
    handler = SimDeviceState(failure_rate=1.0, initial_states={"sim-02": {"firmware": SIM_FIRMWARE}})
    with simulated_device(local_platform, "sim-02", handler):
        command = send_and_wait(api, "sim-02", {"succeeded", "failed", "expired"})
    assert command["status"] == "failed"
    assert command["error"] == "simulated failure of reboot"
    assert command["result"] is None
