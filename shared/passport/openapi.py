"""The OpenAPI 3.1 document of the HTTP interface, generated from the route table (so it cannot drift from
what the local gateway and the CDK stack serve). Served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from passport import __version__
from passport.config import TOKEN_PATH, USERINFO_PATH, Settings
from passport.gateway_responses import PROTECTED_RESOURCE_PATH
from passport.routes import PATH_PARAMETER, Route, route_table

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
        "id_token": {"type": "string", "description": "With the openid scope: the ID token (OpenID Connect Core "
                     "3.1.3.3), a JWT of typ JWT signed with the keys of the JWKS"},
    },
}
_STRING = {"type": "string"}
_URL = {"type": "string", "format": "uri"}
#: OpenID Connect Discovery 1.0 section 3; the REQUIRED members, and the types of those this server publishes.
_OPENID_CONFIGURATION = {
    "type": "object",
    "required": ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                 "subject_types_supported", "id_token_signing_alg_values_supported"],
    "properties": {
        **{name: _URL for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                                   "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint",
                                   "introspection_endpoint", "device_authorization_endpoint",
                                   "registration_endpoint", "pushed_authorization_request_endpoint")},
        **{name: {"type": "array", "items": _STRING} for name in (
            "scopes_supported", "response_types_supported", "response_modes_supported", "grant_types_supported",
            "subject_types_supported", "id_token_signing_alg_values_supported", "claims_supported",
            "claim_types_supported", "prompt_values_supported", "code_challenge_methods_supported",
            "token_endpoint_auth_methods_supported", "request_object_signing_alg_values_supported",
            "acr_values_supported")},
        **{name: {"type": "boolean"} for name in (
            "claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported",
            "authorization_response_iss_parameter_supported", "require_pushed_authorization_requests")},
    },
}
#: OpenID Connect Core 5.3.2: sub always; the other claims by the identity scopes the token holds (5.4).
_USERINFO = {
    "type": "object",
    "required": ["sub"],
    "properties": {
        "sub": _STRING,
        "name": {"type": "string", "description": "with the profile scope"},
        "updated_at": {"type": "integer", "description": "with the profile scope: seconds since the epoch"},
        "email": {"type": "string", "description": "with the email scope"},
        "email_verified": {"type": "boolean", "description": "with the email scope"},
        **{name: {"type": "string", "description": "with the profile scope, when the user has it"}
           for name in ("given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
                        "picture", "website", "gender", "birthdate", "zoneinfo", "locale")},
    },
}
#: RFC 6750 3: an error of a protected resource; a request with no token at all gets an empty object.
_BEARER_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": _STRING, "error_description": _STRING},
}
_TOKEN_STATE = {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}}
_DEVICE = {
    "type": "object",
    "required": ["device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"],
    "properties": {"device_code": {"type": "string"}, "user_code": {"type": "string"},
                   "verification_uri": {"type": "string"}, "verification_uri_complete": {"type": "string"},
                   "expires_in": {"type": "integer"}, "interval": {"type": "integer"}},
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
#: RFC 9126 2.2.
_PUSHED = {
    "type": "object",
    "required": ["request_uri", "expires_in"],
    "properties": {"request_uri": {"type": "string", "pattern": "^urn:ietf:params:oauth:request_uri:",
                                   "description": "For the authorization request, with client_id; used once"},
                   "expires_in": {"type": "integer", "description": "Seconds until it can no longer start one"}},
}
#: The token endpoint's error codes (RFC 6749 5.2, RFC 8628 3.5, RFC 8707 2: invalid_target).
TOKEN_ERRORS = ("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
                "invalid_scope", "invalid_target", "authorization_pending", "slow_down", "access_denied",
                "expired_token")
_TOKEN_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "One of " + ", ".join(TOKEN_ERRORS),
                             "examples": list(TOKEN_ERRORS)},
                   "error_description": _STRING, "hint": _STRING},
}
#: RFC 7591 2: the client metadata this server understands (others are ignored, as 2 requires).
_CLIENT_METADATA_PROPERTIES: dict[str, Any] = {
    "redirect_uris": {"type": "array", "items": {"type": "string", "maxLength": 512}, "maxItems": 10,
                      "description": "https, http on a loopback address (RFC 8252 7.3) or a reverse-domain "
                      "private-use scheme (7.1); no fragment, no credentials; at most 10 of at most 512 characters"},
    "token_endpoint_auth_method": {"type": "string", "enum": ["none", "client_secret_basic", "client_secret_post",
                                                             "private_key_jwt"],
                                   "description": "none (a public client, PKCE) or private_key_jwt (with jwks or "
                                   "jwks_uri) under the open policy; default client_secret_basic"},
    "jwks": {"type": "object", "description": "private_key_jwt: the client's public signing keys (RFC 7517 5), "
             "not with jwks_uri", "properties": {"keys": {"type": "array", "items": {"type": "object"},
                                                           "maxItems": 10}}},
    "token_endpoint_auth_signing_alg": {"type": "string", "enum": ["ES256", "RS256", "EdDSA"],
                                        "description": "private_key_jwt: the one algorithm its assertions use"},
    "grant_types": {"type": "array", "items": {"type": "string", "enum": [
        "authorization_code", "refresh_token", "client_credentials"]}},
    "response_types": {"type": "array", "items": {"type": "string", "enum": ["code"]}},
    "client_name": {"type": "string", "maxLength": 100, "description": "Shown on the consent page (escaped), with "
                    "a notice that nobody checked it; no control, invisible or bidirectional formatting characters"},
    **{name: {"type": "string", "description": "An https URL"} for name in (
        "client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri")},
    "scope": {"type": "string", "description": "Space-separated scopes this server defines"},
    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string", "maxLength": 512}, "maxItems": 10},
    "dpop_bound_access_tokens": {"type": "boolean", "description": "RFC 9449 5.2: a token request without a DPoP "
                                 "proof is refused (default false)"},
}
_CLIENT_METADATA = {"type": "object", "properties": _CLIENT_METADATA_PROPERTIES}
#: RFC 7592 2.2: the whole metadata again, with the client's own id (and its secret, if it has one).
_CLIENT_UPDATE = {"type": "object", "required": ["client_id"], "properties": {
    **_CLIENT_METADATA_PROPERTIES, "client_id": _STRING, "client_secret": _STRING}}
#: RFC 7592 3 (and RFC 7591 3.2.1 with the secrets): the client information response.
_CLIENT_INFORMATION = {"type": "object", "required": ["client_id", "registration_client_uri"], "properties": {
    **_CLIENT_METADATA_PROPERTIES,
    "client_id": _STRING,
    "client_id_issued_at": {"type": "integer"},
    "registration_client_uri": _URL,
    "client_secret_expires_at": {"type": "integer", "description": "0: the secret does not expire"},
}}
_REGISTERED = {**_CLIENT_INFORMATION, "required": ["client_id", "client_id_issued_at", "registration_access_token",
                                                   "registration_client_uri"], "properties": {
    **_CLIENT_INFORMATION["properties"],
    "registration_access_token": {"type": "string", "description": "For RFC 7592 at registration_client_uri; "
                                  "shown once"},
    "client_secret": {"type": "string", "description": "Confidential clients only; shown once"},
}}
#: RFC 9728 2.
_PROTECTED_RESOURCE = {
    "type": "object",
    "required": ["resource", "authorization_servers"],
    "properties": {"resource": _URL, "authorization_servers": {"type": "array", "items": _URL},
                   "scopes_supported": _STRINGS, "bearer_methods_supported": _STRINGS, "resource_name": _STRING},
}
#: JSON-RPC 2.0 (section 4) as MCP uses it: a request (id and method), a notification (method, no id) or a
#: response; MCP 2025-03-26 also allows a batch (an array of them).
_JSON_RPC_MESSAGE = {
    "type": "object",
    "required": ["jsonrpc"],
    "properties": {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer"]}, "method": _STRING,
                   "params": {"type": "object"}},
}
_JSON_RPC_ERROR = {
    "type": "object",
    "required": ["jsonrpc", "error"],
    "properties": {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer", "null"]},
                   "error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "integer"}, "message": _STRING}}},
}
_MCP_VERSIONS = ("2025-06-18", "2025-03-26")
#: Form fields per form endpoint (all optional at the schema level: the endpoint says which a grant needs).
_FORM_FIELDS = {
    "/oauth/token": ("grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id",
                     "client_secret", "client_assertion_type", "client_assertion", "device_code", "username",
                     "password", "resource"),
    "/oauth/revoke": ("token", "token_type_hint", "client_id", "client_secret", "client_assertion_type",
                      "client_assertion"),
    "/oauth/introspect": ("token", "token_type_hint", "client_id", "client_secret", "client_assertion_type",
                          "client_assertion"),
    "/oauth/device/code": ("client_id", "client_secret", "client_assertion_type", "client_assertion", "scope"),
    # RFC 9126 2.1: the authorization request's parameters (never request_uri), and the client's credentials
    "/oauth/par": ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                   "code_challenge_method", "prompt", "nonce", "max_age", "resource", "response_mode", "claims",
                   "acr_values", "request", "client_secret", "client_assertion_type", "client_assertion"),
    # OpenID Connect Core 3.1.2.1: a relying party may POST its authorization request (the _QUERY parameters);
    # the consent form's answer carries _token (and _method to deny)
    "/oauth/authorize": ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                         "code_challenge_method", "prompt", "nonce", "max_age", "resource", "response_mode",
                         "claims", "acr_values", "request", "request_uri", "_token", "_method"),
    "/oauth/device/authorize": ("user_code", "_token", "_method"),
    "/login": ("email", "password", "_token", "next"),
    "/logout": ("_token",),
    "/oauth/logout": ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "_token"),
    "/oauth/userinfo": ("access_token",),
    "/account": ("action", "id", "name", "scopes", "redirect", "_token"),
}
#: The form fields every request of an endpoint needs.
_REQUIRED_FIELDS = {"/oauth/token": ["grant_type"], "/oauth/revoke": ["token"], "/oauth/introspect": ["token"]}
#: Query parameters of the pages' GET requests.
_QUERY = {
    "/oauth/authorize": ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                         "code_challenge_method", "prompt", "nonce", "max_age", "resource", "response_mode",
                         "claims", "acr_values", "request", "request_uri"),
    "/login": ("next", "prompt"),
    "/oauth/device": ("user_code",),
    "/oauth/device/authorize": ("user_code",),
    "/oauth/logout": ("id_token_hint", "client_id", "post_logout_redirect_uri", "state"),
}
#: What a parameter means, where its name alone does not say (the rest are plain strings).
_PARAMETER_DOCS: dict[tuple[str, str], dict[str, Any]] = {
    ("/oauth/authorize", "prompt"): {"description": "OpenID Connect Core 3.1.2.1: none, login, consent or "
                                     "select_account (space-separated; none alone)"},
    ("/oauth/authorize", "nonce"): {"description": "Echoed in the ID token's nonce claim (at most 512 "
                                    "characters)", "maxLength": 512},
    ("/oauth/authorize", "max_age"): {"description": "The most seconds since the user last signed in; older: "
                                      "the sign-in page again (0: always)", "pattern": "^[0-9]{1,9}$"},
    ("/oauth/authorize", "response_mode"): {"description": "query (the default) or form_post (an HTML page that "
                                            "posts the answer), fragment where the implicit grant is on"},
    ("/oauth/authorize", "claims"): {"description": "OpenID Connect Core 5.5: a JSON object of the claims asked "
                                     "of userinfo and the ID token", "maxLength": 4096},
    ("/oauth/authorize", "acr_values"): {"description": "OpenID Connect Core 3.1.2.1: voluntary; the ID token then "
                                         "carries acr"},
    ("/oauth/authorize", "request"): {"description": "OpenID Connect Core 6.1: an unsigned (alg none) request "
                                      "object; its parameters supersede the others", "maxLength": 16384},
    ("/oauth/authorize", "request_uri"): {"description": "RFC 9126 4: the request_uri POST /oauth/par returned "
                                          "(with client_id): the pushed parameters, and only they, are used, once. "
                                          "Any other request_uri: request_uri_not_supported"},
    ("/login", "prompt"): {"description": "login: show the form even to a signed-in user (prompt=login, "
                           "max_age)"},
    ("/oauth/logout", "id_token_hint"): {"description": "An ID token this server issued to the client "
                                         "(expired or not): the user it names is signed out without a question"},
    ("/oauth/logout", "post_logout_redirect_uri"): {"description": "Exactly one of the client's registered "
                                                    "post_logout_redirect_uris; needs client_id or id_token_hint"},
    ("/oauth/logout", "state"): {"description": "Sent back with the redirect to post_logout_redirect_uri"},
}
#: RFC 8707 2: ``resource`` may repeat; each an absolute URI of a resource this server issues tokens for.
_RESOURCE = {"type": "array", "items": {"type": "string"},
             "description": "RFC 8707: the protected resource (API) the token is for, by its identifier (absolute "
             "URI, no fragment); repeatable. Unknown to this server: invalid_target. The access token's aud is it."}
_ARRAY_FIELDS = {("/oauth/authorize", "resource"): _RESOURCE, ("/oauth/token", "resource"): _RESOURCE,
                 ("/oauth/par", "resource"): _RESOURCE}
#: A client's name and redirect URIs in the JSON API: the rules of every client (core/clients.py).
_CLIENT_FIELDS = {
    "name": {"type": "string", "maxLength": 100, "description": "No control, invisible or bidirectional "
             "formatting characters"},
    "redirect": {"type": "string", "description": "Passport's comma-separated redirect URIs"},
    "redirect_uris": {"type": "array", "items": {"type": "string", "maxLength": 512}, "maxItems": 10,
                      "description": "https, http on a loopback address or a reverse-domain private-use scheme; no "
                      "fragment, no credentials"},
}
#: The JSON API's request bodies (Passport's Vue components send JSON).
_JSON_BODIES = {
    ("POST", "/oauth/clients"): {"type": "object", "properties": {
        **_CLIENT_FIELDS, "confidential": {"type": "boolean"}}},
    ("PUT", "/oauth/clients/{client_id}"): {"type": "object", "properties": _CLIENT_FIELDS},
    ("POST", "/oauth/personal-access-tokens"): {"type": "object", "properties": {
        "name": {"type": "string"}, "scopes": _STRINGS}},
    ("POST", "/oauth/register"): _CLIENT_METADATA,
    ("PUT", "/oauth/register/{client_id}"): _CLIENT_UPDATE,
}
#: The MCP server's body: one JSON-RPC message, or (MCP 2025-03-26) a batch of them.
_JSON_RPC_BODY = {"oneOf": [_JSON_RPC_MESSAGE, {"type": "array", "items": _JSON_RPC_MESSAGE}]}
#: The error statuses of each page (each an HTML page): 400 a malformed request, 401 signed out or wrong
#: credentials, 403 a form without its CSRF token, 404 and 422 what the JSON API refused, 429 throttled.
_PAGES = {
    "/oauth/authorize": ("400", "401", "403"),
    "/login": ("400", "401", "403", "429"),
    "/logout": ("400", "403"),
    "/oauth/device": ("400", "403", "429"),
    "/oauth/device/authorize": ("400", "403", "429"),
    "/account": ("400", "403", "404", "422"),
    "/oauth/logout": ("400",),
}
#: The OAuth endpoints' 200 bodies (None: an empty 200, RFC 7009 2.2) and the JSON API's successes.
_OAUTH_OK: dict[str, dict[str, Any] | None] = {
    "/oauth/token": _TOKEN, "/oauth/introspect": _TOKEN_STATE, "/oauth/device/code": _DEVICE,
    "/oauth/revoke": None,
}
#: RFC 6750 3.1's challenge, on every refusal of a bearer token.
_CHALLENGE = {"WWW-Authenticate": {"description": 'Bearer realm="<issuer>", with error (and scope) when the token '
                                   "was presented", "required": True, "schema": _STRING}}
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
    if path == "/oauth/userinfo":
        return {
            "200": {"description": "The user's claims (OpenID Connect Core 5.3.2)", "content": _json(_USERINFO)},
            "400": {"description": "invalid_request: the token sent in more than one way, or a malformed body",
                    "headers": _CHALLENGE, "content": _json(_BEARER_ERROR)},
            "401": {"description": "No token (a bare challenge), or invalid_token: unknown, expired or revoked, "
                    "of a revoked client, or naming no user", "headers": _CHALLENGE,
                    "content": _json(_BEARER_ERROR)},
            "403": {"description": 'insufficient_scope, scope="openid": the token was not issued for OpenID '
                    "Connect", "headers": _CHALLENGE, "content": _json(_BEARER_ERROR)},
            "503": _error(unavailable),
        }
    if path == "/.well-known/openid-configuration":
        return {"200": {"description": "OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3)",
                        "content": _json(_OPENID_CONFIGURATION)}}
    if path.startswith(PROTECTED_RESOURCE_PATH):
        return {"200": {"description": "Protected resource metadata (RFC 9728 3.2)",
                        "content": _json(_PROTECTED_RESOURCE)}}
    if route.function == "register":
        return _registration_responses(route)
    if path == "/oauth/par":
        return {
            "201": {"description": "Pushed (RFC 9126 2.2): the request_uri, for the authorization request",
                    "content": _json(_PUSHED)},
            "400": _error("An OAuth error (RFC 9126 2.3): what the authorization endpoint would send the redirect "
                          "URI, or invalid_request (a malformed request, an unregistered redirect URI, request_uri "
                          "pushed)"),
            "401": _error("invalid_client (WWW-Authenticate: Basic when Basic was tried)"),
            "503": _error(unavailable),
        }
    if route.bearer:
        return _mcp_responses(route.method)
    if path in _OAUTH_OK:
        ok = _OAUTH_OK[path]
        errors = _json(_TOKEN_ERROR) if path == "/oauth/token" else _json(_OAUTH_ERROR)
        return {
            "200": {"description": "OK", **({"content": _json(ok)} if ok is not None else {})},
            "400": {"description": "An OAuth error (RFC 6749 5.2" + (
                "; RFC 8707's invalid_target for a resource this server does not know or the grant does not "
                "cover" if path == "/oauth/token" else "") + ")", "content": errors},
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


def _registration_responses(route: Route) -> dict[str, Any]:
    """RFC 7591 3.2 and RFC 7592 2, as :mod:`passport.core.registration` answers."""
    unavailable = _error("Storage is unavailable (Retry-After)")
    refused = {"description": "invalid_token: no registration access token, a wrong one, or an unknown or deleted "
               "client (RFC 7592 2)", "headers": _CHALLENGE, "content": _json(_BEARER_ERROR)}
    invalid = _error("invalid_redirect_uri or invalid_client_metadata (RFC 7591 3.2.2), or invalid_request: an "
                     "Authorization header that is not a well-formed Bearer token (RFC 6750 3.1)")
    malformed = {"description": "invalid_request: an Authorization header that is not a well-formed Bearer token "
                 "(RFC 6750 3.1)", "headers": _CHALLENGE, "content": _json(_BEARER_ERROR)}
    if route.method == "POST":
        return {
            "201": {"description": "Registered: the client information response (RFC 7591 3.2.1), with the "
                    "registration access token (and a confidential client's secret), shown once",
                    "content": _json(_REGISTERED)},
            "400": invalid,
            "401": {"description": "registration.policy token: the initial access token (Bearer) is missing or "
                    "wrong", "headers": _CHALLENGE, "content": _json(_BEARER_ERROR)},
            "403": _error("access_denied: registration is closed on this server (registration.policy closed)"),
            "429": {"description": "slow_down: too many registrations from this address (Retry-After)",
                    "headers": {"Retry-After": {"schema": _STRING}}, "content": _json(_OAUTH_ERROR)},
            "503": unavailable,
        }
    if route.method == "DELETE":
        return {"204": {"description": "Deleted: the client is revoked, and with it its tokens"}, "400": malformed,
                "401": refused, "503": unavailable}
    ok = {"description": "The client's metadata (RFC 7592 3)", "content": _json(_CLIENT_INFORMATION)}
    if route.method == "GET":
        return {"200": ok, "400": malformed, "401": refused, "503": unavailable}
    return {"200": ok, "400": invalid, "401": refused, "503": unavailable}


def _mcp_responses(method: str) -> dict[str, Any]:
    """MCP Streamable HTTP (2025-06-18, Basic > Transports), stateless and JSON-only; MCP Authorization: the 401
    names the resource's metadata (RFC 9728 5.1)."""
    rpc_error = _json(_JSON_RPC_ERROR)
    unauthorized = {
        "description": 'No token, or not one for this resource: WWW-Authenticate: Bearer [error="invalid_token", '
        ']resource_metadata="<issuer>/.well-known/oauth-protected-resource/mcp"',
        "headers": {"WWW-Authenticate": {"required": True, "schema": _STRING,
                                         "description": "Bearer, with resource_metadata (RFC 9728 5.1)"}},
        "content": _json(_BEARER_ERROR),
    }
    unavailable = _error("The keys or the revocation state could not be read (Retry-After)")
    if method != "POST":
        return {"401": unauthorized,
                "405": {"description": "Stateless: no SSE stream to GET, no session to DELETE (Allow: POST)",
                        "content": rpc_error},
                "503": unavailable}
    return {
        "200": {"description": "The JSON-RPC response (a JSON-RPC error too), or an array of them for a batch",
                "content": _json({"type": ["object", "array"]})},
        "202": {"description": "Accepted: the body held notifications or responses only"},
        "400": {"description": "Not JSON (-32700), not a JSON-RPC message or an unsupported MCP-Protocol-Version "
                "(-32600)", "content": rpc_error},
        "401": unauthorized,
        "406": {"description": "The Accept header excludes application/json", "content": rpc_error},
        "413": {"description": "The body is too large", "content": rpc_error},
        "415": {"description": "The body is not application/json", "content": rpc_error},
        "503": unavailable,
    }


