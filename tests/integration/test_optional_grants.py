"""The opt-in grants: password (Passport's enablePasswordGrant) and implicit (enableImplicitGrant). Each is
refused when off, works when on, and a client must have it in its list."""

from __future__ import annotations

import uuid

import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, query_of

PASSWORD = "correct horse battery staple"
REDIRECT = "https://spa.example.com/callback"


def make_user(email: str | None = None):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=email or f"p{uuid.uuid4().hex[:8]}@example.com", name="Pat",
                       password=PASSWORD)


def password_request(server, client, username: str, password: str = PASSWORD, **extra: str):
    return requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                         data={"grant_type": "password", "username": username, "password": password, **extra})


def metadata(server) -> dict:
    return requests.get(f"{server.url}/.well-known/oauth-authorization-server").json()


def test_the_password_grant_is_unsupported_when_off(env, server):
    user = make_user()
    client = make_client(env, grant_types=("password", "refresh_token"))
    response = password_request(server, client, user.email)
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    assert "password" not in metadata(server)["grant_types_supported"]


def test_the_password_grant_works_when_on(env, server):
    env.reconfigure(PASSPORT_GRANTS_PASSWORD="true")
    server.gateway.settings = env.settings
    user = make_user()
    client = make_client(env, grant_types=("password", "refresh_token"))
    response = password_request(server, client, user.email, scope="orders:read")
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["scope"] == "orders:read" and tokens["refresh_token"]
    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["id"] == user.id
    refreshed = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert "password" in metadata(server)["grant_types_supported"]


def test_the_password_grant_may_ask_for_every_scope(env, server):
    env.reconfigure(PASSPORT_GRANTS_PASSWORD="true")
    user = make_user()
    client = make_client(env, grant_types=("password",))
    response = password_request(server, client, user.email, scope="*")
    assert response.status_code == 200 and response.json()["scope"] == "*"
    token = response.json()["access_token"]
    assert requests.get(f"{server.url}/api/orders", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_client_without_the_password_grant_is_unauthorized_client(env, server):
    env.reconfigure(PASSPORT_GRANTS_PASSWORD="true")
    user = make_user()
    client = make_client(env, grant_types=("client_credentials",))
    assert password_request(server, client, user.email).json()["error"] == "unauthorized_client"


def test_wrong_passwords_are_invalid_grant_and_throttled_like_the_login_page(env, server):
    env.reconfigure(PASSPORT_GRANTS_PASSWORD="true")
    user = make_user()
    client = make_client(env, grant_types=("password",))
    answers = [password_request(server, client, user.email, "wrong") for _ in range(7)]
    assert [a.json()["error"] for a in answers] == ["invalid_grant"] * 7
    assert any("Retry-After" in a.headers for a in answers[5:])
    blocked = password_request(server, client, user.email)
    assert blocked.status_code == 400 and int(blocked.headers["Retry-After"]) >= 1
    assert password_request(server, client, "nobody@example.com").json()["error"] == "invalid_grant"


def implicit_request(browser: Browser, client) -> requests.Response:
    return browser.authorize(response_type="token", client_id=client.client_id, redirect_uri=REDIRECT,
                             scope="orders:read", state="st")


def test_the_implicit_grant_is_unsupported_when_off(env, server):
    user = make_user()
    spa = make_client(env, grant_types=("implicit",), redirect_uris=(REDIRECT,), public=True)
    browser = Browser(server.url)
    browser.login(user.email, PASSWORD)
    answer = implicit_request(browser, spa)
    assert query_of(answer.headers["Location"])["error"] == "unsupported_response_type"
    assert "token" not in metadata(server)["response_types_supported"]


def test_the_implicit_grant_puts_the_token_in_the_fragment_when_on(env, server):
    from urllib.parse import parse_qs, urlsplit

    env.reconfigure(PASSPORT_GRANTS_IMPLICIT="true")
    user = make_user()
    spa = make_client(env, grant_types=("implicit",), redirect_uris=(REDIRECT,), public=True)
    browser = Browser(server.url)
    browser.login(user.email, PASSWORD)
    consent = implicit_request(browser, spa)
    approve, _ = browser.consent_forms(consent)
    answer = browser.submit(approve)
    location = urlsplit(answer.headers["Location"])
    assert answer.status_code == 303 and location.query == ""
    fragment = {k: v[0] for k, v in parse_qs(location.fragment).items()}
    assert fragment["token_type"] == "Bearer" and fragment["state"] == "st" and fragment["iss"] == server.url
    assert "refresh_token" not in fragment and "code" not in fragment
    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {fragment['access_token']}"})
    assert me.json()["id"] == user.id
    assert "token" in metadata(server)["response_types_supported"]
    assert "implicit" in metadata(server)["grant_types_supported"]
