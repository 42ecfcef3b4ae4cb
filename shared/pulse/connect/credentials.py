"""HTTP device tokens: a random 256-bit secret, stored only as its SHA-256, compared in constant time.

A 256-bit random secret cannot be brute-forced, so a fast hash is the right one (a slow password
hash would only cost every ingest request time).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "pdt_"  # noqa: S105 - a public prefix that makes leaked tokens recognisable


def new_device_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(token: str | None, stored_hash: bytes | None) -> bool:
    if not token or stored_hash is None:
        return False
    return hmac.compare_digest(hash_device_token(token), bytes(stored_hash))
