"""OpenID Connect through the local gateway, driven by the scripted browser: ID tokens on the code, refresh and
device flows (OpenID Connect Core 1.0 sections 2, 3.1, 12), the UserInfo endpoint (5.3, RFC 6750), prompt and
max_age (3.1.2.1), the consent page, RP-initiated logout (RP-Initiated Logout 1.0) and Discovery 1.0."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT

# Revocation must show at once here (the guard's caches off).
pytestmark = pytest.mark.passport_config(
    "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
)

LOGOUT_URI = "https://app.example.com/signed-out"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def rp(env):
    """A confidential relying party limited to one API scope, with a registered post-logout URI."""
    return make_client(env, name="Orders", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read",), post_logout_redirect_uris=(LOGOUT_URI,))


# -- helpers -----------------------------------------------------------------------------------------------------


def sign_in(server, user) -> tuple[Browser, int, int]:
    """A browser signed in as ``user``, and the seconds between which the sign-in happened."""
    browser = Browser(server.url)
    before = int(time.time())
    assert browser.login(user.email, PASSWORD).status_code == 303
    return browser, before, int(time.time())


def authorize(browser: Browser, client, scope: str = "openid", state: str = "st-1", **extra: str) -> requests.Response:
    return browser.authorize(response_type="code", client_id=client.client_id, redirect_uri=REDIRECT, scope=scope,
                             state=state, **extra)


def code_query(browser: Browser, response: requests.Response) -> dict[str, str]:
    """From an /oauth/authorize answer to the client's redirect query, approving the consent page if shown."""
    if response.status_code == 200:
        approve, _ = browser.consent_forms(response)
        response = browser.submit(approve)
    assert response.status_code == 303, response.text
    assert response.headers["Location"].startswith(REDIRECT + "?"), response.headers["Location"]
    return query_of(response.headers["Location"])


def exchange(server, client, code: str, verifier: str) -> dict:
    answer = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), timeout=10,
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                 "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return answer.json()


def tokens_for(server, browser: Browser, client, scope: str = "openid profile email", **extra: str) -> dict:
    """The whole code flow with PKCE: authorize (consent if asked), then the token response."""
    verifier, challenge = pkce_pair()
    query = code_query(browser, authorize(browser, client, scope=scope, code_challenge=challenge,
                                          code_challenge_method="S256", **extra))
    assert query["state"] == "st-1" and query["iss"] == server.url
    return exchange(server, client, query["code"], verifier)


def refresh(server, client, token: str, **extra: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), timeout=10,
                         data={"grant_type": "refresh_token", "refresh_token": token, **extra})


def verified(server, client, id_token: str, audience: str | None = None) -> dict:
    """Validate as a relying party does (Core 3.1.3.7): the key from the published JWKS by kid, the signature,
    iss, aud and exp, with PyJWT; nothing from the server's own code."""
    jwks = requests.get(f"{server.url}/.well-known/jwks.json", timeout=10).json()
    kid = jwt.get_unverified_header(id_token)["kid"]
    jwk = next(key for key in jwks["keys"] if key["kid"] == kid)
    return jwt.decode(id_token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=audience or client.client_id,
                      issuer=server.url, options={"require": ["iss", "sub", "aud", "exp", "iat"]})


def at_hash(access_token: str) -> str:
    """3.1.3.6 for RS256 (the test deployment's key): the left half of SHA-256, base64url without padding."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def userinfo(server, token: str | None = None, *, method: str = "GET", **form: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{server.url}/oauth/userinfo", headers=headers, data=form or None, timeout=10)


def challenge_of(response: requests.Response) -> str:
    return response.headers.get("WWW-Authenticate", "")


def signed_out(browser: Browser, client) -> bool:
    """Whether the browser's session is gone: the authorization endpoint sends it to sign in."""
    answer = authorize(browser, client)
    return answer.status_code == 303 and answer.headers["Location"].startswith("/login?")


