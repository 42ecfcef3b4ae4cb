"""The portal: what the SPA is told at run time, the headers it is served with, and the local server.

One definition for both targets. ``runtime_config`` is the shape of ``/config.json`` and
``content_security_policy`` the CSP; the CDK ``PortalConstruct`` renders both with deploy-time
tokens (``config.json`` written by a BucketDeployment, the CSP in CloudFront's response headers
policy), and the local server renders them with the emulator's addresses. ``spa_path`` is the
rewrite the CloudFront Function does, in Python.

Locally (``pulse dev``, and the e2e suite through ``tests.e2e.platform``) a threaded server on
``http://localhost:8080`` serves ``frontend/dist`` with the SPA fallback, a generated
``/config.json`` and a reverse proxy of ``/api/*`` to the emulator's HTTP API, so the SPA is
same-origin exactly as behind CloudFront. The emulator cannot run a BucketDeployment, so
``upload_portal`` also puts the build and ``config.json`` into the stack's portal bucket.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx

from pulse.errors import ConfigurationError

DEFAULT_PORT = 8080
API_PATH_PREFIX = "/api/"
API_BASE_URL = "/api/v1"
CALLBACK_PATH = "/auth/callback"
OAUTH_SCOPE = "openid email profile"
# The app takes the tenant from custom:tenant_id, which Cognito puts only in ID tokens (access tokens
# carry groups but no custom attributes): the SPA sends the ID token as its bearer token.
TOKEN_USE = "id"  # noqa: S105 - a claim value, not a secret
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"  # Vite's content-hashed files under assets/
REFERRER_POLICY = "strict-origin-when-cross-origin"
LOCAL_SECURITY_HEADERS = {  # CloudFront's policy minus HSTS, which browsers ignore over plain http
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": REFERRER_POLICY,
}
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"}
    | {"upgrade", "host", "content-length"}
)
# What update_user_pool_client takes besides the URLs; it resets whatever it is not given.
_CLIENT_SETTINGS = (
    *("ClientName", "RefreshTokenValidity", "AccessTokenValidity", "IdTokenValidity", "TokenValidityUnits"),
    *("ReadAttributes", "WriteAttributes", "ExplicitAuthFlows", "SupportedIdentityProviders", "DefaultRedirectURI"),
    *("AllowedOAuthFlows", "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient", "PreventUserExistenceErrors"),
    *("EnableTokenRevocation", "AuthSessionValidity"),
)
_API_TIMEOUT_S = 35.0  # the HTTP API gives up after 30 s; a cold FastAPI start adds ~1 s locally


class PortalError(ConfigurationError):
    title = "Local portal error"


def runtime_config(
    *,
    stage: str,
    region: str,
    user_pool_id: str,
    client_id: str,
    issuer: str,
    hosted_ui: str,
    portal_origin: str,
) -> dict[str, Any]:
    """``/config.json``: where the SPA signs in (hosted UI, code flow with PKCE) and calls the API.

    ``hosted_ui`` is the Cognito domain's base URL (the emulator's address locally);
    ``portal_origin`` is where the SPA is served (the CloudFront domain on AWS).
    """
    return {
        "stage": stage,
        "apiBaseUrl": API_BASE_URL,
        "auth": {
            "clientId": client_id,
            "userPoolId": user_pool_id,
            "region": region,
            "authority": issuer,
            "authorizationEndpoint": f"{hosted_ui}/oauth2/authorize",
            "tokenEndpoint": f"{hosted_ui}/oauth2/token",
            "userinfoEndpoint": f"{hosted_ui}/oauth2/userInfo",
            "logoutEndpoint": f"{hosted_ui}/logout",
            "redirectUri": f"{portal_origin}{CALLBACK_PATH}",
            "postLogoutRedirectUri": f"{portal_origin}/",
            "scope": OAUTH_SCOPE,
            "tokenUse": TOKEN_USE,
        },
    }


def content_security_policy(cognito_origin: str) -> str:
    """Scripts, styles and API calls from the portal's own origin; token, userInfo and refresh calls
    to the Cognito domain. Inline styles stay allowed for component libraries that inject them."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self' {cognito_origin}",
            f"form-action 'self' {cognito_origin}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        )
    )


def spa_path(uri: str) -> str:
    """The CloudFront Function's rewrite: a path whose last segment has no extension (a client-side
    route such as ``/devices/sim-01``), outside ``/api/``, is answered by ``/index.html``."""
    if uri == "/api" or uri.startswith(API_PATH_PREFIX):
        return uri
    return "/index.html" if "." not in uri.rsplit("/", 1)[-1] else uri


