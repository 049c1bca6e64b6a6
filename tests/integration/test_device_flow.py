"""The device authorization grant (RFC 8628), run by a plain HTTP client from start to token, with the user's
side through the pages."""

from __future__ import annotations

import time
import uuid

import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PASSWORD = "correct horse battery staple"


def make_user():
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"d{uuid.uuid4().hex[:8]}@example.com", name="Dev", password=PASSWORD)


def tv(env):
    """A public client, as a TV app or a CLI is."""
    return make_client(env, name="Living-room TV", grant_types=(DEVICE_GRANT, "refresh_token"), public=True)


def start(server, client, scope: str = "orders:read") -> dict:
    response = requests.post(f"{server.url}/oauth/device/code", data={"client_id": client.client_id, "scope": scope})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def poll(server, client, device_code: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client.client_id})


def signed_in(server, user) -> Browser:
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    return browser


def answer(browser: Browser, user_code: str, approve: bool = True) -> requests.Response:
    confirm = browser.get("/oauth/device/authorize", user_code=user_code)
    assert confirm.status_code == 200, confirm.text
    approve_form, deny_form = browser.consent_forms_at(confirm, "/oauth/device/authorize")
    return browser.submit(approve_form if approve else deny_form)


def test_device_flow_from_start_to_token(env, server):
    client, user = tv(env), make_user()
    grant = start(server, client)
    assert set(grant) >= {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                          "expires_in", "interval"}
    code = grant["user_code"]
    assert len(code) == 9 and code[4] == "-" and all(c in "BCDFGHJKLMNPQRSTVWXZ" for c in code.replace("-", ""))
    assert grant["verification_uri"] == f"{server.url}/oauth/device"
    assert grant["verification_uri_complete"].endswith(f"user_code={code}")
    assert poll(server, client, grant["device_code"]).json()["error"] == "authorization_pending"

    browser = signed_in(server, user)
    # The user types the code in lower case without its dash: both are ignored.
    page = browser.get("/oauth/device/authorize", user_code=code.replace("-", "").lower())
    assert page.status_code == 200 and "Living-room TV" in page.text and code in page.text
    approved = answer(browser, code)
    assert approved.status_code == 200 and "Device connected" in approved.text

    time.sleep(grant["interval"])
    tokens = poll(server, client, grant["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["scope"] == "orders:read" and body["refresh_token"]
    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user.id
    again = poll(server, client, grant["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # redeemed once


def test_polling_too_fast_is_slow_down_and_the_interval_grows(env, server):
    client = tv(env)
    grant = start(server, client)
    assert poll(server, client, grant["device_code"]).json()["error"] == "authorization_pending"
    fast = poll(server, client, grant["device_code"])
    assert fast.status_code == 400 and fast.json()["error"] == "slow_down"
    assert "10" in fast.json()["error_description"]  # 5 s + 5 s


def test_an_expired_device_code_is_expired_token(env, server):
    env.reconfigure(PASSPORT_LIFETIMES_DEVICE="1")
    client = tv(env)
    grant = start(server, client)
    assert grant["expires_in"] == 1
    time.sleep(1.2)
    expired = poll(server, client, grant["device_code"])
    assert expired.status_code == 400 and expired.json()["error"] == "expired_token"


def test_a_denied_device_gets_access_denied(env, server):
    client, user = tv(env), make_user()
    grant = start(server, client)
    denied = answer(signed_in(server, user), grant["user_code"], approve=False)
    assert denied.status_code == 200
    assert poll(server, client, grant["device_code"]).json()["error"] == "access_denied"


def test_another_clients_device_code_is_invalid_grant(env, server):
    grant = start(server, tv(env))
    assert poll(server, tv(env), grant["device_code"]).json()["error"] == "invalid_grant"


def test_a_client_without_the_device_grant_is_unauthorized_client(env, server):
    web = make_client(env, grant_types=("authorization_code",), redirect_uris=("https://a.example/cb",), public=True)
    response = requests.post(f"{server.url}/oauth/device/code", data={"client_id": web.client_id})
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def test_the_user_code_page_asks_for_a_login_first(env, server):
    page = Browser(server.url).get("/oauth/device", user_code="BCDF-GHJK")
    assert page.status_code == 303 and page.headers["Location"].startswith("/login?next=")


def test_wrong_user_codes_are_refused_then_throttled(env, server):
    browser = signed_in(server, make_user())
    statuses = [browser.get("/oauth/device/authorize", user_code="BCDF-GHJK").status_code for _ in range(7)]
    assert statuses[:5] == [400] * 5 and 429 in statuses[5:]
    assert browser.get("/oauth/device/authorize", user_code="not a code").status_code == 429


def test_the_code_entry_page_has_a_form(env, server):
    browser = signed_in(server, make_user())
    page = browser.get("/oauth/device")
    assert page.status_code == 200
    form = next(f for f in forms(page.text) if f.action == "/oauth/device/authorize")
    assert form.method == "get" and "user_code" in form.fields


def test_approval_without_the_csrf_token_is_refused(env, server):
    client, user = tv(env), make_user()
    grant = start(server, client)
    browser = signed_in(server, user)
    confirm = browser.get("/oauth/device/authorize", user_code=grant["user_code"])
    approve_form, _ = browser.consent_forms_at(confirm, "/oauth/device/authorize")
    assert browser.submit(approve_form, _token="forged").status_code == 403
    assert poll(server, client, grant["device_code"]).json()["error"] == "authorization_pending"


# -- polls answered from the device record (one DynamoDB call while pending) ------------------------------


def confidential_tv(env):
    return make_client(env, name="Set-top box", grant_types=(DEVICE_GRANT,))


def start_confidential(server, client) -> dict:
    response = requests.post(f"{server.url}/oauth/device/code", auth=(client.client_id, client.secret),
                             data={"scope": "orders:read"})
    assert response.status_code == 200, response.text
    return response.json()


def poll_with(server, client_id: str, secret: str, device_code: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", auth=(client_id, secret),
                         data={"grant_type": DEVICE_GRANT, "device_code": device_code})


def test_a_pending_poll_with_a_wrong_secret_is_invalid_client(env, server):
    client = confidential_tv(env)
    grant = start_confidential(server, client)
    assert poll_with(server, client.client_id, client.secret, grant["device_code"]).json()["error"] == \
        "authorization_pending"
    wrong = poll_with(server, client.client_id, "not-the-secret", grant["device_code"])
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")


def test_a_public_clients_poll_sending_a_secret_is_invalid_client(env, server):
    client = tv(env)
    grant = start(server, client)
    response = poll_with(server, client.client_id, "made-up", grant["device_code"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_after_a_secret_rotation_only_the_new_secret_gets_the_tokens(env, server):
    """Pending polls are checked against the client as the device record saw it; a secret it does not know is
    checked against the client itself, and tokens are only ever issued to the client as it is now."""
    from passport.core.hashing import hash_secret, new_secret
    from passport.storage.repositories import DynamoClientStore

    client, user = confidential_tv(env), make_user()
    grant = start_confidential(server, client)
    new = new_secret()
    assert DynamoClientStore().set_secret(client.client_id, hash_secret(new))
    pending = poll_with(server, client.client_id, new, grant["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    assert answer(signed_in(server, user), grant["user_code"]).status_code == 200
    time.sleep(grant["interval"])
    old = poll_with(server, client.client_id, client.secret, grant["device_code"])
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    issued = poll_with(server, client.client_id, new, grant["device_code"])
    assert issued.status_code == 200, issued.text


def test_a_client_revoked_after_the_user_approved_gets_no_tokens(env, server):
    from passport.storage.repositories import DynamoClientStore

    client, user = tv(env), make_user()
    grant = start(server, client)
    assert answer(signed_in(server, user), grant["user_code"]).status_code == 200
    assert DynamoClientStore().revoke(client.client_id)
    refused = poll(server, client, grant["device_code"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
