"""Identity: the Cognito user pool portal users sign in to, its groups and the portal's app client."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct, Node

from pulse_cdk.config import StageConfig
from pulse_cdk.nag import acknowledge

PORTAL_ORIGIN_CONTEXT_KEY = "pulse:portal_origin"
DEFAULT_PORTAL_ORIGIN = "http://localhost:8080"
TENANT_ATTRIBUTE = "tenant_id"  # custom:tenant_id in tokens
# Cognito group -> precedence (lower wins when a token carries several); pulse.identity.models.Role.
GROUPS = {
    "operator_admin": (0, "Pulse operators who may also change plans and create tenants"),
    "operator": (1, "Pulse operators: cross-tenant access, every request audited"),
    "customer_admin": (2, "Tenant administrators: change devices, sites, rules and users"),
    "customer_viewer": (3, "Tenant viewers: read only"),
}
CALLBACK_PATH = "/auth/callback"
# Short-lived ID/access tokens: the API verifies them locally, so a role change or a disabled
# user takes effect at the next refresh, at most this long after the change.
TOKEN_VALIDITY = Duration.minutes(30)
REFRESH_TOKEN_VALIDITY = Duration.days(7)


def portal_origin(node: Node) -> str:
    """``-c pulse:portal_origin=https://portal.example.com`` (no trailing slash)."""
    origin = str(node.try_get_context(PORTAL_ORIGIN_CONTEXT_KEY) or DEFAULT_PORTAL_ORIGIN).rstrip("/")
    if not origin.startswith(("https://", "http://localhost", "http://127.0.0.1")):
        raise ValueError(f"context {PORTAL_ORIGIN_CONTEXT_KEY}={origin!r}: https, or http only for localhost")
    return origin


class IdentityConstruct(Construct):
    """User pool (no self sign-up, email sign-in, TOTP MFA optional), groups, hosted UI, portal client.

    Users are invited by a tenant administrator (``POST /api/v1/users``) or an operator; the
    immutable ``custom:tenant_id`` attribute ties each customer user to one tenant and is the
    only place the API takes the tenant from. The portal signs in through the hosted UI with
    the authorization code grant and PKCE; its client has no secret (a browser cannot keep one)
    and may not write ``custom:tenant_id``.

    Threat protection (the Plus feature plan, enforced) is on in prod; other stages stay on
    Essentials, where there are no customer users to protect and Plus is billed per user.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, portal_origin: str) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.portal_origin = portal_origin
        self._portal_origins = [portal_origin]
        self.user_pool = self._build_user_pool()
        self.groups = self._build_groups()
        self.domain = self._build_domain()
        self.portal_client = self._build_portal_client()

    @property
    def issuer(self) -> str:
        """``https://cognito-idp.<region>.amazonaws.com/<pool id>``: the ``iss`` of the pool's tokens.

        Built like the HTTP API's authorizer builds it (the pool's ``ProviderURL`` attribute
        carries no scheme), so the gateway and the app check the same issuer.
        """
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.user_pool.user_pool_id}"

    @property
    def hosted_ui_url(self) -> str:
        return self.domain.base_url()

    def allow_portal_origin(self, origin: str) -> None:
        """Accept sign-in callbacks and logout redirects for another origin serving the portal, such as the
        CloudFront domain, known only at deploy time (a token).

        Set on the client's CloudFormation resource after the distribution exists: the client depends
        on the distribution, never the other way round, so the API (whose authorizer trusts the client)
        can sit behind the same distribution without a dependency cycle.
        """
        self._portal_origins.append(origin)
        client = self.portal_client.node.default_child
        assert isinstance(client, cognito.CfnUserPoolClient)
        # an override: the L2 client renders its OAuth settings from its own copy of the props
        client.add_property_override("CallbackURLs", [f"{o}{CALLBACK_PATH}" for o in self._portal_origins])
        client.add_property_override("LogoutURLs", [f"{o}/" for o in self._portal_origins])

    def _build_user_pool(self) -> cognito.UserPool:
        prod = self._config.is_prod
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=self._config.name("users"),
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
            ),
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your Pulse account",
                email_body=(
                    "You were invited to Pulse. Sign in with {username} and the temporary password "
                    "{####}; you will choose your own password at the first sign-in."
                ),
            ),
            feature_plan=cognito.FeaturePlan.PLUS if prod else None,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION if prod else None,
            deletion_protection=prod,
            # Users cannot be recreated from the template: keep the pool outside throwaway stages.
            removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
        )
        acknowledge(
            pool.node.default_child,
            "AwsSolutions-COG2",
            "MFA is optional by product decision (ARCHITECTURE §6): every user may enrol TOTP (SMS "
            "is off); tenants that require MFA enforce it through their own IdP policy later.",
        )
        if not prod:
            acknowledge(
                pool.node.default_child,
                "AwsSolutions-COG8",
                "Only the prod pool is on the Plus plan with enforced threat protection; dev, stage "
                "and local pools hold test users only, and Plus is billed per monthly active user.",
            )
        return pool

    def _build_groups(self) -> dict[str, cognito.UserPoolGroup]:
        return {
            name: self.user_pool.add_group(
                f"Group{''.join(part.title() for part in name.split('_'))}",
                group_name=name,
                description=description,
                precedence=precedence,
            )
            for name, (precedence, description) in GROUPS.items()
        }

    def _build_domain(self) -> cognito.UserPoolDomain:
        # Hosted UI prefixes are unique per region across all AWS accounts: the account id keeps
        # pulse-<stage> from colliding with another account's deployment.
        return self.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"pulse-{self._config.stage}-{Aws.ACCOUNT_ID}"),
        )

    def _build_portal_client(self) -> cognito.UserPoolClient:
        origin = self.portal_origin
        return self.user_pool.add_client(
            "PortalClient",
            user_pool_client_name=self._config.name("portal"),
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{origin}{CALLBACK_PATH}"],
                logout_urls=[f"{origin}/"],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            auth_session_validity=Duration.minutes(5),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                fullname=True, locale=True, timezone=True
            ),
        )
