"""The local portal server: SPA fallback, generated config.json, same-origin /api proxy, headers;
and the launcher's fills for the emulator (bucket upload, the Cognito client's callback origin).

Real sockets on 127.0.0.1: the portal server and a recording stand-in for the emulator's HTTP API.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from pulse.local.pgcluster import free_port
from pulse.local.portal import (
    IMMUTABLE,
    NO_CACHE,
    PortalError,
    PortalServer,
    PortalSite,
    allow_origin,
    local_runtime_config,
    spa_path,
    upload_portal,
)

pytestmark = pytest.mark.integration

INDEX = b'<!doctype html><script type="module" src="/assets/index-3f9a.js"></script>'
OUTPUTS = {
    "UserPoolId": "us-east-1_Pool",
    "UserPoolClientId": "client123",
    "ApiUrl": "https://abcd1234.execute-api.us-east-1.amazonaws.com/",
}
EMULATOR = "http://127.0.0.1:4566"


@dataclass
class RecordingApi:
    """Stands in for the emulator's HTTP API: records each request, answers what the test queued."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json", "ETag": '"v3"'})

    @contextmanager
    def serve(self) -> Iterator[str]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(api.status)
                for name, value in api.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(api.body)))
                self.end_headers()
                self.wfile.write(api.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture
def api() -> Iterator[tuple[RecordingApi, str]]:
    recording = RecordingApi()
    with recording.serve() as base:
        yield recording, f"{base}/_aws/execute-api/abcd1234/$default/"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_bytes(INDEX)
    (tmp_path / "dist" / "assets" / "index-3f9a.js").write_text("console.log('pulse')")
    (tmp_path / "dist" / "favicon.svg").write_text("<svg/>")
    return tmp_path / "dist"


@pytest.fixture
def portal(dist: Path, api) -> Iterator[tuple[PortalServer, httpx.Client]]:
    _, api_base = api
    site = PortalSite(dist=dist, api_base=api_base, cognito_origin=EMULATOR)
    server = PortalServer(site, port=0)
    site.config = local_runtime_config(EMULATOR, OUTPUTS, server.origin)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            yield server, client
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/", "/devices", "/devices/sim-01", "/auth/callback", "/alerts/a1/timeline"])
def test_client_side_routes_are_answered_with_index_html_uncached(portal, path):
    _, client = portal

    response = client.get(path, params={"code": "abc", "state": "xyz"})

    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["Cache-Control"] == NO_CACHE


def test_hashed_assets_are_immutable_and_other_files_revalidate(portal):
    _, client = portal

    asset = client.get("/assets/index-3f9a.js")
    icon = client.get("/favicon.svg")

    assert asset.status_code == 200 and asset.text == "console.log('pulse')"
    assert asset.headers["Cache-Control"] == IMMUTABLE
    assert "javascript" in asset.headers["Content-Type"]
    assert (icon.status_code, icon.headers["Cache-Control"]) == (200, NO_CACHE)


def test_a_missing_file_is_404_not_the_spa_and_not_cached(portal):
    _, client = portal

    response = client.get("/assets/index-gone.js")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_config_json_tells_the_spa_where_to_sign_in_and_which_token_to_send(portal):
    server, client = portal

    response = client.get("/config.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == NO_CACHE
    assert response.json() == {
        "stage": "local",
        "apiBaseUrl": "/api/v1",
        "auth": {
            "clientId": "client123",
            "userPoolId": "us-east-1_Pool",
            "region": "us-east-1",
            "authority": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool",
            "authorizationEndpoint": f"{EMULATOR}/oauth2/authorize",
            "tokenEndpoint": f"{EMULATOR}/oauth2/token",
            "userinfoEndpoint": f"{EMULATOR}/oauth2/userInfo",
            "logoutEndpoint": f"{EMULATOR}/logout",
            "redirectUri": f"http://localhost:{server.port}/auth/callback",
            "postLogoutRedirectUri": f"http://localhost:{server.port}/",
            "scope": "openid email profile",
            "tokenUse": "id",
        },
    }


def test_api_calls_are_proxied_to_the_http_api_with_method_headers_body_and_query(portal, api):
    _, client = portal
    recording, _ = api

    response = client.put(
        "/api/v1/devices/sim-01/twin",
        params={"dry_run": "1"},
        headers={"Authorization": "Bearer id-token", "If-Match": '"v2"', "Content-Type": "application/json"},
        content=b'{"desired": {"fan": true}}',
    )

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["ETag"] == '"v3"'
    [seen] = recording.requests
    assert seen["method"] == "PUT"
    assert seen["path"] == "/_aws/execute-api/abcd1234/$default/api/v1/devices/sim-01/twin?dry_run=1"
    assert seen["headers"]["Authorization"] == "Bearer id-token"
    assert seen["headers"]["If-Match"] == '"v2"'
    assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert seen["headers"]["Host"] != f"127.0.0.1:{portal[0].port}"  # as behind CloudFront: not the viewer's Host
    assert seen["body"] == b'{"desired": {"fan": true}}'


def test_api_errors_reach_the_spa_as_they_are_not_as_index_html(portal, api):
    _, client = portal
    recording, _ = api
    recording.status, recording.body = 404, b'{"title": "Not found", "status": 404}'
    recording.headers = {"Content-Type": "application/problem+json"}

    response = client.get("/api/v1/devices/nope")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not found"


def test_an_unreachable_api_is_a_502_problem(dist):
    site = PortalSite(dist=dist, api_base=f"http://127.0.0.1:{free_port()}/", cognito_origin=EMULATOR)
    server = PortalServer(site, port=0).start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server.port}/api/v1/me", timeout=10)
    finally:
        server.stop()

    assert response.status_code == 502
    assert response.headers["Content-Type"] == "application/problem+json"


def test_every_response_carries_the_security_headers(portal):
    _, client = portal

    for response in (client.get("/"), client.get("/config.json"), client.get("/api/v1/me"), client.get("/x.css")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert f"connect-src 'self' {EMULATOR};" in response.headers["Content-Security-Policy"]


def test_other_methods_outside_the_api_are_refused(portal):
    _, client = portal

    assert client.post("/devices", content=b"{}").status_code == 405


def test_without_a_build_routes_explain_how_to_build_while_config_and_api_still_work(tmp_path, api):
    _, api_base = api
    site = PortalSite(dist=tmp_path / "dist", api_base=api_base, cognito_origin=EMULATOR, config={"stage": "local"})
    server = PortalServer(site, port=0).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            page, config, me = client.get("/devices"), client.get("/config.json"), client.get("/api/v1/me")
    finally:
        server.stop()

    assert page.status_code == 503 and "make frontend/dist/index.html" in page.text
    assert config.json() == {"stage": "local"}
    assert me.status_code == 200


def test_a_taken_port_is_a_clear_error_and_stop_releases_the_port(dist, api):
    _, api_base = api
    site = PortalSite(dist=dist, api_base=api_base, cognito_origin=EMULATOR)
    first = PortalServer(site, port=0).start()
    port = first.port
    try:
        with pytest.raises(PortalError, match=f"127.0.0.1:{port}"):
            PortalServer(site, port=port)
    finally:
        first.stop()

    PortalServer(site, port=port).stop()  # free again


def test_the_local_rewrite_is_the_cloudfront_functions_rule():
    assert spa_path("/devices/sim-01") == "/index.html"
    assert spa_path("/") == "/index.html"
    assert spa_path("/assets/index-3f9a.js") == "/assets/index-3f9a.js"
    assert spa_path("/api/v1/devices") == "/api/v1/devices"


def test_upload_puts_the_build_and_config_json_with_cache_control_and_skips_unchanged(aws, dist):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="portal")
    config = {"stage": "local"}

    first = upload_portal(s3, "portal", dist, config)
    second = upload_portal(s3, "portal", dist, config)
    (dist / "index.html").write_bytes(INDEX + b"<!-- rebuilt -->")
    third = upload_portal(s3, "portal", dist, config)

    assert (first, second, third) == (4, 0, 1)
    index = s3.get_object(Bucket="portal", Key="index.html")
    asset = s3.get_object(Bucket="portal", Key="assets/index-3f9a.js")
    stored = s3.get_object(Bucket="portal", Key="config.json")
    assert (index["CacheControl"], index["ContentType"]) == (NO_CACHE, "text/html")
    assert asset["CacheControl"] == IMMUTABLE
    assert (stored["CacheControl"], stored["ContentType"]) == (NO_CACHE, "application/json")
    assert json.loads(stored["Body"].read()) == config


def test_upload_without_a_build_puts_only_config_json(aws, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="portal")

    assert upload_portal(s3, "portal", tmp_path / "missing", {"stage": "local"}) == 1
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="portal")["Contents"]] == ["config.json"]


def test_a_server_on_another_port_is_added_to_the_clients_callbacks_once(aws):
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool = cognito.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="portal",
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        CallbackURLs=["http://localhost:8080/auth/callback"],
        LogoutURLs=["http://localhost:8080/"],
    )["UserPoolClient"]["ClientId"]

    changed = allow_origin(cognito, pool, client, "http://localhost:41234")
    again = allow_origin(cognito, pool, client, "http://localhost:41234")

    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"]
    assert (changed, again) == (True, False)
    assert described["CallbackURLs"] == ["http://localhost:8080/auth/callback", "http://localhost:41234/auth/callback"]
    assert described["LogoutURLs"] == ["http://localhost:8080/", "http://localhost:41234/"]
    assert described["AllowedOAuthFlows"] == ["code"]  # the rest of the client is kept
