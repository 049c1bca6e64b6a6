"""OpenID Connect relying-party libraries sign a user in through the local server: what users will actually run.

Two independent RP implementations, each doing its own work: discovery from the issuer (OpenID Connect Discovery
1.0 section 4), the authorization code flow with PKCE (RFC 7636), state and a nonce (Core 1.0 3.1.2.1), the token
request, the ID token validated against the published JWKS (Core 1.0 3.1.3.7: signature, iss, aud, nonce; 3.1.3.8:
at_hash) and the UserInfo endpoint (Core 1.0 5.3). The user's browser is the scripted one (tests/integration/
browser.py); the last test drives Debian's Chromium through the consent page that lists the identity claims.

- authlib: ``OAuth2Session`` for the protocol, ``authlib.jose.jwt.decode`` + ``authlib.oidc.core.CodeIDToken``
  for the ID token (signature against the JWKS, iss, aud, azp, exp, nonce and at_hash).
- pyoidc (``oic``, an OpenID-certified RP library): ``oic.oic.Client`` discovers, builds the request (storing its
  nonce under the state), parses the authorization response and, in ``do_access_token_request``, verifies the
  ID token against the JWKS it loaded (signature, iss, aud/azp, exp, iat) and compares the nonce to the one it
  sent. It does not check at_hash on a token response (only on authorization responses) and lets an ID token
  without a nonce pass, and it has no PKCE of its own on ``oic.oic.Client``: the tests do those three with the
  library's own primitives (``jwkest.jws.left_hash``) and assert them explicitly.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError as AuthlibJoseError
from authlib.oidc.core import CodeIDToken
from joserfc.errors import JoseError
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect

from tests.conftest import make_client
from tests.e2e.chromium import Callback, Tab, launched_chromium, new_tab, screenshot, serve_callback
from tests.integration import conftest as integration
from tests.integration.browser import Browser, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT

# The integration suite's fixtures (tests/e2e has no conftest): a user with a password, a browser signed in as them.
user, browser = integration.user, integration.browser

# As tests/e2e/test_browser.py: revocation shows at the guard at once (no authorizer or revocation cache).
pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")

SCOPE = "openid profile email orders:read"
DISCOVERY = "/.well-known/openid-configuration"

# Every ID-token failure authlib raises: joserfc's claim errors (CodeIDToken) or authlib.jose's (signature).
ID_TOKEN_REFUSED = (JoseError, AuthlibJoseError)


def discover(server) -> tuple[dict[str, Any], dict[str, Any]]:
    """Discovery 1.0 4: the configuration at the issuer's well-known path, then its jwks_uri."""
    metadata = requests.get(server.url + DISCOVERY, timeout=10)
    assert metadata.status_code == 200, metadata.text
    config = metadata.json()
    assert config["issuer"] == server.url  # 4.3: must be exactly the issuer the document was fetched from
    jwks = requests.get(config["jwks_uri"], timeout=10)
    assert jwks.status_code == 200, jwks.text
    return config, jwks.json()


def forged(id_token: str) -> str:
    """The same ID token with its sub changed and the original signature kept."""
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(uuid.uuid4())
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def consent_and_return(browser: Browser, authorization_url: str) -> str:
    """What the signed-in user's browser does: open the request, approve, come back with the redirect."""
    consent = browser.get(authorization_url)
    assert consent.status_code == 200, consent.text
    approve, _ = browser.consent_forms(consent)
    answer = browser.submit(approve)
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]


# -- authlib ------------------------------------------------------------------------------------------------------


@dataclass
class AuthlibSignIn:
    config: dict[str, Any]
    jwks: dict[str, Any]
    client_id: str
    session: OAuth2Session
    token: dict[str, Any]
    nonce: str


def authlib_sign_in(env, server, browser: Browser) -> AuthlibSignIn:
    """A public client (PKCE only, RFC 7636 / OAuth 2.0 for Native Apps) signs the user in with authlib."""
    config, jwks = discover(server)
    app = make_client(env, name="Orders", grant_types=("authorization_code", "refresh_token"),
                      redirect_uris=(REDIRECT,), scopes=("orders:read",), public=True)
    session = OAuth2Session(app.client_id, redirect_uri=REDIRECT, scope=SCOPE, code_challenge_method="S256",
                            token_endpoint_auth_method="none")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(config["authorization_endpoint"], code_verifier=verifier,
                                                  nonce=nonce)
    sent = query_of(url)
    assert sent["nonce"] == nonce and sent["code_challenge_method"] == "S256" and sent["state"] == state
    location = consent_and_return(browser, url)
    assert query_of(location)["iss"] == config["issuer"]  # RFC 9207
    token = session.fetch_token(config["token_endpoint"], authorization_response=location, code_verifier=verifier)
    return AuthlibSignIn(config, jwks, app.client_id, session, token, nonce)


