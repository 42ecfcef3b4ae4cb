"""IoT topic rules as every Pulse plane builds them: one target (an SQS queue or a Lambda), SQL
version 2016-03-23, and an ``errorAction`` into an SQS queue that an operator inspects and redrives.

These are plain functions on the caller's scope rather than a nested construct, so the queues,
roles and rules keep the logical ids (and with their fixed names, the resources) they had before
the shape was shared.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pulse_cdk.config import StageConfig
from pulse_cdk.nag import acknowledge

IOT_SQL_VERSION = "2016-03-23"
ERROR_QUEUE_RETENTION = Duration.days(14)


def error_queue(scope: Construct, construct_id: str, *, config: StageConfig, name: str, reason: str) -> sqs.Queue:
    """The rule's ``errorAction`` queue: named per stage, SSE, TLS only, kept 14 days.

    It is itself the dead-letter destination of its rules, so cdk-nag's SQS3 (no DLQ) is
    acknowledged with ``reason``.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=config.name(name),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        removal_policy=config.removal_policy,
        retention_period=ERROR_QUEUE_RETENTION,
    )
    acknowledge(queue.node.default_child, "AwsSolutions-SQS3", reason)
    return queue


def rule_role(scope: Construct, construct_id: str, *, description: str, queues: tuple[sqs.IQueue, ...]) -> iam.Role:
    """The role IoT Core assumes for the SQS actions of a plane's rules (Lambda actions need none)."""
    role = iam.Role(scope, construct_id, assumed_by=iam.ServicePrincipal("iot.amazonaws.com"), description=description)
    for queue in queues:
        queue.grant_send_messages(role)
    return role


def _to_queue(queue: sqs.IQueue, role: iam.IRole) -> iot.CfnTopicRule.ActionProperty:
    return iot.CfnTopicRule.ActionProperty(
        sqs=iot.CfnTopicRule.SqsActionProperty(queue_url=queue.queue_url, role_arn=role.role_arn, use_base64=False)
    )


def topic_rule(
    scope: Construct,
    construct_id: str,
    *,
    rule_name: str,
    sql: str,
    description: str,
    target: sqs.Queue | lambda_.Function,
    errors: sqs.IQueue,
    role: iam.Role,
) -> iot.CfnTopicRule:
    """A rule from ``sql`` to ``target``; what it cannot deliver goes to ``errors`` through ``role``.

    A Lambda target gets a resource policy letting only this rule (and this account) invoke it.
    """
    if isinstance(target, lambda_.Function):
        action = iot.CfnTopicRule.ActionProperty(
            lambda_=iot.CfnTopicRule.LambdaActionProperty(function_arn=target.function_arn)
        )
    else:
        action = _to_queue(target, role)
    rule = iot.CfnTopicRule(
        scope,
        construct_id,
        rule_name=rule_name,
        topic_rule_payload=iot.CfnTopicRule.TopicRulePayloadProperty(
            sql=sql,
            aws_iot_sql_version=IOT_SQL_VERSION,
            description=description,
            rule_disabled=False,
            actions=[action],
            error_action=_to_queue(errors, role),
        ),
    )
    # The role's policy must exist before IoT validates the rule's actions.
    rule.node.add_dependency(role)
    if isinstance(target, lambda_.Function):
        target.add_permission(
            f"InvokeFrom{construct_id}",
            principal=iam.ServicePrincipal("iot.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=rule.attr_arn,
            source_account=Stack.of(scope).account,
        )
    return rule
