"""The core's view of HTTP: a request and a response, with nothing of API Gateway in them.

:mod:`passport.apigw` turns proxy events into :class:`Request` and :class:`Response` back into proxy results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

from passport.core.errors import OAuthError, PassportError, invalid_request

#: The address the request being served came from (API Gateway's ``sourceIp``), set by the adapter around each
#: request (passport.apigw.serve): for the few rules that count per address deep below an endpoint's own
#: arguments, such as the fetches of client ID metadata documents (passport.core.client_documents). Empty outside
#: a request.
SOURCE_ADDRESS: ContextVar[str] = ContextVar("source_address", default="")

#: Token and revocation requests are a few hundred bytes; anything far larger is refused before parsing.
MAX_FORM_BYTES = 64 * 1024

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


#: ``json.dumps(value, separators=(",", ":"))``, with one encoder for every answer (it keeps no state between calls).
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header map (HTTP field names are case-insensitive, RFC 9110 5.1)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    @classmethod
    def of_fields(cls, fields: Mapping[str, Sequence[str]]) -> Headers:
        """Each field's values joined with commas, as a recipient may combine them (RFC 9110 5.3)."""
        headers = cls.__new__(cls)
        headers._items = {k.lower(): ",".join(v) for k, v in fields.items()}
        return headers

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._items.get(key.lower(), default)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items


#: What a request without query or path parameters carries: empty, and read-only as it is shared.
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Request(NamedTuple):
    """An HTTP request as the core sees it, whichever gateway event it came from.

    A named tuple: as immutable as a frozen dataclass, and built in a fraction of its time (one per request; a
    frozen dataclass sets each field through ``object.__setattr__``)."""

    method: str
    path: str
    headers: Headers = Headers()
    query: Mapping[str, list[str]] = NO_PARAMS
    body: bytes = b""
    source_ip: str = ""
    path_params: Mapping[str, str] = NO_PARAMS

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        """The ``application/x-www-form-urlencoded`` body as name -> values (RFC 6749 appendix B).

        Refuses other media types, oversized bodies and bytes that are not UTF-8.
        """
        # The usual Content-Type is exactly the media type, with nothing to split off, strip or lower.
        if self.headers.get("content-type") != FORM_MEDIA_TYPE and self.media_type != FORM_MEDIA_TYPE:
            raise invalid_request("The request body must be application/x-www-form-urlencoded.")
        if len(self.body) > MAX_FORM_BYTES:
            raise invalid_request("The request body is too large.")
        try:
            return parse_form(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("The request body is not valid UTF-8 form data.") from None


def _form_decode(text: str) -> str:
    """A name or value of a form: ``+`` is a space, ``%XX`` a byte (URL Standard 5.1), the bytes UTF-8; invalid
    UTF-8 raises ``UnicodeDecodeError``.

    What ``unquote(text, errors="strict")`` gives for text without lone surrogates: that decodes the escapes of each
    ASCII run apart, and the characters between the runs (whole UTF-8 sequences) can neither complete nor continue
    an escaped sequence, so decoding all the bytes at once accepts and yields the same."""
    if "+" in text:
        text = text.replace("+", " ")
    return unquote_to_bytes(text).decode("utf-8") if "%" in text else text


def parse_form(text: str) -> dict[str, list[str]]:
    """``application/x-www-form-urlencoded`` text (a body decoded from UTF-8) as name -> values, in order: what
    ``parse_qsl(text, keep_blank_values=True, errors="strict")`` gives, grouped by name (``&`` separates fields,
    empty fields are skipped, a field without ``=`` is a name with an empty value), without its per-field work on
    text that has nothing to decode."""
    form: dict[str, list[str]] = {}
    for field_text in text.split("&"):
        if not field_text:
            continue
        name, _, value = field_text.partition("=")
        if "%" in field_text or "+" in field_text:  # else there is nothing to decode (a grant_type field, say)
            name, value = _form_decode(name), _form_decode(value)
        values = form.get(name)
        if values is None:
            form[name] = [value]
        else:
            values.append(value)
    return form


@dataclass
class Response:
    """An HTTP answer as the core writes it; the adapters turn it into the gateway's shape."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    #: Full ``Set-Cookie`` values (several may be set at once, so they cannot live in ``headers``).
    cookies: list[str] = field(default_factory=list)


def json_response(payload: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """The payload as compact JSON, with ``headers`` (which may replace the Content-Type) after the content type."""
    merged = {"Content-Type": "application/json", **headers} if headers else {"Content-Type": "application/json"}
    return Response(status, merged, _compact_json(payload))


def oauth_error_response(error: OAuthError, headers: Mapping[str, str] | None = None) -> Response:
    """An OAuth error as RFC 6749 5.2 answers it: its JSON body, status and headers, never cached. ``headers``:
    what the endpoint adds to every answer (the next DPoP nonce, RFC 9449 8.2); the error's own win."""
    return json_response(error.body(), error.status, {**NO_STORE, **(headers or {}), **error.headers})


class MalformedJson(PassportError, ValueError):
    """A body that is not one JSON value in UTF-8; the message says why (safe to show the sender)."""


def _no_constant(name: str) -> object:
    raise MalformedJson(f"{name} is not JSON (RFC 8259 6)")


def _finite(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise MalformedJson("a number is out of range")
    return value


def parse_json(data: bytes | str) -> object:
    """One JSON value (RFC 8259) from bytes a client sent, or :class:`MalformedJson`: never anything else.

    UTF-8 only (RFC 8259 8.1: no other encoding, where ``json.loads`` of bytes would also take UTF-16 and 32);
    ``NaN``, ``Infinity`` and numbers that overflow to them refused (6); a ``\\u`` escape of half a surrogate pair
    refused (8.2: such a string could never be written out again as UTF-8); nesting that would exhaust the
    parser's recursion (``[[[[...``) and integers past Python's digit limit are malformed input, not a crash."""
    try:
        # Bytes must decode as UTF-8; text must encode as it (a raw lone surrogate cannot).
        text = data.decode("utf-8") if isinstance(data, bytes) else data.encode("utf-8").decode("utf-8")
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        if "\\u" in text:
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises for a lone surrogate
        return value
    except UnicodeError:
        raise MalformedJson("the body is not UTF-8") from None
    except RecursionError:
        raise MalformedJson("the JSON is nested too deeply") from None
    except MalformedJson:
        raise
    except ValueError:  # JSONDecodeError, and int() past sys.get_int_max_str_digits()
        raise MalformedJson("the body is not valid JSON") from None


def single(params: Mapping[str, list[str]], name: str, *, required: bool = False) -> str | None:
    """One parameter value: RFC 6749 3.1 and 3.2 say parameters "MUST NOT be included more than once"."""
    values = params.get(name)
    if not values:
        if required:
            raise invalid_request(f"The request is missing the {name!r} parameter.")
        return None
    if len(values) > 1:
        raise invalid_request(f"The {name!r} parameter is repeated.")
    value = values[0]
    if value == "" and required:
        raise invalid_request(f"The {name!r} parameter is empty.")
    return value or None
