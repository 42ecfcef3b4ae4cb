"""Envelope v1: what a device may send, and the named reason for everything it may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulse import contracts
from pulse.connect.envelope import EnvelopeError, message_key, validate_envelope
from pulse.connect.quarantine import QuarantineReason

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LIMITS = {
    "now": NOW,
    "max_bytes": 128 * 1024,
    "max_metrics": 200,
    "max_skew": timedelta(minutes=5),
    "max_age": timedelta(days=7),
}


def _payload(**fields) -> bytes:
    doc = {"v": 1, "ts": int(NOW.timestamp() * 1000), "metrics": {"temp_c": 21.5}} | fields
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


def _reason(payload: bytes) -> QuarantineReason:
    with pytest.raises(EnvelopeError) as caught:
        validate_envelope(payload, **LIMITS)
    return caught.value.reason


def test_valid_envelope_normalizes_timestamp_and_values():
    env = validate_envelope(
        _payload(metrics={"temp_c": 21, "door_open": True}, msg_id="a1", seq=5, lat=48.1, lng=11.6, site_id="munich"),
        **LIMITS,
    )
    assert env.timestamp == NOW
    assert env.metrics == {"temp_c": 21.0, "door_open": True}
    assert isinstance(env.metrics["door_open"], bool)


def test_rfc3339_timestamp_with_offset_is_accepted_and_converted_to_utc():
    env = validate_envelope(_payload(ts="2026-11-22T13:00:00+01:00"), **LIMITS)
    assert env.timestamp == NOW


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x01garbage", QuarantineReason.MALFORMED_JSON),
        (b"[1,2,3]", QuarantineReason.SCHEMA_VIOLATION),
        (_payload(v=2), QuarantineReason.UNSUPPORTED_VERSION),
        (_payload(v="1"), QuarantineReason.SCHEMA_VIOLATION),
        (_payload(v=...), QuarantineReason.SCHEMA_VIOLATION),
        (_payload(ts="yesterday"), QuarantineReason.SCHEMA_VIOLATION),
        (_payload(ts="2026-11-22T12:00:00"), QuarantineReason.SCHEMA_VIOLATION),  # no offset: ambiguous
        (_payload(extra_field=1), QuarantineReason.SCHEMA_VIOLATION),
        (_payload(lat=91), QuarantineReason.SCHEMA_VIOLATION),
        (_payload(metrics={"temp_c": "21"}), QuarantineReason.BAD_METRIC),
        (_payload(metrics={"9lives": 1}), QuarantineReason.BAD_METRIC),
        (_payload(metrics={"a b": 1}), QuarantineReason.BAD_METRIC),
        (_payload(metrics={"temp": None}), QuarantineReason.BAD_METRIC),
        (_payload(metrics={"temp": [1]}), QuarantineReason.BAD_METRIC),
        (_payload(metrics={f"m{i}": i for i in range(201)}), QuarantineReason.TOO_MANY_METRICS),
        (_payload(ts=int((NOW + timedelta(minutes=6)).timestamp() * 1000)), QuarantineReason.TIMESTAMP_OUT_OF_RANGE),
        (_payload(ts=int((NOW - timedelta(days=8)).timestamp() * 1000)), QuarantineReason.TIMESTAMP_OUT_OF_RANGE),
        (_payload(note="x" * (129 * 1024)), QuarantineReason.PAYLOAD_TOO_LARGE),
    ],
)
def test_each_defect_has_its_reason(payload, reason):
    assert _reason(payload) is reason


@pytest.mark.parametrize("literal", [b"1e999", b"NaN", b"Infinity"])
def test_non_finite_number_is_not_json(literal):
    assert _reason(_payload(metrics={"t": 1}).replace(b'"t":1', b'"t":' + literal)) is QuarantineReason.MALFORMED_JSON


def test_error_detail_names_the_field():
    with pytest.raises(EnvelopeError) as caught:
        validate_envelope(_payload(metrics={"temp_c": "hot"}), **LIMITS)
    assert caught.value.detail.startswith("metrics.temp_c")


def test_message_key_prefers_msg_id_then_seq_then_payload_digest():
    with_id = validate_envelope(_payload(msg_id="m-1", seq=3), **LIMITS)
    with_seq = validate_envelope(_payload(seq=3), **LIMITS)
    bare = _payload()
    assert message_key(with_id, b"") == "m-1"
    assert message_key(with_seq, b"") == "seq:3"
    assert message_key(validate_envelope(bare, **LIMITS), bare) == message_key(validate_envelope(bare, **LIMITS), bare)
    assert message_key(validate_envelope(bare, **LIMITS), bare).startswith("sha:")


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
        st.one_of(st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)),
        min_size=1,
        max_size=50,
    )
)
def test_any_well_formed_metric_set_is_accepted_unchanged(metrics):
    env = validate_envelope(_payload(metrics=metrics), **LIMITS)
    assert env.metrics.keys() == metrics.keys()
    for name, value in metrics.items():
        assert env.metrics[name] == value
        assert isinstance(env.metrics[name], bool) == isinstance(value, bool)


def test_committed_json_schema_matches_the_model():
    assert contracts.stale() == [], "run `python -m pulse contracts write` and commit the result"
