"""What the browser tests need around the local platform: the served portal, the demo logins and
a direct API call (to arrange state the test is not about)."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pulse.local import demo, emulator, gaps
from tests.e2e.platform import LocalPlatform

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise RuntimeError("Debian's chromium is missing: `make setup` installs it")


def demo_logins(platform: LocalPlatform) -> dict[str, demo.Login]:
    """The demo tenant's sites and one confirmed user per role, as `make dev` seeds them."""
    demo.seed_sites(platform.database_url, "demo", ["sim-01", "sim-02"])
    cognito = emulator.boto_client("cognito-idp", platform.endpoint)
    seeded = demo.seed_logins(cognito, platform.outputs["UserPoolId"], "demo", Path(tempfile.mkdtemp()) / "logins.json")
    return {login.role: login for login in seeded}


def api_call(platform: LocalPlatform, login: demo.Login, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    cognito = emulator.boto_client("cognito-idp", platform.endpoint)
    token = demo.id_token(
        cognito, platform.outputs["UserPoolId"], platform.outputs["UserPoolClientId"], login.email, login.password
    )
    base = gaps.http_api_local_url(platform.endpoint, platform.outputs["ApiUrl"])
    request = urllib.request.Request(
        base + "api/v1" + path,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        data=None if body is None else json.dumps(body).encode(),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
