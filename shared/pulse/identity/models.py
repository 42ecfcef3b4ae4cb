"""Principals and roles, derived only from a verified token."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from pulse.errors import PulseError


class Role(StrEnum):
    """Cognito groups; a user in several groups acts with the strongest."""

    CUSTOMER_VIEWER = "customer_viewer"
    CUSTOMER_ADMIN = "customer_admin"
    OPERATOR = "operator"
    OPERATOR_ADMIN = "operator_admin"


_RANK = {Role.CUSTOMER_VIEWER: 0, Role.CUSTOMER_ADMIN: 1, Role.OPERATOR: 2, Role.OPERATOR_ADMIN: 3}
CUSTOMER_ROLES = frozenset({Role.CUSTOMER_VIEWER, Role.CUSTOMER_ADMIN})
OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.OPERATOR_ADMIN})


class Forbidden(PulseError):
    status = 403
    title = "Forbidden"


class Principal(BaseModel):
    """The verified caller. ``tenant_id`` is None for operators without a home tenant."""

    model_config = ConfigDict(frozen=True)

    subject: str
    username: str
    email: str | None = None
    role: Role
    tenant_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATOR_ROLES

    @property
    def can_write(self) -> bool:
        return self.role is not Role.CUSTOMER_VIEWER

    @property
    def display(self) -> str:
        return self.email or self.username


def strongest_role(groups: list[str]) -> Role | None:
    roles = [Role(g) for g in groups if g in Role.__members__.values()]
    return max(roles, key=_RANK.__getitem__) if roles else None
