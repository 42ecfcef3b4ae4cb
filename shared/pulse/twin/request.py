"""A twin update request, parsed and validated before it touches any state (pure, no I/O).

Request form (AWS Device Shadow, plus ``if``)::

    {"state": {"desired": {...} | null, "reported": {...} | null},
     "version": 7, "clientToken": "abc", "if": {"reported.mode": "eco"}}

Refusals name their field (``state.desired.fan.speed: ...``) as ``TwinInvalid`` (400) or, for a
state larger than the limit, ``TwinTooLarge`` (413). Messages follow AWS's error strings where AWS
has one ("Missing required node: state", "JSON contains too many levels of nesting; maximum is 6").

Predicate (``if``, Pulse's addition): an object of up to 16 terms that must all hold on the twin as
it is before the update. Each key is a dotted path whose first segment is ``desired``, ``reported``
or ``delta`` (keys containing a dot cannot be addressed). Each value is either a literal (string,
number, boolean, array: equal, JSON-typed so ``1`` is not ``true``) or one operator object:
``{"$eq": v}``, ``{"$ne": v}`` (also true when the path is absent), ``{"$in": [v, ...]}``,
``{"$exists": true|false}``. ``null`` and other objects are refused as ambiguous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from pulse.twin.errors import TwinInvalid, TwinTooLarge

SECTIONS = ("desired", "reported")
_TOP_LEVEL = frozenset({"state", "version", "clientToken", "if"})
_OPERATORS = frozenset({"$eq", "$ne", "$in", "$exists"})
_PREDICATE_SECTIONS = frozenset({"desired", "reported", "delta"})
MAX_PREDICATE_TERMS = 16


@dataclass(frozen=True, slots=True)
class TwinLimits:
    """AWS's Device Shadow quotas, overridable for tests and plans."""

    max_state_bytes: int = 8 * 1024  # desired + reported, UTF-8 JSON, metadata excluded
    max_depth: int = 6  # key levels inside desired / reported: {"a": 1} is one level
    max_client_token_bytes: int = 64
    max_payload_bytes: int = 64 * 1024  # raw request guard, checked before parsing