def cache_control(key: str) -> str:
    """Hashed build files are immutable; ``index.html``, ``config.json`` and the rest revalidate."""
    return IMMUTABLE if key.startswith("assets/") else NO_CACHE


def local_runtime_config(endpoint: str, outputs: dict[str, str], portal_origin: str) -> dict[str, Any]:
    """``config.json`` for the emulator: its hosted UI is served on the gateway root (gap ``hosted-ui-domain``);
    its tokens name the AWS issuer, so ``authority`` is the same string as on AWS."""
    from pulse.local.emulator import REGION

    pool_id = outputs["UserPoolId"]
    return runtime_config(
        stage="local",
        region=REGION,
        user_pool_id=pool_id,
        client_id=outputs["UserPoolClientId"],
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
        hosted_ui=endpoint,
        portal_origin=portal_origin,
    )


def allow_origin(cognito: Any, user_pool_id: str, client_id: str, origin: str) -> bool:
    """Add ``origin``'s callback and logout URLs to the emulator's portal client (a server on another port
    than the stack's ``pulse:portal_origin``, e.g. a test's free port); returns whether it changed."""
    client = cognito.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"]
    callbacks, logouts = list(client.get("CallbackURLs", [])), list(client.get("LogoutURLs", []))
    wanted_callback, wanted_logout = f"{origin}{CALLBACK_PATH}", f"{origin}/"
    if wanted_callback in callbacks and wanted_logout in logouts:
        return False
    # update_user_pool_client resets what it is not given: send every setting back.
    cognito.update_user_pool_client(
        UserPoolId=user_pool_id,
        ClientId=client_id,
        **{key: client[key] for key in _CLIENT_SETTINGS if client.get(key) not in (None, "")},
        CallbackURLs=[*callbacks, wanted_callback] if wanted_callback not in callbacks else callbacks,
        LogoutURLs=[*logouts, wanted_logout] if wanted_logout not in logouts else logouts,
    )
    return True


def upload_portal(s3: Any, bucket: str, dist: Path, config: dict[str, Any]) -> int:
    """Put the build and ``config.json`` into ``bucket`` as the BucketDeployment does on AWS (gap
    ``bucket-deployment``); objects whose content is unchanged are skipped. Returns how many were put."""
    existing = {
        obj["Key"]: str(obj.get("ETag", "")).strip('"')
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    }
    files: dict[str, bytes] = {}
    if (dist / "index.html").is_file():
        files = {p.relative_to(dist).as_posix(): p.read_bytes() for p in sorted(dist.rglob("*")) if p.is_file()}
    files["config.json"] = json.dumps(config, indent=2).encode()
    put = 0
    for key, body in files.items():
        if existing.get(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
            continue
        content_type = "application/json" if key.endswith(".json") else mimetypes.guess_type(key)[0]
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type or "application/octet-stream",
            CacheControl=cache_control(key),
        )
        put += 1
    return put


@dataclass
class PortalSite:
    """What the server serves: the build folder, ``config.json`` and where ``/api/*`` goes."""

    dist: Path
    api_base: str  # the emulator's HTTP API address, ending in "/", that the request path is appended to
    cognito_origin: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    site: PortalSite
    api: httpx.Client
    access_log: BinaryIO | None = None


