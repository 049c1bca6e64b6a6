"""Cross-origin reads through the local gateway (Fetch standard, CORS protocol; docs/http.md, "Cross-origin
requests"): discovery and the JWKS readable from any origin; the token, revocation, registration and UserInfo
answers only by the calling client's redirect URI origins or ``[cors] allowed_origins``; the preflights (204, the
same for every origin, never credentials) on exactly the paths the route table marks; the pages never."""

from __future__ import annotations

import base64

import pytest
import requests
from passport.routes import PREFLIGHT, preflight_routes, route_table

from tests.integration.browser import Browser, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT, make_client

SPA = "https://app.example.com"  # REDIRECT's origin
OTHER = "https://evil.example"
PAGES = ["/oauth/authorize", "/login", "/account", "/oauth/device", "/oauth/logout", "/logout"]


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def assert_readable_by(response: requests.Response, origin: str) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin, response.headers
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]


def assert_not_readable(response: requests.Response) -> None:
    assert "Access-Control-Allow-Origin" not in response.headers, response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


# -- preflights ------------------------------------------------------------------------------------------------


def test_every_path_the_route_table_marks_answers_a_preflight_with_204_for_any_origin(server):
    """A preflight cannot name a client: it allows the path's methods and the clients' headers for every origin, with
    ``*`` and never credentials (a credentialed request fails it); the answer that follows decides what is read."""
    routes = route_table(server.env.settings)
    preflights = preflight_routes(routes)
    assert {r.path for r in preflights} >= {"/oauth/token", "/oauth/revoke", "/oauth/register", "/oauth/userinfo",
                                           "/oauth/register/{client_id}", "/.well-known/jwks.json",
                                           "/.well-known/oauth-authorization-server",
                                           "/.well-known/openid-configuration",
                                           "/.well-known/oauth-protected-resource/mcp"}
    for preflight in preflights:
        path = preflight.path.replace("{client_id}", "some-client")
        for origin in (SPA, OTHER, None):
            headers = {"Access-Control-Request-Method": "POST",
                       "Access-Control-Request-Headers": "authorization, content-type, dpop"}
            if origin:
                headers["Origin"] = origin
            answer = requests.options(server.url + path, headers=headers, timeout=10)
            assert answer.status_code == 204, (path, answer.text)
            assert answer.content == b""
            methods = {r.method for r in routes if r.path == preflight.path}
            assert set(answer.headers["Access-Control-Allow-Methods"].split(", ")) == methods, path
            assert answer.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in answer.headers
            assert int(answer.headers["Access-Control-Max-Age"]) > 0
            allowed = answer.headers["Access-Control-Allow-Headers"]
            assert "Authorization" in allowed and "Content-Type" in allowed
            if preflight.cors == "client":
                assert "DPoP" in allowed


