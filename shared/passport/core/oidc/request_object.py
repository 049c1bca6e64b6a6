"""Request objects (OpenID Connect Core 1.0 6.1): the authorization request's parameters as the claims of a JWT
sent in the ``request`` parameter. Only unsigned ones (``alg`` "none", 6.1: "the Request Object MAY be ... not
signed") are read, since no client has published keys here yet; a signed or encrypted object is refused with
``invalid_request_object`` (3.1.2.6) rather than read without its signature checked, and ``request_uri`` (6.2)
with ``request_uri_not_supported``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from passport.core.errors import OAuthError

#: The longest ``request`` value read: a request object carries a handful of parameters and at most a claims
#: request (5.5), far less than this; anything longer is refused before it is decoded.
MAX_REQUEST_OBJECT = 16_384
#: What Discovery 1.0 3 calls request_object_signing_alg_values_supported.
SIGNING_ALGS = ("none",)
#: RFC 7519 4.1's registered claims: the request object's own, never authorization request parameters.
_JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def invalid_request_object(description: str) -> OAuthError:
    return OAuthError("invalid_request_object", description)


def _segment(value: str, what: str) -> bytes:
    if not _BASE64URL.fullmatch(value):
        raise invalid_request_object(f"The request object's {what} is not base64url.")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise invalid_request_object(f"The request object's {what} is not base64url.") from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid_request_object(f"The request object's {what} is not JSON.") from None
    if not isinstance(decoded, dict):
        raise invalid_request_object(f"The request object's {what} is not a JSON object.")
    return decoded


def _parameter(name: str, value: Any) -> list[str]:
    """A member as the values its query parameter would have had: ``claims`` (5.5) as its JSON text, a number
    (``max_age``) in decimal, RFC 8707's ``resource`` possibly as an array."""
    if isinstance(value, str):
        return [value]
    if name == "claims" and isinstance(value, dict):
        return [json.dumps(value, separators=(",", ":"))]
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    if name == "resource" and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise invalid_request_object(f"The request object's {name} member is not a string.")


def read_request_object(
    value: str, *, issuer: str, client_id: str | None, now: int | None = None
) -> dict[str, list[str]]:
    """The authorization request parameters an unsigned request object carries (6.1), checked: its ``iss``, when
    present, is the client; its ``aud``, when present, names this issuer; it has not expired; it names no
    ``request`` or ``request_uri`` of its own (RFC 9101 4)."""
    if len(value) > MAX_REQUEST_OBJECT:
        raise invalid_request_object("The request object is too long.")
    parts = value.split(".")
    if len(parts) == 5:
        raise invalid_request_object("Encrypted request objects are not supported.")
    if len(parts) != 3:
        raise invalid_request_object("The request object is not a JWT.")
    header = _json_object(_segment(parts[0], "header"), "header")
    if header.get("alg") != "none" or parts[2]:
        raise invalid_request_object('Only unsigned request objects (alg "none") are supported.')
    claims = _json_object(_segment(parts[1], "payload"), "payload")
    if "iss" in claims and claims["iss"] != client_id:
        raise invalid_request_object("The request object's iss is not the client.")
    if "aud" in claims:
        audience = claims["aud"]
        audiences = audience if isinstance(audience, list) else [audience]
        if issuer not in audiences:
            raise invalid_request_object("The request object's aud does not name this server.")
    expiry = claims.get("exp")
    if expiry is not None:
        if not isinstance(expiry, int | float) or isinstance(expiry, bool):
            raise invalid_request_object("The request object's exp is not a number.")
        if expiry <= (time.time() if now is None else now):
            raise invalid_request_object("The request object has expired.")
    if "request" in claims or "request_uri" in claims:
        raise invalid_request_object("A request object cannot hold request or request_uri.")
    return {name: _parameter(name, member) for name, member in claims.items() if name not in _JWT_CLAIMS}


def merged_parameters(outer: Mapping[str, list[str]], inner: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """6.3.3: "the Authorization Server MUST only use the parameters in the Request Object" where both name one,
    and the OAuth 2.0 parameters for the rest. client_id and response_type, REQUIRED outside too, "MUST match
    those in the Request Object, if present" (6.1)."""
    for name in ("client_id", "response_type"):
        if name in inner and outer.get(name) not in (None, inner[name]):
            raise invalid_request_object(f"The request object's {name} does not match the request's.")
    merged = {name: list(values) for name, values in outer.items() if name not in ("request", "request_uri")}
    merged.update(inner)
    return merged
