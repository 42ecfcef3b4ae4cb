"""Where ministack differs from AWS in ways that matter to Pulse, and what the launcher does about each.

Every entry was measured on one ministack version (``MEASURED_ON``); ``apply_fixes`` refuses to run
against another one, so an upgrade of the pin forces someone to re-check each gap rather than keep
a fix that may now be wrong. The README's "Local platform" section lists the same entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulse.local.emulator import EmulatorError, boto_client

MEASURED_ON = "1.5.33"


@dataclass(frozen=True)
class Gap:
    key: str
    what: str
    handling: str
    fix: Callable[[str, dict[str, Any]], None] | None = None  # (endpoint, template) -> None


def _restore_cors(endpoint: str, template: dict[str, Any]) -> None:
    """CORS from the template is ignored on first deploy: put it again with ``update_api``."""
    apis = {
        r["Properties"].get("Name"): r["Properties"]["CorsConfiguration"]
        for r in template.get("Resources", {}).values()
        if r.get("Type") == "AWS::ApiGatewayV2::Api" and "CorsConfiguration" in r.get("Properties", {})
    }
    if not apis:
        return
    client = boto_client("apigatewayv2", endpoint)
    for api in client.get_apis().get("Items", []):
        if api.get("Name") in apis:
            client.update_api(ApiId=api["ApiId"], CorsConfiguration=apis[api["Name"]])


def _function_names(template: dict[str, Any]) -> list[str]:
    return [
        name
        for name in (
            r["Properties"].get("FunctionName")
            for r in template.get("Resources", {}).values()
            if r.get("Type") == "AWS::Lambda::Function"
        )
        if isinstance(name, str)
    ]


def _update_environment(
    endpoint: str, template: dict[str, Any], extra: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    """Adds ``extra(variables)`` to each function's environment where it changes something."""
    client = boto_client("lambda", endpoint)
    for name in _function_names(template):
        variables = client.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        wanted = extra(variables)
        if any(variables.get(key) != value for key, value in wanted.items()):
            client.update_function_configuration(FunctionName=name, Environment={"Variables": {**variables, **wanted}})


def _local_jwks(endpoint: str, template: dict[str, Any]) -> None:
    """Point the API Lambda's token check at the emulator's JWKS for the stack's user pool."""

    def jwks(variables: dict[str, str]) -> dict[str, str]:
        issuer = variables.get("PULSE_AUTH_ISSUER", "")
        if not issuer:
            return {}
        pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
        return {"PULSE_AUTH_JWKS_URL": f"{endpoint}/{pool_id}/.well-known/jwks.json"}

    _update_environment(endpoint, template, jwks)


def _local_iot_data(endpoint: str, template: dict[str, Any]) -> None:
    """Publish to devices through the emulator's own address (Lambdas run on this machine)."""
    _update_environment(
        endpoint,
        template,
        lambda variables: {"PULSE_IOT_DATA_URL": endpoint} if any(k.startswith("PULSE_") for k in variables) else {},
    )


