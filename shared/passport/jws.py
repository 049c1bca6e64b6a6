"""The one verifier of every JWS this server accepts (RFC 7515, RFC 7519, RFC 9068, OpenID Connect Core 1.0 2).

Access tokens at the guard (the API Gateway authorizer and the in-process resource guard), at userinfo, at
introspection and revocation, and ID token hints at logout all pass through :class:`TokenVerifier`; each caller
names the audiences it serves. Its rules are those of PyJWT's ``jwt.decode`` on every point (a differential test
holds it to that, token by token) and stricter wherever a looser reading would let one token be spelt two ways or
let malformed input reach further than the first check:

- compact serialization only (RFC 7515 7.1): three segments, each base64url without padding and in canonical
  form (RFC 7515 2 and RFC 4648 3.5: the unused bits of the last character are zero), so a token has one spelling;
- the JOSE header (RFC 7515 4): a JSON object in UTF-8; ``kid`` names a published key and ``alg`` is that key's own
  algorithm (never ``none``, never HMAC with a public key: RFC 8725 3.1); no ``crit`` (4.1.11: we understand no
  extension) and no ``b64`` (RFC 7797); ``typ`` as the kind of token requires (RFC 9068 4: ``at+jwt``);
- the claims (RFC 7519 4.1): a JSON object in UTF-8, without ``NaN`` or ``Infinity``; ``iss`` exactly ours; ``aud``
  a string or a non-empty array of strings, holding an audience the caller serves; ``exp``, ``nbf`` and ``iat``
  finite NumericDates (2), compared as ``jwt.decode`` compares them (whole seconds, the same leeway); ``sub``,
  ``jti`` and the kind's other string claims strings; its required claims present.

A token that fails any rule raises :class:`InvalidToken`, and nothing else escapes :meth:`TokenVerifier.verify`
for anything a client can send: a refusal, never a crash. (A key source that cannot be read raises its own error,
which is the server's failure, not the client's.)

The guard runs this on every API call, so it does the work ``jwt.decode`` does without its generic plumbing: the
header of a key's tokens is parsed once and remembered, and the signature is checked by the key's one algorithm
(:mod:`passport.keys.jwa`, held to PyJWT's implementation by the tests) without importing PyJWT at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from passport.core.errors import PassportError
from passport.jose_text import COMPACT, InvalidBase64url, InvalidJson, decode_segment, json_object
from passport.keys import jwa
from passport.keys.material import VerificationKey

#: Far beyond any token this server signs (a few hundred bytes, a few KB with many scopes) and below API Gateway's
#: header limits: anything longer is refused before it is looked at.
MAX_TOKEN_LENGTH = 16 * 1024
#: Every token signed with one key has the same header segment, so its parse is remembered (boundedly).
_HEADER_MEMO_SIZE = 64


class InvalidToken(PassportError):
    """The token cannot be accepted; the message says why (for logs, never for the caller)."""


@dataclass(frozen=True)
class TokenKind:
    """What one kind of token must be beyond a valid JWS from this issuer."""

    name: str
    #: The ``typ`` header values accepted, lower-case (media types compare case-insensitively, RFC 7515 4.1.9).
    types: frozenset[str]
    #: Claims that must be present and not null (as ``jwt.decode``'s ``require`` option).
    required: tuple[str, ...]
    #: Claims that must be strings when present (``sub`` and ``jti`` are always checked, as ``jwt.decode`` does).
    strings: tuple[str, ...] = ()


#: RFC 9068 2.1, 2.2 and 4: our access tokens.
ACCESS_TOKEN = TokenKind(
    "access token", frozenset({"at+jwt", "application/at+jwt"}),
    required=("iss", "sub", "aud", "exp", "iat", "jti", "client_id"), strings=("client_id", "scope"),
)
#: OpenID Connect Core 1.0 2: our ID tokens (``typ`` JWT, as we sign them), when they come back as a hint.
ID_TOKEN = TokenKind("ID token", frozenset({"jwt"}), required=("iss", "sub", "aud", "exp", "iat"),
                     strings=("azp", "nonce"))


def _segment(segment: str) -> bytes:
    """A base64url segment already known to hold only the alphabet: canonical, or refused."""
    try:
        return decode_segment(segment)
    except InvalidBase64url:
        raise InvalidToken("a segment is not canonical base64url") from None


def _json_object(segment: str, what: str) -> dict[str, Any]:
    """A segment's JSON object (RFC 7515 4, RFC 7519 7.2 step 10), as :func:`passport.jose_text.json_object` reads
    it, but for a repeated member name: the last one counts, as in ``jwt.decode``."""
    octets = _segment(segment)
    try:
        return json_object(octets, unique_members=False)
    except InvalidJson:
        raise InvalidToken(f"the {what} is not a JSON object") from None


def _numeric_date(claims: Mapping[str, Any], name: str) -> int | None:
    """A NumericDate (RFC 7519 2) as ``jwt.decode`` compares it: truncated to whole seconds. Only finite numbers
    (never null, a boolean, a string or an overflowing value) are dates."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"{name} is not a NumericDate")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidToken(f"{name} is not a finite NumericDate")
    return int(value)


