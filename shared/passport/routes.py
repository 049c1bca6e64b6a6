"""The route table: every HTTP route of the product, read by both the CDK stack and the local gateway, so
local and deployed routing cannot drift apart (SPEC section 2).

A route names the function (``functions/<function>/handler.py``) that serves it and, for protected routes,
the guard's rule. Standard library only: the guard imports this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from passport.config import RouteRule, Settings


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    summary: str
    #: The guard's rule; None for a public route.
    rule: RouteRule | None = None

    @property
    def key(self) -> str:
        """``"GET /api/orders"``, as an HTTP API ``routeKey``."""
        return f"{self.method} {self.path}"


def route_table(settings: Settings) -> tuple[Route, ...]:
    routes = [
        Route("GET", "/.well-known/oauth-authorization-server", "metadata",
              "Authorization server metadata (RFC 8414)"),
        Route("GET", "/.well-known/openid-configuration", "metadata",
              "OpenID Provider metadata (OpenID Connect Discovery 1.0)"),
        Route("GET", "/.well-known/jwks.json", "metadata", "The public signing keys (JWKS)"),
        Route("GET", "/openapi.json", "metadata", "This HTTP interface as an OpenAPI 3.1 document"),
        Route("POST", "/oauth/token", "token", "Token endpoint (RFC 6749 3.2)"),
        Route("POST", "/oauth/revoke", "revoke", "Token revocation (RFC 7009)"),
        Route("POST", "/oauth/introspect", "introspect", "Token introspection (RFC 7662)"),
        Route("GET", "/oauth/userinfo", "userinfo", "The signed-in user's claims (OpenID Connect Core 5.3)"),
        Route("POST", "/oauth/userinfo", "userinfo", "The signed-in user's claims (OpenID Connect Core 5.3)"),
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
    routes += [
        Route(rule.method, rule.path, "api", f"Demo protected API: {rule.path}", rule)
        for rule in settings.demo_api.routes
    ]
    return tuple(routes)


_PARAM = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")


def path_pattern(template: str) -> re.Pattern[str]:
    """``/oauth/clients/{client_id}`` -> a regex with a named group per parameter (``{proxy+}`` spans
    slashes, as in API Gateway)."""
    pattern, last = "", 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[last:match.start()])
        greedy = match.group(0).endswith("+}")
        pattern += f"(?P<{match.group(1)}>{'.+' if greedy else '[^/]+'})"
        last = match.end()
    return re.compile(pattern + re.escape(template[last:]))
