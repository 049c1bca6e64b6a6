"""The authorization code flow in a real browser: headless Chromium from Debian's package (`chromium`, at
/usr/bin/chromium), driven by Playwright for Python with `executable_path`, so no browser is ever downloaded.

The browser signs in, approves (or denies) and lands on a tiny HTTP server on loopback standing in for the client's
redirect URI; the test then redeems the code like a client would. Screenshots of the pages go to
artifacts/screenshots/ (git-ignored) for CI to keep.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_client
from tests.e2e.chromium import Callback, Tab, launched_chromium, new_tab, screenshot, serve_callback
from tests.integration.browser import pkce_pair, query_of

# Revocation must show at the guard at once here: no authorizer or revocation cache.
pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")

PASSWORD = "correct horse battery staple"


# -- the client's redirect URI and the browser (tests/e2e/chromium.py) --------------------------------------------


@pytest.fixture
def callback() -> Iterator[Callback]:
    with serve_callback() as record:
        yield record


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser | None]:
    """One headless Chromium for the module; None when Debian's package is missing (each test then fails)."""
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def open_tab(chromium: Browser | None) -> Iterator:
    """Open a page in a fresh context (its own cookies), recording every request and every console error."""
    tabs: list[Tab] = []

    def open_(**context_options) -> Tab:
        tabs.append(new_tab(chromium, **context_options))
        return tabs[-1]

    yield open_
    for tab in tabs:
        tab.context.close()


# -- the deployment's user and client -----------------------------------------------------------------------------