class TokenVerifier:
    """Verifies one kind of token for the audiences one caller serves (``None``: any well-formed ``aud``, for a
    caller that checks the audience itself, as logout checks an ID token's client)."""

    def __init__(
        self,
        keys: Mapping[str, VerificationKey],
        *,
        issuer: str,
        audiences: Collection[str] | None,
        kind: TokenKind = ACCESS_TOKEN,
        leeway: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if audiences is not None and not audiences:
            raise ValueError("name the audiences this verifier serves, or None for any")
        self._keys = keys
        self._issuer = issuer
        self._audiences = frozenset(audiences) if audiences is not None else None
        self.kind = kind
        self._leeway = leeway
        self._clock = clock
        self._headers: dict[str, dict[str, Any]] = {}

    def verify(self, token: object, *, check_expiry: bool = True) -> dict[str, Any]:
        """The claims of a token that passes every rule, or :class:`InvalidToken`. ``check_expiry`` False accepts
        an expired token otherwise valid (revocation, logout hints); ``nbf`` and ``iat`` are still checked."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not COMPACT.fullmatch(token):
            raise InvalidToken("not a compact JWS in base64url")
        header_segment, payload_segment, signature_segment = token.split(".")
        key = self._key(self._header(header_segment))
        signing_input = token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
        if not jwa.verify(key.alg, signing_input, key.key, _segment(signature_segment)):
            raise InvalidToken("bad signature")
        claims = _json_object(payload_segment, "payload")
        self._check_claims(claims, check_expiry)
        return claims

    def _header(self, segment: str) -> dict[str, Any]:
        """The JOSE header, checked for everything that does not depend on the key (remembered once checked)."""
        header = self._headers.get(segment)
        if header is None:
            header = _json_object(segment, "header")
            typ = header.get("typ")
            # RFC 9068 4: "reject tokens carrying any other value" (and an ID token is typ JWT, so neither passes
            # for the other)
            if not isinstance(typ, str) or typ.lower() not in self.kind.types:
                raise InvalidToken(f"typ is not that of an {self.kind.name}")
            # RFC 7515 4.1.11: extensions we do not understand must be refused; we issue none (nor b64, RFC 7797).
            if "crit" in header or "b64" in header:
                raise InvalidToken("unsupported header extension")
            if not isinstance(header.get("kid"), str) or not isinstance(header.get("alg"), str):
                raise InvalidToken("the header names no key or no algorithm")
            if len(self._headers) >= _HEADER_MEMO_SIZE:
                self._headers.clear()  # made-up headers cannot grow the memo, only churn it
            self._headers[segment] = header
        return header

    def _key(self, header: Mapping[str, Any]) -> VerificationKey:
        key = self._keys.get(header["kid"])  # a published key, looked up again for a kid not yet seen
        if key is None:
            raise InvalidToken("unknown kid")
        # One algorithm per key: never `none`, never HS* with a public key, never a key under another alg.
        if header["alg"] != key.alg:
            raise InvalidToken("alg does not match the key")
        return key

    def _check_claims(self, claims: dict[str, Any], check_expiry: bool) -> None:
        """RFC 7519 4.1 and 7.2, RFC 9068 4: required claims, types, iss exactly, aud, and the dates."""
        for name in self.kind.required:
            if claims.get(name) is None:
                raise InvalidToken(f"missing {name}")
        for name in ("sub", "jti", *self.kind.strings):
            if name in claims and not isinstance(claims[name], str):
                raise InvalidToken(f"{name} is not a string")
        if claims.get("iss") != self._issuer:
            raise InvalidToken("wrong issuer")
        self._check_audience(claims.get("aud"))
        now = self._clock()
        exp, nbf, iat = (_numeric_date(claims, name) for name in ("exp", "nbf", "iat"))
        if check_expiry and exp is not None and exp <= now - self._leeway:
            raise InvalidToken("expired")
        if (nbf is not None and nbf > now + self._leeway) or (iat is not None and iat > now + self._leeway):
            raise InvalidToken("not yet valid")

    def _check_audience(self, aud: object) -> None:
        """RFC 7519 4.1.3: one string, or an array of strings; it must hold an audience this caller serves."""
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise InvalidToken("aud is not a string or an array of strings")
        if self._audiences is not None and self._audiences.isdisjoint(audiences):
            raise InvalidToken("not for this audience")
