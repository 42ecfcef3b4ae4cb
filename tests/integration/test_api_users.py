"""Tenant user management through the real app on moto's Cognito: tenant isolation, roles, the
last-administrator rule, and an audit row for every change."""

from __future__ import annotations

import boto3
import pytest

from pulse.platform.aws.cognito import CognitoUserDirectory
from tests.builders import ApiHarness

pytestmark = pytest.mark.integration

GROUPS = ("customer_viewer", "customer_admin", "operator", "operator_admin")
ACME_ADMIN = ("customer_admin", "acme")
BRAVO_ADMIN = ("customer_admin", "bravo")


class Pool:
    """A moto user pool shaped like the CDK one: email sign-in, immutable custom:tenant_id, the four groups."""

    def __init__(self) -> None:
        self.client = boto3.client("cognito-idp", region_name="eu-west-1")
        self.id = self.client.create_user_pool(
            PoolName="pulse-test",
            UsernameAttributes=["email"],
            Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False}],
        )["UserPool"]["Id"]
        for group in GROUPS:
            self.client.create_group(UserPoolId=self.id, GroupName=group)
        self.directory = CognitoUserDirectory(self.client, self.id)

    def add(self, email: str, tenant: str, group: str) -> str:
        return self.directory.create_user(email, tenant, group).username

    def groups(self, username: str) -> set[str]:
        listed = self.client.admin_list_groups_for_user(UserPoolId=self.id, Username=username)["Groups"]
        return {g["GroupName"] for g in listed}

    def user(self, username: str) -> dict:
        return self.client.admin_get_user(UserPoolId=self.id, Username=username)


@pytest.fixture
def pool(aws):
    return Pool()


@pytest.fixture
def api(database_url, pool):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("bravo")
    harness.services.users = lambda: pool.directory
    yield harness
    harness.close()


@pytest.fixture
def people(pool):
    return {
        "alice": pool.add("alice@acme.example", "acme", "customer_admin"),
        "victor": pool.add("victor@acme.example", "acme", "customer_viewer"),
        "bob": pool.add("bob@bravo.example", "bravo", "customer_admin"),
        "olga": pool.add("olga@pulse.example", "acme", "operator"),
    }


def _audit(sql, tenant="acme"):
    return sql.execute(
        "SELECT action, entity_id, actor, before->>'role', after->>'role', before->>'enabled', after->>'enabled' "
        "FROM audit_log WHERE tenant_id = %s AND entity_type = 'user' ORDER BY id",
        (tenant,),
    ).fetchall()


def test_list_shows_only_the_callers_tenant_ordered_by_email(api, people):
    response = api.request("GET", "/users", as_=ACME_ADMIN)

    assert response.status_code == 200, response.json()
    items = response.json()["items"]
    assert [(u["email"], u["role"]) for u in items] == [
        ("alice@acme.example", "customer_admin"),
        ("victor@acme.example", "customer_viewer"),
    ]
    assert "bob@bravo.example" not in response.text and "olga" not in response.text
    assert items[0]["username"] == people["alice"] and items[0]["enabled"] is True


def test_list_pages_by_cursor(api, people):
    first = api.request("GET", "/users", params={"limit": 1}).json()
    rest = api.request("GET", "/users", params={"limit": 1, "cursor": first["next_cursor"]}).json()

    assert [u["email"] for u in first["items"] + rest["items"]] == ["alice@acme.example", "victor@acme.example"]
    assert rest["next_cursor"] is None
    assert api.request("GET", "/users", params={"cursor": "bogus"}).status_code == 400


def test_invite_creates_the_user_in_the_tenant_and_group_and_audits_it(api, pool, sql, people):
    response = api.request("POST", "/users", json={"email": " Carol@Acme.Example ", "role": "customer_admin"})

    assert response.status_code == 201, response.json()
    user = response.json()
    assert user["email"] == "carol@acme.example" and user["role"] == "customer_admin"
    assert user["status"] == "FORCE_CHANGE_PASSWORD"
    assert set(user) == {"username", "email", "role", "enabled", "status", "created_at"}  # no temporary password
    attributes = {a["Name"]: a["Value"] for a in pool.user(user["username"])["UserAttributes"]}
    assert attributes["custom:tenant_id"] == "acme" and attributes["email"] == "carol@acme.example"
    assert pool.groups(user["username"]) == {"customer_admin"}
    assert _audit(sql) == [
        ("user.create", user["username"], "customer_admin@acme.example", None, "customer_admin", None, "true")
    ]


def test_invite_defaults_to_viewer(api, pool, people):
    user = api.request("POST", "/users", json={"email": "dave@acme.example"}).json()

    assert user["role"] == "customer_viewer" and pool.groups(user["username"]) == {"customer_viewer"}


def test_inviting_an_existing_email_is_a_conflict_and_not_audited(api, sql, people):
    response = api.request("POST", "/users", json={"email": "bob@bravo.example"})

    assert response.status_code == 409, response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert _audit(sql) == [] and _audit(sql, "bravo") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "x@acme.example", "role": "operator_admin"}, "role"),
        ({"email": "x@acme.example", "tenant_id": "bravo"}, "tenant_id"),
    ],
)
def test_invite_rejects_bad_input_by_field(api, body, field, people):
    response = api.request("POST", "/users", json=body)

    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