class _PortalHandler(SimpleHTTPRequestHandler):
    server: _PortalHTTPServer
    protocol_version = "HTTP/1.1"
    _cache_control: str | None = None

    def __init__(self, request: Any, client_address: Any, server: _PortalHTTPServer) -> None:
        super().__init__(request, client_address, server, directory=str(server.site.dist))

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        self._cache_control = None  # one handler serves every request of a kept-alive connection
        path = urlsplit(self.path).path
        if path == "/api" or path.startswith(API_PATH_PREFIX):
            self._proxy()
        elif self.command not in ("GET", "HEAD"):
            self.send_error(405, "the portal serves files; the API is under /api/")
        elif path == "/config.json":
            self._send(200, json.dumps(self.server.site.config, indent=2).encode(), "application/json")
        else:
            self._static(path)

    def _static(self, path: str) -> None:
        target = spa_path(path)
        if target == "/index.html" and not self.server.site.built:
            message = (
                f"{self.server.site.dist}/index.html is missing: build the portal with `make frontend/dist/index.html` "
                "(make dev does it)\n"
            )
            self._send(503, message.encode(), "text/plain; charset=utf-8")
            return
        if not Path(self.translate_path(target)).is_file():  # no directory listings either
            self.send_error(404)
            return
        self._cache_control = cache_control(target.lstrip("/"))
        self.path = target
        if self.command == "HEAD":
            super().do_HEAD()
        else:
            super().do_GET()

    def _proxy(self) -> None:
        site, client = self.server.site, self.server.api
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "send a Content-Length")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        headers.append(("X-Forwarded-For", self.client_address[0]))
        query = urlsplit(self.path).query
        url = site.api_base + urlsplit(self.path).path.lstrip("/") + (f"?{query}" if query else "")
        try:
            upstream = client.send(client.build_request(self.command, url, headers=headers, content=body), stream=True)
            try:
                raw = b"".join(upstream.iter_raw())
            finally:
                upstream.close()
        except httpx.HTTPError as exc:
            problem = {"title": "Bad gateway", "status": 502, "detail": f"the local HTTP API did not answer: {exc}"}
            self._send(502, json.dumps(problem).encode(), "application/problem+json")
            return
        self.send_response(upstream.status_code)
        for name, value in upstream.headers.multi_items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self._cache_control = NO_CACHE
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        for name, value in LOCAL_SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Security-Policy", content_security_policy(self.server.site.cognito_origin))
        if self._cache_control:
            self.send_header("Cache-Control", self._cache_control)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log is not None:
            self.server.access_log.write((f"{self.log_date_time_string()} {format % args}\n").encode())
            self.server.access_log.flush()


class PortalServer:
    """A running portal server (a thread of the calling process); ``stop`` ends it and its connections."""

    def __init__(self, site: PortalSite, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        try:
            self._server = _PortalHTTPServer((host, port), _PortalHandler)
        except OSError as exc:
            raise PortalError(
                f"cannot serve the portal on {host}:{port} ({exc.strerror}): stop what listens there or set "
                "PULSE_PORTAL_ORIGIN=http://localhost:<another port>"
            ) from exc
        self._server.site = site
        self._server.api = httpx.Client(timeout=_API_TIMEOUT_S, follow_redirects=False)
        self.site = site
        self.uploaded = 0  # objects put into the stack's portal bucket when it was started
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), name="portal", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """What the browser opens (``localhost``, as the Cognito client's callback URLs say)."""
        return f"http://localhost:{self.port}"

    def start(self, access_log: Path | None = None) -> PortalServer:
        if access_log is not None:
            access_log.parent.mkdir(parents=True, exist_ok=True)
            self._server.access_log = access_log.open("ab")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server.api.close()
        if self._server.access_log is not None:
            self._server.access_log.close()


def local_site(dist: Path, endpoint: str, outputs: dict[str, str]) -> PortalSite:
    from pulse.local.gaps import http_api_local_url

    return PortalSite(dist=dist, api_base=http_api_local_url(endpoint, outputs["ApiUrl"]), cognito_origin=endpoint)


def start_local_portal(
    dist: Path, endpoint: str, outputs: dict[str, str], *, port: int = DEFAULT_PORT, access_log: Path | None = None
) -> PortalServer:
    """Serve the portal for the emulator's stack: bind (``port=0``: any free port), write ``config.json`` for
    that origin, let the Cognito client redirect there, upload the build to the stack's bucket, then serve."""
    from pulse.local.emulator import boto_client

    server = PortalServer(local_site(dist, endpoint, outputs), port=port)
    try:
        server.site.config = local_runtime_config(endpoint, outputs, server.origin)
        allow_origin(
            boto_client("cognito-idp", endpoint), outputs["UserPoolId"], outputs["UserPoolClientId"], server.origin
        )
        if bucket := outputs.get("PortalBucketName"):  # a stack deployed before the portal existed has none
            server.uploaded = upload_portal(boto_client("s3", endpoint), bucket, dist, server.site.config)
        return server.start(access_log)
    except BaseException:
        server.stop()
        raise


@contextmanager
def serving_portal(
    dist: Path, endpoint: str, outputs: dict[str, str], *, port: int = 0, access_log: Path | None = None
) -> Iterator[PortalServer]:
    """``start_local_portal`` for a ``with`` block (tests: any free port by default)."""
    server = start_local_portal(dist, endpoint, outputs, port=port, access_log=access_log)
    try:
        yield server
    finally:
        server.stop()
