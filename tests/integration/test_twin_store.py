"""Twin store on real PostgreSQL: revisions, optimistic locking under concurrency, auto-clear,
convergence events, refusals that write nothing, the device protocol and its publication."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import orjson
import pytest

from pulse.connect.topics import Topic, TopicKind
from pulse.db import Database
from pulse.platform.aws.iot_data import IotDataPublisher
from pulse.twin.errors import (
    TwinInvalid,
    TwinNotFound,
    TwinPreconditionFailed,
    TwinTooLarge,
    TwinVersionConflict,
)
from pulse.twin.protocol import handle_device_message
from pulse.twin.service import (
    find_unconverged,
    get_twin,
    history,
    set_twin_settings,
    twin_at,
    update_twin,
)
from pulse.twin.store import TwinSettings
from tests.builders import make_device, make_tenant

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def app_db(database_url: str, sql) -> Iterator[Database]:
    for tenant in ("acme", "other"):
        make_tenant(sql, tenant)
        make_device(sql, tenant, "dev-1")
    db = Database(database_url, "pulse_app")
    yield db
    db.close()


def _rows(sql, table: str) -> list[tuple]:
    return sql.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()


def test_the_twin_can_be_read_at_any_revision_or_time(app_db):
    update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"mode": "eco"}}}, source="api", actor="u:ann", now=T0)
    update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"reported": {"mode": "boost"}}},
        source="device",
        now=T0 + timedelta(minutes=1),
    )
    update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"reported": {"mode": "eco"}}},
        source="device",
        now=T0 + timedelta(minutes=2),
    )

    second = twin_at(app_db, "acme", "dev-1", revision=2)
    assert second.document.delta == {"mode": "eco"} and second.source == "device"
    at_90s = twin_at(app_db, "acme", "dev-1", at=T0 + timedelta(seconds=90))
    assert at_90s.version == 2 and at_90s.document == second.document
    assert twin_at(app_db, "acme", "dev-1", revision=1).actor == "u:ann"
    assert get_twin(app_db, "acme", "dev-1").delta == {}
    with pytest.raises(TwinNotFound):
        twin_at(app_db, "acme", "dev-1", at=T0 - timedelta(seconds=1))

    page = history(app_db, "acme", "dev-1", limit=2)
    assert [r.version for r in page.items] == [3, 2] and page.next_before_version == 2
    rest = history(app_db, "acme", "dev-1", before_version=page.next_before_version, limit=2)
    assert [r.version for r in rest.items] == [1] and rest.next_before_version is None
    assert rest.items[0].request == {"state": {"desired": {"mode": "eco"}}}


def test_a_device_never_updated_has_the_empty_version_zero_twin_and_other_tenants_see_nothing(app_db):
    assert get_twin(app_db, "acme", "dev-1").version == 0
    update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"a": 1}}}, source="api", now=T0)
    assert get_twin(app_db, "other", "dev-1").version == 0
    with pytest.raises(TwinNotFound):
        get_twin(app_db, "acme", "no-such-device")


@pytest.mark.parametrize("expected_version", [0, 1])
def test_concurrent_updates_with_the_same_version_let_exactly_one_through(database_url, app_db, sql, expected_version):
    if expected_version == 1:
        update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"n": 0}}}, source="api", now=T0)
    writers = 6
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []

    def write(n: int) -> None:
        db = Database(database_url, "pulse_app")
        try:
            barrier.wait()
            update_twin(
                db,
                "acme",
                "dev-1",
                {"state": {"desired": {"n": n}}, "version": expected_version},
                source="api",
                now=T0 + timedelta(seconds=1),
            )
            outcomes.append("ok")
        except TwinVersionConflict:
            outcomes.append("409")
        finally:
            db.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, writers + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409"] * (writers - 1) + ["ok"]
    assert get_twin(app_db, "acme", "dev-1").version == expected_version + 1
    assert sql.execute("SELECT count(*) FROM device_twin_revisions").fetchone() == (expected_version + 1,)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"state": {"desired": {"blob": "x" * 9000}}}, TwinTooLarge),
        ({"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}, TwinInvalid),
        ({"state": {"desired": ["not", "an", "object"]}}, TwinInvalid),
        ({"state": {"desired": {"mode": "off"}}, "version": 1}, TwinVersionConflict),
        ({"state": {"desired": {"mode": "off"}}, "if": {"reported.mode": "eco"}}, TwinPreconditionFailed),
    ],
)
def test_a_refused_update_writes_nothing(app_db, sql, body, error):
    update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"mode": "eco"}}}, source="api", now=T0)
    update_twin(app_db, "acme", "dev-1", {"state": {"reported": {"mode": "boost"}}}, source="device", now=T0)
    before = {t: _rows(sql, t) for t in ("device_twins", "device_twin_revisions", "twin_pending_desired")}
    with pytest.raises(error):
        update_twin(app_db, "acme", "dev-1", orjson.dumps(body), source="api", now=T0 + timedelta(minutes=1))
    assert {t: _rows(sql, t) for t in before} == before


def test_a_refused_first_update_leaves_no_twin_row(app_db, sql):
    with pytest.raises(TwinPreconditionFailed):
        update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"a": 1}}, "if": {"reported.a": 1}}, source="api")
    assert sql.execute("SELECT count(*) FROM device_twins").fetchone() == (0,)


def test_auto_clear_follows_the_tenant_setting(app_db):
    set_twin_settings(app_db, "acme", TwinSettings(auto_clear=True))
    update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"mode": "eco", "fan": 2}}}, source="api", now=T0)
    change = update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"reported": {"mode": "eco", "fan": 1}}},
        source="device",
        now=T0 + timedelta(seconds=5),
    )
    assert change.cleared == (("mode",),)
    assert get_twin(app_db, "acme", "dev-1").desired == {"fan": 2}
    update_twin(app_db, "other", "dev-1", {"state": {"desired": {"mode": "eco"}}}, source="api", now=T0)
    update_twin(app_db, "other", "dev-1", {"state": {"reported": {"mode": "eco"}}}, source="device", now=T0)
    assert get_twin(app_db, "other", "dev-1").desired == {"mode": "eco"}  # not this tenant's setting


@pytest.fixture
def operator_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url, "pulse_operator")
    yield db
    db.close()


def test_a_desired_change_not_reported_in_time_raises_exactly_one_event(app_db, operator_db, sql):
    set_twin_settings(app_db, "acme", TwinSettings(convergence_minutes=10))
    update_twin(
        app_db, "acme", "dev-1", {"state": {"desired": {"mode": "eco", "fan": {"speed": 3}}}}, source="api", now=T0
    )
    update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"reported": {"mode": "eco", "fan": {"speed": 1}}}},
        source="device",
        now=T0 + timedelta(minutes=1),
    )

    assert find_unconverged(operator_db, T0 + timedelta(minutes=9)) == []
    raised = find_unconverged(operator_db, T0 + timedelta(minutes=11))
    assert [(e.device_id, e.path, e.desired, e.reported, e.desired_version) for e in raised] == [
        ("dev-1", "/fan/speed", 3, 1, 1)
    ]
    assert raised[0].to_event()["metadata"]["event_name"] == "TwinNotConverged"
    assert find_unconverged(operator_db, T0 + timedelta(minutes=30)) == []
    assert sql.execute("SELECT tenant_id, event_key FROM twin_events").fetchall() == [("acme", "/fan/speed@1")]

    # A new desired change to the same leaf is a new occurrence; converging in time raises nothing.
    update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"desired": {"fan": {"speed": 4}}}},
        source="api",
        now=T0 + timedelta(minutes=40),
    )
    assert [e.event_key for e in find_unconverged(operator_db, T0 + timedelta(minutes=51))] == ["/fan/speed@3"]
    update_twin(
        app_db, "acme", "dev-1", {"state": {"desired": {"mode": "off"}}}, source="api", now=T0 + timedelta(minutes=60)
    )
    update_twin(
        app_db,
        "acme",
        "dev-1",
        {"state": {"reported": {"mode": "off"}}},
        source="device",
        now=T0 + timedelta(minutes=62),
    )
    assert find_unconverged(operator_db, T0 + timedelta(minutes=90)) == []
    assert sql.execute("SELECT count(*) FROM twin_events").fetchone() == (2,)


def test_the_platform_default_deadline_applies_without_a_tenant_setting(app_db, operator_db):
    update_twin(app_db, "other", "dev-1", {"state": {"desired": {"a": 1}}}, source="api", now=T0)
    assert find_unconverged(operator_db, T0 + timedelta(minutes=14), default_minutes=15) == []
    assert len(find_unconverged(operator_db, T0 + timedelta(minutes=16), default_minutes=15)) == 1


# --- device protocol ---------------------------------------------------------------------------------


def _topic(kind: TopicKind) -> Topic:
    return Topic("acme", "dev-1", kind)


def test_a_device_update_is_accepted_and_a_desired_change_publishes_a_delta(app_db, aws):
    update_twin(app_db, "acme", "dev-1", {"state": {"reported": {"mode": "boost"}}}, source="device", now=T0)
    out = handle_device_message(
        app_db, _topic(TopicKind.TWIN_UPDATE), b'{"state": {"desired": {"mode": "eco"}}, "clientToken": "c1"}', now=T0
    )
    assert [(m.kind, m.topic) for m in out] == [
        ("twin/update/accepted", "tenant/acme/device/dev-1/twin/update/accepted"),
        ("twin/delta", "tenant/acme/device/dev-1/twin/delta"),
    ]
    assert out[0].payload["version"] == 2 and out[0].payload["clientToken"] == "c1"
    assert out[1].payload["state"] == {"mode": "eco"}

    client = boto3.client("iot-data", region_name="eu-west-1")
    assert IotDataPublisher(client).publish(out) == 2
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    published = iotdata_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].published_payloads
    assert [(t, orjson.loads(p)["version"]) for t, p in published] == [
        ("tenant/acme/device/dev-1/twin/update/accepted", 2),
        ("tenant/acme/device/dev-1/twin/delta", 2),
    ]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b'{"state": {"reported": {"x": 1}}, "version": 7, "clientToken": "c2"}', 409),
        (b'{"state": {"reported": {"x": 1}}, "if": {"reported.x": 2}, "clientToken": "c2"}', 412),
        (b'{"state": {"reported": {"x": "' + b"y" * 9000 + b'"}}, "clientToken": "c2"}', 413),
        (b'{"state": {"reported": 3}, "clientToken": "c2"}', 400),
        (b'{"state": {"reported": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}, "clientToken": "c2"}', 400),
        (b"{oops", 400),
    ],
)
def test_a_refused_device_update_is_rejected_with_the_aws_error_body(app_db, sql, payload, code):
    update_twin(app_db, "acme", "dev-1", {"state": {"reported": {"x": 1}}}, source="device", now=T0)
    before = _rows(sql, "device_twins")
    out = handle_device_message(app_db, _topic(TopicKind.TWIN_UPDATE), payload, now=T0)
    assert [m.kind for m in out] == ["twin/update/rejected"]
    body = out[0].payload
    assert body["code"] == code and body["timestamp"] == int(T0.timestamp()) and body["message"]
    assert body.get("clientToken") == (None if payload == b"{oops" else "c2")
    assert _rows(sql, "device_twins") == before


def test_twin_get_answers_with_the_full_document(app_db):
    update_twin(app_db, "acme", "dev-1", {"state": {"desired": {"mode": "eco"}}}, source="api", now=T0)
    [reply] = handle_device_message(app_db, _topic(TopicKind.TWIN_GET), b'{"clientToken": "g1"}', now=T0)
    assert reply.topic == "tenant/acme/device/dev-1/twin/get/accepted"
    assert reply.payload["state"] == {"desired": {"mode": "eco"}, "delta": {"mode": "eco"}}
    assert reply.payload["clientToken"] == "g1" and reply.payload["version"] == 1
    [bad] = handle_device_message(app_db, _topic(TopicKind.TWIN_GET), b"[1]", now=T0)
    assert bad.kind == "twin/get/rejected" and bad.payload["code"] == 400
