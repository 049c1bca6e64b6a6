"""Cross-origin reads by browser clients: the Fetch standard's CORS protocol on the routes that a single-page app
or a browser-based MCP client calls (docs/http.md, "Cross-origin requests"). RFC 6749 says nothing of it.

Two kinds of route (``Route.cors`` in :mod:`passport.routes`):

* ``public``: the discovery documents, the JWKS and the OpenAPI document. Anyone may read them, so every answer
  says ``Access-Control-Allow-Origin: *``: the same for every origin, so no ``Vary``.
* ``client``: the token, revocation, registration and UserInfo endpoints. An answer is readable only by the origin
  of one of the calling client's registered redirect URIs (the client the request names: ``client_id``, HTTP
  Basic, the Bearer token's ``client_id``, the client a registration creates or the RFC 7592 path names) or an
  origin of ``[cors] allowed_origins``: then ``Access-Control-Allow-Origin: <that origin>``. Every answer says
  ``Vary: Origin``, since whether it is readable depends on the Origin.

Credentials (cookies) are never allowed cross-origin: no answer says ``Access-Control-Allow-Credentials``, and
none of these routes reads a cookie.

**The preflight** (``OPTIONS``) cannot name a client: it carries no body and no credentials. It answers the same
for every origin, 204 with ``Access-Control-Allow-Origin: *``, the route's methods and the request headers these
clients send (``Authorization``, ``Content-Type``, ``DPoP``; ``MCP-Protocol-Version`` on the public routes).
That lets a browser *send* a request a non-browser client could send anyway, without cookies (a preflight
without ``Access-Control-Allow-Credentials`` fails every credentialed request); whether the page may *read* the
answer is decided by the answer itself, above. A static answer is one API Gateway gives from a mock integration
(no function runs, nothing is billed beyond the request) and browsers may cache for :data:`PREFLIGHT_MAX_AGE`.

Standard library only; nothing here runs in the guard. Client-controlled input (the Origin header, the body, the
token) gets an answer, never an exception: an origin that is not a serialized origin is simply not allowed.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from passport.core.client_auth import parse_basic
from passport.core.errors import OAuthError
from passport.core.http import MalformedJson, Request, Response, parse_json
from passport.routes import CLIENT, PUBLIC, path_pattern

log = logging.getLogger("passport")
#: Seconds a browser may keep a preflight's answer (Chromium keeps at most 7200).
PREFLIGHT_MAX_AGE = 600
#: The request headers each kind of route accepts cross-origin (beyond the CORS-safelisted ones): a Bearer or
#: Basic ``Authorization``, a JSON ``Content-Type`` (registration), a DPoP proof (RFC 9449 4.1); MCP clients
#: send ``MCP-Protocol-Version`` to the discovery documents.
ALLOW_HEADERS = {
    PUBLIC: "Authorization, Content-Type, MCP-Protocol-Version",
    CLIENT: "Authorization, Content-Type, DPoP",
}
#: The answer headers a page may read beyond the safelisted ones: the Bearer and DPoP challenges (RFC 6750 3, RFC
#: 9449 7.1), when to retry (RFC 9110 10.2.3) and the server's next DPoP nonce (RFC 9449 8).
EXPOSE_HEADERS = "WWW-Authenticate, Retry-After, DPoP-Nonce"

#: A serialized origin (HTML, "ASCII serialization of an origin"): http or https, a host, an optional port, nothing
#: more. Lower case, as browsers send it.
_ORIGIN = re.compile(r"https?://(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?")
_MAX_ORIGIN = 300


class Clients(Protocol):
    """What the decision reads: a client by id (``ports.ClientStore``)."""

    def get(self, client_id: str): ...


def preflight_headers(kind: str, methods: Iterable[str]) -> dict[str, str]:
    """The preflight's answer (Fetch standard, CORS protocol): the same for every origin, and never credentials."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ", ".join(sorted(set(methods))),
        "Access-Control-Allow-Headers": ALLOW_HEADERS[kind],
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }


def serialized_origin(value: str | None) -> str | None:
    """The Origin header's origin, or None for anything else ("null", a list, a path, odd bytes: not allowed)."""
    if not value or len(value) > _MAX_ORIGIN:
        return None
    return value if _ORIGIN.fullmatch(value) else None


