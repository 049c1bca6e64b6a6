"""Resource indicators (RFC 8707) on the authorization, token and refresh requests, and protected resource
metadata (RFC 9728) with the guard's 401 that points at it, through the local gateway."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import jwt
import pytest
import requests

from tests.integration.browser import Browser, forms, query_of
from tests.integration.conftest import PASSWORD, REDIRECT

OTHER = "https://other.example.com/api"
THIRD = "https://third.example.com/mcp"
# Two other protected resources registered in the settings; no guard caches, so the guard answers at once.
GUARD = "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
pytestmark = pytest.mark.passport_config(f'resources = ["{OTHER}", "{THIRD}"]\n' + GUARD)


# -- helpers ---------------------------------------------------------------------------------------------------


class _Pairs(HTMLParser):
    """Every form's inputs as (name, value) pairs, repeated names kept (the scripted Browser keeps one)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), []))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1][1].append((a["name"], a.get("value", "")))


def approve_pairs(html: str) -> list[tuple[str, str]]:
    parser = _Pairs()
    parser.feed(html)
    return next(pairs for action, pairs in parser.forms
                if action == "/oauth/authorize" and "_method" not in dict(pairs))


def authorize(browser: Browser, client, resources: tuple[str, ...] = (), **extra: str) -> requests.Response:
    params = [("response_type", "code"), ("client_id", client.client_id), ("redirect_uri", REDIRECT),
              ("scope", "orders:read"), ("state", "st-8707"), *extra.items(),
              *(("resource", r) for r in resources)]
    return browser.get("/oauth/authorize?" + urlencode(params))


def answered(browser: Browser, response: requests.Response) -> dict[str, str]:
    """Approve the consent page if there is one; the query the client's redirect URI receives."""
    if response.status_code == 200:
        response = browser.http.post(browser.base + "/oauth/authorize", data=approve_pairs(response.text),
                                     allow_redirects=False, timeout=10)
    assert response.status_code == 303 and response.headers["Location"].startswith(REDIRECT + "?"), response.text
    return query_of(response.headers["Location"])


def code_for(browser: Browser, client, resources: tuple[str, ...] = ()) -> str:
    query = answered(browser, authorize(browser, client, resources))
    assert "error" not in query, query
    return query["code"]


def token_request(server, client, pairs: list[tuple[str, str]]) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", data=pairs, auth=(client.client_id, client.secret), timeout=10)


def exchange(server, client, code: str, *resources: str) -> requests.Response:
    return token_request(server, client, [("grant_type", "authorization_code"), ("code", code),
                                          ("redirect_uri", REDIRECT), *(("resource", r) for r in resources)])


def refresh(server, client, refresh_token: str, *resources: str) -> requests.Response:
    return token_request(server, client, [("grant_type", "refresh_token"), ("refresh_token", refresh_token),
                                          *(("resource", r) for r in resources)])


def audience(response: requests.Response) -> str | list[str]:
    assert response.status_code == 200, response.text
    return jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"]


def invalid_target(response: requests.Response) -> None:
    """RFC 8707 2 at the token endpoint: 400 with the error invalid_target (RFC 6749 5.2 style)."""
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_target" and response.headers["Cache-Control"] == "no-store"


