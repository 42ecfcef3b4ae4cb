"""One place that turns every refusal into an RFC 9457 problem body (never a stack trace)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse.errors import PulseError, Unauthorized
from pulse.observability import logger
from pulse.ops.quota import RateLimited
from pulse.problems import PROBLEM_CONTENT_TYPE, problem

_HTTP_TITLES = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    415: "Unsupported media type",
}


def _response(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem(
        status, title, detail, instance=request.url.path, request_id=getattr(request.state, "request_id", ""), **extra
    )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "tags", "k")`` -> ``tags.k``; query, path and header fields keep their source."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        return ".".join(parts[1:]) or "body"
    return ".".join(parts)


async def _pulse_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PulseError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="pulse"'
    if exc.status >= 500:
        logger.error("request failed", extra={"error": exc.detail, "title": exc.title})
    extra: dict[str, Any] = {}
    if exc.status == 400 and ":" in exc.detail:
        field, _, message = exc.detail.partition(":")
        extra["errors"] = [{"field": field.strip(), "message": message.strip()}]
    return _response(request, exc.status, exc.title, exc.detail, headers or None, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return _response(request, 422, "Validation failed", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _HTTP_TITLES.get(exc.status_code, "Request refused")
    return _response(request, exc.status_code, title, str(exc.detail), dict(exc.headers or {}) or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error in the API")
    return _response(request, 500, "Internal error", "the request failed; quote the request id when reporting it")


def install(app: FastAPI) -> None:
    app.add_exception_handler(PulseError, _pulse_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