def another_user():
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"o{uuid.uuid4().hex[:8]}@example.com", name="Other",
                       password=PASSWORD)


# -- the ID token on the code flow -------------------------------------------------------------------------------


def test_code_flow_with_openid_returns_an_id_token_that_verifies_against_the_jwks(server, rp, user):
    """Core 3.1.3.3 and 3.1.3.7: the ID token is signed by a key of the JWKS, iss is the issuer, aud and azp the
    client, the nonce echoed, at_hash binds the access token, auth_time is when the user signed in."""
    browser, signed_from, signed_until = sign_in(server, user)
    tokens = tokens_for(server, browser, rp, nonce=NONCE)
    assert set(tokens["scope"].split()) == {"openid", "profile", "email"}
    claims = verified(server, rp, tokens["id_token"])
    assert claims["iss"] == server.url
    assert claims["sub"] == user.id
    assert claims["aud"] == rp.client_id and claims["azp"] == rp.client_id
    assert claims["nonce"] == NONCE
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert signed_from <= claims["auth_time"] <= signed_until
    assert claims["auth_time"] <= claims["iat"] < claims["exp"]
    assert claims["amr"] == ["pwd"]
    assert jwt.get_unverified_header(tokens["id_token"])["typ"] == "JWT"
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"
    with pytest.raises(jwt.InvalidAudienceError):  # 3.1.3.7 (3): another client must reject it
        verified(server, rp, tokens["id_token"], audience="another-client")


def test_an_access_token_and_an_id_token_are_not_interchangeable(server, browser, rp):
    """RFC 9068 4 and RFC 8725 3.11: typ at+jwt versus JWT; neither passes where the other is expected."""
    tokens = tokens_for(server, browser, rp)
    # The ID token as a bearer token: refused by userinfo and by the API's guard.
    as_bearer = userinfo(server, tokens["id_token"])
    assert as_bearer.status_code == 401 and 'error="invalid_token"' in challenge_of(as_bearer)
    api = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {tokens['id_token']}"},
                       timeout=10)
    assert api.status_code == 401
    # The access token as an ID token (the hint of RP-initiated logout): not an ID token of this server.
    as_hint = browser.get("/oauth/logout", id_token_hint=tokens["access_token"])
    assert as_hint.status_code == 400 and "Location" not in as_hint.headers
    assert not signed_out(browser, rp)


