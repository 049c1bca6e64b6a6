"""The OpenAPI document: served, valid, and the route table's exact mirror."""

from __future__ import annotations

import pytest
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
    # RFC 9449 7: a Bearer token, or a DPoP-bound one with its proof
    assert orders["security"] == [{"bearer": ["orders:read"]}, {"dpop": ["orders:read"]}]
    assert "401" in orders["responses"]
    assert {"name": "DPoP", "in": "header"}.items() <= next(
        p for p in orders["parameters"] if p["name"] == "DPoP").items()
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
        assert userinfo["security"] == [{"bearer": ["openid"]}, {"dpop": ["openid"]}]
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


def test_registration_resource_indicators_protected_resources_and_mcp_are_documented(server):
    """RFC 7591 2 and 3.2 (the metadata body, 201, 400, the policies' 401/403, 429), RFC 7592 2 (Bearer; 200, 204,
    400, 401), RFC 8707 2 (``resource`` on the authorization and token requests, ``invalid_target``), RFC 9728 3.2
    (the metadata document) and MCP Streamable HTTP (200, 202, 400, and a 401 with WWW-Authenticate)."""
    document = requests.get(f"{server.url}/openapi.json").json()
    paths = document["paths"]
    register = paths["/oauth/register"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert {"redirect_uris", "token_endpoint_auth_method", "grant_types", "client_name", "scope"} <= set(
        body["properties"])
    assert body["properties"]["token_endpoint_auth_method"]["enum"] == ["none", "client_secret_basic",
                                                                        "client_secret_post", "private_key_jwt"]
    # RFC 7591 2: the keys of private_key_jwt, and the one algorithm its assertions may use
    assert {"jwks", "jwks_uri", "token_endpoint_auth_signing_alg"} <= set(body["properties"])
    assert {"201", "400", "401", "403", "429"} <= set(register["responses"])
    assert {"registration_access_token", "registration_client_uri", "client_id"} <= set(
        _schema(document, "/oauth/register", "post", "201")["required"])
    managed = paths["/oauth/register/{client_id}"]
    assert set(managed) == {"get", "put", "delete"}
    for method, ok in (("get", "200"), ("put", "200"), ("delete", "204")):
        assert managed[method]["security"] == [{"bearer": []}], method
        assert {ok, "401"} <= set(managed[method]["responses"]), method
    assert "400" in managed["put"]["responses"]
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api"):
        assert {"resource", "authorization_servers"} <= set(_schema(document, path, "get", "200")["required"])
    (mcp_path,) = [p for p, item in paths.items() if "post" in item and "202" in item["post"]["responses"]]
    mcp = paths[mcp_path]["post"]
    assert "application/json" in mcp["requestBody"]["content"] and mcp["security"] == [{"bearer": []}, {"dpop": []}]
    assert {"200", "202", "400", "401"} <= set(mcp["responses"])
    assert mcp["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert "resource_metadata" in mcp["responses"]["401"]["description"]
    authorize = {p["name"]: p for p in paths["/oauth/authorize"]["get"]["parameters"]}
    assert authorize["resource"]["schema"]["type"] == "array"
    for path in ("/oauth/authorize", "/oauth/token"):
        form = paths[path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        assert form["properties"]["resource"]["type"] == "array", path
    token_error = _schema(document, "/oauth/token", "post", "400")
    assert "invalid_target" in token_error["properties"]["error"]["examples"]


@pytest.mark.passport_config('[registration]\npolicy = "open"\n')
def test_real_registration_resource_metadata_and_mcp_answers_match_the_documented_schemas(server):
    """What Schemathesis cannot reach with its own credentials: a registration (RFC 7591 3.2.1) and its read with
    the registration access token (RFC 7592 3), the protected resource metadata (RFC 9728 3.2), the MCP server's
    bare 401 (RFC 9728 5.1) and a tools/call answer with a token for the MCP resource (RFC 8707)."""
    from jsonschema import Draft202012Validator

    from tests.conftest import make_client

    document = requests.get(f"{server.url}/openapi.json").json()

    def check(body: dict, schema: dict) -> None:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
        assert not errors, (errors, body)

    made = requests.post(f"{server.url}/oauth/register", timeout=10, json={
        "client_name": "agent", "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]})
    assert made.status_code == 201, made.text
    check(made.json(), _schema(document, "/oauth/register", "post", "201"))
    read = requests.get(made.json()["registration_client_uri"], timeout=10,
                        headers={"Authorization": f"Bearer {made.json()['registration_access_token']}"})
    assert read.status_code == 200, read.text
    check(read.json(), _schema(document, "/oauth/register/{client_id}", "get", "200"))
    for path in [p for p in document["paths"] if p.startswith("/.well-known/oauth-protected-resource")]:
        answer = requests.get(f"{server.url}{path}", timeout=10)
        assert answer.status_code == 200, path
        check(answer.json(), _schema(document, path, "get", "200"))

    (mcp_path,) = [p for p, item in document["paths"].items() if "post" in item
                   and "202" in item["post"]["responses"]]
    bare = requests.post(f"{server.url}{mcp_path}", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         timeout=10)
    assert bare.status_code == 401 and "resource_metadata=" in bare.headers["WWW-Authenticate"]
    check(bare.json(), _schema(document, mcp_path, "post", "401"))
    metadata_url = bare.headers["WWW-Authenticate"].split('resource_metadata="', 1)[1].split('"', 1)[0]
    resource = requests.get(metadata_url, timeout=10).json()["resource"]
    service = make_client(server.env, scopes=("orders:read",))
    token = server.token(service.client_id, service.secret, scope="orders:read", resource=resource)
    assert token.status_code == 200, token.text
    called = requests.post(f"{server.url}{mcp_path}", timeout=10, headers={
        "Authorization": f"Bearer {token.json()['access_token']}", "MCP-Protocol-Version": "2025-06-18",
        "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
    assert called.status_code == 200, called.text
    check(called.json(), _schema(document, mcp_path, "post", "200"))
