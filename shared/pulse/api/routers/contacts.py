"""People: contact methods (email, SMS, Slack member) with send-test, and the personal notification
policy escalation steps page a person through.

``{username}`` may be ``me``. A person manages their own; tenant administrators (and operator
administrators acting on a tenant) manage anyone's. The logic is ``pulse.escalation.contacts``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from pulse.api.deps import IfMatchDep, PrincipalDep, ServicesDep, TenantDep, etag
from pulse.api.routers.channels import SealerDep, SendersDep
from pulse.escalation import contacts
from pulse.escalation.models import ContactMethod, ContactMethodIn, NotificationPolicy, NotificationPolicyIn
from pulse.identity.models import Forbidden, Principal, Role
from pulse.notify.models import TestResult

router = APIRouter(prefix="/users/{username}", tags=["escalation"])
_METHOD = "/contact-methods/{method_id}"
_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "another person's, and the caller is no administrator"},
    404: {"description": "no such contact method"},
    409: {"description": "already there, the kind would change, or the policy uses it"},
    412: {"description": "If-Match is stale"},
    422: {"description": "the address does not fit the kind (field named)"},
    428: {"description": "If-Match missing"},
}


def person(username: str, principal: Principal) -> str:
    """The username meant (``me``: the caller); only the person or an administrator may act on it."""
    name = principal.username if username == "me" else username
    if name != principal.username and principal.role not in (Role.CUSTOMER_ADMIN, Role.OPERATOR_ADMIN):
        raise Forbidden("only the person or a tenant administrator manages contact methods and policies")
    return name


@router.post("/contact-methods", status_code=status.HTTP_201_CREATED, responses=_REFUSALS)
def create_method(
    scope: TenantDep,
    principal: PrincipalDep,
    svc: ServicesDep,
    sealer: SealerDep,
    username: str,
    body: ContactMethodIn,
    response: Response,
) -> ContactMethod:
    method = contacts.create_method(scope, person(username, principal), body, sealer, now=svc.clock())
    response.headers["ETag"] = etag(method.version)
    return method


@router.get("/contact-methods", responses={403: {}})
def list_methods(scope: TenantDep, principal: PrincipalDep, username: str) -> list[ContactMethod]:
    return contacts.list_methods(scope, person(username, principal))


@router.put(_METHOD, responses=_REFUSALS)
def update_method(
    scope: TenantDep,
    principal: PrincipalDep,
    svc: ServicesDep,
    sealer: SealerDep,
    username: str,
    method_id: str,
    body: ContactMethodIn,
    if_match: IfMatchDep,
    response: Response,
) -> ContactMethod:
    """Replaces address, label and enabled (the kind stays); an omitted Slack webhook URL is kept."""
    name = person(username, principal)
    method = contacts.update_method(scope, name, method_id, body, sealer, if_match=if_match, now=svc.clock())
    response.headers["ETag"] = etag(method.version)
    return method


@router.delete(_METHOD, status_code=status.HTTP_204_NO_CONTENT, responses=_REFUSALS)
def delete_method(
    scope: TenantDep, principal: PrincipalDep, username: str, method_id: str, if_match: IfMatchDep
) -> None:
    contacts.delete_method(scope, person(username, principal), method_id, if_match=if_match)


@router.post(_METHOD + "/test", responses=_REFUSALS)
def test_method(
    scope: TenantDep,
    principal: PrincipalDep,
    svc: ServicesDep,
    sealer: SealerDep,
    senders: SendersDep,
    username: str,
    method_id: str,
) -> TestResult:
    """Sends a test page now (one attempt, no retry; in the delivery log) and answers how it went."""
    return contacts.test_method(scope, person(username, principal), method_id, sealer, senders, now=svc.clock())


@router.get("/notification-policy", responses={403: {}, 404: {"description": "no policy: every method at once"}})
def get_policy(scope: TenantDep, principal: PrincipalDep, username: str, response: Response) -> NotificationPolicy:
    policy = contacts.get_policy(scope, person(username, principal))
    response.headers["ETag"] = etag(policy.version)
    return policy


@router.put("/notification-policy", responses=_REFUSALS)
def put_policy(
    scope: TenantDep,
    principal: PrincipalDep,
    svc: ServicesDep,
    username: str,
    body: NotificationPolicyIn,
    if_match: IfMatchDep,
    response: Response,
) -> NotificationPolicy:
    """Creates the policy, or replaces it under If-Match. Rules run in order, each after its wait;
    ``critical`` (when set) is used for critical alerts."""
    name = person(username, principal)
    policy = contacts.put_policy(scope, name, body, if_match=if_match, now=svc.clock())
    response.headers["ETag"] = etag(policy.version)
    return policy
