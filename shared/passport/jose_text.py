"""The text rules of JOSE, once for every parser here of a JWS or a JWK (RFC 7515, RFC 7519, RFC 7517): the compact
serialization's shape, canonical base64url, and JSON objects read one way.

- :data:`COMPACT`: three base64url segments without padding, nothing else (RFC 7515 7.1, RFC 4648 5);
- :func:`b64url_decode` and :func:`decode_segment`: base64url without padding (RFC 7515 2) in its canonical form
  only (RFC 4648 3.5: the unused low bits of the last character zero, no length of 1 modulo 4), so that one
  value has one spelling; :func:`b64url_encode` writes that form;
- :func:`json_value` and :func:`json_object`: JSON (RFC 8259) in UTF-8, without ``NaN`` or ``Infinity``, and not
  nested so deep that the parser's recursion gives out; by default without a repeated member name at any depth
  (RFC 7515 4 and RFC 7519 4 let a parser refuse duplicates: taking the last one would let two parsers read two
  different documents).

Each refusal is a :class:`JoseTextError` (a ``ValueError``) that says which rule failed, for the caller to turn
into its own error and message: :mod:`passport.jws`'s ``InvalidToken``, :mod:`passport.core.dpop`'s
``InvalidDpopProof``, :mod:`passport.core.client_assertions`' ``InvalidClientAssertion``. Standard library only:
the guard imports it, and so does the core.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from passport.core.errors import PassportError

#: Three base64url segments (RFC 7515 7.1, RFC 4648 5), no padding, nothing else.
COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: The base64url alphabet (RFC 4648 5), nothing else: no padding, no whitespace.
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
#: The characters that may end a canonical segment whose length is 2 or 3 modulo 4: those whose bits past the
#: encoded octets are zero (RFC 4648 3.5). Any other last character spells the same octets a second way.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


class JoseTextError(PassportError, ValueError):
    """Text that breaks a rule of this module; the message says which, never what the text held."""


class InvalidBase64url(JoseTextError):
    """Not base64url in its canonical form."""


class InvalidJson(JoseTextError):
    """Not JSON as a JOSE object is read (or not an object where one is needed)."""


class DuplicateMember(InvalidJson):
    """JSON whose object repeats a member name."""


def b64url_encode(raw: bytes) -> str:
    """Base64url without padding (RFC 7515 2): the canonical spelling of ``raw``."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: object) -> bytes:
    """The octets of canonical base64url without padding (RFC 7515 2, RFC 4648 3.5 and 5), or
    :class:`InvalidBase64url` for anything else, a value that is not a string included. The empty string is the
    empty octet string."""
    if not isinstance(text, str) or not _ALPHABET.fullmatch(text):
        raise InvalidBase64url("not base64url")
    return decode_segment(text)


def decode_segment(segment: str) -> bytes:
    """:func:`b64url_decode` of a string already known to hold only the base64url alphabet (a segment of a value
    :data:`COMPACT` matched): canonical, or :class:`InvalidBase64url`."""
    remainder = len(segment) % 4
    if remainder == 1 or (remainder and segment[-1] not in _CANONICAL_LAST[remainder]):
        raise InvalidBase64url("not canonical base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _not_json(name: str) -> Any:
    raise InvalidJson(f"{name} is not JSON")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise DuplicateMember("a member name is repeated")
    return members


def json_value(text: str | bytes, *, unique_members: bool = True) -> Any:
    """The JSON value of ``text`` (octets are UTF-8), without ``NaN`` or ``Infinity``, or :class:`InvalidJson`;
    :class:`DuplicateMember` for a repeated member name at any depth, unless ``unique_members`` is False (the
    last one is then kept, as Python's parser and PyJWT keep it). Nesting deeper than the parser's recursion is
    refused, not raised."""
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text, parse_constant=_not_json,
                          object_pairs_hook=_unique_members if unique_members else None)
    except DuplicateMember:
        raise
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidJson("not JSON") from None


def json_object(text: str | bytes, *, unique_members: bool = True) -> dict[str, Any]:
    """:func:`json_value`, which must be an object (RFC 7515 4, RFC 7519 7.2 step 10), else :class:`InvalidJson`."""
    value = json_value(text, unique_members=unique_members)
    if not isinstance(value, dict):
        raise InvalidJson("not a JSON object")
    return value
