"""The Bearer (RFC 6750 2.1) and DPoP (RFC 9449 7.1) schemes of the ``Authorization`` header, parsed one way by
every protected resource here: the guard, the in-process resource guard, userinfo and registration management.

``credentials = "Bearer" 1*SP b64token`` and ``b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
*"="``: one scheme, one token. A header naming another scheme, or the scheme with no token after it, is no Bearer
credential at all (RFC 6750 3.1: "lacks any authentication information", so the answer carries no error code); a
header that says Bearer but is not exactly one well-formed token is malformed
(``invalid_request``, or a plain 401 where the answer cannot say more). Several ``Authorization`` headers arrive
joined by commas, which no b64token holds, so they are malformed too: one method, one token.

RFC 9449 7.1 gives the DPoP scheme the same syntax (``token68``, a superset of b64token here checked as b64token,
which every token of this server is), so both are read by :func:`token_credentials`.
"""

from __future__ import annotations

import re

from passport.core.errors import PassportError

#: The scheme (case-insensitive, RFC 9110 11.1), at least one space, one b64token.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)")
_DPOP = re.compile(r"[Dd][Pp][Oo][Pp] +([A-Za-z0-9\-._~+/]+=*)")
BEARER = "Bearer"
DPOP = "DPoP"
#: Far beyond any token this server issues; the header itself is bounded by API Gateway's limits too.
MAX_CREDENTIALS = 16 * 1024


class MalformedAuthorization(PassportError, ValueError):
    """The header says Bearer but does not carry exactly one well-formed b64token."""


def bearer_credentials(value: object) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when there is no header or it names another scheme;
    :class:`MalformedAuthorization` when it is a malformed Bearer credential."""
    if not isinstance(value, str):
        return None
    value = value.strip(" \t")  # optional whitespace around a field value (RFC 9110 5.5)
    if not value:
        return None
    scheme, _, rest = value.replace("\t", " ").partition(" ")
    if scheme.lower() != "bearer" or not rest.strip():
        return None  # another scheme, or the scheme alone: no authentication information (RFC 6750 3.1)
    match = _BEARER.fullmatch(value) if len(value) <= MAX_CREDENTIALS else None
    if match is None:
        raise MalformedAuthorization("the Authorization header is not one well-formed Bearer token")
    return match.group(1)


def token_credentials(value: object) -> tuple[str, str] | None:
    """``(scheme, token)`` of ``Authorization: Bearer <token>`` or ``Authorization: DPoP <token>`` (RFC 9449 7.1),
    the scheme spelled :data:`BEARER` or :data:`DPOP`; None when there is no header or it names another scheme;
    :class:`MalformedAuthorization` when it names one of the two but is not exactly one well-formed token."""
    if not isinstance(value, str):
        return None
    stripped = value.strip(" \t")
    scheme = stripped.replace("\t", " ").partition(" ")[0].lower()
    if scheme == "bearer":
        token = bearer_credentials(value)
        return None if token is None else (BEARER, token)
    if scheme != "dpop" or not stripped.replace("\t", " ").partition(" ")[2].strip():
        return None
    match = _DPOP.fullmatch(stripped) if len(stripped) <= MAX_CREDENTIALS else None
    if match is None:
        raise MalformedAuthorization("the Authorization header is not one well-formed DPoP token")
    return DPOP, match.group(1)
