"""OpenID Connect authorization requests through the local gateway, as relying parties send them: by POST (OpenID
Connect Core 1.0 3.1.2.1), as an unsigned request object (6.1), with the claims parameter (5.5) and acr_values
(3.1.2.1), and answered by form_post (OAuth 2.0 Form Post Response Mode 2), driven by the scripted browser."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT
from tests.integration.test_openid_connect import code_query, exchange, userinfo, verified

ACR = "urn:passport:acr:password"


@pytest.fixture
def rp(env):
    return make_client(env, name="Orders", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read",))


@pytest.fixture
def ada(env):
    """A user with some of the optional profile claims of Core 5.1, and without others."""
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"a{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace",
                       password=PASSWORD, profile={"given_name": "Ada", "family_name": "Lovelace",
                                                   "website": "https://ada.example/", "locale": "en-GB"})


@pytest.fixture
def signed_in(server, ada) -> Browser:
    browser = Browser(server.url)
    assert browser.login(ada.email, PASSWORD).status_code == 303
    return browser


def unsigned(claims: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64(claims)}."


def params(rp, challenge: str, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": rp.client_id, "redirect_uri": REDIRECT, "scope": "openid",
            "state": "st-1", "code_challenge": challenge, "code_challenge_method": "S256", **extra}


def post_authorize(browser: Browser, data: dict[str, str]) -> requests.Response:
    return browser.http.post(browser.base + "/oauth/authorize", data=data, allow_redirects=False, timeout=10)


def test_an_authorization_request_sent_by_post_is_answered_as_by_get(server, signed_in, rp):
    """Core 3.1.2.1: the authorization endpoint "MUST support the use of the HTTP GET and POST methods"; the POST
    body (form-encoded) is read as the query is. The consent page it leads to still needs the session's CSRF token
    to approve."""
    verifier, challenge = pkce_pair()
    answer = post_authorize(signed_in, params(rp, challenge, nonce="n-post"))
    assert answer.status_code == 200 and "Approve" in answer.text
    approve, _ = signed_in.consent_forms(answer)
    forged = signed_in.submit(approve, _token="not-the-sessions-token")
    assert forged.status_code == 403 and "Location" not in forged.headers
    query = code_query(signed_in, answer)
    assert query["state"] == "st-1" and query["iss"] == server.url
    tokens = exchange(server, rp, query["code"], verifier)
    assert verified(server, rp, tokens["id_token"])["nonce"] == "n-post"


def test_a_post_that_is_neither_a_request_nor_a_decision_is_refused_like_a_get(server, signed_in, rp):
    answer = post_authorize(signed_in, {"client_id": "unknown"})
    assert answer.status_code == 400 and "Location" not in answer.headers
    not_a_form = signed_in.http.post(server.url + "/oauth/authorize", json={"client_id": rp.client_id},
                                     allow_redirects=False, timeout=10)
    assert not_a_form.status_code == 400


def test_an_unsigned_request_object_is_honoured_with_its_state_and_nonce(server, signed_in, rp):
    """Core 6.1 and 6.3.3: the request object's state and nonce supersede the query's; the code comes back with
    its state, and the ID token carries its nonce."""
    verifier, challenge = pkce_pair()
    inner = {"state": "state-inside", "nonce": "nonce-inside", "iss": rp.client_id, "aud": server.url,
             "client_id": rp.client_id, "response_type": "code", "scope": "openid profile"}
    answer = signed_in.authorize(**params(rp, challenge, state="state-outside", request=unsigned(inner)))
    query = code_query(signed_in, answer)
    assert query["state"] == "state-inside"
    tokens = exchange(server, rp, query["code"], verifier)
    assert set(tokens["scope"].split()) == {"openid", "profile"}
    assert verified(server, rp, tokens["id_token"])["nonce"] == "nonce-inside"


def test_a_bad_request_object_and_request_uri_are_refused_at_the_redirect_uri(server, signed_in, rp):
    """Core 3.1.2.6: invalid_request_object and request_uri_not_supported, with the state and iss (RFC 9207)."""
    _, challenge = pkce_pair()
    for extra, error in (({"request": "not.a-jwt"}, "invalid_request_object"),
                         ({"request": unsigned({"client_id": "another"})}, "invalid_request_object"),
                         ({"request_uri": "https://app.example.com/r.jwt"}, "request_uri_not_supported")):
        answer = signed_in.authorize(**params(rp, challenge, **extra))
        assert answer.status_code == 303, answer.text
        query = query_of(answer.headers["Location"])
        assert query["error"] == error and query["state"] == "st-1" and query["iss"] == server.url


def test_claims_asked_with_the_claims_parameter_are_in_the_id_token_and_userinfo(server, signed_in, rp, ada):
    """Core 5.5: the claims asked of the ID token are in it, those asked of userinfo come from userinfo, each
    when the user has it (nickname: the user has none, so it is left out, essential or not); the consent page
    lists them; no profile scope was granted."""
    verifier, challenge = pkce_pair()
    claims = {"id_token": {"given_name": {"essential": True}, "email": None},
              "userinfo": {"family_name": None, "website": None, "nickname": {"essential": True}}}
    answer = signed_in.authorize(**params(rp, challenge, claims=json.dumps(claims)))
    assert answer.status_code == 200
    for value in ("Ada", "Lovelace", "https://ada.example/", ada.email):
        assert value in answer.text
    query = code_query(signed_in, answer)
    tokens = exchange(server, rp, query["code"], verifier)
    assert tokens["scope"] == "openid"
    id_token = verified(server, rp, tokens["id_token"])
    assert id_token["given_name"] == "Ada" and id_token["email"] == ada.email and "family_name" not in id_token
    info = userinfo(server, tokens["access_token"]).json()
    assert info == {"sub": ada.id, "family_name": "Lovelace", "website": "https://ada.example/"}


def test_consent_to_some_claims_is_not_consent_to_others(server, signed_in, rp):
    _, challenge = pkce_pair()
    code_query(signed_in, signed_in.authorize(**params(rp, challenge, claims='{"userinfo": {"given_name": null}}')))
    again = signed_in.authorize(**params(rp, challenge, claims='{"userinfo": {"given_name": null}}'))
    assert again.status_code == 303  # remembered
    more = signed_in.authorize(**params(rp, challenge, claims='{"userinfo": {"family_name": null}}'))
    assert more.status_code == 200 and "Lovelace" in more.text


def test_a_malformed_claims_parameter_is_invalid_request_at_the_redirect_uri(server, signed_in, rp):
    _, challenge = pkce_pair()
    answer = signed_in.authorize(**params(rp, challenge, claims="{not json"))
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "st-1"


def test_the_profile_scope_releases_the_profile_claims_the_user_has(server, signed_in, rp, ada):
    verifier, challenge = pkce_pair()
    query = code_query(signed_in, signed_in.authorize(**params(rp, challenge, scope="openid profile")))
    tokens = exchange(server, rp, query["code"], verifier)
    info = userinfo(server, tokens["access_token"]).json()
    assert {k: info[k] for k in ("name", "given_name", "family_name", "website", "locale")} == {
        "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "website": "https://ada.example/",
        "locale": "en-GB"}
    assert "nickname" not in info and "birthdate" not in info


def test_acr_values_get_an_id_token_with_the_acr_the_sign_in_met(server, signed_in, rp):
    """Core 3.1.2.1 (voluntary acr_values) and 2: the ID token says the class that was met, as discovery lists
    it; without acr_values there is no acr."""
    metadata = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["acr_values_supported"] == [ACR]
    verifier, challenge = pkce_pair()
    query = code_query(signed_in, signed_in.authorize(**params(rp, challenge, acr_values="urn:example:loa:2 " + ACR)))
    assert verified(server, rp, exchange(server, rp, query["code"], verifier)["id_token"])["acr"] == ACR
    verifier, challenge = pkce_pair()
    query = code_query(signed_in, signed_in.authorize(**params(rp, challenge)))
    assert "acr" not in verified(server, rp, exchange(server, rp, query["code"], verifier)["id_token"])


def test_an_essential_acr_that_cannot_be_met_fails_the_authentication(server, signed_in, rp):
    """Core 5.5.1.1: an essential acr this server cannot satisfy is a failed authentication."""
    _, challenge = pkce_pair()
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["urn:example:loa:4"]}}})
    query = query_of(signed_in.authorize(**params(rp, challenge, claims=claims)).headers["Location"])
    assert query["error"] == "unmet_authentication_requirements" and query["state"] == "st-1"


def test_form_post_answers_with_a_page_that_posts_the_code_to_the_redirect_uri(server, signed_in, rp):
    """Form Post Response Mode 2: a form of code, state and iss, whose action is the redirect URI, posted by a
    script that the CSP allows by nonce; the page keeps the other headers of every page."""
    verifier, challenge = pkce_pair()
    answer = signed_in.authorize(**params(rp, challenge, response_mode="form_post", state="<b>\"st'&"))
    if "Approve" in answer.text:
        approve, _ = signed_in.consent_forms(answer)
        answer = signed_in.submit(approve)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "frame-ancestors 'none'" in csp and "https://app.example.com" in csp
    (form,) = forms(answer.text)
    assert form.action == REDIRECT and form.method == "post"
    assert form.fields["state"] == "<b>\"st'&" and form.fields["iss"] == server.url
    assert "<b>" not in answer.text
    assert exchange(server, rp, form.fields["code"], verifier)["id_token"]


def test_an_error_goes_back_by_form_post_when_form_post_was_asked(server, signed_in, rp):
    _, challenge = pkce_pair()
    answer = signed_in.authorize(**params(rp, challenge, response_mode="form_post", prompt="bogus"))
    assert answer.status_code == 200
    (form,) = forms(answer.text)
    assert form.action == REDIRECT and form.fields["error"] == "invalid_request" and form.fields["state"] == "st-1"


def test_an_unknown_response_mode_is_refused_in_the_query(server, signed_in, rp):
    _, challenge = pkce_pair()
    answer = signed_in.authorize(**params(rp, challenge, response_mode="query.jwt"))
    assert answer.status_code == 303
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and "response_mode" in query["error_description"]
