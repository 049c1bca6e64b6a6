"""API Gateway's authorizer cache key, as ``passport.authorizer_cache`` evaluates identity sources: the values of
every source in order, None when any is missing or empty (API Gateway then answers 401 without calling the
authorizer), and for an HTTP API the route key among them."""

from __future__ import annotations

import pytest
from passport.authorizer_cache import (
    HTTP_IDENTITY_SOURCES,
    REST_IDENTITY_SOURCES,
    RequestValues,
    cache_key,
    check,
    evaluate,
)

TOKEN = "Bearer eyJ.a.b"


def http_request(headers=(("Authorization", TOKEN),), route_key="GET /orders", context=None, query=(),
                 stage_variables=None) -> RequestValues:
    return RequestValues(headers=list(headers), query=list(query), context={"routeKey": route_key, **(context or {})},
                         stage_variables=stage_variables or {})


def test_the_http_api_key_is_the_token_and_the_route_key():
    assert HTTP_IDENTITY_SOURCES == ("$request.header.Authorization", "$context.routeKey")
    assert cache_key(HTTP_IDENTITY_SOURCES, http_request()) == (TOKEN, "GET /orders")


def test_the_same_token_on_another_route_is_another_key():
    """What keeps a simple response (one route's answer) from deciding another route."""
    get = cache_key(HTTP_IDENTITY_SOURCES, http_request(route_key="GET /orders"))
    post = cache_key(HTTP_IDENTITY_SOURCES, http_request(route_key="POST /orders"))
    assert get != post
    # With the header alone, both routes share one key: the scope escalation this module exists to prevent.
    header_only = ["$request.header.Authorization"]
    assert cache_key(header_only, http_request(route_key="GET /orders")) == cache_key(
        header_only, http_request(route_key="POST /orders")
    )


def test_the_rest_api_key_is_the_token_alone():
    """The REST policy covers every route of the API, so the token alone is the key."""
    assert REST_IDENTITY_SOURCES == ("method.request.header.Authorization",)
    request = RequestValues(headers=[("Authorization", TOKEN)], context={"resourcePath": "/api/orders"})
    assert cache_key(REST_IDENTITY_SOURCES, request) == (TOKEN,)


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"])
@pytest.mark.parametrize("sources", [HTTP_IDENTITY_SOURCES, REST_IDENTITY_SOURCES])
def test_header_names_are_case_insensitive(name, sources):
    assert cache_key(sources, http_request(headers=[(name, TOKEN)]))[0] == TOKEN


@pytest.mark.parametrize(
    "headers",
    [[], [("Authorization", "")], [("X-Other", TOKEN)], [("Authorization", ""), ("Authorization", "")]],
    ids=["absent", "empty", "another-header", "empty-twice"],
)
@pytest.mark.parametrize("sources", [HTTP_IDENTITY_SOURCES, REST_IDENTITY_SOURCES])
def test_a_missing_or_empty_source_gives_no_key(headers, sources):
    assert cache_key(sources, http_request(headers=headers)) is None


def test_a_missing_route_key_gives_no_key():
    request = RequestValues(headers=[("Authorization", TOKEN)], context={})
    assert cache_key(HTTP_IDENTITY_SOURCES, request) is None
    assert cache_key(HTTP_IDENTITY_SOURCES, http_request(route_key="")) is None


def test_a_repeated_header_is_its_values_joined_so_it_never_shares_a_single_values_key():
    twice = http_request(headers=[("Authorization", TOKEN), ("authorization", "Bearer other")])
    assert cache_key(HTTP_IDENTITY_SOURCES, twice) == (f"{TOKEN},Bearer other", "GET /orders")
    assert cache_key(HTTP_IDENTITY_SOURCES, twice) != cache_key(HTTP_IDENTITY_SOURCES, http_request())


def test_query_strings_stage_variables_and_nested_context_are_read_by_their_exact_names():
    request = http_request(
        query=[("api_key", "k1"), ("api_key", "k2"), ("Other", "x")],
        stage_variables={"env": "prod"},
        context={"identity": {"sourceIp": "203.0.113.9"}, "httpMethod": "GET"},
    )
    assert evaluate("$request.querystring.api_key", request) == "k1,k2"
    assert evaluate("method.request.querystring.api_key", request) == "k1,k2"
    assert evaluate("$request.querystring.other", request) is None  # query string names are case-sensitive
    assert evaluate("$stageVariables.env", request) == "prod"
    assert evaluate("stageVariables.env", request) == "prod"
    assert evaluate("$stageVariables.Env", request) is None
    assert evaluate("$context.identity.sourceIp", request) == "203.0.113.9"
    assert evaluate("context.httpMethod", request) == "GET"
    assert evaluate("$context.identity", request) is None  # an object is no value
    assert cache_key(["$request.header.Authorization", "$stageVariables.env", "$context.routeKey"], request) == (
        TOKEN, "prod", "GET /orders"
    )


def test_no_identity_source_is_an_empty_key_that_caches_nothing():
    assert cache_key([], RequestValues()) == ()


@pytest.mark.parametrize("expression", ["$request.headers.Authorization", "Authorization", "$request.header.",
                                        "method.request.path.id", "$context"])
def test_an_expression_api_gateway_does_not_know_is_refused(expression):
    with pytest.raises(ValueError, match="identity source"):
        check([*HTTP_IDENTITY_SOURCES, expression])
    with pytest.raises(ValueError, match="identity source"):
        evaluate(expression, http_request())
