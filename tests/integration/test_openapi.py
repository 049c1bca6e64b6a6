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


def _schema(document: dict, path: str, method: str, status: str, media: str = "application/json") -> dict:
    return document["paths"][path][method]["responses"][status]["content"][media]["schema"]


def test_the_openid_connect_routes_document_their_parameters_and_answers(server):
    """OpenID Connect Core 3.1.2.1 (max_age, nonce, prompt), 5.3 (UserInfo: GET and POST, RFC 6750 3's
    WWW-Authenticate on a refusal), RP-Initiated Logout 1.0 section 2 (the logout parameters)."""
    document = requests.get(f"{server.url}/openapi.json").json()
    paths = document["paths"]

    def query(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"}

    assert {"max_age", "nonce", "prompt"} <= query("/oauth/authorize")
    assert "prompt" in query("/login")
    logout = {"id_token_hint", "client_id", "post_logout_redirect_uri", "state"}
    assert query("/oauth/logout") == logout
    form = paths["/oauth/logout"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(form["properties"]) == logout | {"_token"}
    for method in ("get", "post"):
        answers = paths["/oauth/logout"][method]["responses"]
        assert "303" in answers
        assert "text/html" in answers["200"]["content"] and "text/html" in answers["400"]["content"]
        userinfo = paths["/oauth/userinfo"][method]
        assert userinfo["security"] == [{"bearer": ["openid"]}]
        assert _schema(document, "/oauth/userinfo", method, "200")["required"] == ["sub"]
        for status in ("401", "403"):
            assert userinfo["responses"][status]["headers"]["WWW-Authenticate"]["required"] is True
    discovery = _schema(document, "/.well-known/openid-configuration", "get", "200")
    assert {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
            "subject_types_supported", "id_token_signing_alg_values_supported"} <= set(discovery["required"])


def test_real_discovery_token_and_userinfo_answers_match_the_documented_schemas(server, browser, user):
    """The schemas Schemathesis cannot reach with its own tokens (it holds no openid one): an OpenID Connect
    code flow's token answer (Core 3.1.3.3, with id_token), its UserInfo answer (5.3.2) and discovery (Discovery
    1.0 section 3), each validated against the document."""
    from jsonschema import Draft202012Validator

    from tests.conftest import make_client
    from tests.integration.browser import pkce_pair, query_of
    from tests.integration.conftest import REDIRECT

    document = requests.get(f"{server.url}/openapi.json").json()

    def check(body: dict, schema: dict) -> None:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
        assert not errors, (errors, body)

    check(requests.get(f"{server.url}/.well-known/openid-configuration").json(),
          _schema(document, "/.well-known/openid-configuration", "get", "200"))
    app = make_client(server.env, name="oidc", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                      first_party=True)
    verifier, challenge = pkce_pair()
    answer = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT,
                               scope="openid profile email", state="s", nonce="n", code_challenge=challenge,
                               code_challenge_method="S256")
    assert answer.status_code == 303, answer.text[:300]
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
        "grant_type": "authorization_code", "code": query_of(answer.headers["Location"])["code"],
        "redirect_uri": REDIRECT, "code_verifier": verifier}, timeout=10).json()
    assert "id_token" in tokens, tokens
    check(tokens, _schema(document, "/oauth/token", "post", "200"))
    claims = requests.get(f"{server.url}/oauth/userinfo",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10).json()
    assert claims["sub"] == user.id and claims["email"] == user.email
    check(claims, _schema(document, "/oauth/userinfo", "get", "200"))
    bare = requests.get(f"{server.url}/oauth/userinfo", timeout=10)
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"].startswith("Bearer realm=")
    check(bare.json(), _schema(document, "/oauth/userinfo", "get", "401"))
