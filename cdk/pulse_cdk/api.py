"""Experience plane (API half): the REST API Lambda behind an HTTP API with a Cognito JWT authorizer,
and the scheduled subscription lifecycle Lambda."""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.http_ingest import _AccessLogSettings
from pulse_cdk.identity import IdentityConstruct
from pulse_cdk.nag import acknowledge, acknowledge_wildcard, default_policy
from pulse_cdk.schedules import invoke_on_schedule
from pulse_cdk.stream import StreamConstruct

API_PREFIX = "/api/v1"
PROXY_ROUTE = f"{API_PREFIX}/{{proxy+}}"
CLAIM_ROUTE = f"{API_PREFIX}/activation/claim"
ICAL_ROUTE = f"{API_PREFIX}/oncall/ical/{{token}}"
# Stage-wide ceiling protecting the function and the database; the per-tenant limit (429 with
# Retry-After) is the app's, counted in PostgreSQL.
THROTTLE_RATE_PER_SECOND = 200
THROTTLE_BURST = 400
API_TIMEOUT = Duration.seconds(29)  # an HTTP API integration gives up after 30 s
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "X-Pulse-Tenant", "X-Request-Id")
CORS_EXPOSE_HEADERS = ("ETag", "Retry-After", "X-Request-Id")
SERVER_ERRORS_THRESHOLD = 5  # 5xx per 5 minutes before operators are paged
SUBSCRIPTIONS_RATE = Duration.hours(1)
SUBSCRIPTIONS_INPUT = {"task": "subscriptions"}
# What provisioning calls on IoT Core (pulse.registry.iot_identities), grouped by the resource type
# each action authorizes against. CreateKeysAndCertificate and DescribeEndpoint have no resource type.
IOT_THING_ACTIONS = (
    "iot:CreateThing",
    "iot:DescribeThing",
    "iot:UpdateThing",
    "iot:DeleteThing",
    "iot:ListThingPrincipals",
    "iot:AttachThingPrincipal",
    "iot:DetachThingPrincipal",
)
IOT_CERTIFICATE_ACTIONS = ("iot:UpdateCertificate", "iot:DescribeCertificate", "iot:AttachPolicy")
IOT_UNSCOPED_ACTIONS = ("iot:CreateKeysAndCertificate", "iot:DescribeEndpoint")
# What the API publishes to devices through iot-data (pulse.twin.portal, pulse.commands.service):
# portal twin changes as deltas and commands, never device-side topics such as telemetry or acks.
DEVICE_PUBLISH_TOPICS = ("tenant/*/device/*/twin/delta", "tenant/*/device/*/commands")
# pulse.platform.aws.cognito.CognitoUserDirectory
COGNITO_ADMIN_ACTIONS = (
    "cognito-idp:ListUsersInGroup",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
)


