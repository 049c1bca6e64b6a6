"""OpenID Connect requests as real clients send them: pyoidc (``oic``, an OpenID-certified RP library) with an
unsigned request object carrying a claims request (OpenID Connect Core 1.0 5.5, 6.1) and acr_values (3.1.2.1),
and the form_post response mode (OAuth 2.0 Form Post Response Mode 2) in Debian's Chromium, with scripts and
without."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect

from tests.conftest import make_client
from tests.e2e.chromium import launched_chromium, new_tab, screenshot
from tests.integration.browser import Browser, pkce_pair
from tests.integration.conftest import PASSWORD, REDIRECT

ACR = "urn:passport:acr:password"


@pytest.fixture
def ada(env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"a{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace",
                       password=PASSWORD, profile={"given_name": "Ada", "family_name": "Lovelace",
                                                   "zoneinfo": "Europe/London"})


def test_pyoidc_sends_an_unsigned_request_object_with_claims_and_acr_values(env, server, ada):
    """pyoidc builds the request object itself (``request_method="request"``, alg none, Core 6.1) from its request
    arguments and the claims it asks of the ID token and userinfo (5.5), then verifies the ID token (signature
    against the JWKS, iss, aud, nonce) and reads userinfo."""
    from oic.oauth2.message import ErrorResponse
    from oic.oic import Client
    from oic.oic.message import AccessTokenResponse, AuthorizationResponse, OpenIDSchema
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    app = make_client(env, name="Orders", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                      scopes=("orders:read",))
    rp = Client(client_id=app.client_id, client_authn_method=CLIENT_AUTHN_METHOD)
    rp.client_secret = app.secret
    rp.redirect_uris = [REDIRECT]
    provider = rp.provider_config(server.url)
    assert provider["request_parameter_supported"] is True and provider["claims_parameter_supported"] is True
    assert "none" in provider["request_object_signing_alg_values_supported"]

    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()
    url, _, _, _ = rp.authorization_request_info(
        request_args={"response_type": "code", "scope": ["openid"], "state": state, "nonce": nonce,
                      "redirect_uri": REDIRECT, "code_challenge": challenge, "code_challenge_method": "S256",
                      "acr_values": ["urn:example:loa:2", ACR]},
        request_method="request", algorithm="none",
        idtoken_claims={"given_name": {"essential": True}}, userinfo_claims={"zoneinfo": None, "nickname": None},
    )
    assert "request=" in url
    browser = Browser(server.url)
    assert browser.login(ada.email, PASSWORD).status_code == 303
    answer = browser.get(url)
    if answer.status_code == 200:  # consent, naming the claims asked one by one
        assert "Europe/London" in answer.text and "Ada" in answer.text
        approve, _ = browser.consent_forms(answer)
        answer = browser.submit(approve)
    assert answer.status_code == 303, answer.text
    parsed = rp.parse_response(AuthorizationResponse, info=urlsplit(answer.headers["Location"]).query,
                               sformat="urlencoded")
    assert parsed["state"] == state
    tokens = rp.do_access_token_request(state=state, request_args={"code": parsed["code"], "redirect_uri": REDIRECT,
                                                                   "code_verifier": verifier},
                                        authn_method="client_secret_basic")
    assert isinstance(tokens, AccessTokenResponse), tokens.to_dict()
    id_token = tokens["id_token"]  # verified by the library
    assert id_token["nonce"] == nonce and id_token["sub"] == ada.id
    assert id_token["acr"] == ACR and id_token["given_name"] == "Ada"
    info = rp.do_user_info_request(state=state, method="GET", behavior="use_authorization_header")
    assert not isinstance(info, ErrorResponse), info.to_dict()
    assert isinstance(info, OpenIDSchema)
    assert info.to_dict() == {"sub": ada.id, "zoneinfo": "Europe/London"}


# -- form_post in Chromium ----------------------------------------------------------------------------------------


class PostCallback:
    """A redirect URI on loopback that takes form posts (Form Post Response Mode 2) and records their fields."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        record = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                record.posts.append({k: v[0] for k, v in parse_qs(body).items()})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self) -> None:  # the browser's /favicon.ico
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/callback"


@pytest.fixture
def post_callback() -> Iterator[PostCallback]:
    callback = PostCallback()
    thread = threading.Thread(target=callback.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield callback
    finally:
        callback.httpd.shutdown()
        callback.httpd.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium | None]:
    with launched_chromium() as launched:
        yield launched


@pytest.mark.parametrize("scripts", [True, False], ids=["auto-submitted", "without-javascript"])
def test_form_post_delivers_code_state_and_iss_to_the_redirect_uri_in_chromium(env, server, ada, chromium,
                                                                                post_callback, scripts):
    """Form Post Response Mode 2: after consent, the page posts code, state and iss to the redirect URI by
    itself (its script allowed by the CSP nonce, no console error), or, with JavaScript off, when the user presses
    its button; the code then redeems."""
    app = make_client(env, name="Orders App", grant_types=("authorization_code",),
                      redirect_uris=(post_callback.url,), scopes=("orders:read",))
    tab = new_tab(chromium, java_script_enabled=scripts)
    try:
        page = tab.page
        page.goto(f"{server.url}/login")
        page.fill('input[name="email"]', ada.email)
        page.fill('input[name="password"]', PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16) + "<&\"'>"
        page.goto(f"{server.url}/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": app.client_id, "redirect_uri": post_callback.url,
            "scope": "openid", "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
            "response_mode": "form_post",
        }))
        page.get_by_role("button", name="Approve").click()
        if not scripts:
            expect(page.get_by_role("heading", name="Returning to Orders App")).to_be_visible()
            screenshot(page, "form-post-without-javascript.png")
            page.get_by_role("button", name="Continue to Orders App").click()
        page.wait_for_url(post_callback.url)
        expect(page.locator("body")).to_have_text("ok")
        assert len(post_callback.posts) == 1, post_callback.posts
        (posted,) = post_callback.posts
        assert posted["state"] == state and posted["iss"] == server.url and "error" not in posted
        assert not tab.console_errors, tab.console_errors
    finally:
        tab.context.close()
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": posted["code"], "redirect_uri": post_callback.url,
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["id_token"]
