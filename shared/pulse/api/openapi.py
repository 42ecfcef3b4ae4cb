"""The committed OpenAPI document: ``python -m pulse.api.openapi write|check``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "pulse-api.json"


def spec() -> dict[str, Any]:
    from datetime import UTC, datetime

    from pulse.api.app import create_app
    from pulse.api.deps import ApiServices
    from pulse.identity.tokens import TokenVerifier
    from pulse.settings import Settings

    def unused() -> Any:
        raise RuntimeError("not used to render the spec")

    svc = ApiServices(
        settings=Settings(),
        database=unused,
        verifier=TokenVerifier(issuer="", client_ids=()),
        identities=unused,
        clock=lambda: datetime.now(UTC),
    )
    document: dict[str, Any] = create_app(svc).openapi()
    return document


def render() -> bytes:
    return orjson.dumps(spec(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "write":
        SPEC_PATH.parent.mkdir(parents=True, exist_ok=True)
        SPEC_PATH.write_bytes(render())
        print(f"wrote {SPEC_PATH}")
        return 0
    if command == "check":
        if not SPEC_PATH.exists() or SPEC_PATH.read_bytes() != render():
            print(f"{SPEC_PATH} is stale: run python -m pulse.api.openapi write", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m pulse.api.openapi write|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
