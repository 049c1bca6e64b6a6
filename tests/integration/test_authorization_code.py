"""The authorization code flow through the local gateway: the authorization endpoint's rules (RFC 6749 4.1,
RFC 9207, RFC 9700), PKCE (RFC 7636), single-use codes and refresh rotation with family revocation."""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT

# Revocation must show at the guard at once here: no authorizer or revocation cache.
pytestmark = pytest.mark.passport_config(
    "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
)


@pytest.fixture
def user(env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"u{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace",
                       password=PASSWORD)


@pytest.fixture
def app(env):
    return make_client(env, name="Orders <b>App</b>", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read", "orders:write"))


@pytest.fixture
def public_app(env):
    return make_client(env, name="CLI", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=("http://127.0.0.1/callback",), public=True)


def start(browser: Browser, client, *, scope: str = "orders:read", state: str = "xyz", challenge: str | None = None,
          **extra: str) -> requests.Response:
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT, "scope": scope,
              "state": state, **extra}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return browser.authorize(**params)


def approve(browser: Browser, client, **kwargs) -> dict[str, str]:
    """Run the flow to the redirect (approving if asked); the query the client receives."""
    consent = start(browser, client, **kwargs)
    if consent.status_code == 303:  # consent remembered
        return query_of(consent.headers["Location"])
    assert consent.status_code == 200, consent.text
    approve_form, _ = browser.consent_forms(consent)
    answer = browser.submit(approve_form)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"].startswith(REDIRECT + "?")
    return query_of(answer.headers["Location"])


def exchange(server, client, code: str, verifier: str | None = None, redirect_uri: str | None = REDIRECT):
    data = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    if verifier:
        data["code_verifier"] = verifier
    if client.secret:
        return requests.post(f"{server.url}/oauth/token", data=data, auth=(client.client_id, client.secret))
    return requests.post(f"{server.url}/oauth/token", data={**data, "client_id": client.client_id})


def refresh(server, client, token: str, **extra: str):
    return requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                         data={"grant_type": "refresh_token", "refresh_token": token, **extra})


def api(server, access_token: str, path: str = "/api/user") -> requests.Response:
    return requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {access_token}"})


# -- the happy path ---------------------------------------------------------------------------------------------