def test_hostile_preflights_get_a_clear_answer_never_a_500(server):
    hostile = ["null", "*", "https://a.example/path", "https://a.example, https://b.example", "javascript:alert(1)",
               "x" * 5000, "https://\u00e9.example", "HTTPS://APP.EXAMPLE.COM", ""]
    for origin in hostile:
        for method in ("POST", "PATCH", "\u00ff", "x" * 3000):
            answer = requests.options(f"{server.url}/oauth/token", headers={
                "Origin": origin.encode("utf-8").decode("latin-1"), "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "x-evil, " * 200}, timeout=10)
            assert answer.status_code == 204
            assert answer.headers["Access-Control-Allow-Methods"] == "POST"  # what the route allows, whatever was asked


def test_the_pages_answer_no_preflight_carry_no_cors_and_are_never_framed(server):
    """The pages are never CORS-enabled: OPTIONS is no route (405, as API Gateway refuses an unrouted method), their
    answers carry no Access-Control-Allow-Origin, and they may not be framed (CSP frame-ancestors, X-Frame-Options)."""
    for path in PAGES:
        preflight = requests.options(server.url + path, timeout=10,
                                     headers={"Origin": SPA, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 405, path
        assert "Access-Control-Allow-Methods" not in preflight.headers
    for path in ("/login", "/oauth/device"):
        page = requests.get(server.url + path, headers={"Origin": SPA}, timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), path
        assert not cors_headers(page), path
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"


# -- the public documents ------------------------------------------------------------------------------------------


def test_discovery_the_jwks_and_resource_metadata_are_readable_from_any_origin_without_credentials(server):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
                 "/.well-known/jwks.json", "/.well-known/oauth-protected-resource",
                 "/.well-known/oauth-protected-resource/mcp"):
        for headers in ({"Origin": OTHER}, {}):
            answer = requests.get(server.url + path, headers=headers, timeout=10)
            assert answer.status_code == 200, path
            assert answer.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in answer.headers


# -- the client's endpoints ------------------------------------------------------------------------------------------


def test_the_token_endpoint_is_readable_by_the_clients_redirect_uri_origin_only(server, app):
    """A token request from the SPA's origin is readable there; the same request from another origin is answered
    (a browser would not let the page read it); a request without Origin (not a browser's) gets no CORS at all."""
    form = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT, "client_id": app.client_id}
    ours = requests.post(f"{server.url}/oauth/token", data=form, auth=(app.client_id, app.secret),
                         headers={"Origin": SPA}, timeout=10)
    assert ours.status_code == 400 and ours.json()["error"] == "invalid_grant"
    assert_readable_by(ours, SPA)
    theirs = requests.post(f"{server.url}/oauth/token", data=form, auth=(app.client_id, app.secret),
                           headers={"Origin": OTHER}, timeout=10)
    assert theirs.status_code == 400
    assert_not_readable(theirs)
    # The client named only in the form (a public client's way, RFC 6749 2.3.1 for the rest), or not at all.
    named = requests.post(f"{server.url}/oauth/token", data=form, headers={"Origin": SPA}, timeout=10)
    assert_readable_by(named, SPA)
    nobody = requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Origin": SPA}, timeout=10)
    assert_not_readable(nobody)
    plain = requests.post(f"{server.url}/oauth/token", data=form, timeout=10)
    assert not cors_headers(plain)


def test_a_code_flow_with_pkce_from_the_spa_origin_reads_its_tokens_userinfo_and_revocation(server, user, env):
    """The whole flow of a public SPA client, every cross-origin answer readable by its origin and by no other."""
    spa = make_client(env, name="SPA", grant_types=("authorization_code", "refresh_token"), redirect_uris=(REDIRECT,),
                      scopes=("orders:read",), public=True)
    b = Browser(server.url)
    assert b.login(user.email, PASSWORD).status_code == 303
    verifier, challenge = pkce_pair()
    consent = b.authorize(response_type="code", client_id=spa.client_id, redirect_uri=REDIRECT, state="s",
                          scope="openid orders:read", code_challenge=challenge, code_challenge_method="S256")
    approved = b.submit(b.consent_forms(consent)[0])
    code = query_of(approved.headers["Location"])["code"]
    token = requests.post(f"{server.url}/oauth/token", headers={"Origin": SPA}, timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": spa.client_id,
        "code_verifier": verifier})
    assert token.status_code == 200, token.text
    assert_readable_by(token, SPA)
    access = token.json()["access_token"]
    for origin, readable in ((SPA, True), (OTHER, False)):
        userinfo = requests.get(f"{server.url}/oauth/userinfo", timeout=10,
                                headers={"Authorization": f"Bearer {access}", "Origin": origin})
        assert userinfo.status_code == 200 and userinfo.json()["sub"] == user.id
        (assert_readable_by(userinfo, origin) if readable else assert_not_readable(userinfo))
    # A refusal at UserInfo (RFC 6750 3.1) is readable, with its challenge exposed, by the token's client's origin.
    forged = access.rsplit(".", 1)[0] + ".AAAA"
    refused = requests.get(f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {forged}",
                                                                    "Origin": SPA}, timeout=10)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["WWW-Authenticate"]
    assert_readable_by(refused, SPA)
    revoked = requests.post(f"{server.url}/oauth/revoke", headers={"Origin": SPA}, timeout=10,
                            data={"token": access, "client_id": spa.client_id})
    assert revoked.status_code == 200, revoked.text
    assert_readable_by(revoked, SPA)


