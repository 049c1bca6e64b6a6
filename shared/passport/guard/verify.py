"""Access token verification (RFC 9068 section 4): signature against a published key, the key's own
algorithm only, ``typ`` at+jwt, issuer, audience, and exp/nbf/iat within the configured leeway."""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from passport.keys.keyring import RELOAD_INTERVAL_SECONDS
from passport.keys.material import VerificationKey

_REQUIRED = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
#: A token with an unknown kid makes the guard re-read the key set (a rotation may have published a key),
#: but at most this often, so a stream of made-up kids cannot turn into a stream of key reads.
_TYPES = {"at+jwt", "application/at+jwt"}
#: Every token signed with one key has the same header segment, so its parse is remembered (boundedly).
_HEADER_MEMO_SIZE = 64


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.cache
def _algorithm(alg: str) -> jwt.algorithms.Algorithm:
    """PyJWT's implementation of a JWS algorithm (its ES256 turns the raw r||s signature into DER)."""
    return jwt.get_algorithm_by_name(alg)


class InvalidToken(Exception):
    """The token cannot be accepted; the message says why (for logs, never for the caller)."""


def _header(segment: str) -> dict[str, Any]:
    """The JOSE header (RFC 7515 4): it names the key, and the signature covers it."""
    try:
        header = json.loads(_b64decode(segment))
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
        self._last_reload = -RELOAD_INTERVAL_SECONDS
        self._headers: dict[str, dict[str, Any]] = {}

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token that passes every check, or :class:`InvalidToken`.

        The JWS is taken apart here (RFC 7515 5.2) and its signature checked by PyJWT's own implementation of
        the key's algorithm; the claims are checked as ``jwt.decode`` checks them (same rules, same leeway).
        ``jwt.decode``'s generic plumbing (re-parsing the header, option merging, datetime handling) is most of
        its cost above the signature check, and the guard runs on every API call."""
        header_segment, _, rest = token.partition(".")
        payload_segment, dot, signature_segment = rest.partition(".")
        if not dot or "." in signature_segment:
            raise InvalidToken("not a compact JWS")
        header = self._header(header_segment)
        # RFC 9068 4: "verify that the typ header value is at+jwt or application/at+jwt and reject tokens
        # carrying any other value"
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _TYPES:
            raise InvalidToken("typ is not at+jwt")
        # RFC 7515 4.1.11: extensions we do not understand must be refused; we issue none (nor b64, RFC 7797).
        if "crit" in header or "b64" in header:
            raise InvalidToken("unsupported header extension")
        key = self._key_for(header.get("kid"))
        # One algorithm per key: never `none`, never HS* with a public key, never a key under another alg.
        if header.get("alg") != key.alg:
            raise InvalidToken(f"alg {header.get('alg')!r} does not match the key")
        try:
            signature = _b64decode(signature_segment)
            signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
        except (ValueError, TypeError, UnicodeError):
            raise InvalidToken("malformed signature") from None
        if not _algorithm(key.alg).verify(signing_input, key.key, signature):
            raise InvalidToken("bad signature")
        try:
            claims = json.loads(_b64decode(payload_segment))
        except (ValueError, TypeError, UnicodeError):
            raise InvalidToken("malformed claims") from None
        if not isinstance(claims, dict):
            raise InvalidToken("malformed claims")
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """RFC 9068 4 and RFC 7519 4.1: the required claims, iss exactly, aud containing ours, and exp, nbf
        and iat against the clock with the configured leeway."""
        for name in _REQUIRED:
            if claims.get(name) is None:
                raise InvalidToken(f"missing {name}")
        if claims["iss"] != self._issuer:
            raise InvalidToken("wrong issuer")
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or self._audience not in audiences:
            raise InvalidToken("wrong audience")
        now = time.time()
        exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", 0)
        if not all(_is_number(v) for v in (exp, iat, nbf)):
            raise InvalidToken("exp, iat and nbf must be numbers")
        if exp <= now - self._leeway:
            raise InvalidToken("expired")
        if nbf > now + self._leeway or iat > now + self._leeway:
            raise InvalidToken("not yet valid")
        if not isinstance(claims["sub"], str) or not isinstance(claims["client_id"], str):
            raise InvalidToken("sub and client_id must be strings")
        if not isinstance(claims["jti"], str):
            raise InvalidToken("jti must be a string")

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
