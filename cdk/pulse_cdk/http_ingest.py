"""HTTPS ingest for devices that cannot hold an MQTT connection."""

from __future__ import annotations

import json

import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from pulse_cdk.function import FunctionDefaults, PulseFunction
from pulse_cdk.nag import acknowledge

TELEMETRY_ROUTE = "/ingest/v1/tenants/{tenant_id}/devices/{device_id}/telemetry"
# Stage-wide ceiling that protects the function and the database from a misbehaving fleet;
# per-device limits are enforced in the handler (quarantine reason RATE_LIMITED).
THROTTLE_RATE_PER_SECOND = 500
THROTTLE_BURST = 1000
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is an interface in CDK, so Python supplies the implementation."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigateway.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format


class HttpIngestConstruct(Construct):
    """``POST /ingest/v1/tenants/{tenant_id}/devices/{device_id}/telemetry`` on an HTTP API.

    There is no JWT authorizer: devices are not Cognito users. They send
    ``Authorization: Bearer <device token>``; ``http_ingest`` checks the token against the
    registry and runs the same ingest pipeline as the MQTT path in-process (validation,
    quarantine, dedup, write), answering per message. It therefore needs exactly what ``ingest``
    needs: the database secret and the ``pulse_ingest`` role, nothing on the queues.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: FunctionDefaults,
        database_secret: secretsmanager.ISecret,
        database_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self.function = self._build_function(database_secret, database_environment)
        self.api = self._build_api()
        self.access_log_group = self._build_access_log_group()
        self.stage = self._build_stage()
        self.route = self._build_route()

    @property
    def url(self) -> str:
        return self.stage.url

    def _build_function(
        self,
        database_secret: secretsmanager.ISecret,
        database_environment: dict[str, str],
    ) -> PulseFunction:
        function = PulseFunction(
            self,
            "HttpIngest",
            name="http_ingest",
            defaults=self._defaults,
            description="HTTPS telemetry from gateways, authenticated by device token",
            environment=database_environment,
        )
        database_secret.grant_read(function.function)
        return function

    def _build_api(self) -> apigwv2.HttpApi:
        # The default stage is built below: HttpApi cannot set throttling or access logs on it.
        return apigwv2.HttpApi(
            self,
            "Api",
            api_name=self._defaults.config.name("device-http"),
            description="Device HTTPS ingest (bearer device token, checked in the function)",
            create_default_stage=False,
        )

    def _build_access_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{self._defaults.config.name('device-http')}",
            retention=self._defaults.config.log_retention,
            removal_policy=self._defaults.config.removal_policy,
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

    def _build_route(self) -> apigwv2.HttpRoute:
        (route,) = self.api.add_routes(
            path=TELEMETRY_ROUTE,
            methods=[apigwv2.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("Telemetry", self.function.function),
        )
        acknowledge(
            route.node.default_child,
            "AwsSolutions-APIG4",
            "Devices are not Cognito principals: each request carries a bearer device token "
            "that http_ingest verifies (hashed token, device status, tenant) before anything is "
            "accepted; a request without a valid token gets 401 and nothing is stored.",
        )
        return route
