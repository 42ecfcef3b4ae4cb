"""Telemetry over the API: what ingest stored, read back per device, bucketed, latest and exported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from pulse.connect.inbound import InboundMessage
from pulse.connect.service import ingest_messages
from pulse.db import Database
from pulse.settings import Settings
from pulse.stream.writer import PartitionCache
from tests.builders import ApiHarness, envelope

pytestmark = pytest.mark.integration

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


@pytest.fixture
def api(database_url, aws, sql):
    harness = ApiHarness(database_url)
    harness.create_tenant("acme")
    harness.create_tenant("globex")
    for tenant in ("acme", "globex"):
        sql.execute(
            "INSERT INTO devices (tenant_id, id, name, thing_name) VALUES (%s, 'pump-1', 'Pump', %s)",
            (tenant, f"{tenant}--pump-1"),
        )
    ingest = Database(database_url, "pulse_ingest")
    msgs = [
        InboundMessage(
            str(i),
            f"tenant/{tenant}/device/pump-1/telemetry",
            orjson.dumps(envelope({"temp_c": float(i), "rpm": 1000 + i}, ts=T0 + timedelta(minutes=i))),
            "mqtt",
            datetime.now(UTC),
            client_id=f"{tenant}--pump-1",
        )
        for tenant in ("acme", "globex")
        for i in range(30)
    ]
    result = ingest_messages(ingest, msgs, Settings(), datetime.now(UTC), PartitionCache())
    assert result.count("accepted") == 60
    ingest.close()
    yield harness
    harness.close()


def _range(**extra):
    return {"metric": ["temp_c"], "start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat(), **extra}


def test_raw_points_page_through_with_a_cursor(api):
    first = api.request("GET", "/devices/pump-1/telemetry", params=_range(limit=20))
    assert first.status_code == 200, first.json()
    page = first.json()
    assert [p["value"] for p in page["items"]] == [float(i) for i in range(20)]
    second = api.request("GET", "/devices/pump-1/telemetry", params=_range(limit=20, cursor=page["next_cursor"]))
    assert [p["value"] for p in second.json()["items"]] == [float(i) for i in range(20, 30)]
    assert second.json()["next_cursor"] is None


def test_buckets_aggregate_per_metric(api):
    response = api.request("GET", "/devices/pump-1/telemetry/buckets", params=_range(bucket="15m", metric=["rpm"]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["bucket"] == "15m"
    assert [s["count"] for s in body["stats"]] == [15, 15]
    assert body["stats"][0]["min"] == 1000.0


def test_latest_values_per_device(api):
    body = api.request("GET", "/telemetry/latest").json()
    assert [d["device_id"] for d in body] == ["pump-1"]
    assert body[0]["metrics"]["temp_c"] == 29.0


def test_csv_export_streams_the_tenants_rows_only(api):
    response = api.request("GET", "/telemetry/export", params=_range(format="csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0] == "ts,device_id,metric,value"
    assert len(lines) == 31


def test_another_tenants_device_is_404_and_bad_input_is_a_problem(api):
    assert api.request("GET", "/devices/ghost/telemetry", params=_range()).status_code == 404
    bad_bucket = api.request("GET", "/devices/pump-1/telemetry/buckets", params=_range(bucket="7m"))
    assert bad_bucket.status_code == 400
    assert bad_bucket.headers["content-type"] == "application/problem+json"
    naive = api.request("GET", "/devices/pump-1/telemetry", params=_range(start="2026-11-22T10:00:00"))
    assert naive.status_code == 400
    backwards = api.request("GET", "/telemetry/export", params=_range(end=(T0 - timedelta(hours=1)).isoformat()))
    assert backwards.status_code == 400
    assert backwards.json()["status"] == 400
