"""API Gateway authorizer events in, authorizer answers out.

Three shapes arrive: REST ``TOKEN`` (``authorizationToken`` + ``methodArn``), REST ``REQUEST`` (headers,
``resource``, ``httpMethod``, ``methodArn``) and HTTP API payload 2.0 (``routeKey``, lower-cased headers).
REST answers are IAM policies; HTTP API answers are simple responses (``isAuthorized`` + ``context``).

A token that is missing or invalid raises :class:`Unauthorized`, the exact error API Gateway turns into
401 (the stack's gateway response adds ``WWW-Authenticate: Bearer error="invalid_token"``, and a ``DPoP`` challenge
where DPoP is on). A valid token the route's rule refuses is denied: 403, ``insufficient_scope``.

A DPoP call (RFC 9449 7.1) is checked against the request as the client addressed it: ``https://`` (the scheme
the guard is told: API Gateway serves https only), the host of ``requestContext.domainName`` and the path of
``requestContext.path`` (REST: the stage or base path included, as the client sent it) or ``rawPath`` (HTTP API).
A REST ``TOKEN`` authorizer sees the token alone, so a DPoP-bound token never passes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from passport.bearer import BEARER, MalformedAuthorization, token_credentials
from passport.core.errors import PassportError
from passport.guard.decision import Call, Guard, Principal
from passport.guard.tally import TALLY
from passport.jws import InvalidToken


class Unauthorized(PassportError):
    """Raised with the message ``Unauthorized``: API Gateway's signal for a 401 (the one exception the guard raises
    for what a client sent; anything else it refuses is a policy or ``isAuthorized`` false)."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class AuthorizerCall:
    """An authorizer event of any of API Gateway's three kinds, reduced to what a decision needs."""

    kind: str  # "TOKEN", "REQUEST" or "HTTP"
    token: str | None
    method: str
    path: str
    arn: str  # methodArn or routeArn
    #: The token's scheme, the DPoP header and the URL the client called (RFC 9449 7.1): what a DPoP call needs.
    scheme: str = BEARER
    proof: str | None = None
    url: str | None = None

    def presented(self) -> Call:
        return Call(self.token, self.scheme, self.proof, self.method, self.url)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _header(headers: object, name: str) -> object:
    """A header by its lower-case name. REST events keep the client's spelling, HTTP API events lower-case
    it: the two usual spellings are tried before a scan."""
    if not isinstance(headers, Mapping) or not headers:
        return None
    value = headers.get(name) or headers.get(name.title())
    if value is not None:
        return value
    return next((value for key, value in headers.items() if isinstance(key, str) and key.lower() == name), None)


def _credentials(value: object) -> tuple[str, str | None]:
    """The scheme and token of a header value (RFC 6750 2.1, RFC 9449 7.1); a malformed one is no token (401
    alike)."""
    try:
        found = token_credentials(value)
    except MalformedAuthorization:
        return BEARER, None
    return (BEARER, None) if found is None else found


def _token(value: object) -> str | None:
    """The token of a header value, Bearer or DPoP."""
    return _credentials(value)[1]


def _single(event: Mapping[str, Any], name: str) -> tuple[bool, object]:
    """A REST REQUEST event's header by its lower-case name, and whether it came once. ``headers`` keeps only the
    last of repeated headers; ``multiValueHeaders`` has them all: two Authorization headers are two methods at
    once (RFC 6750 2: "MUST NOT use more than one method"), two DPoP headers no proof (RFC 9449 4.3 point 1)."""
    values = _header(event.get("multiValueHeaders"), name)
    if isinstance(values, list) and len(values) > 1:
        return False, None
    return True, _header(event.get("headers"), name)


def _url(scheme: str, context: object, path: object) -> str | None:
    """The URL the client called: ``scheme://<domainName><path>``; None when the event lacks either."""
    host = context.get("domainName") if isinstance(context, Mapping) else None
    if not isinstance(host, str) or not host or not isinstance(path, str) or not path.startswith("/"):
        return None
    return f"{scheme}://{host}{path}"


def _split_arn(arn: str) -> tuple[str, str]:
    """``arn:...:api/stage/GET/api/orders`` -> ("GET", "/api/orders")."""
    parts = arn.split(":", 5)[-1].split("/", 3)
    if len(parts) < 3:
        return "", "/"
    return parts[2], "/" + (parts[3] if len(parts) > 3 else "")


