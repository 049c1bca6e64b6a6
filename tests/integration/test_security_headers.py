"""Browser security headers through the local gateway: Strict-Transport-Security (RFC 6797) on the functions'
answers, JSON and HTML alike, when the issuer is https and never on a plain-http one; and the pages' CSP
form-action, which allows this site plus the one client redirect URI a page's forms can lead to."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

import requests

from tests.integration.browser import Browser
from tests.integration.conftest import PASSWORD, REDIRECT

HSTS = "max-age=63072000; includeSubDomains"


def answers(url: str) -> dict[str, requests.Response]:
    """A JSON answer (the token endpoint's error) and an HTML one (the sign-in page)."""
    return {
        "json": requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=10),
        "html": requests.get(f"{url}/login", timeout=10),
    }


def test_an_https_issuer_gets_hsts_on_json_and_html_answers_and_a_plain_http_one_does_not(server):
    local = answers(server.url)
    assert local["json"].headers["Content-Type"].startswith("application/json")
    assert local["html"].headers["Content-Type"].startswith("text/html")
    assert not [kind for kind, answer in local.items() if "Strict-Transport-Security" in answer.headers]

    # The same process and gateway, the deployment's issuer now https (the gateway still listens on loopback):
    # the functions read it again, as a new Lambda container would.
    server.env.reconfigure(PASSPORT_ISSUER="https://auth.example.com")
    deployed = answers(server.url)
    assert deployed["json"].status_code in (400, 401) and deployed["html"].status_code == 200
    assert {kind: answer.headers.get("Strict-Transport-Security") for kind, answer in deployed.items()} == {
        "json": HSTS, "html": HSTS}
    # API Gateway's own answers too (a refused token, a path with no route), as the stack installs them: a local
    # gateway of an https deployment (the running one keeps the settings it was built with).
    from passport.local.gateway import LocalGateway

    gateway = LocalGateway(server.env.settings)
    for path in ("/api/ping", "/no/such/route"):
        reply = gateway.dispatch("GET", path, [("Authorization", "Bearer x.y.z")], b"")
        assert reply.status in (401, 404) and ("Strict-Transport-Security", HSTS) in reply.headers, path
    plain = LocalGateway(replace(server.env.settings, issuer="http://127.0.0.1:1"))
    assert not [h for h in plain.dispatch("GET", "/no/such/route", [], b"").headers
                if h[0] == "Strict-Transport-Security"]


def form_action(response: requests.Response) -> str:
    csp = response.headers["Content-Security-Policy"]
    return next(d for d in csp.split("; ") if d.startswith("form-action"))


def test_the_sign_in_page_allows_the_redirect_uri_of_the_request_it_resumes(server, app):
    request = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "state": "s"}
    resumed = "/oauth/authorize?" + urlencode(request)
    page = requests.get(f"{server.url}/login", params={"next": resumed}, timeout=10)
    assert form_action(page) == "form-action 'self' https://app.example.com"
    # An unknown client or an unregistered redirect URI leads nowhere but an error page here: nothing is allowed.
    for bad in ({"client_id": "nobody"}, {"redirect_uri": "https://evil.example/cb"}):
        hostile = "/oauth/authorize?" + urlencode({**request, **bad})
        page = requests.get(f"{server.url}/login", params={"next": hostile}, timeout=10)
        assert form_action(page) == "form-action 'self'", bad
    # A request that fails past its redirect URI is still answered there (RFC 6749 4.1.2.1): allowed.
    failing = "/oauth/authorize?" + urlencode({**request, "response_type": "nonsense"})
    page = requests.get(f"{server.url}/login", params={"next": failing}, timeout=10)
    assert form_action(page) == "form-action 'self' https://app.example.com"
    # Elsewhere on this site: 'self' only.
    page = requests.get(f"{server.url}/login", params={"next": "/account"}, timeout=10)
    assert form_action(page) == "form-action 'self'"


def test_the_consent_page_allows_the_clients_origin_and_the_device_page_only_this_site(server, app, user):
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    consent = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT, state="s",
                                scope="orders:read")
    assert consent.status_code == 200
    assert form_action(consent) == "form-action 'self' https://app.example.com"
    assert form_action(browser.get("/oauth/device")) == "form-action 'self'"


def test_the_logout_confirmation_allows_the_registered_post_logout_uri_origin_only(server, user):
    from tests.conftest import make_client

    rp = make_client(server.env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                     post_logout_redirect_uris=("https://rp.example:8443/signed-out",))
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    confirm = browser.get("/oauth/logout", client_id=rp.client_id,
                          post_logout_redirect_uri="https://rp.example:8443/signed-out", state="st")
    assert confirm.status_code == 200
    assert form_action(confirm) == "form-action 'self' https://rp.example:8443"
    # No redirect asked for: the confirmation leads to this site's signed-out page.
    assert form_action(browser.get("/oauth/logout")) == "form-action 'self'"
