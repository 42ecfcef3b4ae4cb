"""API foundation: auth from verified tokens only, problem bodies, rate limit, ETags, request ids."""

from __future__ import annotations

import time

import pytest

from tests.builders import ApiHarness

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("globex")
    yield harness
    harness.close()


def test_request_without_a_token_gets_401_problem(api):
    response = api.client.get("/api/v1/sites")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["type"].startswith("https://")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example/pool"},
        {"aud": "another-client"},
        {"exp": int(time.time()) - 10},
        {"cognito:groups": ["strangers"]},
        {"token_use": "refresh"},
    ],
)
def test_tokens_that_fail_verification_get_401(api, claims):
    token = api.issuer.token(**claims)
    response = api.client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.json()


def test_token_signed_by_another_key_gets_401(api):
    from tests.builders import TokenIssuer

    forged = TokenIssuer(kid=api.issuer.kid).token()
    assert api.client.get("/api/v1/sites", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_access_tokens_are_accepted_and_jwks_is_fetched_once(api):
    for _ in range(3):
        assert api.request("GET", "/me", headers={}).status_code == 200
    token = api.issuer.token(token_use="access")
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["tenant_id"] == "acme" and me["role"] == "customer_admin"
    assert api.issuer.jwks_fetches == 1


def test_tenant_comes_from_the_token_and_customers_cannot_name_another(api):
    response = api.request("GET", "/tenant", headers={"X-Pulse-Tenant": "globex"})
    assert response.status_code == 403
    assert api.request("GET", "/tenant").json()["id"] == "acme"


def test_validation_errors_name_the_field_and_never_500(api):
    response = api.request("POST", "/sites", json={"id": "hq", "name": "", "lat": 123, "timezone": "Mars/Base"})
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "lat", "timezone"} <= fields
    assert "Mars/Base" in body["detail"] or any("IANA" in e["message"] for e in body["errors"])


def test_malformed_json_body_is_a_problem_not_a_500(api):
    response = api.request("POST", "/sites", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_route_is_a_problem(api):
    response = api.request("GET", "/nothing-here")
    assert response.status_code == 404 and response.json()["title"] == "Not found"


def test_request_id_is_echoed_and_in_problems(api):
    response = api.request("GET", "/sites/missing", headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


def test_etag_if_match_412_on_stale_and_428_when_missing(api):
    created = api.request("POST", "/sites", json={"id": "hq", "name": "HQ", "timezone": "Europe/Berlin"})
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    missing = api.request("PATCH", "/sites/hq", json={"name": "Head office"})
    assert missing.status_code == 428
    ok = api.request("PATCH", "/sites/hq", json={"name": "Head office"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = api.request("PATCH", "/sites/hq", json={"name": "Again"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412


def test_rate_limit_answers_429_with_retry_after_per_tenant(api, sql):
    sql.execute("UPDATE tenants SET api_rate_per_minute = 3 WHERE id = 'acme'")
    statuses = [api.request("GET", "/sites").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.request("GET", "/sites")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["status"] == 429
    assert api.request("GET", "/sites", as_=("customer_admin", "globex")).status_code == 200


def test_rate_window_is_shared_through_the_database(api, sql):
    sql.execute("UPDATE tenants SET api_rate_per_minute = 2 WHERE id = 'acme'")
    other = ApiHarness.__new__(ApiHarness)  # a second "Lambda": its own app and connection
    other.__dict__.update(api.__dict__)
    from fastapi.testclient import TestClient

    from pulse.api.app import create_app
    from pulse.api.deps import ApiServices
    from pulse.db import Database

    second_db = Database(api.settings.database_url.get_secret_value(), "pulse_app")
    other.client = TestClient(
        create_app(
            ApiServices(
                settings=api.settings,
                database=lambda: second_db,
                verifier=api.verifier,
                identities=lambda: api.identities,
            )
        )
    )
    assert api.request("GET", "/sites").status_code == 200
    assert other.request("GET", "/sites").status_code == 200
    assert api.request("GET", "/sites").status_code == 429
    second_db.close()


def test_keyset_pagination_walks_every_site_once(api):
    for i in range(7):
        api.request("POST", "/sites", json={"id": f"s{i}", "name": f"Site {i}"})
    seen, cursor = [], None
    while True:
        page = api.request("GET", "/sites", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"s{i}" for i in range(7)]


def test_garbage_cursor_is_a_400_with_the_field(api):
    response = api.request("GET", "/sites", params={"cursor": "!!!"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_openapi_committed_spec_matches_the_app():
    from pulse.api.openapi import SPEC_PATH, render

    assert SPEC_PATH.read_bytes() == render(), "run: python -m pulse.api.openapi write"
