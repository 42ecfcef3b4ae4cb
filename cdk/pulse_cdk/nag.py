"""Acknowledging cdk-nag findings, one finding and one written reason at a time.

cdk-nag v3 runs as a CDK validation plugin (an unacknowledged finding fails the synth).
Acknowledgments go through ``Validations.of(...)`` and cover the construct and everything under
it, so callers pass the narrowest construct: the L1 resource or a role's ``DefaultPolicy``, not
a whole construct tree. An IAM5 finding is acknowledged per wildcard
(``AwsSolutions-IAM5[Resource::*]``), so a different wildcard on the same role is still reported;
``tests/cdk`` checks that ``Resource::*`` only ever carries the X-Ray actions.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def acknowledge(scope: IConstruct | None, rule_id: str, reason: str) -> None:
    """Accept ``rule_id`` on ``scope`` and its children; ``reason`` ends up in the template metadata.

    ``scope`` is typically ``construct.node.default_child``, hence optional in the signature.
    """
    if scope is None:
        raise ValueError(f"acknowledging {rule_id}: the construct has no CloudFormation resource")
    if len(reason) < 40:
        raise ValueError(f"acknowledging {rule_id} needs a specific reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard(scope: IConstruct | None, finding: str, reason: str) -> None:
    """Accept one ``AwsSolutions-IAM5`` wildcard, e.g. ``Resource::*``."""
    acknowledge(scope, f"AwsSolutions-IAM5[{finding}]", reason)


def default_policy(role: iam.Role) -> IConstruct:
    """The policy CDK's ``grant_*`` calls write into; it exists once a first grant was made."""
    return role.node.find_child("DefaultPolicy")
