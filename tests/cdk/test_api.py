"""API plane: HTTP API with the Cognito JWT authorizer, CORS, the API function's least-privilege role,
the hourly subscriptions schedule, API alarms and dashboard."""

from __future__ import annotations

import json

import pytest

from pulse_cdk.api import COGNITO_ADMIN_ACTIONS

pytestmark = pytest.mark.cdk


def _api_id(synthesized):
    (api_id,) = [
        logical_id
        for logical_id, api in synthesized.resources("AWS::ApiGatewayV2::Api").items()
        if api["Properties"]["Name"] == "pulse-dev-api"
    ]
    return api_id


def _routes(synthesized):
    api = {"Ref": _api_id(synthesized)}
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == api
    }


def _function(synthesized, name):
    (found,) = [
        (logical_id, f["Properties"])
        for logical_id, f in synthesized.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("FunctionName") == f"pulse-dev-{name}"
    ]
    return found


def _statements(synthesized, function_name):
    """Every statement of every policy attached to the function's role."""
    _, function = _function(synthesized, function_name)
    role = function["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_only_the_claim_and_ical_routes_go_without_the_jwt_authorizer(synthesized):
    routes = _routes(synthesized)
    (authorizer_id, authorizer) = next(iter(synthesized.resources("AWS::ApiGatewayV2::Authorizer").items()))

    assert set(routes) == {
        "ANY /api/v1/{proxy+}",
        "POST /api/v1/activation/claim",
        "GET /api/v1/oncall/ical/{token}",
    }
    assert routes["ANY /api/v1/{proxy+}"]["AuthorizationType"] == "JWT"
    assert routes["ANY /api/v1/{proxy+}"]["AuthorizerId"] == {"Ref": authorizer_id}
    for open_route in ("POST /api/v1/activation/claim", "GET /api/v1/oncall/ical/{token}"):
        assert routes[open_route]["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in routes[open_route]
    assert authorizer["Properties"]["ApiId"] == {"Ref": _api_id(synthesized)}


def test_authorizer_trusts_the_pool_and_the_portal_client(synthesized):
    (authorizer,) = synthesized.resources("AWS::ApiGatewayV2::Authorizer").values()
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (client_id,) = synthesized.resources("AWS::Cognito::UserPoolClient")
    jwt = authorizer["Properties"]["JwtConfiguration"]

    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    assert authorizer["Properties"]["IdentitySource"] == ["$request.header.Authorization"]
    assert jwt["Audience"] == [{"Ref": client_id}]
    assert synthesized.render(jwt["Issuer"]) == "https://cognito-idp.${AWS::Region}.amazonaws.com/${" + pool_id + "}"


def test_claim_route_acknowledges_apig4_with_the_one_time_code_reason(synthesized):
    (claim,) = [
        r
        for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["RouteKey"] == "POST /api/v1/activation/claim"
    ]
    (rule,) = claim["Metadata"]["cdk_nag"]["rules_to_suppress"]

    assert rule["id"] == "AwsSolutions-APIG4" and "activation code" in rule["reason"]


def test_cors_admits_the_portal_origin_with_the_api_headers(synthesized):
    cors = synthesized.resources("AWS::ApiGatewayV2::Api")[_api_id(synthesized)]["Properties"]["CorsConfiguration"]

    assert cors["AllowOrigins"] == ["http://localhost:8080"]
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert {"Authorization", "If-Match", "X-Pulse-Tenant", "Content-Type"} <= set(cors["AllowHeaders"])
    assert "ETag" in cors["ExposeHeaders"] and "Retry-After" in cors["ExposeHeaders"]
    assert cors["AllowCredentials"] is True


def test_api_stage_is_throttled_and_access_logged(synthesized):
    (stage,) = [
        s["Properties"]
        for s in synthesized.resources("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": _api_id(synthesized)}
    ]
    log_group = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]

    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 400, "ThrottlingRateLimit": 200}
    assert "$context.status" in json.loads(stage["AccessLogSettings"]["Format"]).values()
    assert synthesized.resources("AWS::Logs::LogGroup")[log_group]["Properties"]["LogGroupName"] == (
        "/aws/apigateway/pulse-dev-api"
    )