GAPS: tuple[Gap, ...] = (
    Gap(
        "lambda-interpreter",
        "Lambdas run on the emulator's own interpreter and can import its packages",
        "ministack runs from its own virtualenv (.pulse/ministack/venv) on the host layer's Python version",
    ),
    Gap(
        "gateway-port",
        "the Lambda endpoint and JWKS fetch assume port 4566",
        "GATEWAY_PORT is always set to the port actually used",
    ),
    Gap(
        "tmpdir", "Lambda worker folders under TMPDIR are never removed", "TMPDIR is .pulse/tmp, emptied on every start"
    ),
    Gap(
        "http-api-url",
        "the DeviceHttpApiUrl output names the AWS host (<api>.execute-api.<region>.amazonaws.com)",
        "the launcher prints the emulator address http://127.0.0.1:<port>/_aws/execute-api/<api>/$default/",
    ),
    Gap(
        "cors",
        "CORS settings of an HTTP API are ignored on first deploy (preflight 403)",
        "after each deploy the template's CorsConfiguration is put again with apigatewayv2.update_api",
        _restore_cors,
    ),
    Gap(
        "cognito-jwks",
        "tokens name the AWS issuer (https://cognito-idp.<region>.amazonaws.com/<pool>) but the keys are served "
        "by the emulator at /<pool>/.well-known/jwks.json",
        "after each deploy PULSE_AUTH_JWKS_URL of every function with PULSE_AUTH_ISSUER is set to the emulator's "
        "JWKS (the verifier accepts plain http only on loopback)",
        _local_jwks,
    ),
    Gap(
        "iot-data-endpoint",
        "iot:DescribeEndpoint (iot:Data-ATS) answers <id>-ats.iot.<region>.localhost:<port>, a name that does "
        "not resolve, on a port that speaks plain HTTP, so iot-data publishes from Lambdas (twin replies, "
        "portal deltas, commands) never reach a device",
        "after each deploy PULSE_IOT_DATA_URL of every Pulse function is set to the emulator's address, which "
        "serves iot-data publish and delivers to subscribed devices",
        _local_iot_data,
    ),
    Gap(
        "secret-ref",
        "a secret's Ref gives its name, not its ARN",
        "harmless with AUTH=false (the local default); DatabaseSecretArn is used as a SecretId either way",
    ),
    Gap(
        "policy-enforcement",
        "IoT policies are evaluated only with AUTH=true (which also turns on IAM checks)",
        "AUTH=false locally; the ingest Lambda's topic-vs-client check quarantines another device's topic "
        "as topic_mismatch (the e2e suite asserts it)",
    ),
    Gap(
        "sqs-batch",
        "SQS batches are capped at 10 and MaximumBatchingWindowInSeconds is ignored",
        "nothing to fix; no test asserts batch sizes end to end",
    ),
    Gap(
        "handler-error-name",
        "every Python exception reaches Step Functions as Runtime.HandlerError",
        "nothing to fix: the delivery workflow never needs the name. Permanent failures are returned to a "
        "Choice state; only retryable ones are raised, and Retry matches Runtime.HandlerError beside "
        "DeliveryRetryable (pulse.notify.retry). Retry waits are capped at 60 s locally (MaxDelaySeconds, "
        "JitterStrategy ignored); SFN_WAIT_SCALE=0.1 in the environment of make dev shortens them tenfold, "
        "grouping Waits alike (not set by default, so local timing stays AWS's up to the cap)",
    ),
    Gap(
        "bucket-deployment",
        "BucketDeployment needs the AWS CLI inside a Lambda",
        "the local stage synthesizes no BucketDeployment; on every start the launcher puts frontend/dist and the "
        "generated config.json into the PortalBucketName bucket with boto3 (pulse.local.portal.upload_portal), "
        "with the Cache-Control the deployment sets on AWS",
    ),
    Gap(
        "portal-distribution",
        "the emulator's CloudFront runs the SPA rewrite function and the headers policy (Host: <distribution "
        "domain>, X-Forwarded-Proto: https) but cannot serve the portal: its in-process fetch from the bucket "
        "counts as plain http, so the bucket's aws:SecureTransport deny answers 403 (on AWS CloudFront reads S3 "
        "over https), and /api/* answers 502 because it refuses origins on AWS-owned hosts such as "
        "<api>.execute-api.<region>.amazonaws.com",
        "the launcher serves the portal on http://localhost:8080 itself: frontend/dist with the same rewrite rule "
        "(pulse.local.portal.spa_path), config.json, the same CSP and framing/nosniff/referrer headers (HSTS "
        "omitted on http), and /api/* proxied to the emulator's HTTP API, so the SPA is same-origin as on AWS",
    ),
    Gap(
        "hosted-ui-domain",
        "the HostedUiDomain output names the AWS domain (<prefix>.auth.<region>.amazoncognito.com), which does not "
        "resolve; the emulator serves the hosted UI (/oauth2/authorize, /login, /oauth2/token, /oauth2/userInfo, "
        "/logout) on its gateway root and sends Access-Control-Allow-Origin: * from the token endpoint",
        "the local config.json names the emulator's address in authorizationEndpoint, tokenEndpoint, "
        "userinfoEndpoint and logoutEndpoint (authority stays the AWS issuer the tokens carry); the SPA code path "
        "is the same, and the local CSP allows that address in connect-src",
    ),
    Gap(
        "hosted-ui-page",
        "the emulator's sign-in page is its own, not Cognito's managed login: one form posting to /login with "
        "fields username and password and a 'Sign in' button (heading 'Sign in'; a wrong password re-renders it "
        "with 'Incorrect username or password.'); an invited user in FORCE_CHANGE_PASSWORD gets a second form "
        "with new_password, confirm_password and 'Update password'",
        "nothing to fix in the platform; browser tests fill the local page by these names (README, Portal)",
    ),
)


def http_api_local_url(endpoint: str, aws_url: str) -> str:
    """``https://<api>.execute-api.<region>.amazonaws.com/`` -> the emulator's path-style address."""
    host = aws_url.split("://", 1)[-1].split("/", 1)[0]
    api_id = host.split(".", 1)[0]
    return f"{endpoint}/_aws/execute-api/{api_id}/$default/"


def apply_fixes(version: str, endpoint: str, template_path: Path | None) -> list[str]:
    """Run every fix after a deploy; returns the keys applied. Another version is an error."""
    if version != MEASURED_ON:
        raise EmulatorError(
            f"the local gap fixes were measured on ministack {MEASURED_ON}, not {version}: "
            "re-check each entry of pulse.local.gaps.GAPS before changing the pin"
        )
    if template_path is None or not template_path.is_file():
        return []
    template = json.loads(template_path.read_text())
    applied = []
    for gap in GAPS:
        if gap.fix is not None:
            gap.fix(endpoint, template)
            applied.append(gap.key)
    return applied
