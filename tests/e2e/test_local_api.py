"""The deployed API in the local emulator: a Cognito login -> JWT authorizer -> API Lambda -> RLS.

What `make dev` prints: the demo tenant's admin signs in (an ID token from the emulator's user
pool) and reads the fleet and the telemetry a device just published; a viewer may read but not
write; no token is refused at the gateway.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from pulse.local import demo, emulator, gaps
from tests.e2e.device import MqttDevice, envelope
from tests.e2e.platform import LocalPlatform


@pytest.fixture(scope="module")
def logins(local_platform: LocalPlatform) -> dict[str, demo.Login]:
    demo.seed_sites(local_platform.database_url, "demo", ["sim-01", "sim-02"])
    cognito = emulator.boto_client("cognito-idp", local_platform.endpoint)
    seeded = demo.seed_logins(
        cognito, local_platform.outputs["UserPoolId"], "demo", Path(tempfile.mkdtemp()) / "logins.json"
    )
    return {login.role: login for login in seeded}


def _token(platform: LocalPlatform, login: demo.Login) -> str:
    cognito = emulator.boto_client("cognito-idp", platform.endpoint)
    return demo.id_token(
        cognito, platform.outputs["UserPoolId"], platform.outputs["UserPoolClientId"], login.email, login.password
    )


def _call(platform: LocalPlatform, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    base = gaps.http_api_local_url(platform.endpoint, platform.outputs["ApiUrl"])
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(
        base + "api/v1" + path, method=method, headers=headers, data=None if body is None else json.dumps(body).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_admin_reads_the_demo_fleet_sites_and_fresh_telemetry(local_platform: LocalPlatform, logins) -> None:
    token = _token(local_platform, logins["customer_admin"])
    status, me = _call(local_platform, "GET", "/me", token)
    assert status == 200 and me["tenant_id"] == "demo" and me["role"] == "customer_admin"

    status, fleet = _call(local_platform, "GET", "/devices?sort=id", token)
    assert status == 200
    assert {"sim-01", "sim-02"} <= {d["id"] for d in fleet["items"]}
    status, sites = _call(local_platform, "GET", "/sites", token)
    assert [s["id"] for s in sites["items"]] == ["plant-north", "substation-7"]

    marker = float(uuid.uuid4().int % 10_000)
    with MqttDevice(local_platform.credentials, "sim-02") as device:
        device.publish(envelope({"api_probe": marker}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, latest = _call(local_platform, "GET", "/telemetry/latest?device_id=sim-02", token)
        if status == 200 and latest and latest[0]["metrics"].get("api_probe") == marker:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the published value never showed in /telemetry/latest: {latest}")


def test_viewer_reads_but_cannot_write(local_platform: LocalPlatform, logins) -> None:
    token = _token(local_platform, logins["customer_viewer"])
    assert _call(local_platform, "GET", "/devices", token)[0] == 200
    status, problem = _call(local_platform, "POST", "/sites", token, {"id": "nope", "name": "Nope"})
    assert status == 403 and problem["status"] == 403


def test_request_without_a_token_is_refused(local_platform: LocalPlatform) -> None:
    assert _call(local_platform, "GET", "/devices", None)[0] == 401
