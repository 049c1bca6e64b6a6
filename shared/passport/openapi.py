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
_INTROSPECTION = {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}}
_DEVICE = {
    "type": "object",
    "required": ["device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"],
    "properties": {"device_code": {"type": "string"}, "user_code": {"type": "string"},
                   "verification_uri": {"type": "string"}, "verification_uri_complete": {"type": "string"},
                   "expires_in": {"type": "integer"}, "interval": {"type": "integer"}},
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
#: Form fields per form endpoint (all optional at the schema level: the endpoint says which a grant needs).
_FORM_FIELDS = {
    "/oauth/token": ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id",
                     "client_secret", "device_code", "username", "password"),
    "/oauth/revoke": ("token", "token_type_hint", "client_id", "client_secret"),
    "/oauth/introspect": ("token", "token_type_hint", "client_id", "client_secret"),
    "/oauth/device/code": ("client_id", "client_secret", "scope"),
    "/oauth/authorize": ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                         "code_challenge_method", "nonce", "_token", "_method"),
    "/oauth/device/authorize": ("user_code", "_token", "_method"),
    "/login": ("email", "password", "_token", "next"),
    "/logout": ("_token",),
    "/account": ("action", "id", "name", "scopes", "redirect", "_token"),
}
#: The form fields every request of an endpoint needs.
_REQUIRED_FIELDS = {"/oauth/token": ["grant_type"], "/oauth/revoke": ["token"], "/oauth/introspect": ["token"]}
#: Query parameters of the pages' GET requests.
_QUERY = {
    "/oauth/authorize": ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                         "code_challenge_method", "prompt", "nonce"),
    "/login": ("next",),
    "/oauth/device": ("user_code",),
    "/oauth/device/authorize": ("user_code",),
}
#: The JSON API's request bodies (Passport's Vue components send JSON).
_JSON_BODIES = {
    ("POST", "/oauth/clients"): {"type": "object", "properties": {
        "name": {"type": "string"}, "redirect": {"type": "string"}, "redirect_uris": _STRINGS,
        "confidential": {"type": "boolean"}}},
    ("PUT", "/oauth/clients/{client_id}"): {"type": "object", "properties": {
        "name": {"type": "string"}, "redirect": {"type": "string"}, "redirect_uris": _STRINGS}},
    ("POST", "/oauth/personal-access-tokens"): {"type": "object", "properties": {
        "name": {"type": "string"}, "scopes": _STRINGS}},
}
#: The error statuses of each page (each an HTML page): 400 a malformed request, 401 signed out or wrong
#: credentials, 403 a form without its CSRF token, 404 and 422 what the JSON API refused, 429 throttled.
_PAGES = {
    "/oauth/authorize": ("400", "401", "403"),
    "/login": ("400", "401", "403", "429"),
    "/logout": ("400", "403"),
    "/oauth/device": ("400", "403", "429"),
    "/oauth/device/authorize": ("400", "403", "429"),
    "/account": ("400", "403", "404", "422"),
}
#: The OAuth endpoints' 200 bodies (None: an empty 200, RFC 7009 2.2) and the JSON API's successes.
_OAUTH_OK: dict[str, dict[str, Any] | None] = {
    "/oauth/token": _TOKEN, "/oauth/introspect": _INTROSPECTION, "/oauth/device/code": _DEVICE,
    "/oauth/revoke": None,
}
_JSON_API_OK = {"GET": ("200", "OK"), "POST": ("201", "Created (a secret or token in it is shown once)"),
                "PUT": ("200", "Changed"), "DELETE": ("204", "Deleted")}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _error(description: str, html: bool = False) -> dict[str, Any]:
    content = {"text/html": {"schema": {"type": "string"}}} if html else _json(_OAUTH_ERROR)
    return {"description": description, "content": content}


def _responses(route: Route) -> dict[str, Any]:
    """What the route really answers (Schemathesis holds the product to this: tests/integration/
    test_schemathesis.py)."""
    path, method = route.path, route.method
    unavailable = "Storage is unavailable (Retry-After)"
    if path in _PAGES:
        html = {"text/html": {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {"200": {"description": "An HTML page", "content": html},
                                     "303": {"description": "A redirect"}}
        responses.update({code: _error("An HTML error page", html=True) for code in _PAGES[path]})
        responses["503"] = _error(unavailable, html=True)
        return responses
    if path in _OAUTH_OK:
        ok = _OAUTH_OK[path]
        return {
            "200": {"description": "OK", **({"content": _json(ok)} if ok is not None else {})},
            "400": _error("An OAuth error (RFC 6749 5.2)"),
            "401": _error("invalid_client (WWW-Authenticate: Basic when Basic was tried)"),
            "503": _error(unavailable),
        }
    if route.function == "account":
        code, description = _JSON_API_OK[method]
        ok_body = {"type": "array"} if method == "GET" else {"type": "object"}
        responses = {code: {"description": description, **({"content": _json(ok_body)} if code != "204" else {})}}
        responses["401"] = _error("Not signed in")
        if method != "GET":
            responses["403"] = _error("X-XSRF-TOKEN missing or wrong")
            responses["422"] = _error("The body is not a valid request")
        if "{" in path:
            responses["404"] = _error("No such item (of the signed-in user)")
        responses["503"] = _error(unavailable)
        return responses
    if route.rule is not None:
        return {
            "200": {"description": "OK", "content": _json({"type": "object"})},
            "401": _error("Missing or invalid token (WWW-Authenticate: Bearer)"),
            "403": _error("insufficient_scope"),
            "404": _error("The token's user no longer exists"),
            "503": _error("The guard could not decide (Retry-After)"),
        }
    return {"200": {"description": "OK", "content": _json({"type": "object"})}}


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_').replace('.', '_')}"
        .replace("{", "").replace("}", "").replace("-", "_"),
        "tags": [route.function],
    }
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in (m.group(1) for m in _PARAM.finditer(route.path))]
    if route.method == "GET":
        params += [{"name": name, "in": "query", "schema": {"type": "string"}} for name in _QUERY.get(route.path, ())]
    if params:
        operation["parameters"] = params
    fields = _FORM_FIELDS.get(route.path)
    body = _JSON_BODIES.get((route.method, route.path))
    if fields and route.method in ("POST", "DELETE"):
        schema: dict[str, Any] = {"type": "object", "properties": {name: {"type": "string"} for name in fields}}
        if route.path in _REQUIRED_FIELDS:
            schema["required"] = _REQUIRED_FIELDS[route.path]
        operation["requestBody"] = {"required": True, "content": {_FORM: {"schema": schema}}}
    elif body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    operation["responses"] = _responses(route)
    if route.rule is not None:
        operation["security"] = [{"bearer": list(route.rule.scopes)}]
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
