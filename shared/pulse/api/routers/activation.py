"""Activation-code claims: a device in the field trades its one-time code for its credentials.

No user token here (the route has no JWT authorizer): the 96-bit one-time code is the credential.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from pulse.api.deps import DbDep, IdentitiesDep, ServicesDep, request_id
from pulse.registry import provisioning
from pulse.registry.models import ActivationClaim, CredentialsBundle

router = APIRouter(prefix="/activation", tags=["activation"])


@router.post("/claim")
def claim(
    body: ActivationClaim, db: DbDep, identities: IdentitiesDep, svc: ServicesDep, request: Request
) -> CredentialsBundle:
    return provisioning.claim_activation_code(db, body.code, identities, svc.provisioning, request_id(request))
