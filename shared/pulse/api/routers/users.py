"""Users of the caller's tenant: list, invite, change role, disable, enable (tenant administrators).

Customer administrators manage their own tenant; operator administrators the tenant named in
``X-Pulse-Tenant`` (audited like every operator request). The logic is ``pulse.identity.users``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from pulse.api.deps import AdminDep, ServicesDep
from pulse.identity import users
from pulse.identity.users import TenantUser, UserDirectory, UserInvite, UserRoleChange
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/users", tags=["users"])


def get_directory(svc: ServicesDep) -> UserDirectory:
    if svc.users is None:
        raise users.DirectoryNotConfigured("user management is not configured (PULSE_COGNITO_USER_POOL_ID)")
    return svc.users()


DirectoryDep = Annotated[UserDirectory, Depends(get_directory)]
_CONFLICTS: dict[int | str, dict[str, Any]] = {404: {}, 409: {}}


@router.get("")
def list_users(
    scope: AdminDep,
    directory: DirectoryDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[TenantUser]:
    return users.list_users(scope, directory, limit=limit, cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED, responses={409: {}})
def invite_user(scope: AdminDep, directory: DirectoryDep, body: UserInvite) -> TenantUser:
    """Creates the user in the tenant with the role; Cognito emails a temporary password."""
    return users.invite_user(scope, directory, body)


@router.get("/{username}", responses={404: {}})
def get_user(scope: AdminDep, directory: DirectoryDep, username: str) -> TenantUser:
    return users.get_user(scope, directory, username)


@router.patch("/{username}", responses=_CONFLICTS)
def change_role(scope: AdminDep, directory: DirectoryDep, username: str, body: UserRoleChange) -> TenantUser:
    """409 when the change would leave the tenant without an enabled customer_admin."""
    return users.change_role(scope, directory, username, body.role)


@router.post("/{username}/disable", responses=_CONFLICTS)
def disable_user(scope: AdminDep, directory: DirectoryDep, username: str) -> TenantUser:
    """The user can no longer sign in; 409 for the tenant's last enabled customer_admin."""
    return users.set_enabled(scope, directory, username, enabled=False)


@router.post("/{username}/enable", responses={404: {}})
def enable_user(scope: AdminDep, directory: DirectoryDep, username: str) -> TenantUser:
    return users.set_enabled(scope, directory, username, enabled=True)
