"""The portal in a real browser (Debian's Chromium via Playwright) against the local platform.

Each test signs in through the emulator's Cognito hosted UI (authorization code + PKCE), exactly as
a user does, and saves a screenshot under tests/e2e/artifacts/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pulse.local import demo
from pulse.local.portal import PortalServer
from tests.e2e.device import MqttDevice, envelope
from tests.e2e.platform import LocalPlatform
from tests.e2e.portal import api_call, chromium_path, demo_logins

ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
# Lambdas in the emulator start cold on first use (about 1 s each, more on a loaded machine).
expect.set_options(timeout=30_000)
FAULT_RULE = {
    "id": "portal-overheat",
    "name": "Portal overheat",
    "severity": "critical",
    "condition": {"kind": "threshold", "metric": "portal_temp", "op": ">", "value": 80},
}


@pytest.fixture(scope="module")
def logins(local_platform: LocalPlatform) -> dict[str, demo.Login]:
    return demo_logins(local_platform)


@pytest.fixture(scope="module")
def portal(local_platform: LocalPlatform) -> Iterator[PortalServer]:
    with local_platform.portal() as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    console: list[str] = []
    opened.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    opened.on(
        "response",
        lambda r: console.append(f"HTTP {r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
    )
    yield opened
    ARTIFACTS.mkdir(exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    (ARTIFACTS / f"{request.node.name}.console.txt").write_text("\n".join(console))
    context.close()


def sign_in(page: Page, portal: PortalServer, login: demo.Login, path: str = "/") -> None:
    """Open the portal, land on the hosted UI, sign in and come back signed in."""
    page.goto(portal.origin + path)
    page.locator("#username").fill(login.email)
    page.locator("#password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Account menu")).to_be_visible()


def _wait_for_alert(platform: LocalPlatform, login: demo.Login, rule_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, page = api_call(platform, login, "GET", "/alerts?limit=50")
        if status == 200:
            for alert in page["items"]:
                if alert.get("rule_id") == rule_id:
                    return alert
        time.sleep(0.5)
    raise AssertionError(f"no alert for rule {rule_id} within {timeout_s} s")


def test_admin_finds_a_device_sets_desired_twin_and_acknowledges_a_fault_alert(
    page: Page, portal: PortalServer, local_platform: LocalPlatform, logins: dict[str, demo.Login]
) -> None:
    admin = logins["customer_admin"]
    sign_in(page, portal, admin)
    expect(page).to_have_url(portal.origin + "/dashboard")

    # Fleet: find the device by search and open it.
    page.get_by_role("link", name="Fleet").click()
    # The first list load may wait out cold API workers (one per concurrent request in the emulator).
    expect(page.get_by_role("link", name="sim-01", exact=True).first).to_be_visible(timeout=90_000)
    page.get_by_label("Search devices").fill("sim-02")
    expect(page.get_by_role("link", name="sim-01", exact=True)).to_have_count(0, timeout=60_000)
    page.get_by_role("link", name="sim-02", exact=True).first.click()
    expect(page).to_have_url(portal.origin + "/devices/sim-02")

    # Twin: set a desired value; the saved document comes back with a new version.
    page.get_by_role("tab", name="Twin").click()
    editor = page.get_by_label("Desired state (JSON)")
    marker = int(time.time()) % 100_000
    editor.fill(json.dumps({"portal_setpoint": marker}))
    page.get_by_role("button", name="Save desired").click()
    expect(page.get_by_text(str(marker)).first).to_be_visible()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, twin = api_call(local_platform, admin, "GET", "/devices/sim-02/twin")
        if status == 200 and twin["state"].get("desired", {}).get("portal_setpoint") == marker:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"desired value never stored: {twin}")

    # A simulated fault opens an alert.
    rule = {**FAULT_RULE, "id": f"{FAULT_RULE['id']}-{marker}"}
    status, body = api_call(local_platform, admin, "POST", "/rules", rule)
    assert status == 201, body
    with MqttDevice(local_platform.credentials, "sim-02") as device:
        device.publish(envelope({"portal_temp": 20.0}))
        time.sleep(0.5)
        device.publish(envelope({"portal_temp": 99.0}))
    alert = _wait_for_alert(local_platform, admin, rule["id"])

    page.get_by_role("link", name="Alerts").click()
    page.locator(f'a[href="/alerts/{alert["id"]}"]').first.click()
    expect(page).to_have_url(portal.origin + f"/alerts/{alert['id']}")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("acknowledged").first).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_be_disabled()
    status, acked = api_call(local_platform, admin, "GET", f"/alerts/{alert['id']}")
    assert status == 200 and acked["state"] == "acknowledged", acked
    assert acked["acknowledged_by"] == admin.email


def test_a_viewer_sees_no_write_controls(
    page: Page, portal: PortalServer, local_platform: LocalPlatform, logins: dict[str, demo.Login]
) -> None:
    sign_in(page, portal, logins["customer_viewer"], "/devices/sim-01")
    expect(page.get_by_test_id("role-label")).to_have_text("Viewer")
    page.get_by_role("tab", name="Twin").click()
    expect(page.get_by_text("Reported", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name="Save desired")).to_have_count(0)
    page.goto(portal.origin + "/sites")
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    expect(page.get_by_role("button", name="New site")).to_have_count(0)
    page.goto(portal.origin + "/alerts")
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)

    # At tablet width the navigation folds behind a menu button and nothing scrolls sideways.
    page.set_viewport_size(TABLET)
    expect(page.get_by_role("link", name="Fleet")).not_to_be_in_viewport()
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name="Fleet").click()
    expect(page.get_by_label("Search devices")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]


def test_an_operator_opens_the_noc_and_the_quarantine_browser(
    page: Page, portal: PortalServer, local_platform: LocalPlatform, logins: dict[str, demo.Login]
) -> None:
    with MqttDevice(local_platform.credentials, "sim-01") as device:
        device.publish(b"{not json")
    sign_in(page, portal, logins["operator"])
    expect(page).to_have_url(portal.origin + "/noc")
    expect(page.get_by_role("heading", name="NOC")).to_be_visible()
    expect(page.get_by_test_id("chart").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "noc.png"))
    page.get_by_role("link", name="Quarantine").click()
    expect(page.get_by_role("heading", name="Quarantine")).to_be_visible()
    expect(page.get_by_text("malformed", exact=False).first).to_be_visible(timeout=60_000)
