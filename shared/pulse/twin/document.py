"""The twin document and how an update changes it (pure, no I/O): AWS Device Shadow semantics.

- ``desired`` / ``reported`` take a partial deep merge: objects merge key by key, ``null`` deletes
  a key, ``"desired": null`` clears the section, arrays and scalars replace the old value whole.
- ``delta`` is computed: every desired key whose value differs from reported (objects compared
  key by key, arrays and scalars whole, JSON-typed so ``1`` differs from ``true``); a key absent
  from reported is in the delta; reported keys absent from desired are not.
- ``metadata`` mirrors each section with ``{"timestamp": <epoch s>}`` per leaf (per array
  element, as AWS), stamped when that leaf was last written.
- ``version`` increments on every accepted update; a request ``version`` must equal the current
  one (``TwinVersionConflict``). ``timestamp`` is the time of the last accepted update.
- Beyond AWS: the request's ``if`` predicate (``TwinPreconditionFailed`` when false) and auto-clear,
  which leaves in desired only what is still in the delta (satisfied keys removed in the same
  revision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pulse.twin.errors import TwinPreconditionFailed, TwinTooLarge, TwinVersionConflict
from pulse.twin.request import SECTIONS, Term, TwinLimits, TwinUpdate

JsonObject = dict[str, Any]
MISSING: Any = object()  # value_at() of an absent path


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: booleans are not numbers, ``1`` equals ``1.0``, arrays in order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def compute_delta(desired: JsonObject, reported: JsonObject) -> JsonObject:
    delta: JsonObject = {}
    for key, want in desired.items():
        if key not in reported:
            delta[key] = want
            continue
        have = reported[key]
        if isinstance(want, dict) and isinstance(have, dict):
            sub = compute_delta(want, have)
            if sub:
                delta[key] = sub
        elif not json_equal(want, have):
            delta[key] = want
    return delta


def leaf_metadata(value: Any, now: int) -> Any:
    """Metadata of a freshly written value: a timestamp per leaf and per array element."""
    if isinstance(value, dict):
        return {k: leaf_metadata(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [leaf_metadata(v, now) for v in value]
    return {"timestamp": now}


def project_metadata(metadata: JsonObject, shape: JsonObject) -> JsonObject:
    """The part of ``metadata`` under the keys of ``shape`` (e.g. the delta's metadata)."""
    out: JsonObject = {}
    for key, value in shape.items():
        meta = metadata.get(key, {})
        out[key] = project_metadata(meta, value) if isinstance(value, dict) and isinstance(meta, dict) else meta
    return out


def leaf_paths(value: JsonObject, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the leaves of an object; arrays and empty objects are leaves."""
    paths: list[tuple[str, ...]] = []
    for key, child in value.items():
        if isinstance(child, dict) and child:
            paths.extend(leaf_paths(child, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


def pointer(path: tuple[str, ...]) -> str:
    """RFC 6901 JSON Pointer of a path (``("a", "b/c")`` -> ``/a/b~1c``)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def parse_pointer(text: str) -> tuple[str, ...]:
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in text.split("/")[1:])


def value_at(document: JsonObject, path: tuple[str, ...]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def _merge(target: JsonObject, meta: JsonObject, patch: JsonObject, now: int) -> tuple[JsonObject, JsonObject]:
    out, out_meta = dict(target), dict(meta)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
            out_meta.pop(key, None)
        elif isinstance(value, dict):
            base, base_meta = out.get(key), out_meta.get(key)
            if not isinstance(base, dict):
                base, base_meta = {}, {}
            out[key], out_meta[key] = _merge(base, base_meta if isinstance(base_meta, dict) else {}, value, now)
        else:
            out[key] = orjson.loads(orjson.dumps(value)) if isinstance(value, list) else value
            out_meta[key] = leaf_metadata(value, now)
    return out, out_meta


@dataclass(frozen=True, slots=True)
class TwinDocument:
    """A twin's state. Never mutated: an update returns a new document."""

    desired: JsonObject = field(default_factory=dict)
    reported: JsonObject = field(default_factory=dict)
    metadata_desired: JsonObject = field(default_factory=dict)
    metadata_reported: JsonObject = field(default_factory=dict)
    version: int = 0
    timestamp: int = 0

    @property
    def delta(self) -> JsonObject:
        return compute_delta(self.desired, self.reported)

    def state_bytes(self) -> int:
        return len(orjson.dumps(self.desired)) + len(orjson.dumps(self.reported))

    def to_storage(self) -> JsonObject:
        return {
            "state": {"desired": self.desired, "reported": self.reported},
            "metadata": {"desired": self.metadata_desired, "reported": self.metadata_reported},
            "version": self.version,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_storage(cls, stored: JsonObject) -> TwinDocument:
        state, metadata = stored.get("state", {}), stored.get("metadata", {})
        return cls(
            desired=state.get("desired") or {},
            reported=state.get("reported") or {},
            metadata_desired=metadata.get("desired") or {},
            metadata_reported=metadata.get("reported") or {},
            version=int(stored.get("version", 0)),
            timestamp=int(stored.get("timestamp", 0)),
        )

    def to_response(self, client_token: str | None = None) -> JsonObject:
        """The full document as AWS's GetThingShadow / ``get/accepted`` returns it."""
        state: JsonObject = {}
        metadata: JsonObject = {}
        for name in SECTIONS:
            if getattr(self, name):
                state[name] = getattr(self, name)
                metadata[name] = getattr(self, f"metadata_{name}")
        delta = self.delta
        if delta:
            state["delta"] = delta
        body: JsonObject = {"state": state, "metadata": metadata, "version": self.version, "timestamp": self.timestamp}
        if client_token is not None:
            body["clientToken"] = client_token
        return body

    def delta_message(self, client_token: str | None = None) -> JsonObject:
        """The ``twin/delta`` body (AWS ``/update/delta``): the whole current delta."""
        delta = self.delta
        body: JsonObject = {
            "state": delta,
            "metadata": project_metadata(self.metadata_desired, delta),
            "version": self.version,
            "timestamp": self.timestamp,
        }
        if client_token is not None:
            body["clientToken"] = client_token
        return body


@dataclass(frozen=True, slots=True)
class TwinChange:
    """The outcome of an accepted update."""

    before: TwinDocument
    after: TwinDocument
    update: TwinUpdate
    desired_set: tuple[tuple[str, ...], ...]  # desired leaf paths this update wrote
    cleared: tuple[tuple[str, ...], ...]  # desired leaf paths auto-clear removed

    @property
    def desired_changed(self) -> bool:
        return self.update.touches_desired or bool(self.cleared)

    def accepted_message(self) -> JsonObject:
        """The ``twin/update/accepted`` body (AWS ``/update/accepted``): the request's sections with
        a timestamp per written leaf, the new version."""
        state: JsonObject = {}
        metadata: JsonObject = {}
        now = self.after.timestamp
        for name in SECTIONS:
            value = getattr(self.update, name)
            if value is not None:
                state[name] = value
                metadata[name] = leaf_metadata(value, now)
            elif getattr(self.update, f"clear_{name}"):
                state[name] = None
                metadata[name] = {"timestamp": now}
        body: JsonObject = {"state": state, "metadata": metadata, "version": self.after.version, "timestamp": now}
        if self.update.client_token is not None:
            body["clientToken"] = self.update.client_token
        return body

    def delta_message(self) -> JsonObject | None:
        """The ``twin/delta`` publication, when this update wrote desired and something is pending."""
        if not self.update.touches_desired or not self.after.delta:
            return None
        return self.after.delta_message(self.update.client_token)


def check_condition(document: TwinDocument, terms: tuple[Term, ...]) -> None:
    views = {"desired": document.desired, "reported": document.reported, "delta": document.delta}
    for term in terms:
        found = value_at(views[term.path[0]], term.path[1:])
        if term.op == "$exists":
            holds = (found is not MISSING) == term.operand
        elif term.op == "$eq":
            holds = found is not MISSING and json_equal(found, term.operand)
        elif term.op == "$ne":
            holds = found is MISSING or not json_equal(found, term.operand)
        else:  # $in
            holds = found is not MISSING and any(json_equal(found, v) for v in term.operand)
        if not holds:
            shown = "absent" if found is MISSING else orjson.dumps(found).decode()[:80]
            raise TwinPreconditionFailed(
                f"if.{term.field}: condition {term.op} {orjson.dumps(term.operand).decode()[:80]} is false ({shown})"
            )


def apply_update(
    document: TwinDocument, update: TwinUpdate, now: int, *, auto_clear: bool = False, limits: TwinLimits | None = None
) -> TwinChange:
    """The document after ``update`` at ``now`` (epoch seconds), or a refusal; ``document`` is untouched."""
    limits = limits or TwinLimits()
    if update.version is not None and update.version != document.version:
        raise TwinVersionConflict(
            f"version: Version conflict (current {document.version}, request {update.version})", document.version
        )
    check_condition(document, update.condition)
    sections: dict[str, tuple[JsonObject, JsonObject]] = {}
    for name in SECTIONS:
        value, meta = getattr(document, name), getattr(document, f"metadata_{name}")
        if getattr(update, f"clear_{name}"):
            value, meta = {}, {}
        patch = getattr(update, name)
        if patch is not None:
            value, meta = _merge(value, meta, patch, now)
        sections[name] = (value, meta)
    desired, desired_meta = sections["desired"]
    reported, reported_meta = sections["reported"]
    cleared: tuple[tuple[str, ...], ...] = ()
    if auto_clear:
        pending = compute_delta(desired, reported)
        kept = set(leaf_paths(pending))
        cleared = tuple(p for p in leaf_paths(desired) if p not in kept)
        desired, desired_meta = pending, project_metadata(desired_meta, pending)
    after = TwinDocument(
        desired=desired,
        reported=reported,
        metadata_desired=desired_meta,
        metadata_reported=reported_meta,
        version=document.version + 1,
        timestamp=now,
    )
    size = after.state_bytes()
    if size > limits.max_state_bytes:
        raise TwinTooLarge(
            f"state: The payload exceeds the maximum size allowed (desired + reported would be "
            f"{size} > {limits.max_state_bytes} bytes)"
        )
    written = tuple(leaf_paths(_without_nulls(update.desired))) if update.desired is not None else ()
    return TwinChange(before=document, after=after, update=update, desired_set=written, cleared=cleared)


def _without_nulls(value: JsonObject) -> JsonObject:
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}