def test_registration_is_readable_by_an_origin_of_the_registered_redirect_uris(server):
    metadata = {"client_name": "SPA", "redirect_uris": [f"{SPA}/cb"], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"], "response_types": ["code"]}
    ours = requests.post(f"{server.url}/oauth/register", json=metadata, headers={"Origin": SPA}, timeout=10)
    assert ours.status_code == 201, ours.text
    assert_readable_by(ours, SPA)
    theirs = requests.post(f"{server.url}/oauth/register", json=metadata, headers={"Origin": OTHER}, timeout=10)
    assert theirs.status_code == 201
    assert_not_readable(theirs)


def test_the_allow_list_lets_its_origins_read_every_clients_answers(server, app):
    form = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT}
    before = requests.post(f"{server.url}/oauth/token", data=form, auth=(app.client_id, app.secret),
                           headers={"Origin": OTHER}, timeout=10)
    assert_not_readable(before)
    server.env.reconfigure(PASSPORT_CORS_ALLOWED_ORIGINS=f"{OTHER},http://localhost:5173")
    after = requests.post(f"{server.url}/oauth/token", data=form, auth=(app.client_id, app.secret),
                          headers={"Origin": OTHER}, timeout=10)
    assert_readable_by(after, OTHER)
    nobody = requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Origin": "http://localhost:5173"}, timeout=10)
    assert_readable_by(nobody, "http://localhost:5173")


@pytest.mark.parametrize("origin", ["null", "*", f"{SPA}/", f"{SPA}/path", f"{SPA}, {OTHER}", SPA.upper(),
                                    "https://app.example.com:99999999", "\u00ff\u00fe"])
def test_an_origin_that_is_not_a_serialized_origin_is_never_allowed_and_never_a_500(server, app, origin):
    answer = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10,
                           data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT},
                           headers={"Origin": origin.encode("utf-8").decode("latin-1")})
    assert answer.status_code == 400
    assert_not_readable(answer)


def test_hostile_client_hints_are_answered_below_500(server, app):
    """The hint is read before anything is verified: malformed Basic, Bearer and form values change nothing."""
    for headers in ({"Authorization": "Basic %%%"}, {"Authorization": "Basic " + base64.b64encode(b"\xff:x").decode()},
                    {"Authorization": "Bearer a.!!!.c"}, {"Authorization": "Bearer " + "a." * 5000},
                    {"Authorization": "Bearer x." + base64.urlsafe_b64encode(b"[" * 5000).decode() + ".y"},
                    {"Content-Type": "application/json"}):
        for path in ("/oauth/token", "/oauth/userinfo", "/oauth/revoke"):
            answer = requests.post(server.url + path, data=b"client_id=%ff&client_id=x", timeout=10,
                                   headers={"Origin": SPA, "Content-Type": "application/x-www-form-urlencoded",
                                            **headers})
            assert answer.status_code < 500, (path, headers, answer.text)
            assert_not_readable(answer)


# -- API Gateway's own answers, and an HTTP API ----------------------------------------------------------------------


def test_the_gateways_own_refusals_are_readable_from_any_origin_without_credentials(server):
    """A refusal API Gateway gives itself (the guard's 401) is static: a browser client may read it, the challenge
    included, from any origin; never with credentials. A path or method with no route gets no CORS header."""
    answer = requests.get(server.url + "/api/orders", headers={"Origin": OTHER}, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers
    for method, path in (("GET", "/no/such/route"), ("PUT", "/login")):
        refused = requests.request(method, server.url + path, headers={"Origin": OTHER}, timeout=10)
        assert refused.status_code in (404, 405) and not cors_headers(refused), path


def test_as_an_http_api_the_preflight_reaches_the_function_which_answers_the_same(server, app):
    """An HTTP API has no mock integrations: the OPTIONS route goes to the path's function (apigw.serve), whose
    answer is the REST API's mock answer."""
    from passport.local.gateway import LocalGateway

    rest = LocalGateway(server.env.settings)
    http = LocalGateway(server.env.settings, http_api=True)
    headers = [("Origin", SPA), ("Access-Control-Request-Method", "POST")]
    for path in ("/oauth/token", "/oauth/register/abc", "/.well-known/jwks.json"):
        local, function = rest.dispatch(PREFLIGHT, path, headers, b""), http.dispatch(PREFLIGHT, path, headers, b"")
        assert local.status == function.status == 204, path
        assert sorted(h for h in local.headers) == sorted(h for h in function.headers), path
    form = f"grant_type=authorization_code&code=x&redirect_uri={REDIRECT}&client_id={app.client_id}"
    token = http.dispatch("POST", "/oauth/token",
                          [("Origin", SPA), ("Content-Type", "application/x-www-form-urlencoded")], form.encode())
    assert ("Access-Control-Allow-Origin", SPA) in token.headers
