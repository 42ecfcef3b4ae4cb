"""Tenant administrators manage their tenant's users: list, invite, change role, disable, enable.

Users live in the Cognito user pool, reached through the ``UserDirectory`` port
(``pulse.platform.aws.cognito`` in AWS, moto in tests). A user belongs to a tenant through the
immutable ``custom:tenant_id`` attribute; the role is the user's customer group. A username of
another tenant, or of an operator, is "not found", exactly like another tenant's device.

Each change is written to the audit log inside the tenant transaction that also holds a
per-tenant advisory lock, so two administrators demoting each other at the same moment cannot
both pass the "last administrator" check. The audit row is inserted before the directory call:
a refused directory call rolls the row back. An invite has no username before Cognito answers,
so its row follows the call, and a failed transaction deletes the user it just created.

Role changes and disabling reach a signed-in user when their token is next refreshed: the API
verifies JWTs locally, so an issued ID token stays valid until it expires (the portal client's
token validity bounds that window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, Protocol

import psycopg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pulse.errors import PulseError
from pulse.identity.models import OPERATOR_ROLES, Role
from pulse.identity.scope import TenantScope
from pulse.observability import logger
from pulse.ops.audit import record_change
from pulse.registry.errors import Conflict, NotFound
from pulse.registry.paging import Page, decode_cursor, encode_cursor

CustomerRole = Literal["customer_viewer", "customer_admin"]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
_CURSOR = "users"


class UserNotFound(NotFound):
    title = "User not found"


class UserExists(Conflict):
    title = "User exists"


class LastAdministrator(Conflict):
    """The change would leave the tenant without an enabled ``customer_admin``."""

    title = "Last administrator"


class DirectoryError(PulseError):
    """The user directory (Cognito) refused or failed for a reason the caller cannot fix."""

    status = 502
    title = "User directory error"


class DirectoryNotConfigured(PulseError):
    status = 503
    title = "User management unavailable"


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A user as the directory reports it (any tenant, any group)."""

    username: str
    email: str
    tenant_id: str | None
    groups: frozenset[str]
    enabled: bool
    status: str
    created_at: datetime | None = None


class UserDirectory(Protocol):
    """What user management needs from the identity provider."""

    def users_in_group(self, group: str) -> list[DirectoryUser]: ...

    def get_user(self, username: str) -> DirectoryUser: ...

    def create_user(self, email: str, tenant_id: str, group: str) -> DirectoryUser: ...

    def delete_user(self, username: str) -> None: ...

    def add_to_group(self, username: str, group: str) -> None: ...

    def remove_from_group(self, username: str, group: str) -> None: ...

    def disable_user(self, username: str) -> None: ...

    def enable_user(self, username: str) -> None: ...


class TenantUser(BaseModel):
    """A user of the caller's tenant."""

    username: str = Field(description="Cognito username (a UUID when users sign in with their email)")
    email: str
    role: CustomerRole
    enabled: bool
    status: str = Field(description="Cognito status: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED")
    created_at: datetime | None = None


class UserInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    role: CustomerRole = "customer_viewer"


class UserRoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: CustomerRole


def _customer_role(groups: frozenset[str]) -> CustomerRole | None:
    if groups & {r.value for r in OPERATOR_ROLES}:
        return None  # operators are not managed by tenants, even with a home tenant
    if Role.CUSTOMER_ADMIN.value in groups:
        return "customer_admin"
    if Role.CUSTOMER_VIEWER.value in groups:
        return "customer_viewer"
    return None


def _tenant_user(found: DirectoryUser, tenant_id: str) -> TenantUser | None:
    role = _customer_role(found.groups)
    if found.tenant_id != tenant_id or role is None:
        return None
    return TenantUser(
        username=found.username,
        email=found.email,
        role=role,
        enabled=found.enabled,
        status=found.status,
        created_at=found.created_at,
    )


def _members(directory: UserDirectory, tenant_id: str) -> dict[str, TenantUser]:
    """Every customer user of the tenant. Cognito cannot filter on custom attributes, so the
    customer groups are listed and filtered here (two paged scans, no per-user call)."""
    members: dict[str, TenantUser] = {}
    for role in (Role.CUSTOMER_VIEWER, Role.CUSTOMER_ADMIN):  # admin last: the stronger role wins
        for found in directory.users_in_group(role.value):
            user = _tenant_user(found, tenant_id)
            if user is not None:
                members[user.username] = user.model_copy(update={"role": role.value})
    return members