def test_code_flow_issues_tokens_for_the_signed_in_user(server, browser, app, user):
    verifier, challenge = pkce_pair()
    query = approve(browser, app, challenge=challenge)
    assert query["state"] == "xyz" and query["iss"] == server.url and len(query["code"]) >= 43
    tokens = exchange(server, app, query["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["scope"] == "orders:read" and body["refresh_token"] and tokens.headers["Cache-Control"] == "no-store"
    me = api(server, body["access_token"])
    assert me.status_code == 200
    assert me.json()["id"] == user.id and me.json()["email"] == user.email


def test_the_login_page_comes_first_and_returns_to_the_request(server, app, user):
    b = Browser(server.url)
    first = start(b, app)
    assert first.status_code == 303 and first.headers["Location"].startswith("/login?next=")
    page = b.get(first.headers["Location"])
    login_form = next(f for f in forms(page.text) if f.action == "/login")
    signed_in = b.submit(login_form, email=user.email, password=PASSWORD)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].startswith("/oauth/authorize?")
    assert "passport_session" in signed_in.headers["Set-Cookie"]
    cookie = next(c for c in signed_in.raw.headers.getlist("Set-Cookie") if c.startswith("passport_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    consent = b.get(signed_in.headers["Location"])
    assert consent.status_code == 200 and "Orders &lt;b&gt;App&lt;/b&gt;" in consent.text


def test_pages_carry_framing_and_csp_protection(server, browser, app):
    consent = start(browser, app)
    assert consent.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in consent.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in consent.headers


def test_consent_is_remembered_per_user_and_client(server, browser, app):
    approve(browser, app)
    again = start(browser, app)
    assert again.status_code == 303 and "code=" in again.headers["Location"]
    wider = start(browser, app, scope="orders:read orders:write")
    assert wider.status_code == 200  # a new scope asks again


def test_first_party_clients_skip_consent(server, browser, env):
    first_party = make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,), first_party=True)
    answer = start(browser, first_party)
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["code"]


def test_prompt_consent_asks_even_when_granted(server, browser, app):
    approve(browser, app)
    assert start(browser, app, prompt="consent").status_code == 200


def test_prompt_login_asks_to_sign_in_again(server, browser, app):
    """OpenID Connect Core 3.1.2.1: prompt=login makes even a signed-in user sign in again; the way back to the
    request does not ask again (or it would loop)."""
    answer = start(browser, app, prompt="login")
    location = answer.headers["Location"]
    assert answer.status_code == 303 and location.startswith("/login")
    login = query_of(location)
    assert login["prompt"] == "login" and "prompt" not in query_of(login["next"])
    page = browser.get(location)
    assert page.status_code == 200 and [f for f in forms(page.text) if f.action == "/login"]


def test_prompt_none_without_a_session_is_login_required(server, app):
    answer = start(Browser(server.url), app, prompt="none")
    query = query_of(answer.headers["Location"])
    assert answer.status_code == 303 and query["error"] == "login_required" and query["state"] == "xyz"
    assert query["iss"] == server.url


def test_prompt_none_without_consent_is_consent_required(server, browser, app):
    answer = start(browser, app, prompt="none")
    assert query_of(answer.headers["Location"])["error"] == "consent_required"


def test_deny_redirects_with_access_denied_state_and_iss(server, browser, app):
    _, deny = browser.consent_forms(start(browser, app))
    answer = browser.submit(deny)
    assert answer.status_code == 303
    query = query_of(answer.headers["Location"])
    assert query == {"error": "access_denied", "error_description": query["error_description"], "state": "xyz",
                     "iss": server.url}


def test_http_delete_denies_too(server, browser, app):
    approve_form, _ = browser.consent_forms(start(browser, app))
    answer = browser.http.delete(f"{server.url}/oauth/authorize", data=approve_form.fields, allow_redirects=False)
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["error"] == "access_denied"


def test_approval_without_the_csrf_token_is_refused(server, browser, app):
    approve_form, _ = browser.consent_forms(start(browser, app))
    answer = browser.submit(approve_form, _token="forged")
    assert answer.status_code == 403 and "Location" not in answer.headers


def test_login_without_the_csrf_token_is_refused(server, user):
    b = Browser(server.url)
    answer = b.http.post(f"{server.url}/login", data={"email": user.email, "password": PASSWORD, "_token": "x"},
                         allow_redirects=False)
    assert answer.status_code == 403 and "passport_session" not in answer.headers.get("Set-Cookie", "")


def test_tampered_consent_parameters_are_validated_again(server, browser, app):
    approve_form, _ = browser.consent_forms(start(browser, app))
    answer = browser.submit(approve_form, redirect_uri="https://evil.example/cb")
    assert answer.status_code == 400 and "Location" not in answer.headers


# -- the authorization endpoint refuses without redirecting ----------------------------------------------------------


@pytest.mark.parametrize("redirect_uri", [
    REDIRECT + "/", "https://APP.example.com/callback", REDIRECT + "?extra=1", "https://evil.example/callback",
])
def test_an_unregistered_redirect_uri_is_refused_without_a_redirect(server, browser, app, redirect_uri):
    answer = start(browser, app, redirect_uri=redirect_uri)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html")


def test_an_unknown_client_gets_an_html_error_page(server, browser):
    answer = browser.authorize(response_type="code", client_id=str(uuid.uuid4()), redirect_uri=REDIRECT)
    assert answer.status_code == 400 and "Location" not in answer.headers and "<html" in answer.text.lower()


def test_other_errors_go_back_to_the_client_with_state_and_iss(server, browser, app):
    bad_scope = query_of(start(browser, app, scope="admin").headers["Location"])
    assert bad_scope["error"] == "invalid_scope" and bad_scope["state"] == "xyz" and bad_scope["iss"] == server.url
    bad_type = start(browser, app, response_type="token")
    assert query_of(bad_type.headers["Location"])["error"] == "unsupported_response_type"
    plain = start(browser, app, code_challenge="x" * 43, code_challenge_method="plain")
    assert query_of(plain.headers["Location"])["error"] == "invalid_request"


def test_a_client_without_the_grant_is_unauthorized_client(server, browser, env):
    machine = make_client(env, grant_types=("client_credentials",), redirect_uris=(REDIRECT,))
    answer = start(browser, machine)
    assert query_of(answer.headers["Location"])["error"] == "unauthorized_client"


def test_loopback_redirect_uris_may_use_any_port(server, browser, public_app):
    _, challenge = pkce_pair()
    answer = browser.authorize(response_type="code", client_id=public_app.client_id, state="s",
                               redirect_uri="http://127.0.0.1:53111/callback", code_challenge=challenge,
                               code_challenge_method="S256")
    assert answer.status_code == 200  # consent, then back to the port the app listens on
    approve_form, _ = browser.consent_forms(answer)
    redirected = browser.submit(approve_form)
    assert redirected.headers["Location"].startswith("http://127.0.0.1:53111/callback?code=")


LOOPBACK_CB = "http://127.0.0.1:9999/cb"
#: Forms of LOOPBACK_CB a lax comparison would take for it. RFC 6749 3.1.2.3 and RFC 9700 2.1: simple string
#: comparison; RFC 8252 7.3 lets only the port vary, and only as a real port (1-65535) written as one.
LOOSE_LOOPBACK_FORMS = [
    "HTTP://127.0.0.1:9999/cb", "http://127.0.0.1:9999/cb?", "http://127.0.0.1:09999/cb", "http://127.0.0.1:0/cb",
    "http://127.0.0.1:/cb", "http://127.0.0.1:65536/cb", "http://127.0.0.1:+9999/cb", "http://127.0.0.1:9999/cb/",
    "http://127.0.0.1:9999/CB", "http://127.0.0.1:9999/cb?x=1", "http://localhost:9999/cb", "http://[::1]:9999/cb",
]


@pytest.fixture
def loopback_app(env):
    return make_client(env, name="Desktop", grant_types=("authorization_code",), redirect_uris=(LOOPBACK_CB,),
                       public=True)


def assert_error_page(answer: requests.Response) -> None:
    assert answer.status_code == 400 and "Location" not in answer.headers, (answer.status_code, answer.headers)
    assert answer.headers["Content-Type"].startswith("text/html") and "<html" in answer.text.lower()


@pytest.mark.parametrize("redirect_uri", LOOSE_LOOPBACK_FORMS)
def test_a_loose_form_of_a_registered_loopback_uri_gets_the_error_page_never_a_redirect(server, browser,
                                                                                         loopback_app, redirect_uri):
    """With an error the client would otherwise hear of at its redirect URI (an undefined scope), asked by a
    stranger and by a signed-in user, and in a tampered approval: always the HTML error page."""
    _, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    params = {"response_type": "code", "client_id": loopback_app.client_id, "state": "s", **pkce}
    assert_error_page(Browser(server.url).authorize(**params, redirect_uri=redirect_uri, scope="nope"))
    assert_error_page(browser.authorize(**params, redirect_uri=redirect_uri))
    consent = browser.authorize(**params, redirect_uri="http://127.0.0.1:8080/cb")
    approve_form, _ = browser.consent_forms(consent)
    assert_error_page(browser.submit(approve_form, redirect_uri=redirect_uri))
    # The control: a real port of the registered URI is the same URI (RFC 8252 7.3), and gets its redirect.
    assert browser.submit(approve_form).headers["Location"].startswith("http://127.0.0.1:8080/cb?code=")


@pytest.mark.parametrize("state", ["%FF", "%FF%FE", "ok%C3", "%ED%A0%80", "%EF%BF%BD"])
def test_a_state_that_cannot_be_echoed_exactly_gets_the_error_page_never_a_redirect(server, browser, app, state):
    """RFC 6749 4.1.2: state comes back "exactly as received". Bytes that are not UTF-8 (a raw %FF, a truncated
    sequence, an encoded surrogate) reach the endpoint as U+FFFD, so what the client sent is lost; a U+FFFD it
    did send cannot be told from one. Neither is answered with a redirect carrying another state, or none: not
    with an error the client would hear of, not on approval, not on denial."""
    query = urlencode({"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT})
    for scope in ("orders:read", "nope"):  # "nope": an error the client would otherwise hear of
        assert_error_page(Browser(server.url).get(f"/oauth/authorize?{query}&scope={scope}&state={state}"))
        assert_error_page(browser.get(f"/oauth/authorize?{query}&scope={scope}&state={state}"))
    consent = start(browser, app, state="fine")
    approve_form, deny_form = browser.consent_forms(consent)
    for form in (approve_form, deny_form):
        answer = browser.http.post(server.url + form.action, allow_redirects=False, timeout=10,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"},
                                   data=urlencode({**form.fields, "state": "x"}).replace("state=x", f"state={state}"))
        assert answer.status_code == 400 and "Location" not in answer.headers, answer.text[:300]
    # The control: a state of any other text comes back as it was sent.
    assert query_of(browser.submit(approve_form, state="Zoë ✓ <&>").headers["Location"])["state"] == "Zoë ✓ <&>"


# -- PKCE ---------------------------------------------------------------------------------------------------------


def test_public_clients_must_use_pkce(server, browser, public_app):
    answer = browser.authorize(response_type="code", client_id=public_app.client_id,
                               redirect_uri="http://127.0.0.1/callback", state="s")
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_a_wrong_verifier_is_invalid_grant(server, browser, app):
    _, challenge = pkce_pair()
    code = approve(browser, app, challenge=challenge)["code"]
    wrong, _ = pkce_pair()
    assert exchange(server, app, code, wrong).json()["error"] == "invalid_grant"


def test_a_challenge_without_a_verifier_is_refused(server, browser, app):
    _, challenge = pkce_pair()
    code = approve(browser, app, challenge=challenge)["code"]
    assert exchange(server, app, code).json()["error"] == "invalid_grant"


def test_pkce_downgrade_is_refused(server, browser, app):
    """A verifier for a code issued without a challenge (the attacker stripped it from the request)."""
    code = approve(browser, app)["code"]
    verifier, _ = pkce_pair()
    assert exchange(server, app, code, verifier).json()["error"] == "invalid_grant"


def test_a_public_client_redeems_with_pkce_and_no_secret(server, browser, public_app):
    verifier, challenge = pkce_pair()
    answer = browser.authorize(response_type="code", client_id=public_app.client_id, state="s",
                               redirect_uri="http://127.0.0.1/callback", code_challenge=challenge,
                               code_challenge_method="S256")
    approve_form, _ = browser.consent_forms(answer)
    code = query_of(browser.submit(approve_form).headers["Location"])["code"]
    tokens = exchange(server, public_app, code, verifier, redirect_uri="http://127.0.0.1/callback")
    assert tokens.status_code == 200, tokens.text


# -- codes --------------------------------------------------------------------------------------------------------


def test_a_code_is_bound_to_its_client(server, browser, app, env):
    other = make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,))
    code = approve(browser, app)["code"]
    assert exchange(server, other, code).json()["error"] == "invalid_grant"


def test_a_spent_code_presented_by_another_client_is_invalid_grant_and_revokes_nothing(
        server, browser, app, public_app, env):
    """RFC 6749 4.1.3: the code's client is checked before anything else, as the refresh grant checks its token's
    client (RFC 6749 6). Whoever holds a spent code and any client id, even a public one that needs no secret,
    gets invalid_grant; the victim's tokens, which a replay by the code's own client would revoke, stay live."""
    code = approve(browser, app)["code"]
    tokens = exchange(server, app, code).json()
    assert "access_token" in tokens
    for intruder in (public_app, make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,))):
        refused = exchange(server, intruder, code, verifier="x" * 43)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert "another client" in refused.json()["error_description"]
    ping = requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert ping.status_code == 200
    assert refresh(server, app, tokens["refresh_token"]).status_code == 200


