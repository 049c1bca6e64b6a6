"""Personal access tokens through the signed-in user's JSON API (Laravel Passport's), with the XSRF check."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.integration.browser import Browser

pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def installed(env):
    from passport import admin
    from passport.compose import settings
    from passport.storage.repositories import DynamoClientStore

    settings()
    admin.install(env.settings, DynamoClientStore())


def signed_in(server):
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    user = create_user(DynamoUserStore(), email=f"pat{uuid.uuid4().hex[:8]}@example.com", name="Pat",
                       password=PASSWORD)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    return user, browser


def xsrf(browser: Browser) -> dict[str, str]:
    return {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}


def create(server, browser, **body):
    return browser.http.post(f"{server.url}/oauth/personal-access-tokens", json=body, headers=xsrf(browser))


def test_a_user_creates_lists_uses_and_revokes_a_personal_access_token(server, installed):
    user, browser = signed_in(server)
    made = create(server, browser, name="deploy script", scopes=["orders:read"])
    assert made.status_code == 201, made.text
    token = made.json()
    assert token["name"] == "deploy script" and token["scopes"] == ["orders:read"]
    assert token["expires_at"] - time.time() > 364 * 24 * 3600  # its own, long lifetime
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    me = requests.get(f"{server.url}/api/user", headers=bearer)
    assert me.status_code == 200 and me.json()["id"] == user.id
    listed = browser.http.get(f"{server.url}/oauth/personal-access-tokens").json()
    assert [t["token_id"] for t in listed] == [token["token_id"]] and "access_token" not in listed[0]
    gone = browser.http.delete(f"{server.url}/oauth/personal-access-tokens/{token['token_id']}", headers=xsrf(browser))
    assert gone.status_code == 204
    assert browser.http.get(f"{server.url}/oauth/personal-access-tokens").json() == []
    assert requests.get(f"{server.url}/api/user", headers=bearer).status_code == 401


def test_state_changing_calls_without_the_xsrf_header_are_refused(server, installed):
    _, browser = signed_in(server)
    refused = browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "x"})
    assert refused.status_code == 403 and refused.json()["error"] == "xsrf_token_mismatch"
    wrong = browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "x"},
                              headers={"X-XSRF-TOKEN": "guess"})
    assert wrong.status_code == 403
    assert create(server, browser, name="x").status_code == 201


def test_the_api_needs_a_session(server, installed):
    for method, path in (("GET", "/oauth/personal-access-tokens"), ("GET", "/oauth/scopes"),
                         ("POST", "/oauth/personal-access-tokens")):
        response = requests.request(method, f"{server.url}{path}", json={"name": "x"})
        assert response.status_code == 401 and response.json()["error"] == "unauthenticated"


def test_nobody_revokes_another_users_token(server, installed):
    _, owner = signed_in(server)
    token = create(server, owner, name="mine").json()
    _, other = signed_in(server)
    attempt = other.http.delete(f"{server.url}/oauth/personal-access-tokens/{token['token_id']}", headers=xsrf(other))
    assert attempt.status_code == 404
    assert requests.get(f"{server.url}/api/ping",
                        headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200


def test_bad_input_is_a_clear_422(server, installed):
    _, browser = signed_in(server)
    assert create(server, browser, name="").status_code == 422
    assert create(server, browser, name="x", scopes=["nope"]).json()["error"] == "invalid_scope"
    assert create(server, browser, name="x", scopes="orders:read").status_code == 422
    raw = browser.http.post(f"{server.url}/oauth/personal-access-tokens", data=b"{not json",
                            headers={**xsrf(browser), "Content-Type": "application/json"})
    assert raw.status_code == 422


def test_every_scope_may_be_given_to_a_personal_access_token(server, installed):
    _, browser = signed_in(server)
    token = create(server, browser, name="all", scopes=["*"]).json()
    assert token["scopes"] == ["*"]
    assert requests.get(f"{server.url}/api/orders",
                        headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200


def test_scopes_lists_the_definitions(server, installed):
    _, browser = signed_in(server)
    scopes = browser.http.get(f"{server.url}/oauth/scopes").json()
    assert {"id": "orders:read", "description": "Read your orders"} in scopes


# -- the apps I authorized, my clients ----------------------------------------------------------------------------


def authorize_app(server, env, browser: Browser, *, first_party: bool = True):
    from tests.conftest import make_client
    from tests.integration.browser import query_of

    redirect = "https://app.example.com/cb"
    app = make_client(env, name="Orders <App>", grant_types=("authorization_code", "refresh_token"),
                      redirect_uris=(redirect,), first_party=first_party)
    answer = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=redirect, state="s",
                               scope="orders:read")
    code = query_of(answer.headers["Location"])["code"]
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect}).json()
    return app, tokens


def test_a_user_sees_and_revokes_the_apps_they_authorized(server, env, installed):
    _, browser = signed_in(server)
    app, tokens = authorize_app(server, env, browser)
    listed = browser.http.get(f"{server.url}/oauth/tokens").json()
    assert len(listed) == 1
    entry = listed[0]
    assert entry["client"] == {"id": app.client_id, "name": "Orders <App>"} and entry["scopes"] == ["orders:read"]
    without_xsrf = browser.http.delete(f"{server.url}/oauth/tokens/{entry['id']}")
    assert without_xsrf.status_code == 403
    gone = browser.http.delete(f"{server.url}/oauth/tokens/{entry['id']}", headers=xsrf(browser))
    assert gone.status_code == 204
    assert browser.http.get(f"{server.url}/oauth/tokens").json() == []
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{server.url}/api/user", headers=bearer).status_code == 401
    refreshed = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret),
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.json()["error"] == "invalid_grant"


def test_nobody_revokes_another_users_authorization(server, env, installed):
    _, owner = signed_in(server)
    authorize_app(server, env, owner)
    family = owner.http.get(f"{server.url}/oauth/tokens").json()[0]["id"]
    _, other = signed_in(server)
    assert other.http.delete(f"{server.url}/oauth/tokens/{family}", headers=xsrf(other)).status_code == 404
    assert len(owner.http.get(f"{server.url}/oauth/tokens").json()) == 1


def test_a_user_manages_their_own_clients(server, installed):
    _, browser = signed_in(server)
    made = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser),
                             json={"name": "My app", "redirect": "https://mine.example.com/cb"})
    assert made.status_code == 201, made.text
    client = made.json()
    assert client["client_secret"] and client["redirect_uris"] == ["https://mine.example.com/cb"]
    listed = browser.http.get(f"{server.url}/oauth/clients").json()
    assert [c["id"] for c in listed] == [client["id"]] and "client_secret" not in listed[0]
    changed = browser.http.put(f"{server.url}/oauth/clients/{client['id']}", headers=xsrf(browser),
                               json={"name": "Renamed", "redirect_uris": ["https://mine.example.com/other"]})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    bad = browser.http.put(f"{server.url}/oauth/clients/{client['id']}", headers=xsrf(browser),
                           json={"redirect_uris": ["http://evil.example/cb"]})
    assert bad.status_code == 422
    _, other = signed_in(server)
    assert other.http.delete(f"{server.url}/oauth/clients/{client['id']}", headers=xsrf(other)).status_code == 404
    assert browser.http.delete(f"{server.url}/oauth/clients/{client['id']}", headers=xsrf(browser)).status_code == 204
    assert browser.http.get(f"{server.url}/oauth/clients").json() == []
    refused = requests.post(f"{server.url}/oauth/token", auth=(client["id"], client["client_secret"]),
                            data={"grant_type": "client_credentials"})
    assert refused.status_code == 401


def test_a_user_rotates_their_clients_secret_and_the_old_one_stops_working(server, installed):
    _, browser = signed_in(server)
    client = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser),
                               json={"name": "Rotating", "redirect": "https://mine.example.com/cb"}).json()
    old = client["client_secret"]
    rotated = browser.http.post(f"{server.url}/oauth/clients/{client['id']}/secret", headers=xsrf(browser))
    assert rotated.status_code == 201 and rotated.json()["client_secret"] not in (None, old)
    assert browser.http.post(f"{server.url}/oauth/clients/{client['id']}/secret").status_code == 403  # no XSRF
    _, other = signed_in(server)
    assert other.http.post(f"{server.url}/oauth/clients/{client['id']}/secret",
                           headers=xsrf(other)).status_code == 404

    def authenticates(secret: str) -> int:
        # The client is an authorization-code client: a wrong secret is 401, a right one reaches the grant (400).
        return requests.post(f"{server.url}/oauth/token", auth=(client["id"], secret),
                             data={"grant_type": "authorization_code", "code": "x"}).status_code

    assert authenticates(old) == 401
    assert authenticates(rotated.json()["client_secret"]) == 400
