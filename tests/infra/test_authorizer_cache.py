"""API Gateway's authorizer result cache, read from synthesized templates and replayed by the local gateway with
exactly those settings (identity sources, TTL), against DynamoDB Local and real tokens.

AWS, "Working with AWS Lambda authorizers for HTTP APIs": the cache key is made of the authorizer's identity
sources, and "by default, API Gateway uses the cached authorizer response for all routes of an API that use the
authorizer". An HTTP API's simple response answers for one route, so with the Authorization header alone a token
allowed on ``GET /orders`` would be let through ``POST /orders`` from the cache; ``$context.routeKey`` among the
identity sources prevents it. A REST API's answer is one policy for every route, evaluated per method, so the
token alone is a safe key there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk.assertions import Template
from passport.authorizer_cache import HTTP_IDENTITY_SOURCES, REST_IDENTITY_SOURCES
from passport.guard.rules import RuleTable
from passport.local.gateway import GUARD, LocalGateway
from passport.local.http_server import HttpReply as Reply
from passport.routes import Route, route_table
from passport_cdk import PassportGuard, PassportResources

from infra.app import cdk_context
from tests.conftest import Env, Server, make_client
from tests.infra.conftest import Synthesized
from tests.infra.test_guard_construct import OUTPUTS, methods_by_path

RULES = {"GET /orders": {"scopes": ["orders:read"]}, "POST /orders": {"scopes": ["orders:write"]}}
#: The identity sources the HTTP API authorizer had before the route key was added: the header alone.
HEADER_ONLY = ["$request.header.Authorization"]
#: A user's backend behind the HTTP API: it echoes the route and the guard's context it was given.
BACKEND = '''
import json


def handler(event, context):
    caller = event["requestContext"]["authorizer"]["lambda"]
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"route": event["routeKey"], "caller": caller})}
'''


class OrdersHttpStack(Stack):
    """A user's HTTP API, in its own app: GET and POST /orders behind a guard of its own with per-route rules."""

    def __init__(self, scope: App, id: str) -> None:
        super().__init__(scope, id)
        passport = PassportResources.from_outputs(self, "Passport", **OUTPUTS)
        # Bearer tokens only, so API Gateway's cache is on (with DPoP it is off: authorizer_cache.ttl_seconds)
        guard = PassportGuard(self, "Guard", passport=passport, rules=RULES, dpop=False)
        api = apigatewayv2.HttpApi(self, "Orders")
        api.add_routes(
            path="/orders",
            methods=[apigatewayv2.HttpMethod.GET, apigatewayv2.HttpMethod.POST],
            integration=integrations.HttpUrlIntegration("Backend", "https://orders.example.com/"),
            authorizer=guard.http_authorizer(api),
        )


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def orders_http(tmp_path_factory) -> dict[str, Any]:
    """What the user's stack deploys: the authorizer's identity sources and TTL, the guard's rules (its
    PASSPORT_GUARD_RULES) and the routes behind the authorizer."""
    app = App(outdir=str(tmp_path_factory.mktemp("orders-http.out")), context=cdk_context(),
              builtin_cloud_formation_validation=False)
    template = Template.from_stack(OrdersHttpStack(app, "OrdersHttpStack")).to_json()
    (authorizer,) = _of_type(template, "AWS::ApiGatewayV2::Authorizer")
    (function,) = _of_type(template, "AWS::Lambda::Function")
    routes = [r["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route")
              if r["AuthorizationType"] == "CUSTOM"]
    return {
        "identity_sources": authorizer["IdentitySource"],
        "ttl": authorizer["AuthorizerResultTtlInSeconds"],
        "simple": authorizer["EnableSimpleResponses"],
        "rules": function["Environment"]["Variables"]["PASSPORT_GUARD_RULES"],
        "routes": sorted(routes),
    }


