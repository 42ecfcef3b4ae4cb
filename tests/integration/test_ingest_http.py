"""Gateways posting over HTTPS with a device token: same pipeline, per-message results, problem bodies."""

from __future__ import annotations

import orjson
import pytest

from functions.http_ingest.handler import lambda_handler
from pulse.connect.credentials import new_device_token
from tests.builders import FakeLambdaContext, envelope, http_api_event, make_device, make_tenant

PATH = "/ingest/v1/tenants/acme/devices/gw-1/telemetry"


@pytest.fixture
def token(sql, lambda_env):
    secret = new_device_token()
    make_tenant(sql, "acme")
    make_device(sql, "acme", "gw-1", token=secret, with_thing=False)
    return secret


def _post(body, token=None, path=PATH):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = lambda_handler(http_api_event("POST", path, body=body, headers=headers), FakeLambdaContext())
    return response["statusCode"], response["headers"], orjson.loads(response["body"])


def test_batch_post_answers_202_with_a_result_per_message(sql, token):
    body = orjson.dumps([envelope({"temp_c": 1.0}), envelope({"temp_c": "warm"}), envelope({"temp_c": 3.0})])
    status, _, doc = _post(body, token)
    assert status == 202
    assert (doc["accepted"], doc["quarantined"]) == (2, 1)
    assert doc["results"][1] == {
        "index": 1,
        "status": "quarantined",
        "reason": "bad_metric",
        "detail": doc["results"][1]["detail"],
    }
    assert "metrics.temp_c" in doc["results"][1]["detail"]
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (2,)


def test_single_envelope_post_and_its_redelivery_is_reported_duplicate(sql, token):
    body = orjson.dumps(envelope({"pressure_psi": 14.7}, msg_id="gw-1-0001"))
    assert _post(body, token)[2]["accepted"] == 1
    status, _, doc = _post(body, token)
    assert status == 202
    assert doc["results"] == [{"index": 0, "status": "duplicate"}]
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (1,)


@pytest.mark.parametrize("presented", [None, "pdt_wrong", "Basic abc"])
def test_wrong_or_missing_token_is_401_and_quarantined_as_bad_token(sql, token, presented):
    status, headers, doc = _post(orjson.dumps(envelope()), presented)
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert doc["status"] == 401 and doc["title"] == "Unauthorized"
    assert sql.execute("SELECT reason, source FROM quarantine_events").fetchall() == [("bad_token", "http")]
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (0,)


def test_bad_token_inside_a_batch_of_good_messages_quarantines_only_that_device(sql, token):
    make_device(sql, "acme", "gw-2", token=new_device_token(), with_thing=False)
    status, _, _ = _post(orjson.dumps(envelope()), token, path="/ingest/v1/tenants/acme/devices/gw-2/telemetry")
    assert status == 401
    assert _post(orjson.dumps(envelope()), token)[0] == 202
    assert sql.execute("SELECT device_id, reason FROM quarantine_events").fetchall() == [("gw-2", "bad_token")]


def test_malformed_body_is_quarantined_and_reported(sql, token):
    status, _, doc = _post(b"{not json", token)
    assert status == 202
    assert doc["results"][0]["reason"] == "malformed_json"
    assert sql.execute("SELECT reason FROM quarantine_events").fetchall() == [("malformed_json",)]


def test_empty_batch_is_a_400_problem(token):
    status, _, doc = _post(b"[]", token)
    assert status == 400
    assert doc["detail"] == "the request holds no messages"


def test_unknown_route_is_a_404_problem(token):
    status, _, doc = _post(b"{}", token, path="/ingest/v1/nowhere")
    assert status == 404
    assert doc["type"].endswith("/not-found")


def test_database_unavailable_is_503_with_retry_after(token, pg_cluster):
    pg_cluster.stop("fast")
    try:
        status, headers, doc = _post(orjson.dumps(envelope()), token)
    finally:
        pg_cluster.start()
    assert status == 503
    assert headers["Retry-After"] == "30"
    assert doc["title"] == "Database unavailable"


def test_a_bad_token_message_inside_a_batch_of_good_ones_is_the_only_one_quarantined(sql, token, lambda_env):
    # The pipeline level, where one batch can mix gateways (the HTTP route sends one token per request)
    from datetime import UTC, datetime

    from pulse.connect.inbound import InboundMessage
    from pulse.connect.service import ingest_messages
    from pulse.db import Database
    from pulse.settings import Settings
    from pulse.stream.writer import PartitionCache

    topic = "tenant/acme/device/gw-1/telemetry"
    now = datetime.now(UTC)
    batch = [
        InboundMessage(
            str(i),
            topic,
            orjson.dumps(envelope({"v_in": float(i)})),
            "http",
            now,
            token=token if i != 2 else "pdt_forged",
        )
        for i in range(5)
    ]
    db = Database(lambda_env, "pulse_ingest")
    result = ingest_messages(db, batch, Settings(), now, PartitionCache())
    db.close()
    assert [o.status for o in result.outcomes] == ["accepted", "accepted", "quarantined", "accepted", "accepted"]
    assert sql.execute("SELECT reason FROM quarantine_events").fetchall() == [("bad_token",)]
    assert sql.execute("SELECT count(*) FROM telemetry").fetchone() == (4,)
