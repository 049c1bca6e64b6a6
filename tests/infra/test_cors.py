"""Synthesized stack: the CORS preflights exist where the local gateway answers them (Fetch standard, CORS protocol;
``passport.cors``), both derived from the route table: one ``OPTIONS`` method per path that allows cross-origin
reads, a mock integration (no function, no authorizer) answering 204 with the same static headers the local
gateway sends, and no preflight on a page."""

from __future__ import annotations

from passport.local.gateway import LocalGateway
from passport.routes import PREFLIGHT, preflight_routes, route_table

from tests.infra.conftest import Synthesized
from tests.infra.test_stack import api_methods, joined

PAGES = ("/oauth/authorize", "/login", "/account", "/logout", "/oauth/logout", "/oauth/device")


def test_synthesized_stack_has_the_cors_preflights_where_the_local_gateway_answers_them(synthesized: Synthesized):
    settings = synthesized.stack.settings
    routes = route_table(settings)
    expected = {route.key: route for route in preflight_routes(routes)}
    methods = api_methods(synthesized.template)
    options = {key: props for key, props in methods.items() if key.startswith(f"{PREFLIGHT} ")}
    assert set(options) == set(expected)
    gateway = LocalGateway(settings)
    for key, props in options.items():
        # A mock integration: API Gateway answers; no function runs and the guard is never asked.
        assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props, key
        assert props["Integration"]["Type"] == "MOCK", key
        (answer,) = props["Integration"]["IntegrationResponses"]
        assert answer["StatusCode"] == "204"
        synthesized_headers = {name.removeprefix("method.response.header."): joined(value).strip("'")
                               for name, value in answer["ResponseParameters"].items()}
        declared = {r["StatusCode"]: set(r["ResponseParameters"]) for r in props["MethodResponses"]}
        assert declared == {"204": set(answer["ResponseParameters"])}, key
        # What the local gateway answers on the same path, header for header (HSTS: API Gateway is https only).
        path = expected[key].path.replace("{client_id}", "some-client")
        local = gateway.dispatch(PREFLIGHT, path, [("Origin", "https://spa.example"),
                                                   ("Access-Control-Request-Method", "POST")], b"")
        assert local.status == 204, key
        assert {**dict(local.headers), "Strict-Transport-Security": synthesized_headers["Strict-Transport-Security"]} \
            == synthesized_headers, key
        assert synthesized_headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in synthesized_headers
    # Never on a page, and nothing but preflights is a mock integration among the route table's paths.
    assert not [key for key in options if key.split(" ", 1)[1] in PAGES]
    for page in PAGES:
        assert gateway.dispatch(PREFLIGHT, page, [("Origin", "https://spa.example")], b"").status == 405
    assert {key for key, props in methods.items() if props["Integration"]["Type"] == "MOCK"} == set(expected)


def test_the_preflights_are_acknowledged_for_cdk_nag_as_unauthenticated_by_design(synthesized: Synthesized):
    assert set(synthesized.stack.api.preflights) == {route.key for route in
                                                     preflight_routes(route_table(synthesized.stack.settings))}
