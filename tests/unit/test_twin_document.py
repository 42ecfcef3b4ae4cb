"""Twin document rules: AWS shadow semantics, Pulse's additions, and every refusal leaving the twin as it was."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from pulse.twin.document import TwinDocument, apply_update
from pulse.twin.errors import TwinInvalid, TwinPreconditionFailed, TwinTooLarge, TwinVersionConflict
from pulse.twin.request import TwinLimits, parse_update

T0 = 1_700_000_000


def _apply(doc: TwinDocument, body: dict[str, Any], now: int = T0, **kwargs: Any) -> TwinDocument:
    return apply_update(doc, parse_update(orjson.dumps(body)), now, **kwargs).after


@pytest.fixture
def twin() -> TwinDocument:
    doc = _apply(TwinDocument(), {"state": {"desired": {"mode": "eco", "fan": {"speed": 2, "auto": True}}}})
    return _apply(
        doc, {"state": {"reported": {"mode": "boost", "fan": {"speed": 2, "auto": False}, "fw": "1.2"}}}, T0 + 10
    )


# --- AWS semantics ------------------------------------------------------------------------------


def test_delta_holds_differing_desired_fields_with_the_path_to_the_root(twin):
    assert twin.delta == {"mode": "eco", "fan": {"auto": True}}
    assert twin.version == 2


def test_partial_update_merges_deeply_and_null_deletes_a_key(twin):
    after = _apply(twin, {"state": {"desired": {"fan": {"speed": None, "curve": [1, 2]}, "mode": None}}}, T0 + 20)
    assert after.desired == {"fan": {"auto": True, "curve": [1, 2]}}
    assert after.metadata_desired == {"fan": {"auto": {"timestamp": T0}, "curve": [{"timestamp": T0 + 20}] * 2}}


def test_desired_null_clears_the_section(twin):
    after = _apply(twin, {"state": {"desired": None, "reported": {"mode": "eco"}}}, T0 + 20)
    assert after.desired == {} and after.metadata_desired == {}
    assert "desired" not in after.to_response()["state"]
    assert "delta" not in after.to_response()["state"]


def test_arrays_are_replaced_whole_and_compared_whole():
    doc = _apply(
        TwinDocument(), {"state": {"desired": {"colors": ["RED", "GREEN", "BLUE"]}, "reported": {"colors": ["RED"]}}}
    )
    assert doc.delta == {"colors": ["RED", "GREEN", "BLUE"]}
    doc = _apply(doc, {"state": {"desired": {"colors": ["RED"]}}})
    assert doc.desired == {"colors": ["RED"]} and doc.delta == {}


def test_booleans_are_not_numbers_in_the_delta():
    doc = _apply(TwinDocument(), {"state": {"desired": {"on": True, "level": 1.0}, "reported": {"on": 1, "level": 1}}})
    assert doc.delta == {"on": True}


def test_metadata_keeps_each_leaf_s_own_write_time(twin):
    after = _apply(twin, {"state": {"desired": {"fan": {"speed": 3}}}}, T0 + 99)
    assert after.metadata_desired["fan"] == {"speed": {"timestamp": T0 + 99}, "auto": {"timestamp": T0}}
    assert after.metadata_desired["mode"] == {"timestamp": T0}
    assert after.timestamp == T0 + 99


def test_accepted_and_delta_messages_follow_the_aws_bodies(twin):
    change = apply_update(twin, parse_update({"state": {"desired": {"mode": "off"}}, "clientToken": "c-1"}), T0 + 30)
    assert change.accepted_message() == {
        "state": {"desired": {"mode": "off"}},
        "metadata": {"desired": {"mode": {"timestamp": T0 + 30}}},
        "version": 3,
        "timestamp": T0 + 30,
        "clientToken": "c-1",
    }
    assert change.delta_message() == {
        "state": {"mode": "off", "fan": {"auto": True}},
        "metadata": {"mode": {"timestamp": T0 + 30}, "fan": {"auto": {"timestamp": T0}}},
        "version": 3,
        "timestamp": T0 + 30,
        "clientToken": "c-1",
    }


def test_a_reported_only_update_publishes_no_delta(twin):
    change = apply_update(twin, parse_update({"state": {"reported": {"mode": "off"}}}), T0 + 30)
    assert change.delta_message() is None


def test_matching_version_is_accepted_and_every_update_increments_it(twin):
    after = _apply(twin, {"state": {"reported": {}}, "version": 2})
    assert after.version == 3


def test_the_document_survives_storage_unchanged(twin):
    assert TwinDocument.from_storage(orjson.loads(orjson.dumps(twin.to_storage()))) == twin


# --- Beyond AWS -----------------------------------------------------------------------------------


def test_auto_clear_removes_satisfied_desired_keys_in_the_same_revision(twin):
    change = apply_update(
        twin, parse_update({"state": {"reported": {"fan": {"auto": True}}}}), T0 + 40, auto_clear=True
    )
    assert change.after.desired == {"mode": "eco"}
    assert change.cleared == (("fan", "speed"), ("fan", "auto"))
    assert change.after.metadata_desired == {"mode": {"timestamp": T0}}
    assert change.after.version == 3


@pytest.mark.parametrize(
    "condition",
    [
        {"reported.mode": "boost"},
        {"desired.fan.speed": {"$in": [1, 2]}, "reported.fw": {"$ne": "1.0"}},
        {"delta.mode": {"$exists": True}, "reported.nothing": {"$exists": False}},
        {"desired.fan": {"$eq": {"speed": 2, "auto": True}}},
    ],
)
def test_a_true_condition_lets_the_update_through(twin, condition):
    after = _apply(twin, {"state": {"desired": {"mode": "off"}}, "if": condition})
    assert after.desired["mode"] == "off"


# --- Refusals: the right error, the twin untouched ---------------------------------------------------


def _refused(doc: TwinDocument, body: Any, error: type[Exception], limits: TwinLimits | None = None) -> Exception:
    before = copy.deepcopy(doc)
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(error) as caught:
        apply_update(doc, parse_update(raw, limits), T0 + 50, limits=limits)
    assert doc == before, "a refused update changed the twin"
    return caught.value


def test_an_oversize_state_is_refused_with_413(twin):
    exc = _refused(twin, {"state": {"desired": {"blob": "x" * 8200}}}, TwinTooLarge)
    assert exc.status == 413 and exc.detail.startswith("state:")


def test_an_update_that_makes_desired_plus_reported_oversize_is_refused_with_413(twin):
    doc = _apply(twin, {"state": {"reported": {"log": "x" * 5000}}})
    exc = _refused(doc, {"state": {"desired": {"note": "y" * 4000}}}, TwinTooLarge)
    assert "desired + reported" in exc.detail


def test_a_state_deeper_than_six_levels_is_refused_with_400(twin):
    six = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert _apply(twin, {"state": {"desired": six}}).desired["a"] == six["a"]
    exc = _refused(twin, {"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}, TwinInvalid)
    assert exc.status == 400
    assert exc.detail == "state.desired.a.b.c.d.e.f.g: JSON contains too many levels of nesting; maximum is 6"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        ({"desired": {"a": 1}}, "state"),
        ({"state": "on"}, "state"),
        ({"state": {"desired": [1]}}, "state.desired"),
        ({"state": {"reported": 5}}, "state.reported"),
        ({"state": {"delta": {"a": 1}}}, "state.delta"),
        ({"state": {"desired": {"colors": [None, "RED"]}}}, "state.desired.colors[0]"),
        ({"state": {"desired": {"a": 1}}, "version": "3"}, "version"),
        ({"state": {"desired": {"a": 1}}, "version": True}, "version"),
        ({"state": {"desired": {"a": 1}}, "clientToken": "x" * 65}, "clientToken"),
        ({"state": {"desired": {"a": 1}}, "clientToken": 7}, "clientToken"),
        ({"state": {"desired": {"a": 1}}, "metadata": {}}, "metadata"),
        ({"state": {"desired": {"a": 1}}, "if": {"mode": "eco"}}, "if.mode"),
        ({"state": {"desired": {"a": 1}}, "if": {"reported.mode": None}}, "if.reported.mode"),
        ({"state": {"desired": {"a": 1}}, "if": {"reported.mode": {"$gt": 1}}}, "if.reported.mode"),
        ({"state": {"desired": {"a": 1}}, "if": {"reported.mode": {"$in": "eco"}}}, "if.reported.mode.$in"),
        ({"state": {"desired": {"a": 1}}, "if": []}, "if"),
    ],
)
def test_malformed_updates_are_refused_with_400_naming_the_field(twin, body, field):
    exc = _refused(twin, body, TwinInvalid)
    assert exc.status == 400
    assert exc.detail.split(":", 1)[0] == field


def test_a_stale_version_is_refused_with_409(twin):
    exc = _refused(twin, {"state": {"desired": {"mode": "off"}}, "version": 1}, TwinVersionConflict)
    assert exc.status == 409 and exc.current_version == 2


@pytest.mark.parametrize(
    "condition",
    [
        {"reported.mode": "eco"},
        {"reported.mode": {"$in": ["eco", "off"]}},
        {"desired.fan.auto": 1},
        {"delta.fw": {"$exists": True}},
        {"reported.fw": {"$ne": "1.2"}},
        {"reported.mode": "boost", "desired.missing": {"$exists": True}},
    ],
)
def test_a_false_condition_is_refused_with_412(twin, condition):
    exc = _refused(twin, {"state": {"desired": {"mode": "off"}}, "if": condition}, TwinPreconditionFailed)
    assert exc.status == 412 and exc.detail.startswith("if.")


def test_the_version_is_checked_before_the_condition(twin):
    _refused(twin, {"state": {"desired": {"x": 1}}, "version": 9, "if": {"reported.mode": "eco"}}, TwinVersionConflict)


def test_a_raw_payload_beyond_the_guard_is_refused_before_parsing():
    with pytest.raises(TwinTooLarge):
        parse_update(b" " * (64 * 1024 + 1))