@pytest.fixture
def user_api(env: Env, tmp_path: Path, orders_http: dict[str, Any]) -> Callable[..., LocalGateway]:
    """The user's HTTP API on the local gateway: its routes served by a tiny backend, the guard with the rules the
    construct passes it, and the construct's cache settings unless told otherwise."""
    env.reconfigure(PASSPORT_GUARD_RULES=orders_http["rules"])  # a new guard container, reading these rules
    functions = tmp_path / "functions"
    (functions / "orders").mkdir(parents=True)
    (functions / "orders" / "handler.py").write_text(BACKEND)
    rules = RuleTable.from_json(orders_http["rules"])
    routes = []
    for key in orders_http["routes"]:
        method, path = key.split(" ", 1)
        routes.append(Route(method, path, "orders", f"the user's {key}", rules.for_route(method, path)))

    def build(identity_sources: list[str] | None = None) -> LocalGateway:
        sources = orders_http["identity_sources"] if identity_sources is None else identity_sources
        return LocalGateway(env.settings, functions, http_api=True, routes=routes, identity_sources=sources,
                            cache_ttl=orders_http["ttl"])

    return build


@pytest.fixture
def read_only_token(env: Env, server: Server) -> str:
    """A real token from the token endpoint (client credentials) with orders:read and nothing else."""
    client = make_client(env, scopes=("orders:read",))
    response = server.token(client.client_id, client.secret, scope="orders:read")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read"
    return response.json()["access_token"]