def orders(server, access_token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(f"{server.url}/api/orders", headers=headers, timeout=10)


ALGS = "ES256 RS256 EdDSA"


def challenge_of(server) -> str:
    """RFC 9728 5.1: the API's 401 names its metadata, at its identifier's own location (3.1: ``<issuer>/api`` ->
    ``<issuer>/.well-known/oauth-protected-resource/api``)."""
    metadata = f"{server.url}/.well-known/oauth-protected-resource/api"
    # RFC 9449 7.1: the guard offers DPoP too (API Gateway's 401 is one for every refusal)
    return f'Bearer error="invalid_token", resource_metadata="{metadata}", DPoP error="invalid_token", algs="{ALGS}"'


# -- RFC 8707 at the authorization endpoint --------------------------------------------------------------------------


def test_a_token_for_the_apis_own_resource_has_exactly_that_audience(server, browser, app):
    """RFC 8707 2 and 2.2: resource=<issuer>/api is carried through consent to the code and gives a token whose
    aud is exactly that resource; this API's guard accepts it."""
    api = f"{server.url}/api"
    consent = authorize(browser, app, (api,))
    assert consent.status_code == 200, consent.text
    assert ("resource", api) in approve_pairs(consent.text)
    tokens = exchange(server, app, answered(browser, consent)["code"])
    assert audience(tokens) == api
    assert orders(server, tokens.json()["access_token"]).status_code == 200


def test_unregistered_relative_or_fragment_resources_are_invalid_target_at_the_redirect_uri(server, browser, app):
    """RFC 8707 2: a resource that is not an absolute URI, has a fragment, or is not one this server issues tokens
    for is refused with invalid_target at the client's redirect URI, with its state and iss (RFC 9207)."""
    for resource in ("https://unknown.example.com/api", f"{server.url}/api/", "/api", "api", "urn:example:api",
                     f"{OTHER}#part", f"{server.url}/api#", "https://" + "a" * 600 + ".example/"):
        answer = authorize(browser, app, (resource,))
        assert answer.status_code == 303, (resource, answer.text)
        query = query_of(answer.headers["Location"])
        assert answer.headers["Location"].startswith(REDIRECT + "?"), resource
        assert query["error"] == "invalid_target" and query["state"] == "st-8707" and query["iss"] == server.url, \
            (resource, query)
        assert "code" not in query
    # one bad among good ones spoils the request
    mixed = query_of(authorize(browser, app, (OTHER, "https://unknown.example.com/")).headers["Location"])
    assert mixed["error"] == "invalid_target"


def test_a_token_for_another_registered_resource_is_refused_by_this_guard_and_active_at_introspection(
        server, browser, app):
    """RFC 8707 2.2: aud is the other resource (registered in the settings' resources); RFC 9068 4: this API's
    guard refuses a token not meant for it (401 with its resource metadata, RFC 9728 5.1), while introspection
    (RFC 7662 2.2) says it is active, for that audience."""
    tokens = exchange(server, app, code_for(browser, app, (OTHER,)))
    assert audience(tokens) == OTHER
    access = tokens.json()["access_token"]
    refused = orders(server, access)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"] == challenge_of(server)
    introspected = requests.post(f"{server.url}/oauth/introspect", data={"token": access},
                                 auth=(app.client_id, app.secret), timeout=10).json()
    assert introspected["active"] is True and introspected["aud"] == OTHER
    assert introspected["client_id"] == app.client_id and introspected["scope"] == "orders:read"


def test_two_resources_give_an_audience_list_of_both(server, browser, app):
    """RFC 8707 2 (the parameter may repeat) and RFC 7519 4.1.3: aud is an array of both; this API's guard
    accepts it, since its own audience is among them."""
    api = f"{server.url}/api"
    consent = authorize(browser, app, (api, OTHER))
    pairs = approve_pairs(consent.text)
    assert ("resource", api) in pairs and ("resource", OTHER) in pairs
    tokens = exchange(server, app, answered(browser, consent)["code"])
    assert audience(tokens) == [api, OTHER]
    assert orders(server, tokens.json()["access_token"]).status_code == 200


def test_resources_survive_the_sign_in_detour(server, app, user):
    """RFC 8707 2: the resources of a request that first sends the user to sign in are those of the code."""
    b = Browser(server.url)
    first = authorize(b, app, (OTHER, THIRD))
    assert first.status_code == 303 and first.headers["Location"].startswith("/login?")
    resume = query_of(first.headers["Location"])["next"]
    assert resume.count("resource=") == 2
    page = b.get(first.headers["Location"])
    login = next(f for f in forms(page.text) if f.action == "/login")
    signed_in = b.submit(login, email=user.email, password=PASSWORD)
    assert signed_in.status_code == 303
    consent = b.get(signed_in.headers["Location"])
    tokens = exchange(server, app, answered(b, consent)["code"])
    assert audience(tokens) == [OTHER, THIRD]


# -- RFC 8707 at the token endpoint ----------------------------------------------------------------------------------


def test_the_token_request_may_narrow_the_codes_resources_but_never_widen_them(server, browser, app):
    """RFC 8707 2.2: resource at the token endpoint names one of those the authorization covered (the token's aud
    is then that one), never another registered resource (400 invalid_target), and a refused request leaves the
    code usable."""
    api = f"{server.url}/api"
    code = code_for(browser, app, (api, OTHER))
    invalid_target(exchange(server, app, code, THIRD))
    invalid_target(exchange(server, app, code, OTHER, THIRD))
    invalid_target(exchange(server, app, code, "https://unknown.example.com/"))
    assert audience(exchange(server, app, code, OTHER)) == OTHER


def test_a_code_without_resources_covers_only_the_apis_own(server, browser, app):
    """RFC 8707 2.2: an authorization that named no resource is for the deployment's own API: the token request
    may name that one, never another."""
    api = f"{server.url}/api"
    code = code_for(browser, app)
    invalid_target(exchange(server, app, code, OTHER))
    assert audience(exchange(server, app, code, api)) == api
    assert audience(exchange(server, app, code_for(browser, app))) == api  # and without resource, the default


def test_a_refresh_narrows_but_never_widens_the_grants_resources(server, browser, app):
    """RFC 8707 2.2 with RFC 6749 6: a refresh may ask for any of the resources the grant covered (even after the
    first token was narrowed), one at a time or all; never one it did not (400 invalid_target)."""
    api = f"{server.url}/api"
    first = exchange(server, app, code_for(browser, app, (api, OTHER)), OTHER)
    assert audience(first) == OTHER
    token = first.json()["refresh_token"]
    invalid_target(refresh(server, app, token, THIRD))
    invalid_target(refresh(server, app, token, api, THIRD))
    narrowed = refresh(server, app, token, api)  # the first token was narrowed; the grant was not
    assert audience(narrowed) == api
    whole = refresh(server, app, narrowed.json()["refresh_token"])
    assert audience(whole) == [api, OTHER]
    # a grant that named no resource covers the API alone
    plain = exchange(server, app, code_for(browser, app)).json()["refresh_token"]
    invalid_target(refresh(server, app, plain, OTHER))
    assert audience(refresh(server, app, plain, api)) == api


@pytest.mark.passport_config(GUARD)
def test_client_credentials_accepts_registered_resources_only(env, server, client):
    """RFC 8707 2 with RFC 6749 4.4: a client credentials request may name a registered resource (here from
    PASSPORT_RESOURCES) and gets it as aud; without one, the deployment's API; an unregistered one is 400
    invalid_target."""
    fourth = "https://fourth.example.com/api"
    env.reconfigure(PASSPORT_RESOURCES=f"{fourth}, {THIRD}")
    api = f"{server.url}/api"
    assert audience(server.token(client.client_id, client.secret, resource=fourth)) == fourth
    assert audience(server.token(client.client_id, client.secret, resource=api)) == api
    without = server.token(client.client_id, client.secret, scope="orders:read")
    assert audience(without) == api
    assert orders(server, without.json()["access_token"]).status_code == 200
    invalid_target(server.token(client.client_id, client.secret, resource=OTHER))  # not in this deployment's list
    invalid_target(server.token(client.client_id, client.secret, resource="/api"))
    both = token_request(server, client, [("grant_type", "client_credentials"), ("resource", fourth),
                                          ("resource", THIRD)])
    assert audience(both) == [fourth, THIRD]


# -- RFC 9728 --------------------------------------------------------------------------------------------------------


def test_protected_resource_metadata_is_served_at_the_root_and_at_the_apis_path(server):
    """RFC 9728 2 and 3.1: resource (the token audience), authorization_servers, scopes_supported and
    bearer_methods_supported, at /.well-known/oauth-protected-resource and its path-inserted form for /api."""
    settings = server.env.settings
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api"):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        metadata = response.json()
        assert metadata["resource"] == settings.token_audience == f"{server.url}/api", path
        assert metadata["authorization_servers"] == [server.url]
        assert metadata["scopes_supported"] == list(settings.scopes)
        assert metadata["bearer_methods_supported"] == ["header"]


def test_a_bare_401_leads_a_client_to_the_authorization_server(server):
    """RFC 9728 5.1: the 401 of an API call without a token names the resource metadata; the metadata names the
    authorization server, whose RFC 8414 metadata answers with that issuer: all a client needs, from nothing but
    the API's URL."""
    bare = orders(server, None)
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_token"
    header = bare.headers["WWW-Authenticate"]
    assert header == challenge_of(server)
    metadata_url = re.search(r'resource_metadata="([^"]+)"', header).group(1)
    resource = requests.get(metadata_url, timeout=10).json()
    # 3.3: the resource is the identifier the metadata URL was made from, and it covers the URL called
    assert resource["resource"] == f"{server.url}/api" and f"{server.url}/api/orders".startswith(resource["resource"])
    issuer = resource["authorization_servers"][0]
    authorization_server = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert authorization_server["issuer"] == issuer == server.url
    assert authorization_server["token_endpoint"] == f"{issuer}/oauth/token"
    # a token that is not valid gets the same pointer
    forged = orders(server, "a.b.c")
    assert forged.status_code == 401 and forged.headers["WWW-Authenticate"] == header



def test_consent_to_one_resource_is_not_consent_to_another(server, browser, app):
    """RFC 8707 with remembered consent: the user approved the client for the API; when the client names another
    resource the consent page is shown again, saying which resource, and only then is that one remembered."""
    first = authorize(browser, app)
    assert first.status_code == 200  # consent page for the API (no resource named)
    answered(browser, first)
    assert authorize(browser, app).status_code == 303  # remembered
    other = authorize(browser, app, (OTHER,))
    assert other.status_code == 200, "a remembered consent for the API must not cover another resource"
    assert f"The access is for {OTHER}." in other.text
    answered(browser, other)
    assert authorize(browser, app, (OTHER,)).status_code == 303
    assert authorize(browser, app, (THIRD,)).status_code == 200


def test_userinfo_refuses_a_token_issued_for_another_resource(server, browser, app):
    """OpenID Connect Core 5.3 and RFC 8707 2.2: userinfo is a resource of this server; a token whose aud is
    another registered resource (even with openid) is that resource's, and gets 401 invalid_token here, while the
    same grant's token for this server's API reads the claims."""
    def openid_token(*resources: str) -> str:
        params = [("response_type", "code"), ("client_id", app.client_id), ("redirect_uri", REDIRECT),
                  ("scope", "openid orders:read"), ("state", "st-ui"), *(("resource", r) for r in resources)]
        code = answered(browser, browser.get("/oauth/authorize?" + urlencode(params)))["code"]
        return exchange(server, app, code).json()["access_token"]

    def userinfo(token: str) -> requests.Response:
        return requests.get(f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    elsewhere = openid_token(OTHER)
    assert jwt.decode(elsewhere, options={"verify_signature": False})["aud"] == OTHER
    refused = userinfo(elsewhere)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert userinfo(openid_token(f"{server.url}/api")).status_code == 200
    assert userinfo(openid_token()).status_code == 200
