"""Escalation policies (CRUD under If-Match) and an alert's escalation (state and the steps done).

A notification route starts a policy (``escalation_policy_id``) when it takes an opened alert; the
escalation Lambda walks it every minute. The logic is ``pulse.escalation``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from pulse.api.deps import IfMatchDep, ServicesDep, TenantDep, WriterDep, etag
from pulse.escalation import service
from pulse.escalation.models import AlertEscalation, EscalationPolicy, EscalationPolicyIn
from pulse.registry.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(tags=["escalation"])
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
_POLICY = "/escalation-policies/{policy_id}"
_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such policy"},
    409: {"description": "the name is taken, or routes use it"},
    412: {"description": "If-Match is stale"},
    422: {"description": "a step names no channel or schedule of the tenant"},
    428: {"description": "If-Match missing"},
}


def _answer(policy: EscalationPolicy, response: Response) -> EscalationPolicy:
    response.headers["ETag"] = etag(policy.version)
    return policy


@router.post("/escalation-policies", status_code=status.HTTP_201_CREATED, responses=_REFUSALS)
def create_policy(scope: WriterDep, svc: ServicesDep, body: EscalationPolicyIn, response: Response) -> EscalationPolicy:
    return _answer(service.create_policy(scope, body, now=svc.clock()), response)


@router.get("/escalation-policies")
def list_policies(scope: TenantDep, limit: LimitQ = DEFAULT_LIMIT, cursor: str | None = None) -> Page[EscalationPolicy]:
    """By name."""
    return service.list_policies(scope, limit=limit, cursor=cursor)


@router.get(_POLICY, responses={404: {"description": "no such policy"}})
def get_policy(scope: TenantDep, policy_id: str, response: Response) -> EscalationPolicy:
    return _answer(service.get_policy(scope, policy_id), response)


@router.put(_POLICY, responses=_REFUSALS)
def replace_policy(
    scope: WriterDep,
    svc: ServicesDep,
    policy_id: str,
    body: EscalationPolicyIn,
    if_match: IfMatchDep,
    response: Response,
) -> EscalationPolicy:
    """Running escalations follow the new steps from where they are."""
    return _answer(service.replace_policy(scope, policy_id, body, if_match=if_match, now=svc.clock()), response)


@router.delete(_POLICY, status_code=status.HTTP_204_NO_CONTENT, responses=_REFUSALS)
def delete_policy(scope: WriterDep, policy_id: str, if_match: IfMatchDep) -> None:
    service.delete_policy(scope, policy_id, if_match=if_match)


@router.get("/alerts/{alert_id}/escalation", responses={404: {"description": "no such alert, or no escalation"}})
def alert_escalation(scope: TenantDep, alert_id: str) -> AlertEscalation:
    """Where the alert's escalation stands (phase, next step, reminders) and every action it took."""
    return service.alert_escalation(scope, alert_id)
