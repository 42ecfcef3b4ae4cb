"""Dependencies every router uses: settings, database, the verified principal, the tenant scope.

The tenant comes only from the verified token. Operators may name a tenant in ``X-Pulse-Tenant``;
such a request runs as ``pulse_operator`` and is written to the operator audit log before the
endpoint runs (reads included). Each tenant request is counted against the tenant's API rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pulse.db import Database
from pulse.errors import RequestInvalid, Unauthorized
from pulse.identity.models import Forbidden, Principal, Role
from pulse.identity.scope import Actor, TenantScope, operator_transaction
from pulse.identity.tokens import TokenVerifier
from pulse.identity.users import UserDirectory
from pulse.ops.operator_audit import record_access
from pulse.ops.quota import count_request
from pulse.outbox.after_commit import OutboxStarter
from pulse.registry.errors import NotFound
from pulse.registry.identities import DeviceIdentities
from pulse.registry.provisioning import ProvisioningConfig
from pulse.settings import Settings

TENANT_HEADER = "X-Pulse-Tenant"


@dataclass
class ApiServices:
    """What the app needs from the outside world; tests pass fakes, Lambdas the real adapters."""

    settings: Settings
    database: Callable[[], Database]
    verifier: TokenVerifier
    identities: Callable[[], DeviceIdentities]
    users: Callable[[], UserDirectory] | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # starts the outbox function after a commit that wrote alert events (None: the minute sweep does)
    outbox: Callable[[], OutboxStarter | None] = field(default=lambda: None)

    @property
    def provisioning(self) -> ProvisioningConfig:
        from datetime import timedelta

        return ProvisioningConfig(
            root_ca_pem=self.settings.iot_root_ca_pem,
            credential_grace=timedelta(seconds=self.settings.credential_grace_s),
            activation_code_ttl=timedelta(seconds=self.settings.activation_code_ttl_s),
        )


def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


ServicesDep = Annotated[ApiServices, Depends(services)]


def get_db(svc: ServicesDep) -> Database:
    return svc.database()


DbDep = Annotated[Database, Depends(get_db)]


def get_identities(svc: ServicesDep) -> DeviceIdentities:
    return svc.identities()


IdentitiesDep = Annotated[DeviceIdentities, Depends(get_identities)]
_bearer = HTTPBearer(auto_error=False, description="Cognito ID or access token")


def get_principal(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send Authorization: Bearer <token>")
    return svc.verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(
        subject=principal.subject, display=principal.display, role=principal.role.value, request_id=request_id(request)
    )


def get_tenant_scope(
    request: Request,
    principal: PrincipalDep,
    db: DbDep,
    svc: ServicesDep,
    tenant: Annotated[
        str | None, Header(alias=TENANT_HEADER, description="operators only: the tenant to act on (audited)")
    ] = None,
) -> TenantScope:
    now = svc.clock()
    if not principal.is_operator:
        if tenant is not None and tenant != principal.tenant_id:
            raise Forbidden(f"{TENANT_HEADER} is for operators")
        assert principal.tenant_id is not None
        scope = TenantScope(db, principal.tenant_id, _actor(principal, request))
        with scope.transaction() as conn:
            count_request(conn, scope.tenant_id, svc.settings.api_rate_per_minute, now)
        return scope
    tenant_id = tenant or principal.tenant_id
    if not tenant_id:
        raise RequestInvalid(f"{TENANT_HEADER}: operators name the tenant they act on")
    with operator_transaction(db) as conn:
        if conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant_id,)).fetchone() is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        count_request(conn, tenant_id, svc.settings.api_rate_per_minute, now)
        record_access(
            conn,
            {
                "tenant_id": tenant_id,
                "operator": principal.display,
                "role": principal.role.value,
                "method": request.method,
                "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                "ip": request.client.host if request.client else "",
                "user_agent": request.headers.get("user-agent", ""),
                "request_id": request_id(request),
            },
        )
    return TenantScope(db, tenant_id, _actor(principal, request), as_operator=True)


TenantDep = Annotated[TenantScope, Depends(get_tenant_scope)]


def get_writer_scope(principal: PrincipalDep, scope: TenantDep) -> TenantScope:
    if not principal.can_write:
        raise Forbidden("viewers may read, not change")
    return scope


WriterDep = Annotated[TenantScope, Depends(get_writer_scope)]


def get_admin_scope(principal: PrincipalDep, scope: TenantDep) -> TenantScope:
    if principal.role not in (Role.CUSTOMER_ADMIN, Role.OPERATOR_ADMIN):
        raise Forbidden("tenant administrators only")
    return scope


AdminDep = Annotated[TenantScope, Depends(get_admin_scope)]


def get_operator(principal: PrincipalDep) -> Principal:
    if not principal.is_operator:
        raise Forbidden("operators only")
    return principal


OperatorDep = Annotated[Principal, Depends(get_operator)]


def get_operator_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.OPERATOR_ADMIN:
        raise Forbidden("operator administrators only")
    return principal


OperatorAdminDep = Annotated[Principal, Depends(get_operator_admin)]


def operator_actor(principal: Principal, request: Request) -> Actor:
    return _actor(principal, request)


def parse_if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """``If-Match: "7"`` (or ``W/"7"``) -> 7; None when absent (services answer 428 when they need it)."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise RequestInvalid('If-Match: expected the ETag of the resource, e.g. "3"')
    return int(value)


IfMatchDep = Annotated[int | None, Depends(parse_if_match)]


def etag(version: int) -> str:
    return f'"{version}"'
