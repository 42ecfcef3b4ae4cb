"""Identity plane: the Cognito user pool, its groups and tenant attribute, the portal's app client."""

from __future__ import annotations

import pytest
from aws_cdk import App

from pulse_cdk.identity import PORTAL_ORIGIN_CONTEXT_KEY, portal_origin

pytestmark = pytest.mark.cdk


def _one(synthesized, resource_type):
    (resource,) = synthesized.resources(resource_type).values()
    return resource["Properties"]


def test_pool_is_invite_only_with_email_sign_in_and_a_strong_password_policy(synthesized):
    pool = _one(synthesized, "AWS::Cognito::UserPool")

    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }


def test_mfa_is_optional_with_totp_only(synthesized):
    pool = _one(synthesized, "AWS::Cognito::UserPool")

    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_tenant_id_is_an_immutable_custom_attribute(synthesized):
    pool = _one(synthesized, "AWS::Cognito::UserPool")
    (tenant,) = [a for a in pool["Schema"] if a["Name"] == "tenant_id"]

    assert tenant["AttributeDataType"] == "String"
    assert tenant["Mutable"] is False


def test_the_four_role_groups_exist_with_operators_taking_precedence(synthesized):
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]["Precedence"]
        for g in synthesized.resources("AWS::Cognito::UserPoolGroup").values()
    }

    assert groups == {"operator_admin": 0, "operator": 1, "customer_admin": 2, "customer_viewer": 3}


def test_portal_client_uses_the_code_flow_without_a_secret(synthesized):
    client = _one(synthesized, "AWS::Cognito::UserPoolClient")

    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    # the configured portal origin, then the CloudFront distribution's domain (tests/cdk/test_portal.py)
    assert client["CallbackURLs"][0] == "http://localhost:8080/auth/callback"
    assert client["LogoutURLs"][0] == "http://localhost:8080/"
    assert len(client["CallbackURLs"]) == len(client["LogoutURLs"]) == 2


def test_portal_client_cannot_write_the_tenant_and_tokens_are_short_lived(synthesized):
    client = _one(synthesized, "AWS::Cognito::UserPoolClient")

    assert not any("tenant" in attribute for attribute in client["WriteAttributes"])
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (30, 30)
    assert client["TokenValidityUnits"]["IdToken"] == "minutes"
    assert client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_hosted_ui_domain_prefix_names_the_stage_and_account(synthesized):
    domain = _one(synthesized, "AWS::Cognito::UserPoolDomain")

    assert synthesized.render(domain["Domain"]) == "pulse-dev-${AWS::AccountId}"


def test_outputs_name_the_pool_client_and_hosted_ui(synthesized):
    outputs = synthesized.template_json["Outputs"]
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (client_id,) = synthesized.resources("AWS::Cognito::UserPoolClient")

    assert outputs["UserPoolId"]["Value"] == {"Ref": pool_id}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": client_id}
    assert synthesized.render(outputs["HostedUiDomain"]["Value"]).endswith(".amazoncognito.com")


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, "http://localhost:8080"), ("https://portal.example.com/", "https://portal.example.com")],
)
def test_portal_origin_comes_from_context(given, expected):
    app = App(context={PORTAL_ORIGIN_CONTEXT_KEY: given} if given else {})

    assert portal_origin(app.node) == expected


def test_a_plain_http_portal_origin_is_refused_outside_localhost():
    app = App(context={PORTAL_ORIGIN_CONTEXT_KEY: "http://portal.example.com"})

    with pytest.raises(ValueError, match="https"):
        portal_origin(app.node)