@dataclass(frozen=True, slots=True)
class Term:
    """One predicate term: ``path`` (section first) ``op`` ``operand``."""

    path: tuple[str, ...]
    op: str
    operand: Any

    @property
    def field(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class TwinUpdate:
    """A valid update. A section is ``None`` when absent, ``CLEAR`` when sent as ``null``."""

    desired: dict[str, Any] | None
    reported: dict[str, Any] | None
    clear_desired: bool = False
    clear_reported: bool = False
    version: int | None = None
    client_token: str | None = None
    condition: tuple[Term, ...] = ()

    @property
    def touches_desired(self) -> bool:
        return self.desired is not None or self.clear_desired

    def to_json(self) -> dict[str, Any]:
        """The request as received (for the revision history)."""
        state: dict[str, Any] = {}
        for name in SECTIONS:
            value = getattr(self, name)
            if value is not None or getattr(self, f"clear_{name}"):
                state[name] = value
        body: dict[str, Any] = {"state": state}
        if self.version is not None:
            body["version"] = self.version
        if self.client_token is not None:
            body["clientToken"] = self.client_token
        if self.condition:
            body["if"] = {t.field: {t.op: t.operand} for t in self.condition}
        return body


def client_token_of(payload: bytes | str | dict[str, Any]) -> str | None:
    """Best effort: the clientToken of a payload that may be refused (echoed in the rejection)."""
    try:
        body = payload if isinstance(payload, dict) else orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    token = body.get("clientToken") if isinstance(body, dict) else None
    return token if isinstance(token, str) and len(token.encode()) <= 64 else None


def parse_update(payload: bytes | str | dict[str, Any], limits: TwinLimits | None = None) -> TwinUpdate:
    limits = limits or TwinLimits()
    if isinstance(payload, dict):
        body: Any = payload
    else:
        raw = payload.encode() if isinstance(payload, str) else payload
        if len(raw) > limits.max_payload_bytes:
            raise TwinTooLarge("body: The payload exceeds the maximum size allowed")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise TwinInvalid("body: Invalid JSON") from None
    if not isinstance(body, dict):
        raise TwinInvalid("body: must be a JSON object")
    if "state" not in body:
        raise TwinInvalid("state: Missing required node: state")
    unknown = sorted(set(body) - _TOP_LEVEL)
    if unknown:
        raise TwinInvalid(f"{unknown[0]}: unknown field (allowed: state, version, clientToken, if)")
    client_token = _client_token(body, limits)
    version = _version(body)
    state = body["state"]
    if not isinstance(state, dict):
        raise TwinInvalid("state: State node must be an object")
    for key in state:
        if key not in SECTIONS:
            raise TwinInvalid(f"state.{key}: State contains an invalid node")
    sections: dict[str, dict[str, Any] | None] = {}
    for name in SECTIONS:
        if name not in state or state[name] is None:
            sections[name] = None
            continue
        value = state[name]
        if not isinstance(value, dict):
            raise TwinInvalid(f"state.{name}: {name.title()} node must be an object")
        _check_values(value, f"state.{name}", 0, limits.max_depth)
        sections[name] = value
    size = sum(len(orjson.dumps(v)) for v in sections.values() if v is not None)
    if size > limits.max_state_bytes:
        raise TwinTooLarge(
            f"state: The payload exceeds the maximum size allowed ({size} > {limits.max_state_bytes} bytes)"
        )
    return TwinUpdate(
        desired=sections["desired"],
        reported=sections["reported"],
        clear_desired="desired" in state and state["desired"] is None,
        clear_reported="reported" in state and state["reported"] is None,
        version=version,
        client_token=client_token,
        condition=parse_condition(body.get("if")),
    )


def _client_token(body: dict[str, Any], limits: TwinLimits) -> str | None:
    token = body.get("clientToken")
    if token is None:
        return None
    if not isinstance(token, str) or len(token.encode()) > limits.max_client_token_bytes:
        raise TwinInvalid(
            f"clientToken: Invalid clientToken (a string of at most {limits.max_client_token_bytes} bytes)"
        )
    return token


def _version(body: dict[str, Any]) -> int | None:
    version = body.get("version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise TwinInvalid("version: Invalid version (a non-negative integer)")
    return version


def _check_values(value: Any, where: str, depth: int, max_depth: int) -> None:
    """Depth counts key levels, an array of objects adding one: ``{"a": {"b": 1}}`` is two levels,
    ``{"a": [{"b": 1}]}`` three."""
    if isinstance(value, dict):
        for key, child in value.items():
            if depth + 1 > max_depth:
                raise TwinInvalid(f"{where}.{key}: JSON contains too many levels of nesting; maximum is {max_depth}")
            _check_values(child, f"{where}.{key}", depth + 1, max_depth)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None:
                raise TwinInvalid(f"{where}[{index}]: arrays can't have null values")
            _check_values(item, f"{where}[{index}]", depth + 1, max_depth)
    elif isinstance(value, float) and not math.isfinite(value):
        raise TwinInvalid(f"{where}: numbers must be finite")


def parse_condition(raw: Any) -> tuple[Term, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise TwinInvalid('if: must be a non-empty object of {"<section>.<path>": value | {"$op": value}}')
    if len(raw) > MAX_PREDICATE_TERMS:
        raise TwinInvalid(f"if: at most {MAX_PREDICATE_TERMS} terms")
    terms = []
    for key, spec in raw.items():
        path = tuple(key.split("."))
        if len(path) < 2 or path[0] not in _PREDICATE_SECTIONS or not all(path):
            raise TwinInvalid(f"if.{key}: path must be desired.<key>[.<key>...], reported.<...> or delta.<...>")
        terms.append(_term(key, path, spec))
    return tuple(terms)


def _term(key: str, path: tuple[str, ...], spec: Any) -> Term:
    if spec is None:
        raise TwinInvalid(f'if.{key}: null is ambiguous; use {{"$exists": false}}')
    if not isinstance(spec, dict):
        return Term(path, "$eq", spec)
    if len(spec) != 1 or next(iter(spec)) not in _OPERATORS:
        raise TwinInvalid(f'if.{key}: an object must be one operator: {{"$eq"|"$ne"|"$in"|"$exists": value}}')
    op, operand = next(iter(spec.items()))
    if op == "$exists" and not isinstance(operand, bool):
        raise TwinInvalid(f"if.{key}.$exists: must be true or false")
    if op == "$in" and not isinstance(operand, list):
        raise TwinInvalid(f"if.{key}.$in: must be an array")
    if op in ("$eq", "$ne") and operand is None:
        raise TwinInvalid(f'if.{key}.{op}: null is ambiguous; use {{"$exists": ...}}')
    return Term(path, op, operand)
