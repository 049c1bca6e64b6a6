"""API Gateway's authorizer result cache, as the guard is attached: one source of truth for the CDK construct
(``PassportGuard``) and the local gateway, API Gateway's twin.

API Gateway keys a Lambda authorizer's cached answer by the values of the authorizer's identity sources, and
answers 401 without calling the authorizer when any of them is missing or empty (AWS, API Gateway Developer
Guide: "Use API Gateway Lambda authorizers" for REST APIs, "Working with AWS Lambda authorizers for HTTP APIs").
So the identity sources decide which requests share one answer:

* REST API: the guard answers with one IAM policy valid for the whole API (Allow the stage, explicit Deny of each
  route whose rule the token fails), which API Gateway evaluates against each request's method ARN, so the
  token alone is the right key.
* HTTP API (payload 2.0, simple responses): the guard's ``isAuthorized`` holds for the one route it was asked
  about, and "by default, API Gateway uses the cached authorizer response for all routes of an API that use the
  authorizer"; the route key is part of the key, so a cached answer never decides another route.

Standard library only: this module is in the Lambda layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: A REST API's REQUEST authorizer: the Authorization header (the policy covers every route).
REST_IDENTITY_SOURCES: tuple[str, ...] = ("method.request.header.Authorization",)
#: An HTTP API's Lambda authorizer: the Authorization header and the route (a simple response is per route).
HTTP_IDENTITY_SOURCES: tuple[str, ...] = ("$request.header.Authorization", "$context.routeKey")
#: How long API Gateway keeps an answer unless the construct is told otherwise (``guard.authorizer_cache_seconds``
#: for the passport API).
DEFAULT_TTL_SECONDS = 60


def ttl_seconds(configured: int, *, dpop: bool) -> int:
    """The cache's TTL for a guard that accepts DPoP (``dpop``) or not. A DPoP proof is good for one request
    (RFC 9449 11.1), and a cached answer is given without the guard seeing the request: whatever the key, a cache
    hit would let a replayed proof through, so a guard that accepts DPoP answers every request itself (0 turns
    API Gateway's cache off)."""
    return 0 if dpop else configured


@dataclass(frozen=True)
class RequestValues:
    """What identity sources are read from: the request's headers and query string as received (name, value
    pairs, repeats kept), the context variables (``routeKey``, ``httpMethod``, nested ``identity.sourceIp``...)
    and the stage variables."""

    headers: Sequence[tuple[str, str]] = ()
    query: Sequence[tuple[str, str]] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)


def cache_key(identity_sources: Sequence[str], request: RequestValues) -> tuple[str, ...] | None:
    """The values of ``identity_sources`` in this request, in order: the authorizer cache's key (and an HTTP API
    event's ``identitySource``). None when any is missing or empty: API Gateway then answers 401 without
    calling the authorizer."""
    values = []
    for expression in identity_sources:
        value = evaluate(expression, request)
        if not value:
            return None
        values.append(value)
    return tuple(values)


def check(identity_sources: Sequence[str]) -> tuple[str, ...]:
    """The identity sources, each checked to be an expression API Gateway knows (``ValueError`` if not)."""
    for expression in identity_sources:
        _parse(expression)
    return tuple(identity_sources)


def evaluate(expression: str, request: RequestValues) -> str | None:
    """One identity source: a REST mapping expression (``method.request.header.Name``,
    ``method.request.querystring.name``, ``context.name``, ``stageVariables.name``) or an HTTP API selection
    expression (the same with ``$request.``, ``$context.``, ``$stageVariables.``). Header names are
    case-insensitive, query string and stage variable names are not. A repeated header or query parameter is
    its values joined by commas, as an HTTP API event carries it, so two requests share a key only when the
    authorizer would see the same values."""
    kind, name = _parse(expression)
    if kind == "header":
        wanted = name.lower()
        found = [value for key, value in request.headers if key.lower() == wanted]
    elif kind == "querystring":
        found = [value for key, value in request.query if key == name]
    elif kind == "stageVariables":
        found = [request.stage_variables[name]] if name in request.stage_variables else []
    else:
        found = _context(request.context, name)
    return ",".join(found) if any(found) else None


#: Expression prefixes -> the kind of value they name.
_PREFIXES = (
    ("method.request.multivalueheader.", "header"),
    ("method.request.header.", "header"),
    ("method.request.multivaluequerystring.", "querystring"),
    ("method.request.querystring.", "querystring"),
    ("$request.header.", "header"),
    ("$request.querystring.", "querystring"),
    ("$stageVariables.", "stageVariables"),
    ("stageVariables.", "stageVariables"),
    ("$context.", "context"),
    ("context.", "context"),
)


def _parse(expression: str) -> tuple[str, str]:
    for prefix, kind in _PREFIXES:
        if expression.startswith(prefix) and len(expression) > len(prefix):
            return kind, expression[len(prefix):]
    # A misspelt source must not silently become a key every request shares.
    raise ValueError(f"not an identity source API Gateway knows: {expression!r}")


def _context(context: Mapping[str, Any], name: str) -> list[str]:
    """``routeKey`` or a dotted path into nested context (``identity.sourceIp``)."""
    value: Any = context.get(name)
    if value is None and "." in name:
        value = context
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    return [] if value is None or isinstance(value, Mapping) else [str(value)]
