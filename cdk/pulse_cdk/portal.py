"""Experience plane (portal half): the React SPA in a private S3 bucket behind CloudFront, with the
HTTP API on the same origin under ``/api/*`` and the runtime ``config.json`` written at deploy."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from pulse.local.portal import (
    API_PATH_PREFIX,
    IMMUTABLE,
    NO_CACHE,
    content_security_policy,
    runtime_config,
)
from pulse_cdk.api import ApiConstruct
from pulse_cdk.config import StageConfig
from pulse_cdk.identity import IdentityConstruct
from pulse_cdk.nag import acknowledge, acknowledge_wildcard, default_policy

# Runs on every viewer request of the default (S3) behavior; pulse.local.portal.spa_path is the same rule.
SPA_REWRITE_CODE = f"""function handler(event) {{
  var request = event.request;
  var uri = request.uri;
  if (uri === '/api' || uri.indexOf('{API_PATH_PREFIX}') === 0) {{
    return request;
  }}
  if (uri.substring(uri.lastIndexOf('/') + 1).indexOf('.') === -1) {{
    request.uri = '/index.html';
  }}
  return request;
}}
"""
API_PATH_PATTERN = f"{API_PATH_PREFIX}*"
# Revalidated by browsers; at the edge CACHING_OPTIMIZED keeps a no-cache object for its 1 s minimum TTL,
# so a deploy needs no invalidation (and the deployment role no cloudfront:* on '*').
ENTRY_FILES = ("index.html", "config.json")
HSTS_MAX_AGE = Duration.days(730)
# What BucketDeployment grants its role (grant_read on the asset bucket, grant_read_write on the portal bucket).
_DEPLOY_WILDCARDS = {
    **{
        f"Action::{action}": "BucketDeployment's own grant_read/grant_read_write action groups, limited to the "
        "CDK asset bucket (read) and the portal bucket (sync); nothing else is reachable."
        for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")
    },
    "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*": (
        "The build and config.json are read from CDK's bootstrap asset bucket under content-hashed keys "
        "known only after the synth; the grant is read only."
    ),
}
_BUCKET_WILDCARD_REASON = (
    "The deployment syncs the whole portal bucket (every key of the build), which holds nothing but the portal's files."
)
_LOG_DAYS = {"local": 7, "dev": 30, "stage": 90, "prod": 365}


class PortalConstruct(Construct):
    """Private bucket (SSE-S3, TLS only, access logged) read by CloudFront through Origin Access
    Control; ``/api/*`` goes uncached to the HTTP API with every viewer header but ``Host``.

    Client-side routes (a path without a file extension) are rewritten to ``/index.html`` by a
    CloudFront Function, not by 403/404 error responses, which would turn API errors into the
    SPA's HTML. Every response carries HSTS, a CSP that allows the Cognito domain, ``DENY``
    framing, ``nosniff`` and a strict referrer policy.

    ``config.json`` is written at deploy by a BucketDeployment from stack tokens (pool, client,
    Cognito domain, distribution domain), beside the build in ``dist`` (``frontend/dist``). When the
    build is missing the synth still works: only ``config.json`` is deployed and a warning says so.
    The local stage deploys no content at all (the emulator cannot run a BucketDeployment): the
    launcher uploads the same files to ``bucket`` with boto3 (``pulse.local.portal.upload_portal``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        identity: IdentityConstruct,
        api: ApiConstruct,
        dist: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._identity = identity
        self._api = api
        self.log_bucket = self._build_log_bucket()
        self.bucket = self._build_bucket()
        self.spa_rewrite = self._build_spa_rewrite()
        self.headers_policy = self._build_headers_policy()
        self.distribution = self._build_distribution()
        identity.allow_portal_origin(self.origin)
        self.deployments = [] if config.stage == "local" else self._build_deployments(dist)

    @property
    def origin(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def _build_log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logs are delivered with an ACL: the owner must accept object ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(_LOG_DAYS[self._config.stage]))],
            # Logs outlive a destroyed stack until they expire; a non-empty bucket could not be deleted anyway.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket.node.default_child,
            "AwsSolutions-S1",
            "This bucket receives the portal bucket's server access logs and CloudFront's standard "
            "logs; logging its own access would log the log deliveries themselves.",
        )
        return bucket

    def _build_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/portal/",
            # Everything in it is rebuilt from the repository on the next deploy.
            removal_policy=self._config.removal_policy,
        )

    def _build_spa_rewrite(self) -> cloudfront.Function:
        return cloudfront.Function(
            self,
            "SpaRewrite",
            function_name=self._config.name("portal-spa-rewrite"),
            comment="Client-side routes (no file extension, not /api/) are served /index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

    def _build_headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=self._config.name("portal-security-headers"),
            comment="HSTS, CSP (self + the Cognito domain), no framing, nosniff, strict referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(self._identity.hosted_ui_url), override=True
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
            ),
        )

    def _api_origin(self) -> origins.HttpOrigin:
        stack = Stack.of(self)
        return origins.HttpOrigin(
            f"{self._api.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(30),  # the HTTP API's own integration limit
        )

    def _build_distribution(self) -> cloudfront.Distribution:
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Pulse portal ({self._config.stage})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=self._api_origin(),
                    # A redirect would drop a POST's body: plain http is refused instead.
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    # With caching disabled this forwards Authorization too; Host would break API routing.
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=self.headers_policy,
                )
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        resource = distribution.node.default_child
        acknowledge(
            resource,
            "AwsSolutions-CFR1",
            "Customers operate devices worldwide and sign in from wherever they are on call; the API "
            "authorizes every request, so a country block would add no protection worth the outages.",
        )
        acknowledge(
            resource,
            "AwsSolutions-CFR2",
            "No WAF web ACL yet: the distribution serves static files and forwards /api to the HTTP API, "
            "which has stage throttling, a JWT authorizer and per-tenant limits; a managed rule set is "
            "added when a stage gets a custom domain.",
        )
        acknowledge(
            resource,
            "AwsSolutions-CFR4",
            "Without a custom domain the distribution uses the default *.cloudfront.net certificate, "
            "whose security policy CloudFront fixes; set TLSv1.2_2021 together with a certificate.",
        )
        return distribution

    def _runtime_config(self) -> dict[str, object]:
        return runtime_config(
            stage=self._config.stage,
            region=Stack.of(self).region,
            user_pool_id=self._identity.user_pool.user_pool_id,
            client_id=self._identity.portal_client.user_pool_client_id,
            issuer=self._identity.issuer,
            hosted_ui=self._identity.hosted_ui_url,
            portal_origin=self.origin,
        )

    def _build_deployments(self, dist: Path) -> list[s3deploy.BucketDeployment]:
        """The hashed build first (immutable, never pruned: an open tab still loads the assets of the
        index.html it has), then index.html and config.json (no-cache, invalidated at the edge).
        Both read the one upload of ``dist`` and filter it."""
        self._build_deploy_role()
        config = s3deploy.Source.json_data("config.json", self._runtime_config())
        if not (dist / "index.html").is_file():
            Annotations.of(self).add_info(
                f"{dist}/index.html is missing: only config.json is deployed. Build the portal first "
                "(`make frontend/dist/index.html`; `make deploy` does it).",
            )
            entry = self._deploy_entry([config])
            self._acknowledge_deploy_function()
            return [entry]
        build = s3deploy.Source.asset(str(dist))
        assets = s3deploy.BucketDeployment(
            self,
            "DeployAssets",
            destination_bucket=self.bucket,
            sources=[build],
            exclude=list(ENTRY_FILES),
            cache_control=[s3deploy.CacheControl.from_string(IMMUTABLE)],
            prune=False,
            role=self._deploy_role,
            log_group=self._deploy_logs,
        )
        entry = self._deploy_entry([build, config])
        entry.node.add_dependency(assets)  # index.html never names an asset not uploaded yet
        self._acknowledge_deploy_function()
        return [assets, entry]

    def _deploy_entry(self, sources: list[s3deploy.ISource]) -> s3deploy.BucketDeployment:
        return s3deploy.BucketDeployment(
            self,
            "DeployEntry",
            destination_bucket=self.bucket,
            sources=sources,
            exclude=["*"],
            include=list(ENTRY_FILES),
            cache_control=[s3deploy.CacheControl.from_string(NO_CACHE)],
            prune=False,
            role=self._deploy_role,
            log_group=self._deploy_logs,
        )

    def _build_deploy_role(self) -> None:
        """The role of CDK's BucketDeployment function, with its log group granted instead of the
        AWSLambdaBasicExecutionRole managed policy (which may write to any log group)."""
        self._deploy_role = iam.Role(
            self,
            "DeployRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the portal build and config.json into the portal bucket at deploy",
        )
        self._deploy_logs = logs.LogGroup(
            self,
            "DeployLogs",
            retention=self._config.log_retention,
            removal_policy=self._config.removal_policy,
        )
        self._deploy_logs.grant_write(self._deploy_role)

    def _acknowledge_deploy_function(self) -> None:
        """Findings on CDK's BucketDeployment provider (one singleton function per stack)."""
        stack = Stack.of(self)
        [function] = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        acknowledge(
            function.node.default_child,
            "AwsSolutions-L1",
            "The BucketDeployment provider's runtime is chosen by aws-cdk-lib together with its AWS CLI "
            "layer; it moves with the pinned aws-cdk-lib version, in one reviewed change.",
        )
        policy = default_policy(self._deploy_role)
        for finding, reason in _DEPLOY_WILDCARDS.items():
            acknowledge_wildcard(policy, finding, reason)
        bucket = stack.resolve(stack.get_logical_id(self.bucket.node.default_child))  # type: ignore[arg-type]
        acknowledge_wildcard(policy, f"Resource::<{bucket}.Arn>/*", _BUCKET_WILDCARD_REASON)