def parse(event: Mapping[str, Any], url_scheme: str = "https") -> AuthorizerCall:
    """The call an authorizer event describes. Every field is taken as it comes (a header is what a client sent),
    so nothing in it can make this raise: what is not where it should be is absent. ``url_scheme``: the scheme of
    the URL the client called (API Gateway: https)."""
    context = event.get("requestContext")
    if event.get("version") == "2.0":
        method, _, path = _text(event.get("routeKey")).partition(" ")
        headers = event.get("headers")
        scheme, token = _credentials(_header(headers, "authorization"))
        proof = _header(headers, "dpop")
        called = _url(url_scheme, context, event.get("rawPath"))
        return AuthorizerCall("HTTP", token, method, path, _text(event.get("routeArn")), scheme,
                              proof if isinstance(proof, str) else None, called)
    arn = _text(event.get("methodArn"))
    if event.get("type") == "TOKEN":
        method, path = _split_arn(arn)
        scheme, token = _credentials(event.get("authorizationToken"))
        return AuthorizerCall("TOKEN", token, method, path, arn, scheme)
    method = _text(event.get("httpMethod")) or _split_arn(arn)[0]
    path = _text(event.get("resource")) or _split_arn(arn)[1]
    once, authorization = _single(event, "authorization")
    scheme, token = _credentials(authorization) if once else (BEARER, None)
    once, proof = _single(event, "dpop")
    called = _url(url_scheme, context, context.get("path") if isinstance(context, Mapping) else None)
    return AuthorizerCall("REQUEST", token, method, path, arn, scheme,
                          proof if once and isinstance(proof, str) else None, called)


def _arn_prefix(arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage`` of a method ARN."""
    head, _, tail = arn.rpartition(":")
    api, stage = [*tail.split("/"), "", ""][:2]
    return f"{head}:{api}/{stage}"


def _route_arn(prefix: str, method: str, path: str) -> str:
    """The ARN of a route template; path parameters become wildcards."""
    segments = ["*" if part.startswith("{") else part for part in path.strip("/").split("/")]
    return f"{prefix}/{'*' if method == 'ANY' else method}/{'/'.join(segments)}"


def policy_document(prefix: str, denied_routes: tuple[str, ...]) -> dict[str, Any]:
    """One policy valid for every route of the API, so API Gateway's authorizer cache (keyed by token) can
    reuse it anywhere: allow the whole stage, then explicitly deny each route whose rule the token fails
    (an explicit Deny always wins in IAM evaluation)."""
    denied = [_route_arn(prefix, *key.split(" ", 1)) for key in denied_routes]
    statements: list[dict[str, Any]] = [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{prefix}/*"]}
    ]
    if denied:
        statements.append({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": denied})
    return {"Version": "2012-10-17", "Statement": statements}


#: Policy documents by (stage ARN, denied routes): one API and a few scope sets give the same few documents.
_POLICIES: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
_POLICY_MEMO_SIZE = 256


def policy(principal: Principal, guard: Guard, call: AuthorizerCall) -> dict[str, Any]:
    key = (_arn_prefix(call.arn), guard.denied_routes(principal))
    document = _POLICIES.get(key)
    if document is None:
        if len(_POLICIES) >= _POLICY_MEMO_SIZE:
            _POLICIES.clear()
        document = _POLICIES[key] = policy_document(*key)
    return {"principalId": principal.sub, "policyDocument": document, "context": principal.context()}


def authorize(event: Mapping[str, Any], guard: Guard) -> dict[str, Any]:
    if not isinstance(event, Mapping):
        raise Unauthorized()  # not an API Gateway authorizer event: nothing in it to trust
    call = parse(event, guard.url_scheme)
    try:
        principal = guard.authenticate(call.token, call.presented())
    except InvalidToken:
        TALLY.decision("unauthorized")
        raise Unauthorized() from None
    allowed = guard.permits(principal, guard.rules.for_route(call.method, call.path))
    TALLY.decision("allow" if allowed else "deny")
    if call.kind == "HTTP":
        return {"isAuthorized": allowed, "context": principal.context()}
    return policy(principal, guard, call)
