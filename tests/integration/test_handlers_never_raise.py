"""No Lambda handler raises for anything a client sends: every function of the route table, given API Gateway
events (REST payload 1.0 and HTTP API payload 2.0) full of hostile headers, tokens, cookies, query strings and
bodies, answers with a proxy result below 500; the guard answers or raises exactly ``Unauthorized``, API Gateway's
protocol for a 401, and nothing else. On Lambda an exception is a function error: an Errors alarm anyone could
trip, and a 502 or 503 for the caller.

The events are built as API Gateway builds them (the client controls header values, query values, cookies and the
body, never the event's shape), and the handlers run as Lambda runs them, over the real local store."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import fuzz, hostile_text

pytestmark = pytest.mark.passport_config('[registration]\npolicy = "open"\nper_hour = 10000\n')

NESTED = "[" * 5000
#: Tokens as a client might send them: well-formed b64tokens that are not ours, and worse.
TOKENS = st.sampled_from((
    base64.urlsafe_b64encode(b"[" * 1100).rstrip(b"=").decode() + ".e30.c2ln", "a.b.c", "e30.e30.e30", "..", "x",
    "eyJhbGciOiJub25lIn0.e30.", "A" * 20_000, "a.b.c=", "é.é.é", "a b", "a,b",
))
HEADER_NAMES = st.sampled_from(("Authorization", "authorization", "Cookie", "Content-Type", "X-XSRF-TOKEN",
                                "Accept", "MCP-Protocol-Version", "Origin", "Host", "X-Forwarded-For"))
BODIES = st.one_of(
    hostile_text(), st.sampled_from((NESTED, '{"a":' * 3000, '{"jsonrpc":"2.0","id":1,"method":"initialize"}',
                                     "grant_type=client_credentials&scope=%FF", '{"name":"\\ud800"}', "NaN",
                                     '{"redirect_uris":[' + '"https://a.example/cb",' * 5000 + '""]}')),
)


def header_value(name: str) -> st.SearchStrategy[str]:
    if name.lower() == "authorization":
        return st.one_of(st.builds(lambda scheme, token: scheme + token,
                                   st.sampled_from(("Bearer ", "bearer  ", "Basic ", "DPoP ", "")), TOKENS),
                         hostile_text(huge=False))
    if name.lower() == "content-type":
        return st.sampled_from(("application/json", "application/x-www-form-urlencoded", "text/plain", "", "a/b;;"))
    return hostile_text(huge=False)


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(HEADER_NAMES, max_size=5, unique_by=str.lower))
    return {name: draw(header_value(name)) for name in names}


@st.composite
def rest_event(draw: st.DrawFn, method: str, path: str, resource: str) -> dict[str, Any]:
    sent = draw(headers())
    query = draw(st.dictionaries(hostile_text(huge=False), st.lists(hostile_text(huge=False), min_size=1,
                                                                     max_size=2), max_size=3))
    body = draw(st.none() | BODIES)
    encoded = draw(st.booleans())
    if body is not None and encoded:
        body = draw(st.sampled_from((base64.b64encode(body.encode("utf-8", "surrogatepass")).decode(), "%%%not-b64")))
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": dict(sent) or None, "multiValueHeaders": {k: [v] for k, v in sent.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"client_id": draw(hostile_text(huge=False)), "token_id": draw(hostile_text(huge=False))},
        "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": path, "stage": "local",
                           "identity": {"sourceIp": "127.0.0.1", "userAgent": "fuzz"}, "requestId": "r"},
        "body": body, "isBase64Encoded": bool(body is not None and encoded),
    }


@st.composite
def http_event(draw: st.DrawFn, method: str, path: str) -> dict[str, Any]:
    sent = {k.lower(): v for k, v in draw(headers()).items()}
    cookies = draw(st.lists(hostile_text(huge=False), max_size=3))
    query = draw(st.dictionaries(hostile_text(huge=False), hostile_text(huge=False), max_size=3))
    body = draw(st.none() | BODIES)
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": sent, "cookies": cookies or None, "queryStringParameters": query or None,
        "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}, "routeKey": "x"},
        "body": body, "isBase64Encoded": False,
    }


#: The classes of hostile input every function meets in the sweep below, whatever the search draws.
SWEEP_BODIES = (NESTED, '{"a":' * 3000 + "1" + "}" * 3000,
                '{"name": "x", "redirect_uris": ' + "[" * 3000 + "]" * 3000 + "}", '{"n": NaN}', '{"n": 1e400}',
                '"\\ud800"', "\udcff", "a=" + "%FF" * 10)
SWEEP_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")


def _authorized(route, event: dict[str, Any]) -> dict[str, Any]:
    if route.rule is not None:
        # Behind the guard: API Gateway adds the guard's context, built from a token the guard verified; the
        # client controls none of it (a request the guard refuses never reaches the function).
        context = {"sub": "u1", "user_id": "u1", "client_id": "c1", "scopes": "orders:read", "jti": "j1"}
        event["requestContext"]["authorizer"] = ({"lambda": context} if event.get("version") == "2.0"
                                                 else {**context, "principalId": "u1"})
    return event


def _plain_event(route, content_type: str, body: str, token: str) -> dict[str, Any]:
    path = route.path.replace("{client_id}", "c").replace("{token_id}", "t")
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}", "Cookie": "session=" + "\\" * 500}
    return {
        "resource": route.path, "path": path, "httpMethod": route.method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": {"state": "\ufffd"},
        "multiValueQueryStringParameters": {"state": ["\ufffd"]}, "pathParameters": {"client_id": "c", "token_id": "t"},
        "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": route.path, "httpMethod": route.method, "path": path, "stage": "local",
                           "identity": {"sourceIp": "127.0.0.1", "userAgent": "sweep"}, "requestId": "r"},
    }


def test_every_route_answers_each_class_of_hostile_body_below_500(server, caplog):
    """A sweep, not a search: every route of the table meets every class of hostile body (nesting deep enough to
    exhaust the parser's recursion, NaN, an overflowing number, a lone surrogate, bytes that are not UTF-8) under
    every content type, with a nested-header token. The nested bodies were a 500 at /oauth/register and the JSON
    API."""
    from passport.local.gateway import LambdaContext
    from passport.routes import route_table

    caplog.set_level(logging.ERROR)
    token = base64.urlsafe_b64encode(b"[" * 1100).rstrip(b"=").decode() + ".e30.c2ln"
    for route in route_table(server.env.settings):
        if route.function == "guard":
            continue
        handler = server.gateway.function(route.function).handler
        for content_type in SWEEP_TYPES:
            for body in SWEEP_BODIES:
                event = _authorized(route, _plain_event(route, content_type, body, token))
                result = handler(event, LambdaContext(route.function))
                assert result["statusCode"] < 500, (route.key, content_type, body[:20], result)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_function_answers_hostile_events_below_500_and_never_raises(server, caplog):
    from passport.local.gateway import LambdaContext
    from passport.routes import route_table

    caplog.set_level(logging.ERROR)
    routes = [r for r in route_table(server.env.settings) if r.function != "guard"]
    functions = sorted({r.function for r in routes})
    seen: set[str] = set()

    def search(of_function: list) -> None:
        # A search per function, so every function is searched whatever the draws (one search over all routes,
        # drawing a route first, reached only some of them in some runs).
        @fuzz(max_examples=max(1, 240 // len(functions)))
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            route = data.draw(st.sampled_from(of_function))
            path = route.path.replace("{client_id}", "c").replace("{token_id}", "t")
            event = _authorized(route, data.draw(rest_event(route.method, path, route.path)
                                                 | http_event(route.method, path)))
            handler = server.gateway.function(route.function).handler
            result = handler(event, LambdaContext(route.function))  # an exception fails the test: that is the point
            assert isinstance(result, dict) and isinstance(result.get("statusCode"), int), (route.key, result)
            assert result["statusCode"] < 500, (route.key, result["statusCode"], str(result.get("body"))[:300])
            assert isinstance(result.get("body", ""), str)
            seen.add(route.function)

        check()

    for function in functions:
        search([r for r in routes if r.function == function])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert seen == set(functions) and len(functions) >= 8, seen


AUTHORIZER_FIELDS = st.sampled_from(("type", "methodArn", "authorizationToken", "headers", "multiValueHeaders",
                                     "resource", "httpMethod", "version", "routeKey", "routeArn", "identitySource"))
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | hostile_text(huge=False),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(huge=False), inner,
                                                                                    max_size=3), max_leaves=8)


@st.composite
def authorizer_event(draw: st.DrawFn) -> Any:
    """A REST TOKEN or REQUEST event, or an HTTP API 2.0 one, with any member replaced by any JSON value."""
    token = draw(st.builds(lambda s, t: s + t, st.sampled_from(("Bearer ", "bearer ", "", "Basic ")), TOKENS))
    base: dict[str, Any] = draw(st.sampled_from((
        {"type": "TOKEN", "methodArn": "arn:aws:execute-api:us-east-1:0:local/local/GET/api/ping",
         "authorizationToken": token},
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:0:local/local/GET/api/ping",
         "resource": "/api/ping", "httpMethod": "GET", "headers": {"Authorization": token},
         "multiValueHeaders": {"Authorization": [token]}},
        {"version": "2.0", "type": "REQUEST", "routeKey": "GET /api/ping",
         "routeArn": "arn:aws:execute-api:us-east-1:0:local/local/GET/api/ping", "headers": {"authorization": token},
         "identitySource": [token]},
    )))
    for field in draw(st.lists(AUTHORIZER_FIELDS, max_size=3)):
        base[field] = draw(JSONISH)
    return draw(st.sampled_from((base,) * 9 + (draw(JSONISH),)))


def test_the_guard_answers_any_authorizer_event_or_raises_exactly_unauthorized(server, caplog):
    from passport.guard.events import Unauthorized
    from passport.local.gateway import LambdaContext

    caplog.set_level(logging.ERROR)
    guard = server.gateway.function("guard").handler

    @fuzz(max_examples=300)
    @given(event=authorizer_event())
    def check(event: Any) -> None:
        try:
            answer = guard(event, LambdaContext("guard"))
        except Unauthorized:
            return
        except Exception as error:  # anything else is a function error on Lambda: a 500/503 for the caller
            raise AssertionError(f"the guard raised {type(error).__name__}: {error}") from error
        raise AssertionError(f"no token here is valid, yet the guard answered {answer}")

    check()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