def authlib_id_token(signed_in: AuthlibSignIn, *, nonce: str | None = None, audience: str | None = None,
                     access_token: str | None = None, id_token: str | None = None) -> CodeIDToken:
    """Core 1.0 3.1.3.7 with authlib: the signature against the JWKS, then iss, aud, azp, exp, nonce, at_hash."""
    claims = jwt.decode(
        id_token or signed_in.token["id_token"],
        JsonWebKey.import_key_set(signed_in.jwks),
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": signed_in.config["issuer"]},
            "aud": {"essential": True, "value": audience or signed_in.client_id},
            "nonce": {"essential": True},
            "at_hash": {"essential": True},
        },
        claims_params={
            "nonce": nonce or signed_in.nonce,
            "client_id": audience or signed_in.client_id,
            "access_token": access_token or signed_in.token["access_token"],
        },
    )
    claims.validate()
    return claims


def test_authlib_signs_a_user_in_with_discovery_pkce_nonce_and_a_validated_id_token(env, server, browser, user):
    """Core 1.0 3.1 (code flow), 3.1.3.7 (ID token validation), 3.1.3.8 (at_hash), 5.3 (UserInfo)."""
    signed_in = authlib_sign_in(env, server, browser)
    token = signed_in.token
    assert token["token_type"] == "Bearer" and token["scope"] == SCOPE
    assert "refresh_token" not in token  # Core 11: an OpenID request gets one only with offline_access

    claims = authlib_id_token(signed_in)
    assert claims.header["typ"] == "JWT" and claims.header["alg"] in signed_in.config[
        "id_token_signing_alg_values_supported"]
    assert claims.header["kid"] in {key["kid"] for key in signed_in.jwks["keys"]}
    assert claims["sub"] == user.id and claims["azp"] == signed_in.client_id
    assert claims["nonce"] == signed_in.nonce and isinstance(claims["auth_time"], int)

    userinfo = signed_in.session.get(signed_in.config["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]  # 5.3.2: must match the ID token's sub
    assert userinfo.json()["email"] == user.email and userinfo.json()["name"] == user.name
    assert userinfo.json()["email_verified"] is False


@pytest.mark.parametrize(("tampered", "refusal"), [
    ("nonce", "Invalid claim: 'nonce'"),
    ("audience", "Invalid claim: 'aud'"),
    ("access_token", "Invalid claim: 'at_hash'"),
    ("signature", "bad_signature"),
], ids=["other-nonce", "other-audience", "other-access-token", "forged-payload"])
def test_authlib_refuses_an_id_token_that_does_not_match_the_request(env, server, browser, tampered, refusal):
    """3.1.3.7: the nonce must be the one sent (11 in the list), the client must be in aud (3), the signature must
    verify with the issuer's keys (6); 3.1.3.8: at_hash must match the access token it came with."""
    signed_in = authlib_sign_in(env, server, browser)
    authlib_id_token(signed_in)  # the genuine article passes
    if tampered == "nonce":
        wrong = {"nonce": secrets.token_urlsafe(16)}
    elif tampered == "audience":
        other = make_client(env, name="Another app", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                            public=True)
        wrong = {"audience": other.client_id}
    elif tampered == "access_token":
        another = signed_in.token["access_token"]
        wrong = {"access_token": another[:-2] + ("AA" if not another.endswith("AA") else "BB")}
    else:
        wrong = {"id_token": forged(signed_in.token["id_token"])}
    with pytest.raises(ID_TOKEN_REFUSED, match=refusal):
        authlib_id_token(signed_in, **wrong)


# -- pyoidc (oic) -------------------------------------------------------------------------------------------------


def test_pyoidc_signs_a_user_in_verifying_the_id_token_against_the_jwks(env, server, browser, user):
    """Core 1.0 3.1 with an independent, OpenID-certified RP library: discovery (Discovery 1.0 4), authentication
    request with state, nonce and PKCE, token request with client_secret_basic, ID token verification (3.1.3.7),
    at_hash (3.1.3.8) and UserInfo (5.3), whose sub the library compares with the ID token's (5.3.2)."""
    from jwkest.jws import left_hash
    from oic.oauth2.message import ErrorResponse
    from oic.oic import Client
    from oic.oic.message import AccessTokenResponse, AuthorizationResponse, OpenIDSchema
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    app = make_client(env, name="Orders", grant_types=("authorization_code", "refresh_token"),
                      redirect_uris=(REDIRECT,), scopes=("orders:read",))
    rp = Client(client_id=app.client_id, client_authn_method=CLIENT_AUTHN_METHOD)
    rp.client_secret = app.secret
    rp.redirect_uris = [REDIRECT]
    provider = rp.provider_config(server.url)  # fetches the document and loads its jwks_uri into rp.keyjar
    assert provider["issuer"] == server.url and rp.issuer == server.url
    assert rp.keyjar.get_verify_key(owner=server.url), "the JWKS was not loaded"

    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()  # oic.oic.Client has no PKCE of its own (only oic.extension's client has)
    url, _, _, _ = rp.authorization_request_info(request_args={
        "response_type": "code", "scope": SCOPE.split(), "state": state, "nonce": nonce,
        "redirect_uri": REDIRECT, "code_challenge": challenge, "code_challenge_method": "S256",
    })
    assert rp.state2nonce[state] == nonce  # the library keeps the nonce to compare with the ID token's
    assert url.startswith(provider["authorization_endpoint"] + "?")
    location = consent_and_return(browser, url)

    answer = rp.parse_response(AuthorizationResponse, info=urlsplit(location).query, sformat="urlencoded")
    assert isinstance(answer, AuthorizationResponse) and answer["state"] == state
    tokens = rp.do_access_token_request(state=state, request_args={"code": answer["code"],
                                                                   "redirect_uri": REDIRECT,
                                                                   "code_verifier": verifier},
                                        authn_method="client_secret_basic")
    assert isinstance(tokens, AccessTokenResponse), tokens.to_dict()
    id_token = tokens["id_token"]  # verified by the library: signature (keyjar), iss, aud/azp, exp, iat, nonce
    assert id_token["iss"] == server.url and id_token["aud"] == [app.client_id] and id_token["sub"] == user.id
    # What oic leaves to its caller, asserted here: a nonce must be there (it skips the check when absent), the
    # signature must not be alg none (which it accepts unverified), and at_hash (unchecked on token responses).
    assert id_token["nonce"] == nonce
    alg = id_token.jws_header["alg"]
    assert alg in provider["id_token_signing_alg_values_supported"] and alg != "none"
    assert id_token["at_hash"] == left_hash(tokens["access_token"], "HS" + alg[-3:])
    assert rp.get_grant(state).get_id_token()["sub"] == user.id

    userinfo = rp.do_user_info_request(state=state, method="GET", behavior="use_authorization_header")
    assert not isinstance(userinfo, ErrorResponse), userinfo.to_dict()
    assert isinstance(userinfo, OpenIDSchema)
    assert userinfo["sub"] == user.id and userinfo["email"] == user.email and userinfo["name"] == user.name
    assert userinfo["email_verified"] is False


def test_pyoidc_refuses_an_id_token_for_another_client_or_another_nonce(env, server, browser):
    """3.1.3.7 with oic's own checks: an aud without this client is NotForMe (3), a nonce other than the one it
    stored for the state stops the token request (11), a forged payload fails the JWKS signature check (6)."""
    from jwkest import BadSignature
    from oic.exception import NotForMe, ParameterError
    from oic.oic import Client
    from oic.oic.message import AuthorizationResponse, IdToken
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    app = make_client(env, name="Orders", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                      scopes=("orders:read",))
    rp = Client(client_id=app.client_id, client_authn_method=CLIENT_AUTHN_METHOD)
    rp.client_secret, rp.redirect_uris = app.secret, [REDIRECT]
    rp.provider_config(server.url)
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()
    url, _, _, _ = rp.authorization_request_info(request_args={
        "response_type": "code", "scope": ["openid"], "state": state, "nonce": nonce, "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    answer = rp.parse_response(AuthorizationResponse, info=urlsplit(consent_and_return(browser, url)).query,
                               sformat="urlencoded")
    rp.state2nonce[state] = secrets.token_urlsafe(16)  # as if the request had carried another nonce
    with pytest.raises(ParameterError, match="nonce"):
        rp.do_access_token_request(state=state, request_args={"code": answer["code"], "redirect_uri": REDIRECT,
                                                              "code_verifier": verifier},
                                   authn_method="client_secret_basic")
    raw = rp.get_grant(state).tokens[-1].id_token.jwt  # the ID token the server did issue, signed and valid
    genuine = IdToken().from_jwt(raw, keyjar=rp.keyjar, sender=server.url)
    assert genuine.verify(iss=server.url, client_id=app.client_id) and genuine["nonce"] == nonce
    with pytest.raises(NotForMe):
        genuine.verify(iss=server.url, client_id=f"{app.client_id}-other")
    with pytest.raises(BadSignature):
        IdToken().from_jwt(forged(raw), keyjar=rp.keyjar, sender=server.url)


# -- Chromium: the consent page names what the client will learn --------------------------------------------------
# The launch code and the callback server are tests/e2e/chromium.py's: Debian's Chromium via executable_path.


@pytest.fixture
def callback() -> Iterator[Callback]:
    with serve_callback() as record:
        yield record


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium | None]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def tab(chromium: Chromium | None) -> Iterator[Tab]:
    """A page in a fresh context (its own cookies), recording every request and every console error."""
    opened = new_tab(chromium, viewport={"width": 1280, "height": 800})
    yield opened
    opened.context.close()


def test_the_consent_page_shows_the_identity_claims_and_the_code_redeems_for_an_id_token(env, server, tab, callback):
    """Core 1.0 3.1.2.4 (the consent the OP obtains), 5.4 (what profile and email release) and 3.1.3.3 (the token
    response with the ID token), in a real browser."""
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    page = tab.page
    settings()
    person = create_user(DynamoUserStore(), email=f"u{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace",
                         password=PASSWORD)
    app = make_client(env, name="Orders App", grant_types=("authorization_code", "refresh_token"),
                      redirect_uris=(callback.url,), scopes=("orders:read",))
    page.goto(f"{server.url}/account")  # signed in first: the authorization request then goes straight to consent
    page.wait_for_url(f"{server.url}/login?**")
    page.fill('input[name="email"]', person.email)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/account")

    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    page.goto(f"{server.url}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": callback.url, "scope": SCOPE,
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
    }))
    expect(page.get_by_role("heading", name="Orders App will learn:")).to_be_visible()
    learns = page.get_by_role("list", name="Orders App will learn:")
    identity = learns.get_by_role("listitem")
    expect(identity).to_have_count(3)
    expect(identity.nth(0)).to_contain_text(f"Sign you in as {person.email}")
    expect(identity.nth(1)).to_contain_text("Your name: Ada Lovelace")
    expect(identity.nth(2)).to_contain_text(f"Your email address: {person.email} (not verified)")
    expect(learns.get_by_text("Ada Lovelace", exact=True)).to_be_visible()
    expect(learns.get_by_text(f"{person.email} (not verified)", exact=True)).to_be_visible()
    api = page.get_by_role("list", name="This will allow Orders App to:").get_by_role("listitem")
    expect(api).to_have_count(1)
    expect(api.first).to_contain_text("Read your orders")
    expect(api.first).to_contain_text("orders:read")
    screenshot(page, "consent-openid.png")
    page.get_by_role("button", name="Approve").click()

    page.wait_for_url(f"{callback.url}?**")
    redirects = [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]
    assert len(redirects) == 1, callback.hits
    query = query_of(redirects[0])
    assert query["state"] == state and query["iss"] == server.url and "error" not in query
    tab.assert_stayed_on_loopback()

    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"], "redirect_uri": callback.url,
        "code_verifier": verifier,
    })
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    config, jwks = discover(server)
    signed_in = AuthlibSignIn(config, jwks, app.client_id, OAuth2Session(app.client_id), body, nonce)
    claims = authlib_id_token(signed_in)
    assert claims["sub"] == person.id and claims["aud"] == app.client_id