def _operation(settings: Settings, route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_').replace('.', '_')}"
        .replace("{", "").replace("}", "").replace("-", "_"),
        "tags": [route.function],
    }
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in (m.group(1) for m in PATH_PARAMETER.finditer(route.path))]
    if route.method == "GET":
        for name in _QUERY.get(route.path, ()):
            doc = dict(_PARAMETER_DOCS.get((route.path, name), {}))
            array = _ARRAY_FIELDS.get((route.path, name))
            if array is not None:
                doc = {"description": array["description"]}
            description = doc.pop("description", None)
            schema = {"type": "array", "items": array["items"]} if array else {"type": "string", **doc}
            param = {"name": name, "in": "query", "schema": schema}
            params.append({**param, "description": description} if description else param)
    if params:
        operation["parameters"] = params
    fields = _FORM_FIELDS.get(route.path)
    body = _JSON_RPC_BODY if route.bearer and route.method == "POST" else _JSON_BODIES.get((route.method, route.path))
    if fields and route.method in ("POST", "DELETE"):
        schema: dict[str, Any] = {"type": "object", "properties": {
            name: _ARRAY_FIELDS.get((route.path, name), {"type": "string"}) for name in fields}}
        if route.path in _REQUIRED_FIELDS:
            schema["required"] = _REQUIRED_FIELDS[route.path]
        operation["requestBody"] = {"required": True, "content": {_FORM: {"schema": schema}}}
    elif body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if route.path == "/oauth/userinfo" and route.method == "POST":
        operation["requestBody"]["required"] = False  # the token may come in the Authorization header instead
    operation["responses"] = _responses(route)
    if route.bearer:
        operation.setdefault("parameters", []).append({
            "name": "MCP-Protocol-Version", "in": "header", "required": False,
            "description": "The MCP revision of the session (none: 2025-03-26)",
            "schema": {"type": "string", "enum": list(_MCP_VERSIONS)}})
    # A protected resource takes a Bearer token or, where DPoP is on, a DPoP-bound one with its proof (RFC 9449 7).
    dpop = settings.dpop.enabled
    if route.rule is not None:
        operation["security"] = _token_security(list(route.rule.scopes), dpop)
    elif route.bearer:
        # The endpoint checks the token itself: the MCP server an access token for its resource (RFC 9728).
        operation["security"] = _token_security([], dpop)
    elif route.function == "register" and "{" in route.path:
        # A registration access token (RFC 7592 1): a bearer token, never DPoP-bound.
        operation["security"] = [{"bearer": []}]
    elif route.path == "/oauth/userinfo":
        # RFC 6750 2.1, or (POST) 2.2's access_token form field: an access token with the openid scope.
        operation["security"] = _token_security(["openid"], dpop)
    if dpop and (route.rule is not None or route.bearer or route.path in (USERINFO_PATH, TOKEN_PATH, "/oauth/par")):
        operation.setdefault("parameters", []).append(_DPOP_HEADER)
    return operation


