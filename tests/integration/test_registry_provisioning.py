"""Provisioning through IoT (moto): thing, certificate, policy, attributes; tokens, rotation, revocation,
decommissioning, activation codes, the device limit, and revoke -> ingest quarantines the next message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pulse.connect.inbound import InboundMessage
from pulse.connect.service import ingest_messages
from pulse.db import Database
from pulse.registry.schedule import run_registry_schedule
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.builders import ApiHarness, envelope

pytestmark = pytest.mark.integration


@pytest.fixture
def api(database_url, aws):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    yield harness
    harness.close()


def _audit(sql, action, entity_id):
    return sql.execute(
        "SELECT actor, before, after, request_id FROM audit_log WHERE action = %s AND entity_id = %s",
        (action, entity_id),
    ).fetchall()


def _ingest(database_url, device="meter-1", client_id="acme--meter-1", token=None, source="mqtt"):
    db = Database(database_url, "pulse_ingest")
    msg = InboundMessage(
        "m1",
        f"tenant/acme/device/{device}/telemetry",
        orjson.dumps(envelope()),
        source,
        datetime.now(UTC),
        client_id=client_id,
        token=token,
    )
    try:
        return ingest_messages(db, [msg], Settings(), datetime.now(UTC), PartitionCache()).outcomes[0]
    finally:
        db.close()


def test_create_device_makes_thing_certificate_policy_and_returns_credentials_once(api, sql):
    response = api.request(
        "POST",
        "/devices",
        json={"id": "meter-1", "name": "Meter", "model": "M1", "tags": {"floor": "2"}, "http_token": True},
        headers={"X-Request-Id": "req-create"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    creds = body["credentials"]
    assert creds["private_key"].startswith("-----BEGIN") and creds["certificate_pem"].startswith("-----BEGIN")
    assert creds["endpoint"] == api.settings.iot_endpoint
    assert creds["topics"]["telemetry"] == "tenant/acme/device/meter-1/telemetry"
    assert body["http_token"].startswith("pdt_")
    thing = api.iot_client.describe_thing(thingName="acme--meter-1")
    assert thing["attributes"] == {"tenant_id": "acme", "device_id": "meter-1"}
    principals = api.iot_client.list_thing_principals(thingName="acme--meter-1")["principals"]
    assert len(principals) == 1 and principals[0].endswith(creds["certificate_id"])
    policies = api.iot_client.list_attached_policies(target=principals[0])["policies"]
    assert [p["policyName"] for p in policies] == ["pulse-test-device"]
    cert = api.iot_client.describe_certificate(certificateId=creds["certificate_id"])["certificateDescription"]
    assert cert["status"] == "ACTIVE"
    # shown once: reading the device never returns secrets
    read = api.request("GET", "/devices/meter-1").json()
    assert "private_key" not in str(read) and read["has_http_token"] is True
    stored = sql.execute("SELECT token_hash FROM devices WHERE id = 'meter-1'").fetchone()[0]
    assert body["http_token"].encode() not in bytes(stored)
    rows = _audit(sql, "device.create", "meter-1")
    assert rows[0][0] == "customer_admin@acme.example" and rows[0][1] is None and rows[0][2]["model"] == "M1"
    assert rows[0][3] == "req-create"
    assert _ingest(api.settings.database_url.get_secret_value()).status == "accepted"


def test_duplicate_device_id_is_409_and_unknown_site_404(api):
    assert api.request("POST", "/devices", json={"id": "d1"}).status_code == 201
    assert api.request("POST", "/devices", json={"id": "d1"}).status_code == 409
    response = api.request("POST", "/devices", json={"id": "d2", "site_id": "nowhere"})
    assert response.status_code == 404 and "site_id" in response.json()["detail"]


def test_revoke_deactivates_certificate_and_ingest_quarantines_the_next_message(api, sql):
    created = api.request("POST", "/devices", json={"id": "meter-1"}).json()
    url = api.settings.database_url.get_secret_value()
    assert _ingest(url).status == "accepted"
    response = api.request("POST", "/devices/meter-1/revoke")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    cert_id = created["credentials"]["certificate_id"]
    assert api.iot_client.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "INACTIVE"
    outcome = _ingest(url)
    assert outcome.status == "quarantined" and outcome.reason.value == "revoked_device"
    assert _audit(sql, "device.revoke", "meter-1")[0][2]["status"] == "revoked"
    assert api.request("POST", "/devices/meter-1/revoke").status_code == 409


def test_rotation_keeps_the_old_certificate_until_the_grace_period_ends(api, sql):
    first = api.request("POST", "/devices", json={"id": "meter-1"}).json()["credentials"]["certificate_id"]
    rotated = api.request("POST", "/devices/meter-1/rotate")
    assert rotated.status_code == 200
    second = rotated.json()["certificate_id"]
    assert second != first

    def status(cert):
        return api.iot_client.describe_certificate(certificateId=cert)["certificateDescription"]["status"]

    assert (status(first), status(second)) == ("ACTIVE", "ACTIVE")
    assert api.request("GET", "/devices/meter-1").json()["certificate_id"] == second
    run_registry_schedule(api.owner, api.identities, datetime.now(UTC))
    assert status(first) == "ACTIVE"
    result = run_registry_schedule(api.owner, api.identities, datetime.now(UTC) + timedelta(days=2))
    assert result["certificates_retired"] == 1
    assert (status(first), status(second)) == ("INACTIVE", "ACTIVE")
    assert _audit(sql, "device.rotate", "meter-1")
    assert _audit(sql, "certificate.revoke", "meter-1")


def test_token_endpoint_replaces_the_http_token(api, sql):
    api.request("POST", "/devices", json={"id": "gw-1", "http_token": True})
    new = api.request("POST", "/devices/gw-1/token").json()["token"]
    url = api.settings.database_url.get_secret_value()
    outcome = _ingest(url, device="gw-1", client_id=None, token=new, source="http")
    assert outcome.status == "accepted"
    assert _audit(sql, "device.token", "gw-1")


def test_decommission_deletes_the_thing_and_frees_a_plan_slot(api, sql):
    sql.execute("UPDATE tenants SET device_limit = 1 WHERE id = 'acme'")
    cert = api.request("POST", "/devices", json={"id": "d1"}).json()["credentials"]["certificate_id"]
    refused = api.request("POST", "/devices", json={"id": "d2"})
    assert refused.status_code == 409 and refused.json()["title"] == "Device limit reached"
    assert "1 devices" in refused.json()["detail"]
    assert api.request("POST", "/devices/d1/decommission").status_code == 200
    assert api.iot_client.list_things()["things"] == []
    assert api.iot_client.describe_certificate(certificateId=cert)["certificateDescription"]["status"] == "INACTIVE"
    assert api.request("POST", "/devices", json={"id": "d2"}).status_code == 201
    assert _audit(sql, "device.decommission", "d1")[0][2]["status"] == "decommissioned"


def test_activation_code_is_claimed_once_for_the_devices_credentials(api, sql):
    api.request("POST", "/devices", json={"id": "field-1", "issue_certificate": False})
    code = api.request("POST", "/devices/field-1/activation-code")
    assert code.status_code == 201
    claim = api.client.post("/api/v1/activation/claim", json={"code": code.json()["code"].lower()})
    assert claim.status_code == 200, claim.json()
    bundle = claim.json()
    assert bundle["thing_name"] == "acme--field-1" and bundle["private_key"].startswith("-----BEGIN")
    again = api.client.post("/api/v1/activation/claim", json={"code": code.json()["code"]})
    assert again.status_code == 404
    assert api.client.post("/api/v1/activation/claim", json={"code": "AAAA-BBBB-CCCC"}).status_code == 404
    assert _audit(sql, "device.activation_code", "field-1")
    assert _audit(sql, "device.activate", "field-1")[0][0] == "device:field-1"


def test_suspended_tenant_cannot_provision(api, sql):
    sql.execute("UPDATE tenants SET status = 'suspended' WHERE id = 'acme'")
    response = api.request("POST", "/devices", json={"id": "d1"})
    assert response.status_code == 403 and response.json()["title"] == "Subscription inactive"
