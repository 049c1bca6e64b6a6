"""The core's view of HTTP: a request and a response, with nothing of API Gateway in them.

:mod:`passport.apigw` turns proxy events into :class:`Request` and :class:`Response` back into proxy results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from passport.core.errors import invalid_request

#: Token and revocation requests are a few hundred bytes; anything far larger is refused before parsing.
MAX_FORM_BYTES = 64 * 1024

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header map (HTTP field names are case-insensitive, RFC 9110 5.1)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Headers = field(default_factory=Headers)
    query: Mapping[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str = ""
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        """The ``application/x-www-form-urlencoded`` body as name -> values (RFC 6749 appendix B).

        Refuses other media types, oversized bodies and bytes that are not UTF-8.
        """
        if self.media_type != "application/x-www-form-urlencoded":
            raise invalid_request("The request body must be application/x-www-form-urlencoded.")
        if len(self.body) > MAX_FORM_BYTES:
            raise invalid_request("The request body is too large.")
        try:
            text = self.body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("The request body is not valid UTF-8 form data.") from None
        form: dict[str, list[str]] = {}
        for name, value in pairs:
            form.setdefault(name, []).append(value)
        return form


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    #: Full ``Set-Cookie`` values (several may be set at once, so they cannot live in ``headers``).
    cookies: list[str] = field(default_factory=list)


def json_response(payload: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return Response(status, merged, json.dumps(payload, separators=(",", ":")))


class MalformedJson(ValueError):
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