class ApiConstruct(Construct):
    """``ANY /api/v1/{proxy+}`` (Cognito JWT authorizer); ``POST /api/v1/activation/claim`` and
    ``GET /api/v1/oncall/ical/{token}`` (none: the one-time code and the feed's secret are the credentials).

    The gateway rejects requests without a valid pool token before the function runs; the app
    verifies the token again and takes tenant and role only from it. The claim route has no
    authorizer because a field device has no Cognito user: its one-time activation code is the
    credential, checked (hashed, unexpired, unused) by the app.

    The IoT data endpoint is not known at synth time: ``PULSE_IOT_ENDPOINT`` stays empty and the
    function looks it up once per container (``iot:DescribeEndpoint``, ``iot:Data-ATS``), see
    ``IotDeviceIdentities.endpoint`` and ``pulse.twin.publishing.default_publisher``, through which
    it publishes portal twin deltas and commands (``iot:Publish`` on those two topic kinds only).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        stream: StreamConstruct,
        identity: IdentityConstruct,
        device_policy_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._config = defaults.config
        self._identity = identity
        self._device_policy_name = device_policy_name
        self.function = self._build_function(stream)
        self._grant_provisioning(self.function)
        self._grant_device_publishing(self.function)
        self._grant_user_management()
        self.api = self._build_api()
        self.access_log_group = self._build_access_log_group()
        self.stage = self._build_stage()
        self.routes = self._build_routes()
        self.subscriptions = self._build_subscriptions(stream)
        # Idempotent by date: a missed hour is caught up by the next run.
        self.subscriptions_schedule = invoke_on_schedule(
            self,
            "SubscriptionsSchedule",
            config=self._config,
            role=stream.scheduler_role,
            function=self.subscriptions,
            name="subscriptions",
            payload=SUBSCRIPTIONS_INPUT,
            rate=SUBSCRIPTIONS_RATE,
            description="Moves subscriptions along their dates and retires rotated certificates",
            wildcard_reason="grant_invoke also allows the function's qualified ARNs (versions, aliases); the "
            "wildcard only spans qualifiers of the subscriptions function.",
        )
        self.server_errors_alarm = self._build_alarm()
        self._build_dashboard_widgets()

    @property
    def url(self) -> str:
        return self.stage.url

    def _build_function(self, stream: StreamConstruct) -> PulseFunction:
        identity = self._identity
        function = PulseFunction(
            self,
            "Api",
            name="api",
            defaults=self._defaults,
            description="Pulse REST API (FastAPI via Mangum) behind the HTTP API",
            memory_size=1024,
            timeout=API_TIMEOUT,
            environment={
                **stream.database_environment("pulse_app"),
                "PULSE_AUTH_ISSUER": identity.issuer,
                "PULSE_AUTH_CLIENT_IDS": json.dumps([identity.portal_client.user_pool_client_id]),
                "PULSE_COGNITO_USER_POOL_ID": identity.user_pool.user_pool_id,
                "PULSE_PORTAL_ORIGIN": identity.portal_origin,
                "PULSE_DEVICE_POLICY_NAME": self._device_policy_name,
            },
        )
        stream.grant_database_read(function)
        return function

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="iot", resource=resource, resource_name=name)

    def _grant_provisioning(self, function: PulseFunction) -> None:
        role = function.role
        role.add_to_policy(iam.PolicyStatement(actions=list(IOT_THING_ACTIONS), resources=[self._arn("thing", "*")]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(IOT_CERTIFICATE_ACTIONS),
                resources=[self._arn("cert", "*"), self._arn("policy", self._device_policy_name)],
            )
        )
        acknowledge_wildcard(
            default_policy(role),
            "Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thing/*",
            "Things are named <tenant>--<device> when a device is provisioned at run time, so no "
            "fixed name exists at deploy time; the statement holds only thing actions.",
        )
        acknowledge_wildcard(
            default_policy(role),
            "Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:cert/*",
            "Certificate ids are assigned by IoT Core when a device is provisioned; AttachPolicy is "
            "limited to certificates and the one Pulse device policy.",
        )
        # Kept out of the role's default policy so its Resource '*' statement stays X-Ray only.
        unscoped = iam.Policy(
            self,
            "IotUnscopedPolicy",
            roles=[role],
            statements=[iam.PolicyStatement(actions=list(IOT_UNSCOPED_ACTIONS), resources=["*"])],
        )
        acknowledge_wildcard(
            unscoped,
            "Resource::*",
            "iot:CreateKeysAndCertificate and iot:DescribeEndpoint support no resource-level "
            "permissions (the certificate does not exist yet; the endpoint is per account).",
        )

    def _grant_device_publishing(self, function: PulseFunction) -> None:
        """iot:Publish on the twin delta and commands topics; the data endpoint comes from the
        unscoped iot:DescribeEndpoint above (``pulse.twin.publishing.default_publisher``)."""
        function.role.add_to_policy(
            iam.PolicyStatement(
                actions=["iot:Publish"], resources=[self._arn("topic", topic) for topic in DEVICE_PUBLISH_TOPICS]
            )
        )
        for topic in DEVICE_PUBLISH_TOPICS:
            acknowledge_wildcard(
                default_policy(function.role),
                f"Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/{topic}",
                "Portal twin changes and commands go to the device named in the request, known only "
                "at run time; tenant and device are wildcards, the topic kind is fixed.",
            )

    def _grant_user_management(self) -> None:
        self._identity.user_pool.grant(self.function.role, *COGNITO_ADMIN_ACTIONS)

    def _build_api(self) -> apigwv2.HttpApi:
        return apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=self._config.name("api"),
            description="Pulse REST API for the portal (Cognito JWT)",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[self._identity.portal_origin],
                allow_methods=[apigwv2.CorsHttpMethod(m) for m in CORS_METHODS],
                allow_headers=list(CORS_ALLOW_HEADERS),
                expose_headers=list(CORS_EXPOSE_HEADERS),
                allow_credentials=True,
                max_age=Duration.hours(1),
            ),
        )

    def _build_access_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{self._config.name('api')}",
            retention=self._config.log_retention,
            removal_policy=self._config.removal_policy,
        )

    def _build_stage(self) -> apigwv2.HttpStage:
        return apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE_RATE_PER_SECOND, burst_limit=THROTTLE_BURST),
            access_log_settings=_AccessLogSettings(self.access_log_group),
        )

    def _build_routes(self) -> dict[str, apigwv2.HttpRoute]:
        integration = integrations.HttpLambdaIntegration("ApiFunction", self.function.function)
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer",
            self._identity.user_pool,
            user_pool_clients=[self._identity.portal_client],
            authorizer_name="cognito",
        )
        (proxy,) = self.api.add_routes(
            path=PROXY_ROUTE, methods=[apigwv2.HttpMethod.ANY], integration=integration, authorizer=authorizer
        )
        (claim,) = self.api.add_routes(path=CLAIM_ROUTE, methods=[apigwv2.HttpMethod.POST], integration=integration)
        acknowledge(
            claim.node.default_child,
            "AwsSolutions-APIG4",
            "A device claiming its credentials in the field has no Cognito user: the one-time "
            "activation code in the body is the credential, checked hashed, unexpired and unused by "
            "the app before anything is issued; every other /api/v1 route has the JWT authorizer.",
        )
        (ical,) = self.api.add_routes(path=ICAL_ROUTE, methods=[apigwv2.HttpMethod.GET], integration=integration)
        acknowledge(
            ical.node.default_child,
            "AwsSolutions-APIG4",
            "Calendar clients subscribing to an on-call feed cannot send a bearer token: the 192-bit "
            "secret in the path, stored hashed and rotatable, is the credential; the feed is read only.",
        )
        return {"proxy": proxy, "claim": claim, "ical": ical}

    def _build_subscriptions(self, stream: StreamConstruct) -> PulseFunction:
        function = PulseFunction(
            self,
            "Subscriptions",
            name="subscriptions",
            defaults=self._defaults,
            description="Subscription lifecycle by date and retirement of rotated certificates",
            timeout=Duration.minutes(5),
            environment={
                **stream.database_environment("pulse_operator"),
                "PULSE_DEVICE_POLICY_NAME": self._device_policy_name,
            },
        )
        stream.grant_database_read(function)
        function.role.add_to_policy(
            iam.PolicyStatement(actions=["iot:UpdateCertificate"], resources=[self._arn("cert", "*")])
        )
        acknowledge_wildcard(
            default_policy(function.role),
            "Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:cert/*",
            "Certificates to retire are the ones whose rotation grace ended, known only at run "
            "time; the statement allows only iot:UpdateCertificate (set INACTIVE).",
        )
        return function

    def _build_alarm(self) -> cloudwatch.Alarm:
        alarm = self.api.metric_server_error(period=Duration.minutes(5), statistic="Sum").create_alarm(
            self,
            "ServerErrorsAlarm",
            alarm_name=self._config.name("api-5xx"),
            alarm_description=(
                f"The Pulse API answered 5xx at least {SERVER_ERRORS_THRESHOLD} times in 5 minutes "
                "(database unavailable, IoT/Cognito failures, crashes). Look up the request ids in the logs."
            ),
            threshold=SERVER_ERRORS_THRESHOLD,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return self._defaults.ops.add_alarm(alarm)

    def _build_dashboard_widgets(self) -> None:
        minute = Duration.minutes(1)
        self._defaults.ops.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[self.api.metric_count(period=minute, statistic="Sum")],
                right=[
                    self.api.metric_client_error(period=minute, statistic="Sum"),
                    self.api.metric_server_error(period=minute, statistic="Sum"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[self.api.metric_latency(period=minute, statistic=s) for s in ("p50", "p99")],
                right=[self.api.metric_integration_latency(period=minute, statistic="p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API function",
                left=[self.function.function.metric_errors(period=minute)],
                right=[self.function.function.metric_duration(period=minute, statistic="p99")],
                width=8,
            ),
        )