def test_api_function_is_configured_for_the_pool_portal_and_device_policy(synthesized):
    env = _function(synthesized, "api")[1]["Environment"]["Variables"]
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (client_id,) = synthesized.resources("AWS::Cognito::UserPoolClient")
    (policy_id,) = synthesized.resources("AWS::IoT::Policy")

    assert synthesized.render(env["PULSE_AUTH_ISSUER"]) == (
        "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${" + pool_id + "}"
    )
    assert synthesized.render(env["PULSE_AUTH_CLIENT_IDS"]) == '["${' + client_id + '}"]'
    assert env["PULSE_COGNITO_USER_POOL_ID"] == {"Ref": pool_id}
    assert env["PULSE_PORTAL_ORIGIN"] == "http://localhost:8080"
    assert env["PULSE_DEVICE_POLICY_NAME"] == {"Ref": policy_id}
    assert "PULSE_IOT_ENDPOINT" not in env  # looked up at run time (iot:DescribeEndpoint)


def test_no_pulse_role_is_granted_a_service_wide_wildcard_action(synthesized):
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(action.endswith(":*") or action == "*" for action in _actions(statement)), statement


def test_api_iot_grants_are_scoped_to_things_certificates_and_the_device_policy(synthesized):
    by_action = {a: s["Resource"] for s in _statements(synthesized, "api") for a in _actions(s) if a.startswith("iot:")}
    (policy_id,) = synthesized.resources("AWS::IoT::Policy")

    def rendered(action):
        resources = by_action[action] if isinstance(by_action[action], list) else [by_action[action]]
        return {synthesized.render(r) for r in resources}

    arn = "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}"
    for action in ("iot:CreateThing", "iot:DeleteThing", "iot:AttachThingPrincipal", "iot:DetachThingPrincipal"):
        assert rendered(action) == {f"{arn}:thing/*"}
    assert rendered("iot:UpdateCertificate") == {f"{arn}:cert/*", f"{arn}:policy/${{{policy_id}}}"}
    assert rendered("iot:AttachPolicy") == {f"{arn}:cert/*", f"{arn}:policy/${{{policy_id}}}"}
    assert by_action["iot:CreateKeysAndCertificate"] == "*" and by_action["iot:DescribeEndpoint"] == "*"
    assert "iot:DeleteCertificate" not in by_action and "iot:CreatePolicy" not in by_action


def test_api_may_administer_users_only_in_the_pool(synthesized):
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (statement,) = [s for s in _statements(synthesized, "api") if _actions(s)[0].startswith("cognito-idp:")]

    assert set(_actions(statement)) == set(COGNITO_ADMIN_ACTIONS)
    assert statement["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    assert "cognito-idp:AdminSetUserPassword" not in _actions(statement)


def test_subscriptions_run_hourly_with_explicit_input_and_may_only_deactivate_certificates(synthesized):
    function_id, function = _function(synthesized, "subscriptions")
    (schedule,) = [
        s["Properties"]
        for s in synthesized.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Name"] == "pulse-dev-subscriptions"
    ]
    iot = [s for s in _statements(synthesized, "subscriptions") if _actions(s)[0].startswith("iot:")]

    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert json.loads(schedule["Target"]["Input"]) == {"task": "subscriptions"}
    assert function["Environment"]["Variables"]["PULSE_DB_ROLE"] == "pulse_operator"
    assert [_actions(s) for s in iot] == [["iot:UpdateCertificate"]]


def test_operators_are_paged_for_api_5xx(synthesized):
    (topic,) = synthesized.resources("AWS::SNS::Topic")
    (alarm,) = [
        a["Properties"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName") == "pulse-dev-api-5xx"
    ]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": _api_id(synthesized)}}]
    assert alarm["AlarmActions"] == [{"Ref": topic}]


def test_dashboard_shows_api_errors_and_latency(synthesized):
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = synthesized.render(dashboard["Properties"]["DashboardBody"])

    for needle in ('"4xx"', '"5xx"', '"Latency"', '"IntegrationLatency"', "API latency"):
        assert needle in body


def test_outputs_give_the_api_url(synthesized):
    url = synthesized.render(synthesized.template_json["Outputs"]["ApiUrl"]["Value"])

    assert url == "https://${" + _api_id(synthesized) + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
