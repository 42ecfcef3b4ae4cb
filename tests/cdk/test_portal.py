"""Portal: private bucket behind CloudFront (OAC), /api/* to the HTTP API uncached, the SPA rewrite
function, security headers, config.json at deploy, and the Cognito callbacks of the distribution."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from pulse.local.portal import content_security_policy, spa_path
from pulse_cdk.api import ApiConstruct
from pulse_cdk.config import StageConfig
from pulse_cdk.function import FunctionDefaults
from pulse_cdk.identity import IdentityConstruct
from pulse_cdk.portal import SPA_REWRITE_CODE, PortalConstruct
from pulse_cdk.stream import StreamConstruct
from tests.cdk.conftest import NODE_BINS, Synthesized, nag_violations, synth_construct

pytestmark = pytest.mark.cdk

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed policy ids
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SPA_CASES = {
    "/": "/index.html",
    "/devices": "/index.html",
    "/devices/sim-01": "/index.html",
    "/auth/callback": "/index.html",
    "/assets/index-3f9a.js": "/assets/index-3f9a.js",
    "/favicon.ico": "/favicon.ico",
    "/config.json": "/config.json",
    "/index.html": "/index.html",
    "/api/v1/devices": "/api/v1/devices",
    "/api/v1/missing": "/api/v1/missing",
    "/api": "/api",
    "/apidocs": "/index.html",
}


def _builder(dist: Path):
    def build(stack: Stack, defaults: FunctionDefaults, stream: StreamConstruct) -> None:
        config: StageConfig = defaults.config
        identity = IdentityConstruct(stack, "Identity", config=config, portal_origin="http://localhost:8080")
        api = ApiConstruct(
            stack, "Api", defaults=defaults, stream=stream, identity=identity, device_policy_name="pulse-device"
        )
        PortalConstruct(stack, "Portal", config=config, identity=identity, api=api, dist=dist)

    return build


@pytest.fixture(scope="module")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_text('<!doctype html><script type="module" src="/assets/index-3f9a.js"></script>')
    (dist / "assets" / "index-3f9a.js").write_text("console.log('pulse')")
    return dist


@pytest.fixture(scope="module")
def portal_stack(tmp_path_factory: pytest.TempPathFactory, built_dist: Path) -> tuple[Template, dict[str, Any]]:
    return synth_construct(tmp_path_factory, "Portal", _builder(built_dist))


@pytest.fixture(scope="module")
def template(portal_stack) -> dict[str, Any]:
    return portal_stack[0].to_json()


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def _one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = _resources(template, resource_type).items()
    return logical_id, resource["Properties"]


def _distribution(template: dict[str, Any]) -> dict[str, Any]:
    return _one(template, "AWS::CloudFront::Distribution")[1]["DistributionConfig"]


def _portal_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(logical_id, bucket)] = [
        (k, r["Properties"]) for k, r in _resources(template, "AWS::S3::Bucket").items() if k.startswith("PortalBucket")
    ]
    return logical_id, bucket


_text = Synthesized.render  # Fn::Join flattened, Ref as ${Name}, Fn::GetAtt as ${Name.Attr}


def _logical_id(template: dict[str, Any], prefix: str) -> str:
    [logical_id] = [k for k in template["Resources"] if re.fullmatch(rf"{prefix}[0-9A-F]{{8}}", k)]
    return logical_id


def test_the_bucket_is_private_encrypted_tls_only_and_access_logged(template):
    logical_id, bucket = _portal_bucket(template)

    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "s3/portal/"
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    assert not any(s["Effect"] == "Allow" and s["Principal"] == {"AWS": "*"} for s in policy)


def test_cloudfront_reads_the_bucket_through_origin_access_control(template):
    _, oac = _one(template, "AWS::CloudFront::OriginAccessControl")
    distribution = _distribution(template)
    [s3_origin] = [o for o in distribution["Origins"] if "S3OriginConfig" in o]
    bucket_id, _ = _portal_bucket(template)
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    [cloudfront_read] = [s for s in policy if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]

    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert "Fn::GetAtt" in s3_origin["OriginAccessControlId"]
    assert s3_origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert cloudfront_read["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in json.dumps(cloudfront_read["Condition"])


def test_api_behavior_is_uncached_and_forwards_every_viewer_header_but_host(template):
    distribution = _distribution(template)
    [api] = distribution["CacheBehaviors"]
    [origin] = [o for o in distribution["Origins"] if o["Id"] == api["TargetOriginId"]]

    assert api["PathPattern"] == "/api/*"
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    assert ".execute-api." in _text(origin["DomainName"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert "FunctionAssociations" not in api


def test_spa_routes_are_rewritten_by_a_viewer_request_function_not_by_error_responses(template):
    distribution = _distribution(template)
    function_id, function = _one(template, "AWS::CloudFront::Function")
    [association] = distribution["DefaultCacheBehavior"]["FunctionAssociations"]

    assert "CustomErrorResponses" not in distribution  # a 403/404 rewrite would hide the API's errors
    assert association == {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]}}
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["FunctionCode"] == SPA_REWRITE_CODE
    assert distribution["DefaultRootObject"] == "index.html"


def test_the_rewrite_function_and_the_local_server_route_alike():
    node = next((str(b / "node") for b in NODE_BINS if (b / "node").exists()), shutil.which("node"))
    assert node, "Node is needed to run the CloudFront Function"
    script = SPA_REWRITE_CODE + (
        "const uris = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(uris.map((uri) => handler({request: {uri: uri}}).uri)));\n"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(list(SPA_CASES))], capture_output=True, text=True, check=True, timeout=30
    )

    rewritten = dict(zip(SPA_CASES, json.loads(result.stdout.strip().splitlines()[-1]), strict=True))
    assert rewritten == SPA_CASES
    assert {uri: spa_path(uri) for uri in SPA_CASES} == SPA_CASES


def test_every_response_carries_the_security_headers(template):
    policy_id, policy = _one(template, "AWS::CloudFront::ResponseHeadersPolicy")
    distribution = _distribution(template)
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = _text(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])

    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}
    assert "default-src 'self'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    # the token, userInfo and refresh calls go to the Cognito domain
    domain = _logical_id(template, "IdentityUserPoolHostedUi")
    assert f"connect-src 'self' https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com;" in csp
    for behavior in (distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]):
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_the_csp_names_exactly_one_cognito_origin_for_connections():
    csp = content_security_policy("https://auth.example.com")

    assert "connect-src 'self' https://auth.example.com;" in csp
    assert "unsafe-eval" not in csp and "script-src 'self';" in csp


def test_the_portal_client_accepts_the_distribution_domain_and_the_configured_origin(template):
    _, client = _one(template, "AWS::Cognito::UserPoolClient")
    distribution_id, _ = _one(template, "AWS::CloudFront::Distribution")
    domain = "${" + distribution_id + ".DomainName}"

    assert [_text(url) for url in client["CallbackURLs"]] == [
        "http://localhost:8080/auth/callback",
        f"https://{domain}/auth/callback",
    ]
    assert [_text(url) for url in client["LogoutURLs"]] == ["http://localhost:8080/", f"https://{domain}/"]


def _deployments(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in _resources(template, "Custom::CDKBucketDeployment").items()}


def test_the_build_is_immutable_and_index_and_config_json_revalidate(template):
    deployments = _deployments(template)
    [assets] = [d for k, d in deployments.items() if "DeployAssets" in k]
    [entry] = [d for k, d in deployments.items() if "DeployEntry" in k]

    assert assets["SystemMetadata"]["cache-control"] == "public, max-age=31536000, immutable"
    assert assets["Exclude"] == ["index.html", "config.json"]
    assert entry["SystemMetadata"]["cache-control"] == "no-cache"
    assert (entry["Exclude"], entry["Include"]) == (["*"], ["index.html", "config.json"])
    assert "DistributionPaths" not in entry  # no-cache objects live 1 s at the edge: nothing to invalidate
    assert assets["Prune"] is False and entry["Prune"] is False


def test_config_json_is_written_at_deploy_from_the_stack_tokens(template):
    [entry] = [d for k, d in _deployments(template).items() if "DeployEntry" in k]
    values = {_text(value) for markers in entry["SourceMarkers"] for value in markers.values()}
    client = _logical_id(template, "IdentityUserPoolPortalClient")
    pool = _logical_id(template, "IdentityUserPool")
    domain = _logical_id(template, "IdentityUserPoolHostedUi")
    hosted_ui = f"https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    portal = f"https://${{{_logical_id(template, 'PortalDistribution')}.DomainName}}"

    assert {
        f'"${{{client}}}"',
        f'"${{{pool}}}"',
        f'"https://cognito-idp.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{pool}}}"',
        f'"{hosted_ui}/oauth2/authorize"',
        f'"{hosted_ui}/oauth2/token"',
        f'"{hosted_ui}/oauth2/userInfo"',
        f'"{hosted_ui}/logout"',
        f'"{portal}/auth/callback"',
        f'"{portal}/"',
    } <= values


def test_no_unacknowledged_nag_findings(portal_stack):
    assert nag_violations(portal_stack[1]) == []


def test_without_a_build_only_config_json_is_deployed(tmp_path_factory, tmp_path):
    template, _ = synth_construct(tmp_path_factory, "PortalNoBuild", _builder(tmp_path / "dist"))

    [entry] = _deployments(template.to_json()).values()
    assert len(entry["SourceBucketNames"]) == 1  # the generated config.json only
    assert entry["Include"] == ["index.html", "config.json"]


def test_the_local_stage_deploys_no_content_the_launcher_uploads_it(tmp_path_factory, built_dist):
    template, report = synth_construct(
        tmp_path_factory, "PortalLocal", _builder(built_dist), context={"stage": "local"}
    )

    assert _deployments(template.to_json()) == {}
    template.resource_count_is("AWS::CloudFront::Distribution", 1)
    assert nag_violations(report) == []
