"""HTTP ingest for gateways: ``POST /ingest/v1/tenants/{tenant_id}/devices/{device_id}/telemetry``.

Authenticated by the device's bearer token (no JWT: devices are not users). Answers 202 with one
result per message; 401 when no message carried a valid token; problem bodies for every refusal.
"""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from pulse.connect.quarantine import QuarantineReason
from pulse.errors import DatabaseUnavailable, PulseError
from pulse.ingest import ingest_http
from pulse.observability import logger
from pulse.problems import PROBLEM_CONTENT_TYPE, problem

app = APIGatewayHttpResolver(serializer=lambda obj: orjson.dumps(obj).decode())


def _problem_response(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=orjson.dumps(problem(status, title, detail, **extra)).decode(),
        headers=headers,
    )


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


@app.post("/ingest/v1/tenants/<tenant_id>/devices/<device_id>/telemetry")
def post_telemetry(tenant_id: str, device_id: str) -> Response[str]:
    event = app.current_event
    body = event.decoded_body.encode() if isinstance(event.decoded_body, str) else (event.decoded_body or b"")
    token = _bearer(event.headers.get("authorization"))
    result = ingest_http(tenant_id, device_id, body, token)
    results = [
        {
            "index": int(o.message_id),
            "status": o.status,
            **({"reason": o.reason.value, "detail": o.detail} if o.reason else {}),
        }
        for o in result.outcomes
    ]
    if all(o.reason is QuarantineReason.BAD_TOKEN for o in result.outcomes):
        return _problem_response(
            401,
            "Unauthorized",
            "the device token is missing, wrong or revoked",
            headers={"WWW-Authenticate": 'Bearer realm="pulse-ingest"'},
        )
    return Response(
        status_code=202,
        content_type="application/json",
        body=orjson.dumps(
            {
                "accepted": result.count("accepted"),
                "duplicate": result.count("duplicate"),
                "quarantined": result.count("quarantined"),
                "results": results,
            }
        ).decode(),
    )


@app.exception_handler(DatabaseUnavailable)  # type: ignore[untyped-decorator]
def _unavailable(exc: DatabaseUnavailable) -> Response[str]:
    logger.error("http ingest: database unavailable", extra={"error": exc.detail})
    return _problem_response(
        503, exc.title, "telemetry could not be stored; retry later", headers={"Retry-After": "30"}
    )


@app.exception_handler(PulseError)  # type: ignore[untyped-decorator]
def _pulse_error(exc: PulseError) -> Response[str]:
    return _problem_response(exc.status, exc.title, exc.detail)


@app.not_found
def _not_found(exc: Exception) -> Response[str]:
    return _problem_response(
        404, "Not found", "no such ingest route; POST to /ingest/v1/tenants/{tenant_id}/devices/{device_id}/telemetry"
    )
