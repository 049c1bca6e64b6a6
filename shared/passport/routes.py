"""The route table: every HTTP route of the product, read by both the CDK stack and the local gateway, so
local and deployed routing cannot drift apart (docs/http.md).

A route names the function (``functions/<function>/handler.py``) that serves it and, for protected routes,
the guard's rule. Standard library only: the guard imports this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from passport.config import MCP_PATH, RouteRule, Settings

#: What ``Route.cors`` may say (``passport.cors``: standard library only, like this module).
PUBLIC = "public"
CLIENT = "client"
#: The preflight's method (Fetch standard, CORS protocol).
PREFLIGHT = "OPTIONS"


@dataclass(frozen=True)
class Route:
    """One route of the table the stack, the local gateway, OpenAPI and the guard all read."""

    method: str
    path: str
    function: str
    summary: str
    #: The guard's rule; None for a route API Gateway lets through.
    rule: RouteRule | None = None
    #: The function demands a Bearer token itself (the guard in-process, for a resource of its own: RFC 9728).
    bearer: bool = False
    #: Cross-origin reads (Fetch standard, CORS protocol; ``passport.cors``): "public" (any origin), "client" (the
    #: calling client's redirect URI origins and ``[cors] allowed_origins``), or "" (none: the pages, the rest).
    #: A path with a kind gets an ``OPTIONS`` preflight route (:func:`preflight_routes`).
    cors: str = ""

    @property
    def key(self) -> str:
        """``"GET /api/orders"``, as an HTTP API ``routeKey``."""
        return f"{self.method} {self.path}"


def route_table(settings: Settings) -> tuple[Route, ...]:
    routes = [
        Route("GET", "/.well-known/oauth-authorization-server", "metadata",
              "Authorization server metadata (RFC 8414)", cors=PUBLIC),
        Route("GET", "/.well-known/openid-configuration", "metadata",
              "OpenID Provider metadata (OpenID Connect Discovery 1.0)", cors=PUBLIC),
        Route("GET", "/.well-known/jwks.json", "metadata", "The public signing keys (JWKS)", cors=PUBLIC),
        Route("GET", "/openapi.json", "metadata", "This HTTP interface as an OpenAPI 3.1 document", cors=PUBLIC),
        Route("POST", "/oauth/token", "token", "Token endpoint (RFC 6749 3.2)", cors=CLIENT),
        Route("POST", "/oauth/revoke", "revoke", "Token revocation (RFC 7009)", cors=CLIENT),
        Route("POST", "/oauth/par", "par", "Pushed authorization request (RFC 9126 2)", cors=CLIENT),
        Route("POST", "/oauth/introspect", "introspect", "Token introspection (RFC 7662)"),
        Route("POST", "/oauth/register", "register", "Dynamic client registration (RFC 7591)", cors=CLIENT),
        Route("GET", "/oauth/register/{client_id}", "register", "Read a registered client (RFC 7592)", cors=CLIENT),
        Route("PUT", "/oauth/register/{client_id}", "register", "Replace a registered client's metadata (RFC 7592)",
              cors=CLIENT),
        Route("DELETE", "/oauth/register/{client_id}", "register", "Delete a registered client (RFC 7592)",
              cors=CLIENT),
        Route("GET", "/oauth/userinfo", "userinfo", "The signed-in user's claims (OpenID Connect Core 5.3)",
              cors=CLIENT),
        Route("POST", "/oauth/userinfo", "userinfo", "The signed-in user's claims (OpenID Connect Core 5.3)",
              cors=CLIENT),
        Route("GET", "/oauth/authorize", "authorize", "Authorization endpoint (RFC 6749 3.1): sign-in and consent"),
        Route("POST", "/oauth/authorize", "authorize", "Approve an authorization request"),
        Route("DELETE", "/oauth/authorize", "authorize", "Deny an authorization request"),
        Route("GET", "/login", "authorize", "The sign-in page"),
        Route("POST", "/login", "authorize", "Sign in"),
        Route("POST", "/logout", "authorize", "Sign out (ends the server-side session)"),
        Route("GET", "/oauth/logout", "authorize", "RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)"),
        Route("POST", "/oauth/logout", "authorize", "RP-initiated logout: the user confirms"),
        Route("GET", "/oauth/scopes", "account", "The defined scopes (signed-in user's JSON API)"),
        Route("GET", "/account", "account", "My account: authorized apps, personal access tokens, my clients"),
        Route("POST", "/account", "account", "An action on the account page"),
        Route("GET", "/oauth/tokens", "account", "The apps I authorized"),
        Route("DELETE", "/oauth/tokens/{token_id}", "account", "Revoke an app I authorized"),
        Route("GET", "/oauth/clients", "account", "My clients"),
        Route("POST", "/oauth/clients", "account", "Create a client (its secret shown once)"),
        Route("PUT", "/oauth/clients/{client_id}", "account", "Change my client's name or redirect URIs"),
        Route("DELETE", "/oauth/clients/{client_id}", "account", "Delete (revoke) my client"),
        Route("POST", "/oauth/clients/{client_id}/secret", "account", "A new secret for my client (shown once)"),
        Route("GET", "/oauth/personal-access-tokens", "account", "My personal access tokens"),
        Route("POST", "/oauth/personal-access-tokens", "account", "Create a personal access token (shown once)"),
        Route("DELETE", "/oauth/personal-access-tokens/{token_id}", "account", "Revoke a personal access token"),
        Route("POST", "/oauth/device/code", "device", "Device authorization endpoint (RFC 8628 3.1)"),
        Route("GET", "/oauth/device", "authorize", "Enter the code a device shows (RFC 8628 3.3)"),
        Route("GET", "/oauth/device/authorize", "authorize", "Confirm a device's request"),
        Route("POST", "/oauth/device/authorize", "authorize", "Approve a device"),
        Route("DELETE", "/oauth/device/authorize", "authorize", "Deny a device"),
    ]
    if settings.demo.enabled:
        routes += demo_routes(settings)
    return tuple(routes)


def demo_routes(settings: Settings) -> list[Route]:
    """The examples (``[demo] enabled``): the demo API, the demo MCP server, and the protected resource metadata
    that names them, which would describe resources nothing serves without them."""
    routes = [
        Route("GET", "/.well-known/oauth-protected-resource", "metadata",
              "Protected resource metadata of the API (RFC 9728)", cors=PUBLIC),
        Route("GET", "/.well-known/oauth-protected-resource/api", "metadata",
              "Protected resource metadata of the API at its identifier's own location (RFC 9728 3.1)", cors=PUBLIC),
        Route("GET", "/.well-known/oauth-protected-resource/mcp", "metadata",
              "Protected resource metadata of the demo MCP server (RFC 9728)", cors=PUBLIC),
    ]
    routes += [
        Route(rule.method, rule.path, "api", f"Demo protected API: {rule.path}", rule)
        for rule in settings.demo_api.routes
    ]
    # The demo MCP server (streamable HTTP, stateless), a protected resource of its own (<issuer>/mcp): the guard
    # runs in its function, so its 401 names its own metadata (API Gateway's 401 is one per API).
    routes.append(Route("POST", MCP_PATH, "mcp", "Demo MCP server (Model Context Protocol, streamable HTTP)",
                        bearer=True))
    # Streamable HTTP: a server that opens no SSE stream and keeps no session answers GET and DELETE with 405
    # (API Gateway would answer an unrouted method with its own 403/404).
    routes += [Route(method, MCP_PATH, "mcp", f"Demo MCP server: {method} is 405 (no SSE stream, no session)",
                     bearer=True) for method in ("GET", "DELETE")]
    return routes


def preflight_routes(routes: Iterable[Route]) -> tuple[Route, ...]:
    """One ``OPTIONS`` route per path whose routes allow cross-origin reads: the CORS preflight (Fetch standard).
    The REST API answers it from a mock integration and the local gateway the same way; an HTTP API (which has no
    mock integrations) sends it to the path's function, which answers the same (``apigw.serve``)."""
    by_path: dict[str, Route] = {}
    for route in routes:
        if route.cors and route.method != PREFLIGHT:
            by_path.setdefault(route.path, route)
    return tuple(Route(PREFLIGHT, path, first.function, f"CORS preflight of {path} (Fetch standard)", cors=first.cors)
                 for path, first in by_path.items())


def preflight_methods(routes: Iterable[Route], kind: str) -> dict[str, tuple[str, ...]]:
    """Path -> the methods its preflight allows, for the paths of one kind (``passport.cors``)."""
    methods: dict[str, tuple[str, ...]] = {}
    for route in routes:
        if route.cors == kind and route.method != PREFLIGHT:
            methods[route.path] = (*methods.get(route.path, ()), route.method)
    return methods


PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")


def path_pattern(template: str) -> re.Pattern[str]:
    """``/oauth/clients/{client_id}`` -> a regex with a named group per parameter (``{proxy+}`` spans
    slashes, as in API Gateway)."""
    pattern, last = "", 0
    for match in PATH_PARAMETER.finditer(template):
        pattern += re.escape(template[last:match.start()])
        greedy = match.group(0).endswith("+}")
        pattern += f"(?P<{match.group(1)}>{'.+' if greedy else '[^/]+'})"
        last = match.end()
    return re.compile(pattern + re.escape(template[last:]))
