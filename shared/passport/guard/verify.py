"""Access token verification (RFC 9068 section 4): signature against a published key, the key's own
algorithm only, ``typ`` at+jwt, issuer, audience, and exp/nbf/iat within the configured leeway."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from passport.keys.material import VerificationKey

_REQUIRED = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
#: A token with an unknown kid makes the guard re-read the key set (a rotation may have published a key),
#: but at most this often, so a stream of made-up kids cannot turn into a stream of key reads.
RELOAD_INTERVAL_SECONDS = 10.0
_TYPES = {"at+jwt", "application/at+jwt"}
#: Every token signed with one key has the same header segment, so its parse is remembered (boundedly).
_HEADER_MEMO_SIZE = 64


class InvalidToken(Exception):
    """The token cannot be accepted; the message says why (for logs, never for the caller)."""


def _header(segment: str) -> dict[str, Any]:
    """The JOSE header, read only to choose the key: ``jwt.decode`` validates it fully afterwards. (PyJWT's
    ``get_unverified_header`` scans the whole token character by character, as much work again as a decode.)"""
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        raise InvalidToken("malformed header") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed header")
    return header


class TokenVerifier:
    def __init__(
        self,
        keys: Callable[[], Mapping[str, VerificationKey]],
        *,
        issuer: str,
        audience: str,
        leeway: int,
        reload_keys: Callable[[], Mapping[str, VerificationKey]] | None = None,
    ) -> None:
        self._keys = keys
        self._reload = reload_keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._options = {"require": _REQUIRED}
        self._last_reload = -RELOAD_INTERVAL_SECONDS
        self._headers: dict[str, dict[str, Any]] = {}

    def verify(self, token: str) -> dict[str, Any]:
        header = self._header(token.partition(".")[0])
        # RFC 9068 4: "verify that the typ header value is at+jwt or application/at+jwt and reject tokens
        # carrying any other value"
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _TYPES:
            raise InvalidToken("typ is not at+jwt")
        key = self._key_for(header.get("kid"))
        # One algorithm per key: never `none`, never HS* with a public key, never a key under another alg.
        if header.get("alg") != key.alg:
            raise InvalidToken(f"alg {header.get('alg')!r} does not match the key")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[key.alg], audience=self._audience, issuer=self._issuer,
                leeway=self._leeway, options=self._options,
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from None
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("client_id"), str):
            raise InvalidToken("sub and client_id must be strings")
        if not isinstance(claims.get("jti"), str):
            raise InvalidToken("jti must be a string")
        return claims

    def _header(self, segment: str) -> dict[str, Any]:
        header = self._headers.get(segment)
        if header is None:
            header = _header(segment)  # raises for a malformed one, which is never remembered
            if len(self._headers) >= _HEADER_MEMO_SIZE:
                self._headers.clear()  # made-up headers cannot grow the memo, only churn it
            self._headers[segment] = header
        return header

    def _key_for(self, kid: object) -> VerificationKey:
        if not isinstance(kid, str):
            raise InvalidToken("no kid")
        key = self._keys().get(kid)
        if key is None and self._reload is not None and time.monotonic() - self._last_reload >= RELOAD_INTERVAL_SECONDS:
            self._last_reload = time.monotonic()
            key = self._reload().get(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        return key
