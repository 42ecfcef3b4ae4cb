"""Operator console: tenants' health, cross-tenant device search, the quarantine, subscriptions; operators
only, and the requests that name a tenant or show its records are in the operator access log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.builders import ApiHarness
from tests.integration.test_api_dashboard import alert, device, messages

pytestmark = pytest.mark.integration
OPERATOR = ("operator", None)
OPERATOR_ADMIN = ("operator_admin", None)
_ids = itertools.count(1)

CONSOLE_READS = [
    "/operator/tenants/health",
    "/operator/devices",
    "/operator/quarantine",
    "/operator/quarantine/reasons",
    "/operator/subscriptions",
]


def quarantined(
    sql: psycopg.Connection,
    tenant: str | None,
    reason: str,
    *,
    at: datetime | None = None,
    excerpt: str = "{}",
    device_id: str | None = None,
) -> int:
    """A refused message and its per-minute counter, as ingest writes them; returns its id."""
    received = at or datetime.now(UTC)
    row = sql.execute(
        """INSERT INTO quarantine_events (received_at, tenant_id, device_id, topic, source, reason, detail, excerpt,
                                          payload_size)
           VALUES (%s, %s, %s, %s, 'mqtt', %s, %s, %s, %s) RETURNING id""",
        (
            received,
            tenant,
            device_id,
            f"tenant/{tenant}/device/{device_id}/telemetry",
            reason,
            f"why {reason}",
            excerpt,
            len(excerpt.encode()),
        ),
    ).fetchone()
    sql.execute(
        """INSERT INTO quarantine_counts VALUES (date_trunc('minute', %s::timestamptz), %s, %s, 1)
           ON CONFLICT (minute, tenant_id, reason) DO UPDATE SET count = quarantine_counts.count + 1""",
        (received, tenant or "", reason),
    )
    return int(row[0])


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    for tenant in ("acme", "globex", "initech"):
        harness.create_tenant(tenant)
    yield harness
    harness.close()


def _access_log(sql) -> list[tuple[str, str]]:
    return sql.execute("SELECT tenant_id, path FROM operator_audit ORDER BY id").fetchall()


def test_customers_get_403_on_operator_endpoints(api):
    refused = {
        (role, path): (r.status_code, r.headers["content-type"])
        for role in ("customer_viewer", "customer_admin")
        for path in CONSOLE_READS
        for r in [api.request("GET", path, as_=(role, "acme"), params={"tenant_id": "acme"})]
    }

    assert set(refused.values()) == {(403, "application/problem+json")}


def test_tenants_health_counts_each_tenant(api, sql):
    now = datetime.now(UTC)
    device(sql, "acme", "a-1", seen_ago=10)
    device(sql, "acme", "a-2", seen_ago=7200)
    device(sql, "acme", "a-3", seen_ago=None, status="decommissioned")
    device(sql, "globex", "g-1", seen_ago=10)
    alert(sql, "acme", "a-1", severity="critical")
    alert(sql, "acme", "a-2", severity="warning", state="acknowledged")
    alert(sql, "acme", "a-2", severity="major", state="closed")
    messages(sql, "acme", "a-1", now - timedelta(minutes=2), n=10)
    messages(sql, "acme", "a-1", now - timedelta(minutes=30), n=50)
    quarantined(sql, "acme", "malformed_json", at=now - timedelta(hours=2))
    quarantined(sql, "acme", "malformed_json", at=now - timedelta(hours=30))  # outside 24 h

    body = api.request("GET", "/operator/tenants/health", as_=OPERATOR).json()

    by_tenant = {t["tenant_id"]: t for t in body["items"]}
    assert list(by_tenant) == ["acme", "globex", "initech"]
    acme = by_tenant["acme"]
    assert (acme["devices"], acme["online"]) == (2, 1)
    assert acme["open_alerts"]["total"] == 2 and acme["open_alerts"]["critical"] == 1
    assert acme["ingest_per_minute_5m"] == 2.0 and acme["ingest_per_minute_60m"] == 1.0
    assert acme["quarantined_24h"] == 1
    assert (acme["plan_id"], acme["subscription_status"]) == ("standard", "trial")
    assert by_tenant["initech"]["devices"] == 0 and by_tenant["initech"]["ingest_per_minute_5m"] == 0


def test_tenants_health_pages_by_tenant_and_is_not_logged(api, sql):
    first = api.request("GET", "/operator/tenants/health", as_=OPERATOR, params={"limit": 2}).json()
    second = api.request(
        "GET", "/operator/tenants/health", as_=OPERATOR, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()

    assert [t["tenant_id"] for t in first["items"] + second["items"]] == ["acme", "globex", "initech"]
    assert second["next_cursor"] is None
    assert _access_log(sql) == []


def test_device_search_matches_name_id_or_a_tag_across_tenants(api, sql):
    device(sql, "acme", "pump-1", seen_ago=10, name="North pump")
    device(sql, "acme", "valve-1", seen_ago=None, tags={"line": "pump-house"})
    device(sql, "globex", "g-pump", seen_ago=7200)
    device(sql, "globex", "sensor-9", seen_ago=10, tags={"zone": "b"})

    def ids(**params):
        response = api.request("GET", "/operator/devices", as_=OPERATOR, params=params)
        assert response.status_code == 200, response.json()
        return [(d["tenant_id"], d["id"], d["connectivity"]) for d in response.json()["items"]]

    assert ids(q="PUMP") == [("acme", "pump-1", "online"), ("globex", "g-pump", "offline")]
    assert ids(q="line:pump-house") == [("acme", "valve-1", "never")]
    assert ids(q="pump", tenant_id="globex") == [("globex", "g-pump", "offline")]
    assert ids(tag="zone:b") == [("globex", "sensor-9", "online")]
    assert ids(connectivity="online") == [("acme", "pump-1", "online"), ("globex", "sensor-9", "online")]
    assert ids(q="100%_") == []


def test_device_search_pages_and_is_logged_for_the_tenant_or_as_platform(api, sql):
    for n in range(3):
        device(sql, "acme", f"a-{n}", seen_ago=10)
        device(sql, "globex", f"g-{n}", seen_ago=10)

    first = api.request("GET", "/operator/devices", as_=OPERATOR, params={"limit": 4}).json()
    rest = api.request("GET", "/operator/devices", as_=OPERATOR, params={"limit": 4, "cursor": first["next_cursor"]})
    api.request("GET", "/operator/devices", as_=OPERATOR, params={"tenant_id": "globex"})

    assert len(first["items"]) == 4 and len(rest.json()["items"]) == 2 and rest.json()["next_cursor"] is None
    log = _access_log(sql)
    assert [t for t, _ in log] == ["*", "*", "globex"]
    assert log[2][1] == "/api/v1/operator/devices?tenant_id=globex"


def test_naming_an_unknown_tenant_is_a_404(api, sql):
    response = api.request("GET", "/operator/devices", as_=OPERATOR, params={"tenant_id": "nobody"})

    assert response.status_code == 404
    assert _access_log(sql) == []


def test_quarantine_lists_newest_first_with_filters_and_pages(api, sql):
    now = datetime.now(UTC)
    old = quarantined(sql, "acme", "malformed_json", at=now - timedelta(hours=3), device_id="a-1")
    mid = quarantined(sql, None, "unknown_topic", at=now - timedelta(hours=2))
    new = quarantined(sql, "globex", "malformed_json", at=now - timedelta(hours=1), device_id="g-1")

    def ids(**params):
        response = api.request("GET", "/operator/quarantine", as_=OPERATOR, params=params)
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["items"]], response.json()["next_cursor"]

    assert ids()[0] == [new, mid, old]
    assert ids(reason="malformed_json")[0] == [new, old]
    assert ids(tenant_id="acme")[0] == [old]
    assert ids(since=(now - timedelta(minutes=150)).isoformat())[0] == [new, mid]
    page, cursor = ids(limit=2)
    assert page == [new, mid] and ids(limit=2, cursor=cursor) == ([old], None)
    item = api.request("GET", "/operator/quarantine", as_=OPERATOR, params={"tenant_id": "acme"}).json()["items"][0]
    assert item["reason"] == "malformed_json" and item["detail"] == "why malformed_json"
    assert item["topic"] == "tenant/acme/device/a-1/telemetry" and item["device_id"] == "a-1"
    assert api.request("GET", "/operator/quarantine", as_=OPERATOR, params={"reason": "gibberish"}).status_code == 422


def test_quarantine_excerpt_is_capped_at_512_bytes_and_safe_to_show(api, sql):
    stored = "\x1b[31m" + "é" * 600 + "…"  # ingest's excerpt: 1 KiB of text, an escape sequence, cut mark
    quarantined(sql, "acme", "schema_violation", excerpt=stored)
    quarantined(sql, "acme", "bad_metric", excerpt='{"v":1}')

    items = api.request("GET", "/operator/quarantine", as_=OPERATOR).json()["items"]

    short, long_ = items
    assert (short["payload_excerpt"], short["excerpt_truncated"]) == ('{"v":1}', False)
    text = long_["payload_excerpt"]
    assert len(text.encode("utf-8")) <= 512 and long_["excerpt_truncated"] is True
    assert text.startswith("\\x1b[31mé") and "\x1b" not in text and not text.endswith("…")


def test_quarantine_reasons_count_every_reason_over_the_window(api, sql):
    now = datetime.now(UTC)
    for _ in range(3):
        quarantined(sql, "acme", "rate_limited", at=now - timedelta(minutes=5))
    quarantined(sql, "globex", "rate_limited", at=now - timedelta(minutes=5))
    quarantined(sql, None, "unknown_topic", at=now - timedelta(hours=2))
    quarantined(sql, "acme", "bad_token", at=now - timedelta(hours=30))

    day = api.request("GET", "/operator/quarantine/reasons", as_=OPERATOR).json()
    acme_hour = api.request(
        "GET", "/operator/quarantine/reasons", as_=OPERATOR, params={"tenant_id": "acme", "hours": 1}
    ).json()

    counts = {r["reason"]: r["count"] for r in day["reasons"]}
    assert (
        day["total"] == 5 and counts["rate_limited"] == 4 and counts["unknown_topic"] == 1 and counts["bad_token"] == 0
    )
    assert day["reasons"][0] == {"reason": "rate_limited", "count": 4} and len(counts) >= 14
    assert acme_hour["total"] == 3
    assert api.request("GET", "/operator/quarantine/reasons", as_=OPERATOR, params={"hours": 0}).status_code == 422


def test_subscriptions_list_plan_status_limits_and_devices(api, sql):
    device(sql, "acme", "a-1", seen_ago=10)
    device(sql, "acme", "a-2", seen_ago=10, status="decommissioned")

    body = api.request("GET", "/operator/subscriptions", as_=OPERATOR).json()
    trial_only = api.request("GET", "/operator/subscriptions", as_=OPERATOR, params={"status": "active"}).json()

    acme = body["items"][0]
    assert acme["tenant_id"] == "acme" and acme["plan_id"] == "standard" and acme["plan_name"] == "Standard"
    assert acme["status"] == "trial" and acme["devices"] == 1
    assert acme["limits"] == {
        "device_limit": 10000,
        "device_rate_per_minute": 600,
        "api_rate_per_minute": 3000,
        "retention_days": 90,
    }
    assert trial_only["items"] == []


def test_operator_admin_changes_a_subscription_and_it_is_audited(api, sql):
    ends = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)

    response = api.request(
        "PUT",
        "/operator/tenants/globex/subscription",
        as_=OPERATOR_ADMIN,
        json={"plan_id": "enterprise", "ends_at": ends.isoformat()},
        headers={"If-Match": '"1"', "X-Request-Id": "sub-1"},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["plan_id"], body["status"], body["is_trial"], body["version"]) == ("enterprise", "active", False, 2)
    assert body["limits"]["device_limit"] == 250000 and response.headers["etag"] == '"2"'
    assert _access_log(sql) == [("globex", "/api/v1/operator/tenants/globex/subscription")]
    audit = sql.execute(
        "SELECT tenant_id, actor_role, before->>'plan_id', after->>'plan_id', request_id FROM audit_log "
        "WHERE action = 'subscription.change'"
    ).fetchall()
    assert audit == [("globex", "operator_admin", "standard", "enterprise", "sub-1")]
    assert api.request("GET", "/subscription", as_=("customer_viewer", "globex")).json()["plan_id"] == "enterprise"


REFUSED_CHANGES = [
    (OPERATOR, {"plan_id": "enterprise"}, {}, 403),
    (("customer_admin", "globex"), {"plan_id": "enterprise"}, {}, 403),
    (OPERATOR_ADMIN, {}, {}, 400),
    (OPERATOR_ADMIN, {"status": "suspended"}, {}, 422),
    (OPERATOR_ADMIN, {"plan_id": "platinum"}, {}, 404),
    (OPERATOR_ADMIN, {"plan_id": "enterprise"}, {"If-Match": '"7"'}, 412),
]


def test_subscription_changes_that_are_refused(api, sql):
    for as_, body, headers, status in REFUSED_CHANGES:
        response = api.request("PUT", "/operator/tenants/globex/subscription", as_=as_, json=body, headers=headers)

        assert response.status_code == status, (as_, body, response.json())
    assert sql.execute("SELECT plan_id, version FROM subscriptions WHERE tenant_id = 'globex'").fetchone() == (
        "standard",
        1,
    )


def test_changing_an_unknown_tenants_subscription_is_a_404(api):
    response = api.request(
        "PUT", "/operator/tenants/nobody/subscription", as_=OPERATOR_ADMIN, json={"plan_id": "trial"}
    )

    assert response.status_code == 404
