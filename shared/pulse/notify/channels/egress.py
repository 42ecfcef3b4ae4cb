"""The one guarded HTTP path webhook, Slack, Teams and PagerDuty deliveries take.

The URL's host is resolved and checked (``ssrf``); the request then goes to the checked address
itself, with the original ``Host`` header and, for https, the original name as TLS SNI and as the
name the certificate is verified against. Redirects are not followed (a 3xx is a permanent
failure), proxies from the environment are ignored, and only the first 2 KiB of a response body are
read (for the error text).

``http_client`` is the client factory of this path: one client per send, so every send opens its own
connection to the address checked for it. A pool shared across sends would be keyed by that address
alone and could carry one receiver's request over a TLS session verified for another name on the
same address. What is expensive and safe to share is shared: the verifying TLS context (building one
loads the CA bundle, ~30 ms) is made once per container (``tls_context``); the name a certificate is
checked against is given per connection, never stored in the context.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import httpx

from pulse.notify.channels.result import SendResult, clip, status_for_http
from pulse.notify.channels.ssrf import DestinationRefused, DestinationUnresolved, allowed, check_destination

if TYPE_CHECKING:  # ports builds its default client here: a runtime import would be circular
    from pulse.notify.channels.ports import SenderPorts

MAX_RESPONSE_EXCERPT = 2048
MAX_CONNECT_TIMEOUT_S = 5.0
USER_AGENT = "Pulse-Notifications/1"


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The verifying client context every egress client shares: what httpx builds per client by default
    (``ssl.create_default_context`` on certifi's CA bundle; SSL_CERT_FILE is ignored like proxies)."""
    return httpx.create_ssl_context(trust_env=False)


def http_client(timeout_s: float) -> httpx.Client:
    """A client for one send: no redirects, no proxy from the environment (a proxy would connect by
    name and defeat the address pinning), the shared TLS context."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, MAX_CONNECT_TIMEOUT_S)),
        follow_redirects=False,
        trust_env=False,
        verify=tls_context(),
        headers={"User-Agent": USER_AGENT},
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def post_json(url: str, body: bytes, *, headers: Mapping[str, str], timeout_s: float, ports: SenderPorts) -> SendResult:
    """POST ``body`` (JSON) to ``url`` through the egress guard and classify the outcome."""
    started = time.perf_counter()
    target = httpx.URL(url)
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        destination = check_destination(host, port, resolver=ports.resolver, allow=ports.egress_allow)
    except DestinationRefused as exc:
        return SendResult("permanent", None, _elapsed_ms(started), str(exc))
    except DestinationUnresolved as exc:
        return SendResult("retryable", None, _elapsed_ms(started), str(exc))
    if target.scheme != "https" and not allowed(destination.address, ports.egress_allow):
        return SendResult("permanent", None, _elapsed_ms(started), f"plain http to {host} refused: https is required")

    pinned = target.copy_with(host=str(destination.address))
    request_headers = {
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json",
        **headers,
    }
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    try:
        with ports.http_client(timeout_s) as client:
            request = client.build_request("POST", pinned, content=body, headers=request_headers, extensions=extensions)
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                excerpt = _read_excerpt(response)
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        return SendResult("retryable", None, _elapsed_ms(started), clip(f"timed out after {timeout_s:g} s: {exc!r}"))
    except httpx.TransportError as exc:
        return SendResult("retryable", None, _elapsed_ms(started), clip(f"connection to {host} failed: {exc!r}"))
    latency = _elapsed_ms(started)
    code = response.status_code
    status = status_for_http(code)
    if status == "delivered":
        return SendResult("delivered", code, latency)
    if 300 <= code < 400:
        location = response.headers.get("location", "")
        return SendResult("permanent", code, latency, clip(f"HTTP {code}: redirect to {location!r} not followed"))
    retry_after = response.headers.get("retry-after")
    hint = f" (Retry-After: {retry_after})" if retry_after else ""
    return SendResult(status, code, latency, clip(f"HTTP {code}{hint}: {excerpt}"))


def _read_excerpt(response: httpx.Response) -> str:
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= MAX_RESPONSE_EXCERPT:
            break
    return received[:MAX_RESPONSE_EXCERPT].decode("utf-8", errors="replace")
