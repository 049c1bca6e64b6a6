"""API Gateway's gateway responses, as this product configures them: what API Gateway itself answers when a
request never reaches a function (the guard refused it, the route does not exist, the guard failed).

The CDK stack installs these on the REST API and the local gateway answers with them, so both agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: Where, under the issuer (or the API's base URL), a protected API publishes its RFC 9728 metadata.
PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
#: RFC 6797 6.1: two years, subdomains included. No ``preload``: putting a domain on browsers' built-in list is its
#: owner's decision, not this server's. Sent on every answer of an https origin, API Gateway's own included.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
#: On the passport API, API Gateway's own refusals and failures are readable from any origin (Fetch standard, CORS
#: protocol): a browser client sees why it was refused (the Bearer challenge, when to retry). They are static, hold
#: nothing of any user or client, and allow no credentials. Not the answer for a path or method with no route: no
#: browser client needs it, and a preflight of a page must carry no Access-Control header at all.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "WWW-Authenticate, Retry-After"}
NO_CORS = ("MISSING_AUTHENTICATION_TOKEN",)


@dataclass(frozen=True)
class GatewayResponse:
    """An answer API Gateway itself gives (an authorizer's refusal), as the local gateway gives it too."""

    status: int
    body: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


GATEWAY_RESPONSES: dict[str, GatewayResponse] = {
    # The guard raised "Unauthorized", or the Authorization header is missing (RFC 6750 3.1).
    "UNAUTHORIZED": GatewayResponse(
        401,
        {"error": "invalid_token", "error_description": "The access token is missing, invalid, expired or revoked."},
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    ),
    # The guard's policy denies this route: the token lacks a scope or is of the wrong kind.
    "ACCESS_DENIED": GatewayResponse(
        403,
        {"error": "insufficient_scope", "error_description": "The access token does not grant access to this route."},
        {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
    ),
    # The guard could not decide (storage or keys unavailable): fail closed, and say when to retry.
    "AUTHORIZER_FAILURE": GatewayResponse(
        503,
        {"error": "temporarily_unavailable", "error_description": "Authorization is unavailable; try again."},
        {"Retry-After": "1"},
    ),
    "AUTHORIZER_CONFIGURATION_ERROR": GatewayResponse(
        503,
        {"error": "temporarily_unavailable", "error_description": "Authorization is unavailable; try again."},
        {"Retry-After": "1"},
    ),
    # API Gateway's answer for a path it has no resource for.
    "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(
        404, {"error": "not_found", "error_description": "No such route."}
    ),
    "REQUEST_TOO_LARGE": GatewayResponse(
        413, {"error": "invalid_request", "error_description": "The request is too large."}
    ),
    "THROTTLED": GatewayResponse(
        429, {"error": "slow_down", "error_description": "Too many requests; try again later."}, {"Retry-After": "1"}
    ),
    "DEFAULT_5XX": GatewayResponse(
        502, {"error": "server_error", "error_description": "The server met an unexpected condition."}
    ),
}

METHOD_NOT_ALLOWED = GatewayResponse(
    405, {"error": "method_not_allowed", "error_description": "The route does not accept this method."}
)


#: The DPoP proof algorithms a guard names in its 401 (RFC 9449 7.1 ``algs``): those passport.core.dpop checks,
#: written here too since this module is standard library only (a test holds the two equal).
DPOP_ALGORITHMS = ("ES256", "RS256", "EdDSA")


def gateway_responses(resource_metadata: str | None = None, *, https: bool = False,
                      cors: bool = False, dpop: bool = False) -> dict[str, GatewayResponse]:
    """The gateway responses of an API whose protected resource publishes its metadata at ``resource_metadata``
    (RFC 9728 5.1): the 401 says where, so a client that has nothing but the API's URL finds the resource's
    authorization server from a bare 401. ``https``: the API answers over https only (API Gateway always does),
    so every answer carries ``Strict-Transport-Security`` (RFC 6797), as the functions' answers do. ``cors``: the
    refusals and failures are readable from any origin (:data:`CORS_HEADERS`), as on the passport API.

    ``dpop``: the guard accepts DPoP-bound tokens, so the 401 offers that scheme too (RFC 9449 7.1), with the
    algorithms its proofs may use. A gateway response is the same for every request (an authorizer that refuses
    cannot set headers), so the 401 says ``invalid_token`` in both challenges whatever failed, a missing or bad
    proof included, and never hands out a nonce; the guard's log says what failed. A function that guards itself
    (passport.guard.resource) answers each failure with its own error."""
    responses = dict(GATEWAY_RESPONSES)
    unauthorized = GATEWAY_RESPONSES["UNAUTHORIZED"]
    challenge = unauthorized.headers["WWW-Authenticate"]
    if resource_metadata:
        challenge += f', resource_metadata="{resource_metadata}"'
    if dpop:
        challenge += f', DPoP error="invalid_token", algs="{" ".join(DPOP_ALGORITHMS)}"'
    responses["UNAUTHORIZED"] = replace(unauthorized, headers={**unauthorized.headers, "WWW-Authenticate": challenge})
    if https:
        responses = {kind: with_transport_security(response) for kind, response in responses.items()}
    if cors:
        responses = {kind: response if kind in NO_CORS else with_cors(response) for kind, response in responses.items()}
    return responses


def with_cors(response: GatewayResponse) -> GatewayResponse:
    return replace(response, headers={**response.headers, **CORS_HEADERS})


def with_transport_security(response: GatewayResponse) -> GatewayResponse:
    return replace(response, headers={**response.headers, "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY})


def api_resource_metadata(issuer: str, audience: str) -> str:
    """Where the API's metadata is: at its identifier's own location when the identifier is under the issuer
    (RFC 9728 3.1: ``/api`` -> ``/.well-known/oauth-protected-resource/api``), else at the root."""
    suffix = audience.removeprefix(issuer) if audience.startswith(issuer + "/") else ""
    return issuer + PROTECTED_RESOURCE_PATH + suffix
