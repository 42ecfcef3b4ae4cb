"""``create_app``: the FastAPI application under ``/api/v1``.

Tests build it with fakes (``ApiServices``); the Lambda builds it once per container with
``default_services()``: the runtime database (``pulse_app``), the Cognito JWKS verifier, IoT Core,
the outbox function's starter. Acknowledging a latched alert releases the rules plane's latch
(``app.state.latch_releaser``, replaceable in tests).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from pulse.api import problems
from pulse.api.deps import TENANT_HEADER, ApiServices
from pulse.api.routers import (
    activation,
    alerts,
    audit,
    channels,
    commands,
    connectivity,
    contacts,
    dashboard,
    deliveries,
    devices,
    escalation,
    noc,
    oncall,
    operator,
    routes,
    rules,
    saved_filters,
    silences,
    sites,
    telemetry,
    tenants,
    twin,
    users,
)
from pulse.identity.users import UserDirectory
from pulse.registry.identities import DeviceIdentities
from pulse.rules.latch import release_rule_latch
from pulse.settings import Settings, get_settings

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"


def default_services(settings: Settings | None = None) -> ApiServices:
    from pulse import runtime
    from pulse.identity.tokens import TokenVerifier
    from pulse.registry.iot_identities import iot_device_identities

    settings = settings or get_settings()
    provisioner: list[DeviceIdentities] = []

    def identities() -> DeviceIdentities:
        if not provisioner:
            provisioner.append(iot_device_identities(settings.device_policy_name, settings.iot_endpoint))
        return provisioner[0]

    directory: list[UserDirectory] = []

    def user_directory() -> UserDirectory:
        if not directory:
            from pulse.platform.aws.cognito import cognito_user_directory

            directory.append(cognito_user_directory(settings.cognito_user_pool_id))
        return directory[0]

    return ApiServices(
        settings=settings,
        database=runtime.database,
        verifier=TokenVerifier.from_settings(settings),
        identities=identities,
        users=user_directory if settings.cognito_user_pool_id else None,
        outbox=runtime.outbox_starter,
    )


def _request_id(request: Request) -> str:
    event: dict[str, Any] = request.scope.get("aws.event") or {}
    from_gateway = (event.get("requestContext") or {}).get("requestId")
    return str(request.headers.get("x-request-id") or from_gateway or uuid.uuid4())


def create_app(svc: ApiServices | None = None) -> FastAPI:
    svc = svc or default_services()
    app = FastAPI(
        title="Pulse API",
        version=API_VERSION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        description="Pulse REST API: RFC 9457 problem bodies, keyset pagination (opaque cursors), "
        "ETag/If-Match on updates that race, per-tenant rate limit (429 + Retry-After).",
    )
    app.state.services = svc
    app.state.latch_releaser = release_rule_latch

    @app.middleware("http")
    async def request_ids(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = _request_id(request)
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origins=[svc.settings.portal_origin],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", TENANT_HEADER, "X-Request-Id"],
        expose_headers=["ETag", "Retry-After", "X-Request-Id"],
    )
    problems.install(app)
    api = APIRouter(prefix=API_PREFIX)
    modules = (tenants, sites, devices, telemetry, twin, commands, connectivity, rules, alerts, silences, users, audit)
    notifications = (channels, routes, deliveries, escalation, contacts)
    portal = (dashboard, saved_filters, operator, noc)
    for module in (*modules, *notifications, oncall, activation, *portal):
        api.include_router(module.router)
    app.include_router(api)
    return app