#: RFC 9449 4.1: the proof of possession, on a request with a DPoP-bound token, or asking for one.
_DPOP_HEADER = {"name": "DPoP", "in": "header", "required": False, "schema": _STRING,
                "description": "A DPoP proof (RFC 9449 4): with a DPoP-bound token, or to have the token bound"}


def _token_security(scopes: list[str], dpop: bool) -> list[dict[str, list[str]]]:
    return [{"bearer": scopes}, {"dpop": scopes}] if dpop else [{"bearer": scopes}]


def openapi_document(settings: Settings) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in route_table(settings):
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(settings, route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "lambda-passport", "version": __version__,
                 "description": "An OAuth 2.0 authorization server (RFC 6749, 7636, 7009, 7662, 8414, 8628, 9068; "
                 "dynamic registration RFC 7591 and 7592; resource indicators RFC 8707; protected resource metadata "
                 "RFC 9728; pushed authorization requests RFC 9126) and OpenID Provider (OpenID Connect Core 1.0, "
                 "Discovery 1.0, RP-Initiated Logout 1.0), "
                 "with a demo MCP server."},
        "servers": [{"url": settings.issuer_url}],
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RFC 9068 at+jwt)"},
            **({"dpop": {"type": "http", "scheme": "DPoP", "description":
                         "A DPoP-bound JWT (RFC 9068, cnf.jkt) with its proof in the DPoP header (RFC 9449 7)"}}
               if settings.dpop.enabled else {}),
        }},
    }