@pytest.fixture
def user(env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(
        DynamoUserStore(), email=f"u{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace", password=PASSWORD
    )


@pytest.fixture
def app(env, callback):
    return make_client(
        env,
        name="Orders App",
        grant_types=("authorization_code", "refresh_token"),
        redirect_uris=(callback.url,),
        scopes=("orders:read", "orders:write"),
    )


def authorize_url(server, app, callback: Callback, state: str, challenge: str) -> str:
    return f"{server.url}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": callback.url,
            "scope": "orders:read",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def sign_in_to_consent(page: Page, server, user, *, shots: bool = False) -> None:
    """From the login page (where /oauth/authorize sent the browser) to the consent page."""
    page.wait_for_url(f"{server.url}/login?**")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    if shots:
        screenshot(page, "login.png")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/oauth/authorize?**")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()


def landed(page: Page, callback: Callback) -> dict[str, str]:
    """The query the client received at its redirect URI (the browser shows the callback server's answer)."""
    page.wait_for_url(f"{callback.url}?**")
    expect(page.locator("body")).to_have_text("ok")
    # The browser may also ask the callback server for /favicon.ico; the client got exactly one redirect.
    redirects = [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]
    assert len(redirects) == 1, callback.hits
    hit = redirects[0]
    assert query_of(hit) == query_of(page.url)
    return query_of(hit)


# -- the tests ----------------------------------------------------------------------------------------------------


def test_sign_in_approve_exchange_and_call_the_api(server, open_tab, callback, app, user):
    tab = open_tab(viewport={"width": 1280, "height": 800})
    page = tab.page
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)

    page.goto(authorize_url(server, app, callback, state, challenge))
    sign_in_to_consent(page, server, user, shots=True)
    expect(page.get_by_text("Orders App", exact=True).first).to_be_visible()
    expect(page.get_by_text("Read your orders", exact=True)).to_be_visible()
    screenshot(page, "consent.png")
    page.get_by_role("button", name="Approve").click()

    query = landed(page, callback)
    assert query["state"] == state
    assert query["iss"] == server.url
    assert query["code"] and "error" not in query
    tab.assert_stayed_on_loopback()

    tokens = requests.post(
        f"{server.url}/oauth/token",
        auth=(app.client_id, app.secret),
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": callback.url,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "orders:read" and body["refresh_token"]

    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id and me.json()["email"] == user.email
    assert me.json()["client_id"] == app.client_id and me.json()["scopes"] == ["orders:read"]


def test_a_pushed_request_signs_in_approves_and_lands_at_the_client_once(server, open_tab, callback, app, user):
    """RFC 9126: the client pushes, the browser carries client_id and request_uri alone through the sign-in page
    and the consent form (each page's form-action lets the answer reach the client), and the request_uri is spent
    with the answer."""
    tab = open_tab(viewport={"width": 1280, "height": 800})
    page = tab.page
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    pushed = requests.post(f"{server.url}/oauth/par", auth=(app.client_id, app.secret), timeout=10, data={
        "response_type": "code", "redirect_uri": callback.url, "scope": "orders:read", "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert pushed.status_code == 201, pushed.text
    authorize = f"{server.url}/oauth/authorize?" + urlencode(
        {"client_id": app.client_id, "request_uri": pushed.json()["request_uri"]})

    page.goto(authorize)
    sign_in_to_consent(page, server, user)
    expect(page.get_by_text("Read your orders", exact=True)).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    query = landed(page, callback)
    assert query["state"] == state and query["iss"] == server.url and query["code"]
    tab.assert_stayed_on_loopback()
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"], "redirect_uri": callback.url,
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text

    page.goto(authorize)  # the same request_uri again: an error page, and the client hears nothing
    expect(page.get_by_text("invalid_request_uri")).to_be_visible()
    assert len([hit for hit in callback.hits if urlsplit(hit).path == "/callback"]) == 1


def test_deny_sends_access_denied_to_the_redirect_uri(server, open_tab, callback, app, user):
    tab = open_tab(viewport={"width": 1280, "height": 800})
    page = tab.page
    _, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)

    page.goto(authorize_url(server, app, callback, state, challenge))
    sign_in_to_consent(page, server, user)
    page.get_by_role("button", name="Deny").click()

    query = landed(page, callback)
    assert query["error"] == "access_denied"
    assert query["state"] == state
    assert query["iss"] == server.url
    assert "code" not in query
    tab.assert_stayed_on_loopback()


@pytest.mark.parametrize(
    ("name", "options"),
    [
        (
            "login-phone.png",
            {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
        ),
        ("login-desktop.png", {"viewport": {"width": 1280, "height": 800}}),
    ],
)
def test_login_page_on_phone_and_desktop_stays_on_loopback(server, open_tab, callback, app, name, options):
    tab = open_tab(**options)
    page = tab.page
    _, challenge = pkce_pair()
    page.goto(authorize_url(server, app, callback, secrets.token_urlsafe(16), challenge))
    page.wait_for_url(f"{server.url}/login?**")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    for field_name in ("email", "password"):
        expect(page.locator(f'input[name="{field_name}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # Nothing wider than the viewport: no sideways scrolling on a phone.
    width = options["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, name)
    tab.assert_stayed_on_loopback()
    assert not [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]


# -- the device flow's user-code page (RFC 8628 3.3) --------------------------------------------------------------


def test_a_user_types_a_device_code_in_the_browser_and_the_device_gets_tokens(server, env, user, open_tab):
    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    tv = make_client(env, name="Living-room TV", grant_types=(device_grant,), public=True)
    grant = requests.post(f"{server.url}/oauth/device/code",
                          data={"client_id": tv.client_id, "scope": "orders:read"}).json()
    tab = open_tab()
    page = tab.page
    page.goto(grant["verification_uri"])
    page.wait_for_url(f"{server.url}/login?**")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/oauth/device")
    screenshot(page, "device-code.png")
    # Typed as people type it: lower case, no dash.
    page.fill('input[name="user_code"]', grant["user_code"].replace("-", "").lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Living-room TV").first).to_be_visible()
    expect(page.get_by_text(grant["user_code"]).first).to_be_visible()
    screenshot(page, "device-confirm.png")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
    assert not tab.console_errors
    tab.assert_stayed_on_loopback()
    tokens = requests.post(f"{server.url}/oauth/token", data={
        "grant_type": device_grant, "device_code": grant["device_code"], "client_id": tv.client_id})
    assert tokens.status_code == 200, tokens.text
    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["id"] == user.id


# -- /account: the apps a user authorized, revoked from the page ---------------------------------------------------


def test_a_user_revokes_an_app_on_the_account_page_and_its_token_stops_working(server, env, user, open_tab, callback):
    first_party = make_client(env, name="Orders App", grant_types=("authorization_code", "refresh_token"),
                              redirect_uris=(callback.url,), first_party=True)
    verifier, challenge = pkce_pair()
    tab = open_tab()
    page = tab.page
    page.goto(authorize_url(server, first_party, callback, "st", challenge))
    page.wait_for_url(f"{server.url}/login?**")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    code = landed(page, callback)["code"]  # first-party: no consent page
    tokens = requests.post(f"{server.url}/oauth/token", auth=(first_party.client_id, first_party.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback.url, "code_verifier": verifier,
    }).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{server.url}/api/user", headers=bearer).status_code == 200

    page.goto(f"{server.url}/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("Orders App").first).to_be_visible()
    screenshot(page, "account.png")
    page.get_by_role("button", name="Revoke Orders App").click()
    page.wait_for_url(f"{server.url}/account")
    expect(page.get_by_text("No app has access to your account.")).to_be_visible()
    assert requests.get(f"{server.url}/api/user", headers=bearer).status_code == 401
    assert not tab.console_errors
    tab.assert_stayed_on_loopback()


# -- CSP form-action: Chromium checks every redirect after a form submission (CSP Level 3) -------------------------


def record_page_policies(tab: Tab) -> list[tuple[str, str]]:
    """The (path, form-action directive) of every page the tab was shown (HTML answers, not the 303s)."""
    seen: list[tuple[str, str]] = []

    def on_response(response) -> None:
        csp = response.headers.get("content-security-policy")
        if response.request.resource_type == "document" and csp:
            directive = next((d for d in csp.split("; ") if d.startswith("form-action")), "")
            seen.append((urlsplit(response.url).path, directive))

    tab.page.on("response", on_response)
    return seen


def test_form_action_lets_sign_in_approve_and_a_remembered_consent_reach_the_loopback_client(
    server, open_tab, callback, app, user
):
    """The login form leads (303s) through /oauth/authorize to the client; the consent form straight to it. With
    form-action naming this site and the client's origin, Chromium follows all of them and logs no violation."""
    client_origin = f"http://127.0.0.1:{urlsplit(callback.url).port}"
    allowed = f"form-action 'self' {client_origin}"

    first = open_tab(viewport={"width": 1280, "height": 800})
    policies = record_page_policies(first)
    _, challenge = pkce_pair()
    first.page.goto(authorize_url(server, app, callback, "first", challenge))
    sign_in_to_consent(first.page, server, user)
    first.page.get_by_role("button", name="Approve").click()
    assert landed(first.page, callback)["state"] == "first"
    assert policies == [("/login", allowed), ("/oauth/authorize", allowed)]
    first.assert_stayed_on_loopback()  # no console error: no CSP violation

    # A new browser (no session); the consent is remembered: POST /login -> 303 /oauth/authorize -> 303 client.
    callback.hits.clear()
    second = open_tab(viewport={"width": 1280, "height": 800})
    policies = record_page_policies(second)
    second.page.goto(authorize_url(server, app, callback, "second", challenge))
    second.page.wait_for_url(f"{server.url}/login?**")
    second.page.fill('input[name="email"]', user.email)
    second.page.fill('input[name="password"]', PASSWORD)
    second.page.get_by_role("button", name="Sign in").click()
    query = landed(second.page, callback)
    assert query["state"] == "second" and query["code"]
    assert policies == [("/login", allowed)]
    second.assert_stayed_on_loopback()


def test_without_the_clients_origin_chromium_stops_the_approve_redirect(
    server, open_tab, callback, app, user, monkeypatch
):
    """The control: form-action 'self' alone (as the pages would send without the redirect URI's origin) and
    Chromium refuses the consent form's 303 to the client, so the test above proves the origin is needed."""
    from passport.web import render

    monkeypatch.setattr(render, "redirect_source", lambda uri: None)
    tab = open_tab(viewport={"width": 1280, "height": 800})
    _, challenge = pkce_pair()
    tab.page.goto(authorize_url(server, app, callback, "blocked", challenge))
    sign_in_to_consent(tab.page, server, user)  # same-origin redirects: still allowed
    with tab.page.expect_console_message(lambda msg: "form-action" in msg.text):
        tab.page.get_by_role("button", name="Approve").click()
    assert not [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]