def test_the_nonce_is_echoed_only_when_sent_and_at_most_512_characters(server, browser, rp):
    """Core 3.1.2.1 and 3.1.3.7 (11): the nonce comes back unchanged, and no nonce claim without one; a longer
    nonce than the server keeps is an authorization error sent back to the client with its state and iss
    (3.1.2.6, RFC 9207)."""
    without = verified(server, rp, tokens_for(server, browser, rp, scope="openid")["id_token"])
    assert "nonce" not in without
    longest = tokens_for(server, browser, rp, scope="openid", nonce="n" * 512)
    assert verified(server, rp, longest["id_token"])["nonce"] == "n" * 512
    too_long = authorize(browser, rp, nonce="n" * 513)
    assert too_long.status_code == 303 and too_long.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(too_long.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "st-1" and query["iss"] == server.url
    assert "code" not in query


# -- offline_access and refresh ----------------------------------------------------------------------------------


def test_an_openid_request_without_offline_access_gets_no_refresh_token(server, browser, rp):
    """Core 11: for OpenID Connect requests, offline_access is what asks for a refresh token (the client has the
    refresh_token grant); a plain OAuth request of the same client still gets one, as before."""
    tokens = tokens_for(server, browser, rp, scope="openid orders:read")
    assert "refresh_token" not in tokens and tokens["id_token"]
    plain = tokens_for(server, browser, rp, scope="orders:read")
    assert plain["refresh_token"] and "id_token" not in plain


def test_offline_access_gets_a_refresh_token_whose_id_tokens_keep_the_original_auth_time(server, browser, rp):
    """Core 12.2: a refreshed ID token keeps auth_time, has a new iat and no nonce; without openid in the
    refreshed scopes there is no ID token."""
    first = tokens_for(server, browser, rp, scope="openid offline_access orders:read", nonce=NONCE)
    assert first["refresh_token"]
    original = verified(server, rp, first["id_token"])
    time.sleep(1.05)  # iat has one-second resolution
    again = refresh(server, rp, first["refresh_token"])
    assert again.status_code == 200, again.text
    body = again.json()
    renewed = verified(server, rp, body["id_token"])
    assert renewed["auth_time"] == original["auth_time"]
    assert renewed["iat"] > original["iat"]
    assert "nonce" not in renewed
    assert renewed["sub"] == original["sub"] and renewed["aud"] == rp.client_id
    assert renewed["at_hash"] == at_hash(body["access_token"])
    narrowed = refresh(server, rp, body["refresh_token"], scope="orders:read")
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "orders:read" and "id_token" not in narrowed.json()


# -- userinfo ----------------------------------------------------------------------------------------------------


def test_userinfo_by_header_and_by_form_answers_the_granted_claims(server, browser, rp, user):
    """Core 5.3.1 (GET and POST) and 5.4: profile gives name and updated_at, email gives email and
    email_verified; RFC 6750 2.1 (header) and 2.2 (form body)."""
    access = tokens_for(server, browser, rp)["access_token"]
    expected = {"sub": user.id, "name": "Ada", "updated_at": user.created_at, "email": user.email,
                "email_verified": False}
    by_header = userinfo(server, access)
    assert by_header.status_code == 200 and by_header.json() == expected
    assert by_header.headers["Cache-Control"] == "no-store"
    by_form = userinfo(server, method="POST", access_token=access)
    assert by_form.status_code == 200 and by_form.json() == expected
    assert userinfo(server, access, method="POST").json() == expected


def test_userinfo_answers_only_what_the_scopes_grant(server, browser, rp, user):
    email = tokens_for(server, browser, rp, scope="openid email")["access_token"]
    assert userinfo(server, email).json() == {"sub": user.id, "email": user.email, "email_verified": False}
    bare = tokens_for(server, browser, rp, scope="openid")["access_token"]
    assert userinfo(server, bare).json() == {"sub": user.id}


def test_userinfo_without_a_token_is_a_bare_bearer_challenge(server):
    """RFC 6750 3.1: a request without authentication gets no error code."""
    answer = userinfo(server)
    assert answer.status_code == 401
    # RFC 9449 7.1: DPoP is offered beside Bearer, with the proof algorithms accepted
    bare = f'Bearer realm="{server.url}", DPoP realm="{server.url}", algs="ES256 RS256 EdDSA"'
    assert challenge_of(answer) == bare
    assert "error" not in challenge_of(answer)
    # 2.3's query parameter is not a way in here (a token in a URL ends up in logs).
    by_query = requests.get(f"{server.url}/oauth/userinfo", params={"access_token": "anything"}, timeout=10)
    assert by_query.status_code == 401 and challenge_of(by_query) == bare


def test_userinfo_with_a_garbage_token_is_invalid_token(server):
    """RFC 6750 3.1: a token that is not one of ours is invalid_token, with a 401."""
    for token in ("garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        answer = userinfo(server, token)
        assert answer.status_code == 401 and 'error="invalid_token"' in challenge_of(answer), token


def test_userinfo_with_an_expired_token_is_invalid_token(server, browser, rp):
    """The token's own claims, re-signed by the server's key with exp in the past: the record is still live, so
    only the expiry refuses it (the same claims re-signed unchanged are accepted)."""
    from passport.keys.keyring import KEYS

    access = tokens_for(server, browser, rp, scope="openid")["access_token"]
    signer = KEYS.get(server.env.settings, need_private=True).require_signer()
    header = jwt.get_unverified_header(access)
    claims = jwt.decode(access, options={"verify_signature": False})
    resigned = signer.sign(claims, {"kid": header["kid"], "typ": header["typ"]})
    assert userinfo(server, resigned).status_code == 200
    now = int(time.time())
    expired = signer.sign({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 60},
                          {"kid": header["kid"], "typ": header["typ"]})
    answer = userinfo(server, expired)
    assert answer.status_code == 401 and 'error="invalid_token"' in challenge_of(answer)


def test_userinfo_with_a_revoked_token_is_invalid_token(server, browser, rp):
    access = tokens_for(server, browser, rp, scope="openid")["access_token"]
    assert userinfo(server, access).status_code == 200
    revoked = requests.post(f"{server.url}/oauth/revoke", auth=(rp.client_id, rp.secret), data={"token": access},
                            timeout=10)
    assert revoked.status_code == 200
    answer = userinfo(server, access)
    assert answer.status_code == 401 and 'error="invalid_token"' in challenge_of(answer)


def test_userinfo_for_a_revoked_client_is_invalid_token(server, browser, rp):
    from passport.storage.repositories import DynamoClientStore

    access = tokens_for(server, browser, rp, scope="openid")["access_token"]
    assert DynamoClientStore().revoke(rp.client_id)
    answer = userinfo(server, access)
    assert answer.status_code == 401 and 'error="invalid_token"' in challenge_of(answer)


def test_userinfo_with_a_token_without_openid_is_insufficient_scope(server, browser, rp):
    """RFC 6750 3.1: 403, with the scope that would do."""
    access = tokens_for(server, browser, rp, scope="orders:read")["access_token"]
    answer = userinfo(server, access)
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in challenge_of(answer) and 'scope="openid"' in challenge_of(answer)


def test_userinfo_with_the_token_in_header_and_body_is_invalid_request(server, browser, rp):
    """RFC 6750 2: "Clients MUST NOT use more than one method to transmit the token in each request"."""
    access = tokens_for(server, browser, rp, scope="openid")["access_token"]
    answer = userinfo(server, access, method="POST", access_token=access)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_userinfo_refuses_a_client_credentials_token(server, client):
    """No user signed in, so no claims about one (and client_credentials can never hold openid)."""
    access = server.token(client.client_id, client.secret).json()["access_token"]
    answer = userinfo(server, access)
    assert answer.status_code == 403 and 'error="insufficient_scope"' in challenge_of(answer)


# -- prompt and max_age ------------------------------------------------------------------------------------------


def test_prompt_none_without_a_session_answers_login_required(server, rp):
    """Core 3.1.2.6: login_required, back to the client with state and iss, no page shown."""
    answer = authorize(Browser(server.url), rp, prompt="none")
    assert answer.status_code == 303 and answer.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(answer.headers["Location"])
    assert query["error"] == "login_required" and query["state"] == "st-1" and query["iss"] == server.url
    assert "code" not in query


def test_prompt_none_answers_consent_required_then_a_code_once_approved(server, browser, rp):
    """Core 3.1.2.6: consent_required while the consent page would be needed; with a session and consent, the
    answer is the code, without any page."""
    answer = authorize(browser, rp, prompt="none")
    assert answer.status_code == 303 and answer.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(answer.headers["Location"])
    assert query["error"] == "consent_required" and query["state"] == "st-1" and query["iss"] == server.url
    tokens_for(server, browser, rp, scope="openid")
    answer = authorize(browser, rp, prompt="none")
    assert answer.status_code == 303 and "code" in query_of(answer.headers["Location"])
    assert "error" not in query_of(answer.headers["Location"])


def sign_in_again(server, browser: Browser, user, login_location: str) -> tuple[str, int, int]:
    """The forced sign-in: the form is shown though the browser is signed in; returns where it leads back."""
    assert login_location.startswith("/login?")
    page = browser.get(login_location)
    assert page.status_code == 200
    login = next(form for form in forms(page.text) if form.action == "/login")
    assert login.fields.get("email") == user.email  # prefilled with the signed-in user
    before = int(time.time())
    back = browser.submit(login, email=user.email, password=PASSWORD)
    after = int(time.time())
    assert back.status_code == 303 and back.headers["Location"].startswith("/oauth/authorize?")
    return back.headers["Location"], before, after


def test_prompt_login_shows_the_form_and_the_id_token_carries_the_new_sign_in(server, rp, user):
    """Core 3.1.2.1: prompt=login "SHOULD prompt the End-User for reauthentication"; auth_time is then the new
    sign-in, and the way back does not ask again (no loop)."""
    browser, _, _ = sign_in(server, user)
    first = verified(server, rp, tokens_for(server, browser, rp, scope="openid")["id_token"])
    time.sleep(1.05)
    verifier, challenge = pkce_pair()
    forced = authorize(browser, rp, prompt="login", code_challenge=challenge, code_challenge_method="S256")
    assert forced.status_code == 303
    login_query = query_of(forced.headers["Location"])
    assert login_query["prompt"] == "login" and "prompt=login" not in login_query["next"]
    back, before, after = sign_in_again(server, browser, user, forced.headers["Location"])
    query = code_query(browser, browser.get(back))
    claims = verified(server, rp, exchange(server, rp, query["code"], verifier)["id_token"])
    assert before <= claims["auth_time"] <= after
    assert claims["auth_time"] > first["auth_time"]


def test_max_age_older_than_the_sign_in_forces_a_sign_in_and_a_recent_one_does_not(server, rp, user):
    """Core 3.1.2.1: max_age is the allowable elapsed time since the user last authenticated."""
    browser, _, _ = sign_in(server, user)
    tokens_for(server, browser, rp, scope="openid")  # consent given
    time.sleep(2.05)
    stale = authorize(browser, rp, max_age="1")
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/login?")
    assert query_of(stale.headers["Location"])["prompt"] == "login"
    login_page = browser.get(stale.headers["Location"])
    assert login_page.status_code == 200 and any(form.action == "/login" for form in forms(login_page.text))
    silent = authorize(browser, rp, max_age="1", prompt="none")
    assert query_of(silent.headers["Location"])["error"] == "login_required"
    recent = authorize(browser, rp, max_age="3600")
    assert recent.status_code == 303 and "code" in query_of(recent.headers["Location"])


def test_max_age_zero_forces_one_sign_in_without_a_loop(server, rp, user):
    """Core 3.1.2.1: max_age=0 asks for a fresh sign-in; the way back must not ask for another, forever."""
    browser, _, signed_until = sign_in(server, user)
    tokens_for(server, browser, rp, scope="openid")  # consent given
    time.sleep(max(0.0, signed_until + 1.02 - time.time()))  # a second later than the sign-in (see the next test)
    verifier, challenge = pkce_pair()
    forced = authorize(browser, rp, max_age="0", code_challenge=challenge, code_challenge_method="S256")
    assert forced.status_code == 303
    back, before, after = sign_in_again(server, browser, user, forced.headers["Location"])
    assert "max_age" not in query_of(back)
    query = code_query(browser, browser.get(back))
    claims = verified(server, rp, exchange(server, rp, query["code"], verifier)["id_token"])
    assert before <= claims["auth_time"] <= after


def test_max_age_zero_forces_a_sign_in_even_right_after_one(server, rp, user):
    """Core 3.1.2.1 (errata set 2): "max_age=0 is equivalent to prompt=login", however recent the sign-in."""
    time.sleep(1.01 - time.time() % 1)  # at the start of a second: the sign-in and the request share it
    browser, _, _ = sign_in(server, user)
    forced = authorize(browser, rp, max_age="0")
    assert forced.status_code == 303 and forced.headers["Location"].startswith("/login?")
    silent = authorize(browser, rp, max_age="0", prompt="none")
    assert query_of(silent.headers["Location"])["error"] == "login_required"


def test_a_malformed_max_age_is_invalid_request(server, browser, rp):
    """Core 3.1.2.1: max_age is a number of seconds; anything else is invalid_request, back to the client."""
    for max_age in ("abc", "-1", "1.5", "1e3"):
        answer = authorize(browser, rp, max_age=max_age)
        assert answer.status_code == 303 and answer.headers["Location"].startswith(REDIRECT + "?"), max_age
        query = query_of(answer.headers["Location"])
        assert query["error"] == "invalid_request" and query["state"] == "st-1", max_age


# -- the consent page --------------------------------------------------------------------------------------------


def test_the_consent_page_lists_what_the_client_will_learn_then_the_api_scopes(server, browser, rp, user):
    """Core 3.1.2.4: the user is told what the client will learn (with the values), apart from what it may do;
    without openid there is nothing to learn about the user beyond the API's answers."""
    plain = authorize(browser, rp, scope="orders:read")
    assert plain.status_code == 200 and "Read your orders" in plain.text
    assert "will learn" not in plain.text and "Sign you in as" not in plain.text
    page = authorize(browser, rp, scope="openid profile email orders:read")
    assert page.status_code == 200
    learns, _, allows = page.text.partition("This will allow Orders to:")
    assert "Orders will learn:" in learns
    identity = learns.split("Orders will learn:", 1)[1]
    assert f"Sign you in as {user.email}" in identity
    assert "Your name" in identity and "Ada" in identity
    assert f"{user.email} (not verified)" in identity
    assert "Read your orders" in allows and "orders:read" in allows
    assert "Read your orders" not in identity
    for scope in ("openid", "profile", "email"):
        assert f">{scope}<" not in allows


# -- identity scopes ---------------------------------------------------------------------------------------------


def test_client_credentials_may_not_ask_for_identity_scopes(server, env, browser):
    """No user signs in on client_credentials, so the identity scopes the same client gets on the code flow are
    invalid_scope there (RFC 6749 5.2)."""
    both = make_client(env, name="Both", grant_types=("authorization_code", "client_credentials"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read",))
    assert tokens_for(server, browser, both, scope="openid orders:read")["id_token"]
    for scope in ("openid", "profile", "openid orders:read", "offline_access"):
        answer = server.token(both.client_id, both.secret, scope=scope)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope", scope
    assert server.token(both.client_id, both.secret, scope="orders:read").status_code == 200


def test_a_client_limited_to_api_scopes_may_still_sign_users_in(server, browser, rp):
    """The client's scope list (orders:read) limits API scopes only; a scope outside it is still refused."""
    tokens = tokens_for(server, browser, rp, scope="openid orders:read")
    assert tokens["scope"].split() == ["openid", "orders:read"] and tokens["id_token"]
    wider = authorize(browser, rp, scope="openid orders:write")
    assert wider.status_code == 303 and query_of(wider.headers["Location"])["error"] == "invalid_scope"


# -- the device flow ---------------------------------------------------------------------------------------------


def test_device_flow_with_openid_issues_an_id_token_with_the_approvals_auth_time(server, env, user):
    """RFC 8628 with Core 3.1.3.3's ID token: auth_time is the sign-in of the session that approved."""
    tv = make_client(env, name="Living-room TV", grant_types=(DEVICE_GRANT, "refresh_token"), public=True)
    grant = requests.post(f"{server.url}/oauth/device/code", timeout=10,
                          data={"client_id": tv.client_id, "scope": "openid profile"})
    assert grant.status_code == 200, grant.text
    browser, signed_from, signed_until = sign_in(server, user)
    confirm = browser.get("/oauth/device/authorize", user_code=grant.json()["user_code"])
    assert confirm.status_code == 200 and "will learn" in confirm.text
    approve, _ = browser.consent_forms_at(confirm, "/oauth/device/authorize")
    assert browser.submit(approve).status_code == 200
    answer = requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": DEVICE_GRANT, "device_code": grant.json()["device_code"], "client_id": tv.client_id})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    claims = verified(server, tv, body["id_token"])
    assert claims["sub"] == user.id and claims["azp"] == tv.client_id
    assert signed_from <= claims["auth_time"] <= signed_until
    assert claims["at_hash"] == at_hash(body["access_token"]) and "nonce" not in claims
    assert "refresh_token" not in body  # no offline_access
    assert userinfo(server, body["access_token"]).json() == {"sub": user.id, "name": "Ada",
                                                             "updated_at": user.created_at}


# -- RP-initiated logout -----------------------------------------------------------------------------------------


def test_logout_with_the_users_id_token_hint_ends_the_session_and_returns_with_state(server, browser, rp):
    """RP-Initiated Logout 2 and 3: a hint naming the signed-in user ends the session at once; the browser goes
    to the registered post_logout_redirect_uri with the state."""
    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    answer = browser.get("/oauth/logout", id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URI,
                         state="bye-1")
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LOGOUT_URI
    assert query_of(answer.headers["Location"]) == {"state": "bye-1"}
    assert any(c.startswith("passport_session=;") for c in answer.raw.headers.getlist("Set-Cookie"))
    assert signed_out(browser, rp)


def test_logout_without_a_hint_ends_the_session_only_by_the_confirmation_form(server, browser, rp):
    """2: without a hint the OP must ask the user; only the page's own form (its CSRF token) signs out."""
    confirm = browser.get("/oauth/logout", client_id=rp.client_id, post_logout_redirect_uri=LOGOUT_URI,
                          state="bye-2")
    assert confirm.status_code == 200
    form = next(f for f in forms(confirm.text) if f.action == "/oauth/logout")
    assert form.method == "post" and form.fields["_token"]
    assert not signed_out(browser, rp)
    without = {k: v for k, v in form.fields.items() if k != "_token"}
    refused = browser.http.post(f"{server.url}/oauth/logout", data=without, allow_redirects=False, timeout=10)
    assert refused.status_code == 200 and "Location" not in refused.headers
    wrong = browser.submit(form, _token="not-the-token")
    assert wrong.status_code == 200 and "Location" not in wrong.headers
    assert not signed_out(browser, rp)
    done = browser.submit(form)
    assert done.status_code == 303
    assert done.headers["Location"].startswith(LOGOUT_URI + "?")
    assert query_of(done.headers["Location"]) == {"state": "bye-2"}
    assert signed_out(browser, rp)


def test_a_hint_naming_another_user_asks_for_confirmation(server, browser, rp):
    """A valid ID token of someone else must not sign this user out silently."""
    other_browser, _, _ = sign_in(server, another_user())
    others = tokens_for(server, other_browser, rp, scope="openid")["id_token"]
    answer = browser.get("/oauth/logout", id_token_hint=others, post_logout_redirect_uri=LOGOUT_URI)
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert not signed_out(browser, rp)


def test_logout_to_an_unregistered_uri_is_an_error_page_not_a_redirect(server, browser, rp):
    """3: the post_logout_redirect_uri must have been registered; otherwise the OP must not redirect."""
    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    for params in ({"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
                   {"client_id": rp.client_id, "post_logout_redirect_uri": REDIRECT},
                   {"post_logout_redirect_uri": LOGOUT_URI}):
        answer = browser.get("/oauth/logout", **params)
        assert answer.status_code == 400 and "Location" not in answer.headers, params
    assert not signed_out(browser, rp)


def test_logout_with_a_forged_or_tampered_hint_is_refused(server, browser, rp, user):
    from passport.keys.material import generate

    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = base64.urlsafe_b64encode(json.dumps({**claims, "aud": "someone"}).encode()).rstrip(b"=").decode()
    foreign = jwt.encode(claims, generate("RS256"), algorithm="RS256",
                         headers={"kid": jwt.get_unverified_header(id_token)["kid"]})
    for hint in (f"{header}.{changed}.{signature}", foreign, "not-a-token", id_token[:-4] + "AAAA"):
        answer = browser.get("/oauth/logout", id_token_hint=hint, post_logout_redirect_uri=LOGOUT_URI)
        assert answer.status_code == 400 and "Location" not in answer.headers
    assert not signed_out(browser, rp)


def test_logout_with_a_hint_for_another_client_is_refused(server, env, browser, rp):
    other = make_client(env, name="Other", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                        post_logout_redirect_uris=(LOGOUT_URI,))
    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    answer = browser.get("/oauth/logout", id_token_hint=id_token, client_id=other.client_id,
                         post_logout_redirect_uri=LOGOUT_URI)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert not signed_out(browser, rp)


@pytest.mark.parametrize("state", ["%FF", "%FF%FE", "%ED%A0%80", "%EF%BF%BD"])
def test_logout_with_a_state_that_cannot_be_echoed_exactly_is_an_error_page(server, browser, rp, state):
    """RP-Initiated Logout 3 passes state back to the post_logout_redirect_uri; bytes that are not UTF-8 reach
    the endpoint as U+FFFD, which cannot be sent back as received (RFC 6749 4.1.2's rule for state): an error
    page, never a redirect with another state or without it, and the session is left alone."""
    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    for params in ({"id_token_hint": id_token}, {"client_id": rp.client_id}):
        query = urlencode({**params, "post_logout_redirect_uri": LOGOUT_URI})
        answer = browser.get(f"/oauth/logout?{query}&state={state}")
        assert answer.status_code == 400 and "Location" not in answer.headers, (params, answer.status_code)
        assert answer.headers["Content-Type"].startswith("text/html")
    assert not signed_out(browser, rp)
    # Without a redirect the state goes nowhere, so nothing is refused: the user is asked to confirm as usual.
    assert browser.get(f"/oauth/logout?client_id={rp.client_id}&state={state}").status_code == 200


def test_logout_when_not_signed_in_goes_straight_back(server, browser, rp):
    id_token = tokens_for(server, browser, rp, scope="openid")["id_token"]
    stranger = Browser(server.url)
    answer = stranger.get("/oauth/logout", id_token_hint=id_token, post_logout_redirect_uri=LOGOUT_URI,
                          state="bye-3")
    assert answer.status_code == 303 and answer.headers["Location"].startswith(LOGOUT_URI + "?")
    assert query_of(answer.headers["Location"]) == {"state": "bye-3"}
    assert not signed_out(browser, rp)  # the other browser's session is untouched


# -- discovery ---------------------------------------------------------------------------------------------------


def test_the_openid_configuration_has_the_required_fields_and_validates_with_authlib(server):
    """Discovery 1.0 section 3 (REQUIRED fields) and 4.3 (issuer identical to the one asked)."""
    from authlib.oidc.discovery import OpenIDProviderMetadata

    answer = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    document = answer.json()
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                  "subject_types_supported", "id_token_signing_alg_values_supported"):
        assert document.get(field), field
    assert document["issuer"] == server.url
    assert document["userinfo_endpoint"] == f"{server.url}/oauth/userinfo"
    assert document["end_session_endpoint"] == f"{server.url}/oauth/logout"
    assert "openid" in document["scopes_supported"] and "code" in document["response_types_supported"]
    jwks = requests.get(document["jwks_uri"], timeout=10).json()
    assert set(document["id_token_signing_alg_values_supported"]) == {key["alg"] for key in jwks["keys"]}
    OpenIDProviderMetadata(document).validate()


def test_the_openid_configuration_agrees_with_the_oauth_metadata(server):
    oidc = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=10).json()
    oauth = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    shared = set(oidc) & set(oauth)
    assert shared >= {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "scopes_supported",
                      "response_types_supported", "grant_types_supported", "userinfo_endpoint"}
    assert {name: oidc[name] for name in shared} == {name: oauth[name] for name in shared}
    assert set(oauth) <= set(oidc)