def test_role_change_moves_the_user_between_groups_and_audits_before_and_after(api, pool, sql, people):
    response = api.request("PATCH", f"/users/{people['victor']}", json={"role": "customer_admin"})

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "customer_admin"
    assert pool.groups(people["victor"]) == {"customer_admin"}
    assert _audit(sql) == [
        (
            "user.update",
            people["victor"],
            "customer_admin@acme.example",
            "customer_viewer",
            "customer_admin",
            "true",
            "true",
        )
    ]


def test_the_last_administrator_cannot_be_demoted_or_disabled(api, pool, sql, people):
    demote = api.request("PATCH", f"/users/{people['alice']}", json={"role": "customer_viewer"})
    disable = api.request("POST", f"/users/{people['alice']}/disable")

    assert (demote.status_code, disable.status_code) == (409, 409)
    assert demote.json()["title"] == "Last administrator"
    assert pool.groups(people["alice"]) == {"customer_admin"} and pool.user(people["alice"])["Enabled"] is True
    assert _audit(sql) == []


def test_an_administrator_may_step_down_once_another_exists(api, pool, people):
    api.request("PATCH", f"/users/{people['victor']}", json={"role": "customer_admin"})

    response = api.request("PATCH", f"/users/{people['alice']}", json={"role": "customer_viewer"})

    assert response.status_code == 200 and pool.groups(people["alice"]) == {"customer_viewer"}


def test_a_disabled_administrator_does_not_count_as_the_remaining_one(api, people):
    api.request("PATCH", f"/users/{people['victor']}", json={"role": "customer_admin"})
    assert api.request("POST", f"/users/{people['victor']}/disable").status_code == 200

    assert api.request("PATCH", f"/users/{people['alice']}", json={"role": "customer_viewer"}).status_code == 409


def test_disable_and_enable_reach_cognito_and_are_audited(api, pool, sql, people):
    disabled = api.request("POST", f"/users/{people['victor']}/disable")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert pool.user(people["victor"])["Enabled"] is False

    enabled = api.request("POST", f"/users/{people['victor']}/enable")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert pool.user(people["victor"])["Enabled"] is True
    assert [(r[0], r[5], r[6]) for r in _audit(sql)] == [
        ("user.disable", "true", "false"),
        ("user.enable", "false", "true"),
    ]


def test_unchanged_role_or_state_writes_no_audit_row(api, sql, people):
    assert api.request("PATCH", f"/users/{people['victor']}", json={"role": "customer_viewer"}).status_code == 200
    assert api.request("POST", f"/users/{people['victor']}/enable").status_code == 200
    assert _audit(sql) == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"role": "customer_viewer"}),
        ("POST", "/disable", None),
        ("POST", "/enable", None),
    ],
)
@pytest.mark.parametrize("who", ["bob", "olga", "nobody"])
def test_other_tenants_users_operators_and_unknown_names_are_404(api, pool, sql, people, method, suffix, body, who):
    username = people.get(who, "00000000-0000-0000-0000-000000000000")

    response = api.request(method, f"/users/{username}{suffix}", json=body)

    assert response.status_code == 404, response.json()
    assert response.json()["title"] == "User not found"
    if who != "nobody":
        assert pool.user(username)["Enabled"] is True and pool.groups(username) <= set(GROUPS)
    assert _audit(sql) == [] and _audit(sql, "bravo") == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users", None),
        ("POST", "/users", {"email": "eve@acme.example"}),
        ("PATCH", "/users/{victor}", {"role": "customer_admin"}),
        ("POST", "/users/{victor}/disable", None),
        ("POST", "/users/{victor}/enable", None),
    ],
)
def test_viewers_get_403_on_user_management(api, pool, sql, people, method, path, body):
    response = api.request(method, path.format(**people), json=body, as_=("customer_viewer", "acme"))

    assert response.status_code == 403, response.json()
    assert pool.groups(people["victor"]) == {"customer_viewer"} and _audit(sql) == []


def test_operator_admin_manages_a_named_tenant_and_is_audited(api, pool, sql, people):
    operator = {"as_": ("operator_admin", None), "headers": {"X-Pulse-Tenant": "bravo"}}

    listed = api.request("GET", "/users", **operator)
    invited = api.request("POST", "/users", json={"email": "fay@bravo.example"}, **operator)

    assert [u["email"] for u in listed.json()["items"]] == ["bob@bravo.example"]
    assert invited.status_code == 201, invited.json()
    assert pool.groups(invited.json()["username"]) == {"customer_viewer"}
    assert [(r[0], r[2]) for r in _audit(sql, "bravo")] == [("user.create", "operator_admin@pulse.example")]
    assert sql.execute("SELECT method, path FROM operator_audit WHERE tenant_id = 'bravo' ORDER BY id").fetchall() == [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
    ]


def test_plain_operators_cannot_manage_users(api, people):
    response = api.request("GET", "/users", as_=("operator", None), headers={"X-Pulse-Tenant": "acme"})

    assert response.status_code == 403


def test_without_a_configured_pool_user_management_is_503(api, people):
    api.services.users = None

    response = api.request("GET", "/users")

    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