def _created_member(created: DirectoryUser, tenant_id: str) -> TenantUser:
    user = _tenant_user(created, tenant_id)
    if user is None:
        raise DirectoryError(f"the directory created {created.username!r} without the tenant or group")
    return user


def _get(directory: UserDirectory, tenant_id: str, username: str) -> TenantUser:
    try:
        user = _tenant_user(directory.get_user(username), tenant_id)
    except UserNotFound:
        user = None
    if user is None:  # the same answer for "absent" and "another tenant's"
        raise UserNotFound(f"no user {username!r}")
    return user


def _lock(conn: psycopg.Connection, tenant_id: str) -> None:
    """Serialize user changes of one tenant (held until commit or rollback)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"users:{tenant_id}",))


def _keep_an_administrator(directory: UserDirectory, tenant_id: str, leaving: str) -> None:
    others = [
        u
        for u in _members(directory, tenant_id).values()
        if u.role == "customer_admin" and u.enabled and u.username != leaving
    ]
    if not others:
        raise LastAdministrator("the tenant needs at least one enabled customer_admin; promote another user first")


def list_users(scope: TenantScope, directory: UserDirectory, *, limit: int, cursor: str | None) -> Page[TenantUser]:
    """The tenant's users ordered by email (then username), keyset-paged."""
    after = decode_cursor(cursor, _CURSOR)
    users = sorted(_members(directory, scope.tenant_id).values(), key=lambda u: (u.email, u.username))
    if after is not None:
        users = [u for u in users if (u.email, u.username) > (str(after[0]), str(after[1]))]
    items = users[:limit]
    if len(users) <= limit:
        return Page(items=items)
    return Page(items=items, next_cursor=encode_cursor(_CURSOR, [items[-1].email, items[-1].username]))


def get_user(scope: TenantScope, directory: UserDirectory, username: str) -> TenantUser:
    return _get(directory, scope.tenant_id, username)


def invite_user(scope: TenantScope, directory: UserDirectory, invite: UserInvite) -> TenantUser:
    """Create the user with the tenant attribute and group; Cognito mails a temporary password."""
    created: DirectoryUser | None = None
    try:
        with scope.transaction() as conn:
            _lock(conn, scope.tenant_id)
            created = directory.create_user(invite.email, scope.tenant_id, invite.role)
            user = _created_member(created, scope.tenant_id)
            record_change(conn, scope.tenant_id, scope.actor, "user.create", "user", user.username, None, user)
    except Exception:
        if created is not None:  # no audit row was committed: take the user back out
            logger.warning("invite rolled back", extra={"tenant_id": scope.tenant_id, "username": created.username})
            try:
                directory.delete_user(created.username)
            except PulseError:
                logger.exception("could not delete the user of a failed invite", extra={"username": created.username})
        raise
    logger.info("user invited", extra={"tenant_id": scope.tenant_id, "username": user.username, "role": user.role})
    return user


def change_role(scope: TenantScope, directory: UserDirectory, username: str, role: CustomerRole) -> TenantUser:
    with scope.transaction() as conn:
        _lock(conn, scope.tenant_id)
        before = _get(directory, scope.tenant_id, username)
        if before.role == role:
            return before
        if before.role == "customer_admin" and before.enabled:
            _keep_an_administrator(directory, scope.tenant_id, username)
        after = before.model_copy(update={"role": role})
        record_change(conn, scope.tenant_id, scope.actor, "user.update", "user", username, before, after)
        directory.add_to_group(username, role)
        directory.remove_from_group(username, before.role)
    return after


def set_enabled(scope: TenantScope, directory: UserDirectory, username: str, enabled: bool) -> TenantUser:
    """Disable (the user can no longer sign in or refresh tokens) or enable again."""
    with scope.transaction() as conn:
        _lock(conn, scope.tenant_id)
        before = _get(directory, scope.tenant_id, username)
        if before.enabled == enabled:
            return before
        if not enabled and before.role == "customer_admin":
            _keep_an_administrator(directory, scope.tenant_id, username)
        after = before.model_copy(update={"enabled": enabled})
        action = "user.enable" if enabled else "user.disable"
        record_change(conn, scope.tenant_id, scope.actor, action, "user", username, before, after)
        if enabled:
            directory.enable_user(username)
        else:
            directory.disable_user(username)
    return after
