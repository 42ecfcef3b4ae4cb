"""The one guarded HTTP path webhook, Slack, Teams and PagerDuty deliveries take.

The URL's host is resolved and checked (``ssrf``); the request then goes to the checked address
itself, with the original ``Host`` header and, for https, the original name as TLS SNI and as the
name the certificate is verified against. Redirects are not followed (a 3xx is a permanent
failure), proxies from the environment are ignored, and only the first 2 KiB of a response body are
read (for the error text).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from pulse.notify.channels.ports import SenderPorts
from pulse.notify.channels.result import SendResult, clip, status_for_http
from pulse.notify.channels.ssrf import DestinationRefused, DestinationUnresolved, allowed, check_destination

MAX_RESPONSE_EXCERPT = 2048


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
