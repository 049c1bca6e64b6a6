"""The OpenAPI 3.1 document of the HTTP interface, generated from the route table (so it cannot drift from
what the local gateway and the CDK stack serve). Served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from passport import __version__
from passport.config import Settings
from passport.routes import _PARAM, Route, route_table

_FORM = "application/x-www-form-urlencoded"
_OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}, "hint": {"type": "string"}},
}
_TOKEN = {
    "type": "object",
    "required": ["token_type", "expires_in", "access_token"],
    "properties": {
        "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"}, "access_token": {"type": "string"},
        "refresh_token": {"type": "string"}, "scope": {"type": "string"},
    },
}
#: Form fields per form endpoint (all optional at the schema level: the endpoint says which a grant needs).
_FORM_FIELDS = {
    "/oauth/token": ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id",
                     "client_secret", "device_code", "username", "password"),
    "/oauth/revoke": ("token", "token_type_hint", "client_id", "client_secret"),
    "/oauth/introspect": ("token", "token_type_hint", "client_id", "client_secret"),
    "/oauth/device/code": ("client_id", "client_secret", "scope"),
    "/login": ("email", "password", "_token", "next"),
    "/logout": ("_token",),
}
_PAGES = ("/oauth/authorize", "/login", "/logout", "/oauth/device", "/oauth/device/authorize", "/account")


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_').replace('.', '_')}"
        .replace("{", "").replace("}", "").replace("-", "_"),
        "tags": [route.function],
    }
    params = [m.group(1) for m in _PARAM.finditer(route.path)]
    if params:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in params
        ]
    fields = _FORM_FIELDS.get(route.path)
    if fields and route.method == "POST":
        operation["requestBody"] = {"required": True, "content": {_FORM: {"schema": {
            "type": "object", "properties": {name: {"type": "string"} for name in fields},
        }}}}
    if route.path in _PAGES:
        html = {"text/html": {"schema": {"type": "string"}}}
        ok = {"description": "An HTML page, or a 303 redirect", "content": html}
        operation["responses"] = {"200": ok, "303": {"description": "Redirect"}, "400": {"description": "Error page"}}
    else:
        body = _TOKEN if route.path == "/oauth/token" else {"type": ["object", "array"]}
        operation["responses"] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": body}}},
            "400": {"description": "An OAuth error", "content": {"application/json": {"schema": _OAUTH_ERROR}}},
        }
    if route.rule is not None:
        operation["security"] = [{"bearer": list(route.rule.scopes)}]
        operation["responses"]["401"] = {"description": "Missing or invalid token (WWW-Authenticate: Bearer)"}
        operation["responses"]["403"] = {"description": "insufficient_scope"}
    return operation


def openapi_document(settings: Settings) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in route_table(settings):
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "lambda-passport", "version": __version__,
                 "description": "An OAuth 2.0 authorization server (RFC 6749, 7636, 7009, 7662, 8414, 8628, 9068)."},
        "servers": [{"url": settings.issuer_url}],
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RFC 9068 at+jwt)"},
        }},
    }
