"""Verifies Cognito JWTs against the pool's JWKS (fetched once, refreshed on an unknown key id).

Tenant and role come only from verified claims: ``custom:tenant_id`` and ``cognito:groups``.
ID tokens carry the audience in ``aud``; access tokens carry it in ``client_id``; both are
accepted when the client id is one of the pool's app clients.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from pulse.errors import Unauthorized
from pulse.identity.models import Principal, strongest_role
from pulse.settings import Settings

JwksFetcher = Callable[[str], dict[str, Any]]
_MIN_REFRESH_S = 30  # an unknown kid never makes us hammer the JWKS endpoint


_LOOPBACK_PREFIXES = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")


def fetch_jwks(url: str) -> dict[str, Any]:
    """The pool's keys over https; plain http only on loopback (the local emulator of ``make dev``)."""
    if not url.startswith(("https://", *_LOOPBACK_PREFIXES)):
        raise Unauthorized("the JWKS URL must use https")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - scheme checked above
        document: dict[str, Any] = json.loads(response.read())
    return document


class TokenVerifier:
    """One per process; keeps the pool's public keys between requests."""

    def __init__(
        self,
        *,
        issuer: str,
        client_ids: tuple[str, ...],
        jwks_url: str | None = None,
        cache_s: int = 3600,
        fetcher: JwksFetcher = fetch_jwks,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._client_ids = frozenset(client_ids)
        self._jwks_url = jwks_url or f"{self._issuer}/.well-known/jwks.json"
        self._cache_s = cache_s
        self._fetcher = fetcher
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings, fetcher: JwksFetcher = fetch_jwks) -> TokenVerifier:
        return cls(
            issuer=settings.auth_issuer,
            client_ids=settings.auth_client_ids,
            jwks_url=settings.auth_jwks_url,
            cache_s=settings.jwks_cache_s,
            fetcher=fetcher,
        )

    def _refresh(self) -> None:
        document = self._fetcher(self._jwks_url)
        self._keys = {
            k["kid"]: RSAAlgorithm.from_jwk(k) for k in document.get("keys", []) if k.get("kty") == "RSA" and "kid" in k
        }
        self._fetched_at = self._clock()

    def _key(self, kid: str) -> Any:
        age = self._clock() - self._fetched_at
        if age > self._cache_s or (kid not in self._keys and age > _MIN_REFRESH_S):
            self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthorized("the token was signed by an unknown key") from None

    def verify(self, token: str) -> Principal:
        if not self._issuer:
            raise Unauthorized("token verification is not configured (PULSE_AUTH_ISSUER)")
        try:
            header = jwt.get_unverified_header(token)
            key = self._key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        token_use = claims.get("token_use")  # "id" or "access", not a secret
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")  # noqa: S105
        if token_use not in ("id", "access") or audience not in self._client_ids:
            raise Unauthorized("the token was not issued to a Pulse client")
        groups = claims.get("cognito:groups") or []
        role = strongest_role(groups if isinstance(groups, list) else [])
        if role is None:
            raise Unauthorized("the user belongs to no Pulse group")
        tenant = claims.get("custom:tenant_id") or None
        if tenant is None and not role.startswith("operator"):
            raise Unauthorized("the customer token carries no tenant")
        username = claims.get("cognito:username") or claims.get("username") or claims["sub"]
        return Principal(
            subject=str(claims["sub"]), username=str(username), email=claims.get("email"), role=role, tenant_id=tenant
        )