def guard_calls(gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The guard invocations of this gateway (the route each was for): a cache hit invokes nothing."""
    module = gateway.function(GUARD)
    original, calls = module.handler, []

    def counted(event, context):
        calls.append(event.get("routeKey") or f"{event['httpMethod']} {event['resource']}")
        return original(event, context)

    monkeypatch.setattr(module, "handler", counted)
    return calls


def call(gateway: LocalGateway, method: str, path: str, token: str | None) -> Reply:
    headers = [("Host", "orders.example.com")] + ([("Authorization", f"Bearer {token}")] if token else [])
    return gateway.dispatch(method, path, headers, b"{}" if method == "POST" else b"")


def message(reply: Reply) -> str:
    return json.loads(reply.body)["message"]


# --- a user's HTTP API -------------------------------------------------------------------------------------------


def test_the_http_api_authorizer_keys_its_cache_by_token_and_route(orders_http):
    assert orders_http["identity_sources"] == list(HTTP_IDENTITY_SOURCES)
    assert orders_http["identity_sources"] == ["$request.header.Authorization", "$context.routeKey"]
    assert orders_http["simple"] is True and orders_http["ttl"] == 60
    assert orders_http["routes"] == ["GET /orders", "POST /orders"]


def test_a_cached_allow_on_one_route_never_lets_the_token_through_another(user_api, read_only_token, monkeypatch):
    """With the construct's settings: GET /orders is allowed, then POST /orders within the TTL is refused (403),
    the guard asked for each route; a second GET is the cache's answer."""
    gateway = user_api()
    calls = guard_calls(gateway, monkeypatch)
    allowed = call(gateway, "GET", "/orders", read_only_token)
    assert allowed.status == 200, allowed.body
    answer = json.loads(allowed.body)
    assert answer["route"] == "GET /orders" and answer["caller"]["scopes"] == "orders:read"
    refused = call(gateway, "POST", "/orders", read_only_token)
    assert (refused.status, message(refused)) == (403, "Forbidden")
    assert call(gateway, "GET", "/orders", read_only_token).status == 200
    assert calls == ["GET /orders", "POST /orders"]  # the second GET came from the cache


def test_a_cached_deny_on_one_route_never_refuses_the_token_on_another(user_api, read_only_token, monkeypatch):
    gateway = user_api()
    calls = guard_calls(gateway, monkeypatch)
    assert call(gateway, "POST", "/orders", read_only_token).status == 403
    assert call(gateway, "GET", "/orders", read_only_token).status == 200
    assert call(gateway, "POST", "/orders", read_only_token).status == 403
    assert calls == ["POST /orders", "GET /orders"]


def test_the_model_is_faithful_with_the_header_alone_the_first_routes_answer_decides_every_route(
    user_api, read_only_token, monkeypatch
):
    """The old construct's identity source: the cached answer for GET /orders lets the read-only token POST (scope
    escalation), and a cached refusal on POST refuses a GET it may make. This is what the tests above would see
    with the old settings read from the template."""
    escalated = user_api(HEADER_ONLY)
    calls = guard_calls(escalated, monkeypatch)
    assert call(escalated, "GET", "/orders", read_only_token).status == 200
    assert call(escalated, "POST", "/orders", read_only_token).status == 200
    assert calls == ["GET /orders"]
    refused = user_api(HEADER_ONLY)
    assert call(refused, "POST", "/orders", read_only_token).status == 403
    assert call(refused, "GET", "/orders", read_only_token).status == 403


def test_the_http_apis_own_refusals(user_api, read_only_token, monkeypatch):
    """No Authorization header: 401 before the guard runs. The guard's "Unauthorized": 401. No such route or
    method: 404. HTTP APIs have no gateway responses, so each is {"message": ...}."""
    gateway = user_api()
    calls = guard_calls(gateway, monkeypatch)
    missing = call(gateway, "GET", "/orders", None)
    assert (missing.status, message(missing)) == (401, "Unauthorized") and calls == []
    invalid = call(gateway, "GET", "/orders", read_only_token + "x")
    assert (invalid.status, message(invalid)) == (401, "Unauthorized") and calls == ["GET /orders"]
    assert not any(name.lower() == "www-authenticate" for name, _ in invalid.headers)
    for method, path in (("DELETE", "/orders"), ("GET", "/nowhere")):
        reply = call(gateway, method, path, read_only_token)
        assert (reply.status, message(reply)) == (404, "Not Found")


@pytest.mark.parametrize(
    "answer",
    [RuntimeError("storage is down"), {"isAuthorized": "true"}, {"isAuthorized": True, "context": "x"}, None],
    ids=["raises", "not-a-boolean", "context-not-an-object", "nothing"],
)
def test_a_guard_failure_or_malformed_answer_is_a_500_and_is_not_cached(user_api, read_only_token, monkeypatch,
                                                                        answer):
    gateway = user_api()
    module = gateway.function(GUARD)
    real = module.handler

    def broken(event, context):
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(module, "handler", broken)
    reply = call(gateway, "GET", "/orders", read_only_token)
    assert (reply.status, message(reply)) == (500, "Internal Server Error")
    monkeypatch.setattr(module, "handler", real)
    assert call(gateway, "GET", "/orders", read_only_token).status == 200


# --- the passport stack's own REST API ---------------------------------------------------------------------------


def test_the_stacks_rest_authorizer_cache_still_refuses_a_route_the_token_does_not_allow(
    synthesized: Synthesized, env: Env, read_only_token: str, monkeypatch
):
    """The stack's REST authorizer caches one policy per token for the whole API: right after an allowed call
    (GET /api/orders, orders:read), the cached policy still refuses GET /api/user (user tokens only) with 403
    insufficient_scope, and the other way round; the guard runs once per token."""
    (authorizer,) = synthesized.of_type("AWS::ApiGateway::Authorizer").values()
    sources = [s.strip() for s in authorizer["Properties"]["IdentitySource"].split(",")]
    # With DPoP on (the shipped settings) the stack turns the cache off; a deployment with [dpop] enabled = false
    # gets guard.authorizer_cache_seconds, and then the cached policy must still refuse what the token may not do.
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0 and env.settings.dpop.enabled
    ttl = env.settings.guard.authorizer_cache_seconds
    assert sources == list(REST_IDENTITY_SOURCES) and ttl > 0
    # The gateway's guarded routes are the stack's: every method behind the authorizer.
    guarded = {key.split(" ", 1)[1] for key, m in methods_by_path(synthesized.template).items()
               if m.get("AuthorizationType") == "CUSTOM"}
    assert guarded == {route.key for route in route_table(env.settings) if route.rule is not None}
    assert {"GET /api/orders", "GET /api/user"} <= guarded

    for first, then in ((("GET", "/api/orders"), ("GET", "/api/user")),
                        (("GET", "/api/user"), ("GET", "/api/orders"))):
        gateway = LocalGateway(env.settings, identity_sources=sources, cache_ttl=ttl)
        calls = guard_calls(gateway, monkeypatch)
        replies = {path: call(gateway, method, path, read_only_token) for method, path in (first, then)}
        assert replies["/api/orders"].status == 200, replies["/api/orders"].body
        denied = replies["/api/user"]
        assert denied.status == 403 and json.loads(denied.body)["error"] == "insufficient_scope"
        assert calls == [" ".join(first)]  # the second answer was the cached policy's
