"""Differential test: random desired/reported update sequences through Pulse's twin rules and through
moto's iot-data shadow must agree on desired, reported, delta, version (and the metadata's shape).

Where moto departs from AWS's documented behaviour, Pulse follows AWS and the comparison leaves out
exactly that difference (each listed with the AWS documentation sentence Pulse follows; quotes
from "Device Shadow service documents" and "Device Shadow error messages", AWS IoT Developer Guide):

1. ``"desired": null`` / ``"reported": null``: moto ignores a null section (``if desired_payload:``).
   AWS: "If an update causes the desired or reported properties to become null, it is removed from
   the document. The following shows how to remove the desired property by setting it to null."
   -> moto receives the equivalent request (every current top-level key set to null).
2. Empty sub-deltas: moto puts ``"k": {}`` in the delta when desired.k and reported.k are objects
   that agree on every desired field (reported has extra fields). AWS: "Fields that are in the
   reported section and not in the desired section are not included in the delta." and "When
   nested objects differ, the delta contains the path all the way to the root."
   -> empty objects are pruned from moto's delta where reported holds an object at that path.
3. Python equality: moto compares with ``==``, so ``true == 1`` and ``[1] == [true]``: no delta.
   AWS: "The Device Shadow service respects all rules of the JSON specification." (a boolean is
   not a number) -> Pulse's delta entries whose desired and reported are ``==`` in Python but not
   equal JSON values are left out of the comparison.
4. Metadata timestamps: moto stamps every leaf with the time of the latest update. AWS: metadata
   "includes timestamps, in Epoch time, for each attribute in the state section, which enables you
   to determine when they were updated." -> only the metadata's shape is compared, not its times.
5. Limits moto does not enforce (AWS refuses): "JSON contains too many levels of nesting; maximum
   is 6", "The payload exceeds the maximum size allowed" (8 KB state), "Arrays can't have null
   values", "Invalid clientToken" (over 64 bytes). -> the strategies stay inside them; the
   refusals are tested in test_twin_document.py.
6. A request ``version`` on a thing without a shadow crashes moto (``None.version``). -> versions
   are sent only once the shadow exists.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulse.twin.document import TwinDocument, apply_update, json_equal
from pulse.twin.errors import TwinVersionConflict
from pulse.twin.request import parse_update

KEYS = st.sampled_from(["mode", "temp", "fan", "led", "cfg"])
SCALARS = st.one_of(st.booleans(), st.integers(-2, 2), st.sampled_from(["eco", "boost", "off", ""]))
VALUES = st.recursive(
    SCALARS | st.lists(SCALARS, max_size=3),
    lambda inner: st.dictionaries(KEYS, inner | st.none(), max_size=3),
    max_leaves=6,
)
SECTION = st.dictionaries(KEYS, VALUES | st.none(), max_size=4)
_things = itertools.count()
STEP = st.fixed_dictionaries(
    {
        "section": st.sampled_from(["desired", "desired", "reported", "both", "converge", "converge"]),
        "converge": st.sampled_from(["exact", "ints_for_bools", "extra_fields"]),
        "desired": SECTION | st.none(),
        "reported": SECTION | st.none(),
        "version": st.sampled_from(["none", "current", "stale"]),
    }
)


def _device_report(delta: Any, style: str) -> Any:
    """What a device reports after applying a delta: exactly it, with 1/0 for true/false (C firmware),
    or with extra fields of its own in every object (reported keys desired never named)."""
    if isinstance(delta, dict):
        out = {k: _device_report(v, style) for k, v in delta.items()}
        if style == "extra_fields":
            out["uptime"] = 1
        return out
    if isinstance(delta, bool) and style == "ints_for_bools":
        return int(delta)
    if isinstance(delta, list):
        return [_device_report(v, style) for v in delta]
    return delta


def _moto_section(value: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any] | None:
    """Deviation 1: a null section becomes an explicit null per current key."""
    if value is None:
        return dict.fromkeys(current)
    return value


def _prune_moto_empty_subdeltas(delta: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """Deviation 2."""
    out: dict[str, Any] = {}
    for key, value in delta.items():
        have = reported.get(key)
        kept = _prune_moto_empty_subdeltas(value, have) if isinstance(value, dict) and isinstance(have, dict) else value
        if kept != {} or not isinstance(have, dict):
            out[key] = kept
    return out


def _drop_python_equal(delta: dict[str, Any], desired: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """Deviation 3."""
    out: dict[str, Any] = {}
    for key, value in delta.items():
        want, have = desired[key], reported.get(key, object())
        if want == have and not json_equal(want, have):
            continue
        if isinstance(value, dict) and isinstance(want, dict) and isinstance(have, dict):
            nested = _drop_python_equal(value, want, have)
            if nested:
                out[key] = nested
        else:
            out[key] = value
    return out


def _shape(metadata: Any) -> Any:
    """Deviation 4: metadata without its times."""
    if isinstance(metadata, dict):
        if set(metadata) == {"timestamp"} and isinstance(metadata["timestamp"], int):
            return "leaf"
        return {k: _shape(v) for k, v in metadata.items()}
    if isinstance(metadata, list):
        return [_shape(v) for v in metadata]
    return metadata


@pytest.fixture
def iot_data(aws):
    return boto3.client("iot-data", region_name="eu-west-1")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_pulse_twin_agrees_with_the_shadow_service(iot_data, steps):
    thing = f"diff-{next(_things)}"  # moto's state outlives one example: a fresh thing each time
    boto3.client("iot", region_name="eu-west-1").create_thing(thingName=thing)
    doc = TwinDocument()
    for now, drawn in enumerate(steps, start=1_700_000_000):
        step = drawn
        if drawn["section"] == "converge":
            step = {**drawn, "section": "reported", "reported": _device_report(doc.delta, drawn["converge"])}
        sections = ["desired", "reported"] if step["section"] == "both" else [step["section"]]
        request: dict[str, Any] = {"state": {s: step[s] for s in sections}, "clientToken": f"t{now}"}
        moto_request: dict[str, Any] = {"state": {s: _moto_section(step[s], getattr(doc, s)) for s in sections}}
        if doc.version > 0 and step["version"] != "none":
            version = doc.version if step["version"] == "current" else doc.version - 1
            request["version"] = moto_request["version"] = version

        try:
            change = apply_update(doc, parse_update(json.dumps(request).encode()), now)
        except TwinVersionConflict:
            change = None
        try:
            iot_data.update_thing_shadow(thingName=thing, payload=json.dumps(moto_request).encode())
            moto_accepted = True
        except iot_data.exceptions.ConflictException:
            moto_accepted = False

        assert (change is not None) == moto_accepted, f"acceptance differs on {request}"
        if change is not None:
            doc = change.after
            assert change.accepted_message()["clientToken"] == f"t{now}"

        shadow = json.loads(iot_data.get_thing_shadow(thingName=thing)["payload"].read())
        state = shadow["state"]
        assert doc.version == shadow["version"]
        assert doc.desired == state.get("desired", {})
        assert doc.reported == state.get("reported", {})
        moto_delta = _prune_moto_empty_subdeltas(state.get("delta", {}), doc.reported)
        assert _drop_python_equal(doc.delta, doc.desired, doc.reported) == moto_delta
        assert _shape(doc.metadata_desired) == _shape(shadow["metadata"].get("desired", {}))
        assert _shape(doc.metadata_reported) == _shape(shadow["metadata"].get("reported", {}))
