"""Versioned wire contracts, generated from the pydantic models and committed as JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulse.connect.envelope import EnvelopeV1

SCHEMA_DIR = Path(__file__).parent / "schemas"

# file name -> generator; a test fails when a committed file differs from what its model generates
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "envelope-v1.schema.json": lambda: EnvelopeV1.model_json_schema(mode="validation"),
}


def render(name: str) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **SCHEMAS[name]()}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all() -> list[Path]:
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = SCHEMA_DIR / name
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def stale() -> list[str]:
    """Names of committed schemas that no longer match their models."""
    return [
        name
        for name in SCHEMAS
        if not (SCHEMA_DIR / name).exists() or (SCHEMA_DIR / name).read_text(encoding="utf-8") != render(name)
    ]