def test_a_code_is_bound_to_its_redirect_uri(server, browser, app):
    code = approve(browser, app)["code"]
    assert exchange(server, app, code, redirect_uri=None).json()["error"] == "invalid_grant"
    code = approve(browser, app)["code"]
    assert exchange(server, app, code, redirect_uri=REDIRECT + "/x").json()["error"] == "invalid_grant"


def test_an_expired_code_is_invalid_grant(server, browser, app, env):
    env.reconfigure(PASSPORT_LIFETIMES_CODE="1")
    code = approve(browser, app)["code"]
    time.sleep(1.2)
    assert exchange(server, app, code).json()["error"] == "invalid_grant"


def test_codes_are_stored_only_as_hashes(server, browser, app, env):
    from passport.core.hashing import hash_secret
    from passport.storage.models import CodeModel, code_key

    code = approve(browser, app)["code"]
    stored = CodeModel.get(code_key(hash_secret(code)))
    assert code not in str(stored.attribute_values)


def test_a_replayed_code_revokes_the_tokens_it_issued(server, browser, app):
    code = approve(browser, app)["code"]
    first = exchange(server, app, code).json()
    assert api(server, first["access_token"]).status_code == 200
    replay = exchange(server, app, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert api(server, first["access_token"]).status_code == 401  # the guard refuses it now
    assert refresh(server, app, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_fifty_concurrent_redemptions_of_one_code_give_exactly_one_token(server, browser, app):
    code = approve(browser, app)["code"]
    statuses: list[int] = []
    barrier = threading.Barrier(50)

    def redeem() -> None:
        barrier.wait()
        statuses.append(exchange(server, app, code).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200] + [400] * 49


# -- refresh tokens -----------------------------------------------------------------------------------------------


def tokens_for(server, browser, app, scope: str = "orders:read orders:write") -> dict:
    code = approve(browser, app, scope=scope)["code"]
    return exchange(server, app, code).json()


def test_refresh_rotates_the_refresh_token(server, browser, app):
    first = tokens_for(server, browser, app)
    second = refresh(server, app, first["refresh_token"])
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"] and body["scope"] == "orders:read orders:write"
    assert api(server, body["access_token"]).status_code == 200


def test_reuse_of_a_rotated_refresh_token_revokes_the_whole_family(server, browser, app):
    first = tokens_for(server, browser, app)
    second = refresh(server, app, first["refresh_token"]).json()
    third = refresh(server, app, second["refresh_token"]).json()
    reused = refresh(server, app, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh(server, app, third["refresh_token"]).json()["error"] == "invalid_grant"  # the newest one too
    for tokens in (first, second, third):
        assert api(server, tokens["access_token"]).status_code == 401


def test_refresh_may_narrow_but_never_widen_the_scope(server, browser, app):
    first = tokens_for(server, browser, app, scope="orders:read")
    wider = refresh(server, app, first["refresh_token"], scope="orders:read orders:write")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    both = tokens_for(server, browser, app)
    narrower = refresh(server, app, both["refresh_token"], scope="orders:read")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "orders:read"
    # The new refresh token keeps the original grant (RFC 6749 6).
    again = refresh(server, app, narrower.json()["refresh_token"], scope="orders:write")
    assert again.status_code == 200


def test_a_refresh_token_is_bound_to_its_client(server, browser, app, env):
    first = tokens_for(server, browser, app)
    thief = make_client(env, grant_types=("refresh_token",))
    stolen = requests.post(f"{server.url}/oauth/token", auth=(thief.client_id, thief.secret),
                           data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert stolen.json()["error"] == "invalid_grant"
    assert refresh(server, app, first["refresh_token"]).status_code == 200  # and the owner's grant survives


def test_a_made_up_refresh_token_is_invalid_grant(server, app):
    for token in ("nonsense", "abc.def", "." * 10, "x" * 5000):
        assert refresh(server, app, token).json()["error"] == "invalid_grant"


# -- sessions, login throttling -------------------------------------------------------------------------------------


def test_logout_ends_the_session(server, browser, app):
    consent = start(browser, app)
    logout_form = next(f for f in forms(consent.text) if f.action == "/logout")
    assert browser.submit(logout_form).status_code == 200
    again = start(browser, app)
    assert again.status_code == 303 and again.headers["Location"].startswith("/login")


def test_a_wrong_password_is_refused_and_repeated_failures_slow_down(server, user):
    b = Browser(server.url)
    statuses = [b.login(user.email, "wrong password").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5
    assert 429 in statuses[5:]
    locked = b.login(user.email, PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1


def test_login_next_never_leaves_the_site(server, user):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = Browser(server.url).login(user.email, PASSWORD, next_path=target)
        assert answer.status_code == 303
        assert urlsplit(answer.headers["Location"]).netloc == ""
        assert not answer.headers["Location"].startswith("//")


def test_no_secret_or_password_is_stored_in_clear(server, browser, app, user):
    from passport.storage.models import SessionModel, UserModel, user_key

    raw = str(UserModel.get(user_key(user.id)).attribute_values)
    assert PASSWORD not in raw and "scrypt$" in raw
    sid = browser.http.cookies.get("passport_session")
    assert sid and not any(sid in str(item.attribute_values) for item in SessionModel.scan())


def test_a_deployment_can_plug_in_its_own_user_store(server, env, app):
    env.reconfigure(PASSPORT_USER_PROVIDER="tests.integration.legacy_users:LegacyUsers")
    b = Browser(server.url)
    assert b.login("legacy@example.com", "wrong").status_code == 401
    assert b.login("legacy@example.com", "from-the-old-system").status_code == 303
    verifier, challenge = pkce_pair()
    code = approve(b, app, challenge=challenge)["code"]
    tokens = exchange(server, app, code, verifier).json()
    me = api(server, tokens["access_token"]).json()
    assert me["id"] == "legacy-user-1" and me["email"] == "legacy@example.com"


def test_a_successful_sign_in_clears_the_accounts_failures(server, user):
    b = Browser(server.url)
    assert [b.login(user.email, "wrong").status_code for _ in range(4)] == [401] * 4
    assert b.login(user.email, PASSWORD).status_code == 303
    fresh = Browser(server.url)
    assert [fresh.login(user.email, "wrong").status_code for _ in range(4)] == [401] * 4


def test_behind_a_stage_path_the_pages_link_and_redirect_within_it(env, app):
    """On API Gateway's default URL the issuer is https://<api>.execute-api.<region>.amazonaws.com/prod and the
    event's path has no /prod: every link and redirect the pages make must put it back."""
    from urllib.parse import parse_qs

    from passport import compose
    from passport.core.http import Headers, Request

    env.reconfigure(PASSPORT_ISSUER="https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
    query = {"response_type": ["code"], "client_id": [app.client_id], "redirect_uri": [REDIRECT], "state": ["s"]}
    answer = compose.browser_endpoints().handle(Request("GET", "/oauth/authorize", Headers(), query))
    location = answer.headers["Location"]
    assert location.startswith("/prod/login?next=")
    assert parse_qs(location.split("?", 1)[1])["next"][0].startswith("/prod/oauth/authorize?")
    login = compose.browser_endpoints().handle(Request("GET", "/login", Headers(), {}))
    assert 'action="/prod/login"' in login.body
