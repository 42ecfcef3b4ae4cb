"""Keyset pagination: an opaque cursor holding the sort key of the last row returned.

The cursor also records which sort it belongs to, so a cursor replayed with another sort is a
400 rather than a silently wrong page. Every list in the API pages this way (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from pulse.errors import RequestInvalid

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(sort: str, values: list[Any]) -> str:
    raw = orjson.dumps({"s": sort, "v": values}, default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str) -> list[Any] | None:
    if not cursor:
        return None
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise RequestInvalid("cursor: not a cursor this API issued") from None
    if not isinstance(doc, dict) or doc.get("s") != sort or not isinstance(doc.get("v"), list):
        raise RequestInvalid("cursor: it belongs to another sort order or list") from None
    values: list[Any] = doc["v"]
    return values


def keyset_page(rows: Sequence[T], limit: int, sort: str, key: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (read with ``limit + 1``) and the cursor after the last of them,
    None when nothing follows; ``key`` gives a row's sort key as the store's keyset comparison reads it."""
    items = list(rows[:limit])
    return items, encode_cursor(sort, key(items[-1])) if len(rows) > limit else None