def origin_of(uri: str) -> str | None:
    """The web origin of an http(s) redirect URI (``https://app.example/cb`` -> ``https://app.example``); None for
    a custom scheme (a native app's, which no browser page has) or anything unparsable."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def add_vary(headers: dict[str, str], name: str = "Origin") -> None:
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in vary.split(",")):
        headers["Vary"] = f"{vary}, {name}"


class PublicCors:
    """The public routes: readable from any origin."""

    def __init__(self, preflights: Mapping[str, tuple[str, ...]]) -> None:
        self.preflights = _patterns(preflights)

    def preflight(self, request: Request) -> Response:
        return _preflight(PUBLIC, self.preflights, request)

    def answer(self, request: Request, response: Response) -> None:
        response.headers["Access-Control-Allow-Origin"] = "*"


class ClientCors:
    """The client routes: readable by the calling client's redirect URI origins and the allow-list."""

    def __init__(self, clients: Clients, allowed_origins: Iterable[str], preflights: Mapping[str, tuple[str, ...]]):
        self.clients = clients
        self.allowed = frozenset(allowed_origins)
        self.preflights = _patterns(preflights)

    def preflight(self, request: Request) -> Response:
        return _preflight(CLIENT, self.preflights, request)

    def answer(self, request: Request, response: Response) -> None:
        add_vary(response.headers)
        origin = serialized_origin(request.headers.get("origin"))
        if origin is not None and self.allows(origin, request, response):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS

    def allows(self, origin: str, request: Request, response: Response) -> bool:
        if origin in self.allowed:
            return True
        try:
            return origin in self._client_origins(request, response)
        except Exception as error:  # storage down, say: the answer goes out, unreadable cross-origin
            log.warning("CORS: the client's origins could not be read (%s)", type(error).__name__)
            return False

    def _client_origins(self, request: Request, response: Response) -> set[str]:
        if request.path == "/oauth/register" and request.method == "POST":
            # RFC 7591 3.2.1: the client registered is the one in the answer (else the one the request describes).
            metadata = _json_object(response.body) if 200 <= response.status < 300 else None
            metadata = metadata if metadata is not None else _json_object(request.body)
            uris = (metadata or {}).get("redirect_uris")
            return _origins(uris if isinstance(uris, list) else ())
        client_id = client_hint(request)
        # Client ids are UUIDs or a metadata document's URL (at most 512 characters): nothing longer is looked up.
        client = self.clients.get(client_id) if client_id and len(client_id) <= 512 else None
        if client is None or getattr(client, "revoked", False):
            return set()
        return _origins(client.redirect_uris)


def client_hint(request: Request) -> str | None:
    """The client a request names, before anything is verified: the RFC 7592 path's ``client_id``, HTTP Basic's
    user name (RFC 6749 2.3.1), the form's ``client_id``, or the ``client_id`` claim of a JWT Bearer token
    (RFC 9068 2.2; in the header, RFC 6750 2.1, or the form, 2.2). The endpoint verifies what it uses; a false hint
    can only let its own origin read a refusal."""
    if request.path_params.get("client_id"):
        return request.path_params["client_id"]
    authorization = request.headers.get("authorization") or ""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            return parse_basic(authorization)[0]  # RFC 6749 2.3.1, read as client authentication reads it
        except OAuthError:
            return None
    form: dict[str, list[str]] = {}
    if request.method == "POST" and request.body:
        try:
            form = request.form()
        except Exception:  # not a form (or not one this endpoint reads): no hint from it
            form = {}
    token = credentials.strip() if scheme.lower() == "bearer" else (form.get("access_token") or [""])[0]
    if token:
        return _jwt_client_id(token)
    client_ids = form.get("client_id") or []
    return client_ids[0] if len(client_ids) == 1 and client_ids[0] else None


def _jwt_client_id(token: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    client_id = claims.get("client_id") if isinstance(claims, dict) else None
    return client_id if isinstance(client_id, str) and client_id else None


def _json_object(data: str | bytes) -> dict | None:
    if not data or len(data) > 64 * 1024:
        return None
    try:
        value = parse_json(data)
    except MalformedJson:
        return None
    return value if isinstance(value, dict) else None


def _origins(uris: Iterable[object]) -> set[str]:
    return {origin for uri in uris if isinstance(uri, str) and (origin := origin_of(uri))}


def _patterns(preflights: Mapping[str, tuple[str, ...]]) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    return [(path_pattern(path), methods) for path, methods in preflights.items()]


def _preflight(kind: str, preflights: list[tuple[re.Pattern[str], tuple[str, ...]]], request: Request) -> Response:
    """A preflight the function answers itself, where the API sends it ``OPTIONS`` (an HTTP API, which has no mock
    integrations): what the REST API's mock integration answers."""
    methods = next((m for pattern, m in preflights if pattern.fullmatch(request.path)), ())
    return Response(204, preflight_headers(kind, methods) if methods else {}, "")
