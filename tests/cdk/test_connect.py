"""Connect plane: IoT rule -> SQS -> batched ingest, device policy, HTTPS ingest."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cdk

RULE_SQL = (
    "SELECT encode(*, 'base64') AS payload_b64, topic() AS topic, clientid() AS client_id, "
    "principal() AS principal, timestamp() AS received_at FROM 'tenant/+/device/+/+' "
    "WHERE topic(5) = 'telemetry' OR topic(5) = 'heartbeat' OR topic(5) = 'event'"
)
ARN_PREFIX = "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:"
OWN_DEVICE = (
    "tenant/${iot:Connection.Thing.Attributes[tenant_id]}/device/${iot:Connection.Thing.Attributes[device_id]}/*"
)


def _queue_id(synthesized, name):
    (logical_id,) = [
        logical_id
        for logical_id, queue in synthesized.resources("AWS::SQS::Queue").items()
        if queue["Properties"]["QueueName"] == name
    ]
    return logical_id


def _device_messages_rule(synthesized):
    """The Connect rule; the stack has other topic rules (twin, command acks, presence)."""
    (rule,) = [
        r
        for r in synthesized.resources("AWS::IoT::TopicRule").values()
        if r["Properties"]["RuleName"] == "pulse_dev_device_messages"
    ]
    return rule


def test_only_the_connect_rule_reads_telemetry_heartbeat_and_event_topics(synthesized):
    readers = [
        r["Properties"]["RuleName"]
        for r in synthesized.resources("AWS::IoT::TopicRule").values()
        if "'tenant/+/device/+/+'" in r["Properties"]["TopicRulePayload"]["Sql"]
    ]

    assert readers == ["pulse_dev_device_messages"]


def test_topic_rule_selects_raw_payload_with_broker_identity(synthesized):
    payload = _device_messages_rule(synthesized)["Properties"]["TopicRulePayload"]

    assert payload["Sql"] == RULE_SQL
    assert payload["AwsIotSqlVersion"] == "2016-03-23"
    assert payload["RuleDisabled"] is False


def test_topic_rule_sends_to_ingest_queue_and_failures_to_error_queue(synthesized):
    payload = _device_messages_rule(synthesized)["Properties"]["TopicRulePayload"]

    (action,) = payload["Actions"]
    assert action["Sqs"]["QueueUrl"] == {"Ref": _queue_id(synthesized, "pulse-dev-ingest")}
    assert payload["ErrorAction"]["Sqs"]["QueueUrl"] == {"Ref": _queue_id(synthesized, "pulse-dev-iot-errors")}


def test_iot_role_may_only_send_to_the_two_queues(synthesized):
    ingest, errors = (
        _queue_id(synthesized, "pulse-dev-ingest"),
        _queue_id(synthesized, "pulse-dev-iot-errors"),
    )
    (policy,) = [
        p
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith("ConnectIotRuleRole")
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]

    assert "sqs:SendMessage" in statement["Action"]
    assert statement["Resource"] == [{"Fn::GetAtt": [ingest, "Arn"]}, {"Fn::GetAtt": [errors, "Arn"]}]


def test_ingest_reads_batches_of_100_and_reports_item_failures(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [_queue_id(synthesized, "pulse-dev-ingest"), "Arn"]},
            "BatchSize": 1000,
            "MaximumBatchingWindowInSeconds": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_ingest_queue_outlasts_retries_and_dead_letters_after_five_receives(synthesized):
    queue = synthesized.resources("AWS::SQS::Queue")[_queue_id(synthesized, "pulse-dev-ingest")]["Properties"]
    (ingest,) = [
        f["Properties"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "pulse-dev-ingest"
    ]

    assert queue["VisibilityTimeout"] >= 6 * ingest["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [_queue_id(synthesized, "pulse-dev-ingest-dlq"), "Arn"]},
        "maxReceiveCount": 5,
    }


def test_every_queue_is_encrypted_and_refuses_plain_http(synthesized):
    queues = synthesized.resources("AWS::SQS::Queue")
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    denied = {
        statement["Resource"]["Fn::GetAtt"][0]
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    }
    assert denied == set(queues)


def _device_policy_statements(synthesized):
    (policy,) = synthesized.resources("AWS::IoT::Policy").values()
    assert policy["Properties"]["PolicyName"] == "pulse-dev-device"
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_certificate_connects_only_as_its_own_attached_thing(synthesized):
    connect = _device_policy_statements(synthesized)["ConnectAsOwnThing"]

    assert connect["Action"] == "iot:Connect"
    assert synthesized.render(connect["Resource"]) == ARN_PREFIX + "client/${iot:Connection.Thing.ThingName}"
    assert connect["Condition"] == {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}


def test_certificate_cannot_publish_to_another_devices_topic(synthesized):
    statements = _device_policy_statements(synthesized)

    assert statements["PublishOwnTopics"]["Action"] == "iot:Publish"
    assert synthesized.render(statements["PublishOwnTopics"]["Resource"]) == ARN_PREFIX + "topic/" + OWN_DEVICE
    assert synthesized.render(statements["ReceiveOwnTopics"]["Resource"]) == ARN_PREFIX + "topic/" + OWN_DEVICE
    assert synthesized.render(statements["SubscribeOwnTopics"]["Resource"]) == ARN_PREFIX + "topicfilter/" + OWN_DEVICE


def test_device_policy_has_no_broad_grant(synthesized):
    statements = _device_policy_statements(synthesized).values()
    resources = [synthesized.render(s["Resource"]) for s in statements]

    assert all(s["Effect"] == "Allow" and "*" not in s["Action"] for s in statements)
    for resource in resources:
        name = resource.removeprefix(ARN_PREFIX)
        assert resource != "*"
        assert name not in {"topic/*", "topic/tenant/*", "topicfilter/*", "topicfilter/tenant/*", "client/*"}
        assert not name.startswith(("topic/tenant/+", "topic/tenant/*/", "topicfilter/tenant/*/"))
        if name.startswith(("topic/", "topicfilter/")):
            assert name.endswith(OWN_DEVICE)


def test_device_policy_name_is_exposed_for_provisioning(synthesized):
    (policy_id,) = synthesized.resources("AWS::IoT::Policy")
    synthesized.template.has_output("DevicePolicyName", {"Value": {"Ref": policy_id}})


def test_http_ingest_route_is_a_post_without_jwt_authorizer(synthesized):
    (route,) = [
        r["Properties"]
        for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["RouteKey"] == "POST /ingest/v1/tenants/{tenant_id}/devices/{device_id}/telemetry"
    ]

    assert route["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in route


def test_http_ingest_stage_is_throttled_and_access_logged(synthesized):
    (api_id,) = [
        logical_id
        for logical_id, api in synthesized.resources("AWS::ApiGatewayV2::Api").items()
        if api["Properties"]["Name"] == "pulse-dev-device-http"
    ]
    (props,) = [
        stage["Properties"]
        for stage in synthesized.resources("AWS::ApiGatewayV2::Stage").values()
        if stage["Properties"]["ApiId"] == {"Ref": api_id}
    ]

    assert props["StageName"] == "$default"
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert "$context.requestId" in json.loads(props["AccessLogSettings"]["Format"]).values()
    log_group, attribute = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    assert synthesized.resources("AWS::Logs::LogGroup")[log_group]["Properties"]["RetentionInDays"] == 30


def test_http_ingest_may_read_the_database_secret_and_nothing_on_the_queues(synthesized):
    (function_id,) = [
        logical_id
        for logical_id, f in synthesized.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("FunctionName") == "pulse-dev-http-ingest"
    ]
    role = synthesized.resources("AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = [
        p for p in synthesized.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (secret_id,) = synthesized.resources("AWS::SecretsManager::Secret")

    assert {
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Effect": "Allow",
        "Resource": {"Ref": secret_id},
    } in statements
    assert not any("sqs:" in str(statement["Action"]) for statement in statements)
