"""The OpenAPI document: served, valid, and the route table's exact mirror."""

from __future__ import annotations

import requests
from openapi_spec_validator import validate
from passport.routes import route_table


def test_every_route_is_in_the_openapi_document_and_nothing_else(server):
    document = requests.get(f"{server.url}/openapi.json").json()
    validate(document)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(route.method, route.path) for route in route_table(server.env.settings)}
    assert documented == routed


def test_guarded_routes_declare_the_bearer_scheme_and_their_scopes(server):
    document = requests.get(f"{server.url}/openapi.json").json()
    orders = document["paths"]["/api/orders"]["get"]
    assert orders["security"] == [{"bearer": ["orders:read"]}] and "401" in orders["responses"]
    assert "security" not in document["paths"]["/oauth/token"]["post"]
