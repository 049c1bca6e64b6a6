"""Property tests over every route's parameters through the local gateway on a real socket (docs/http.md,
"Everywhere": malformed input gets a clear error in the endpoint's style, never a 500 or a stack trace).

Each test sets up real clients, a user and a session once, then lets Hypothesis send structured hostile requests:
the endpoint's own field names with random, duplicated, missing, huge (100 KB) or non-UTF-8 values, a wrong
Content-Type, JSON instead of a form, broken Basic credentials. The properties:

- no status >= 500 and no stack trace in any body;
- OAuth endpoints (token, revoke, introspect, device code) answer RFC 6749 5.2 JSON with a registered ``error``,
  ``invalid_client`` as 401 with ``WWW-Authenticate: Basic`` when Basic was tried;
- browser pages (authorize, login, logout, device pages, /account) answer errors with an HTML page and only ever
  redirect to this server or to a registered redirect URI;
- the JSON API, discovery, the demo API and the gateway's own answers are JSON with an ``error`` on failure.

Runs are deterministic (``derandomize``): a failure found in CI is found again locally. Each test's example
count keeps this file near 30 s; ``FUZZ_SCALE=20`` hunts twenty times longer and ``FUZZ_STATS=1`` prints
what the examples reached (see tests/fuzzing.py). Regressions found by the fuzzer stay as ``@example``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from functools import cached_property
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote, urlencode, urlsplit

import jwt
import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import make_client
from tests.fuzzing import (
    BROKEN_AUTHORIZATIONS,
    DEVICE_GRANT,
    FORM,
    GRANT_TYPES,
    QUERY_TAILS,
    WRONG_TYPES,
    Body,
    Sent,
    assert_json_style,
    assert_no_crash,
    assert_oauth_style,
    assert_page_style,
    basic,
    bodies,
    client_authentications,
    describe,
    form_pairs,
    fuzz,
    hostile_text,
    plausible,
    print_outcomes,
    query_string,
    send,
    values,
)
from tests.integration.browser import Browser, forms, pkce_pair

# Every optional grant on, so every grant_type is fuzzed; no guard caches, so revocations show at once.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.passport_config(
        "[grants]\npassword = true\nimplicit = true\n"
        "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
    ),
]

PASSWORD = "correct horse battery staple"
REDIRECT = "https://app.example.com/callback"
LOOPBACK = "http://127.0.0.1/callback"
GOODBYE = "https://app.example.com/goodbye"


# -- the world each test fuzzes against (made once per test, reused by every example) ---------------------------


class World:
    """Clients made up front; a user, tokens, a device code and a session only when a test asks for them."""

    def __init__(self, env, server) -> None:
        self.env, self.server, self.base = env, server, server.url
        self.confidential = make_client(
            env, name="Fuzzed app", redirect_uris=(REDIRECT,), scopes=("orders:read", "orders:write"),
            grant_types=("authorization_code", "client_credentials", "refresh_token", "password", DEVICE_GRANT,
                         "implicit"),
            post_logout_redirect_uris=(GOODBYE,),
        )
        self.public = make_client(env, name="Fuzzed CLI", redirect_uris=(LOOPBACK,), public=True,
                                  grant_types=("authorization_code", "refresh_token", DEVICE_GRANT))

    @property
    def credentials(self) -> list[tuple[str, str]]:
        return [(self.confidential.client_id, self.confidential.secret)]

    @cached_property
    def user(self):
        from passport.core.users import create_user
        from passport.storage.repositories import DynamoUserStore

        return create_user(DynamoUserStore(), email=f"f{uuid.uuid4().hex[:8]}@example.com", name="Fuzz",
                           password=PASSWORD)

    @cached_property
    def tokens(self) -> dict:
        response = requests.post(f"{self.base}/oauth/token", auth=(self.confidential.client_id,
                                 self.confidential.secret), data={"grant_type": "password", "username": self.user.email,
                                                                  "password": PASSWORD, "scope": "orders:read"})
        assert response.status_code == 200, response.text
        return response.json()

    @property
    def access_token(self) -> str:
        return self.tokens["access_token"]

    @cached_property
    def openid_tokens(self) -> tuple[str, str]:
        """An OpenID Connect access token (openid email) and an ID token for the user, as the code flow gives."""
        from passport.compose import SystemClock, access_token_issuer, settings
        from passport.core.oidc.id_token import IdTokenIssuer
        from passport.keys.keyring import KEYS

        s = settings()
        access = access_token_issuer(s).issue(client_id=self.confidential.client_id, scopes=("openid", "email"),
                                              grant_type="authorization_code", user_id=self.user.id)
        id_token = IdTokenIssuer(signer=KEYS.get(s, need_private=True).require_signer(), clock=SystemClock(),
                                 issuer=s.issuer_url, lifetime=600).mint(
            client_id=self.confidential.client_id, user_id=self.user.id, auth_time=0,
            access_token=access.access_token)
        return access.access_token, id_token

    @property
    def refresh_token(self) -> str:
        return self.tokens["refresh_token"]

    @cached_property
    def device(self) -> dict:
        response = requests.post(f"{self.base}/oauth/device/code", data={"client_id": self.public.client_id})
        assert response.status_code == 200, response.text
        return response.json()

    @cached_property
    def browser(self) -> Browser:
        browser = Browser(self.base)
        assert browser.login(self.user.email, PASSWORD).status_code == 303
        return browser

    @cached_property
    def login_csrf(self) -> str:
        page = Browser(self.base).get("/login")
        return next(f for f in forms(page.text) if f.action == "/login").fields["_token"]

    @property
    def session_cookie(self) -> str:
        return f"passport_session={self.browser.http.cookies['passport_session']}"

    @property
    def csrf(self) -> str:
        return self.browser.http.cookies["XSRF-TOKEN"]

    @cached_property
    def registered(self) -> dict:
        """A client registered dynamically (RFC 7591), with its registration access token (RFC 7592)."""
        response = requests.post(f"{self.base}/oauth/register", json=REGISTRATION_METADATA,
                                 headers={"Authorization": f"Bearer {INITIAL_ACCESS_TOKEN}"})
        assert response.status_code == 201, response.text
        return response.json()

    def install(self) -> None:
        """The personal access client (``passport install``), for the personal access token routes."""
        from passport import admin
        from passport.storage.repositories import DynamoClientStore

        admin.install(self.env.settings, DynamoClientStore())


def no_cookies() -> requests.Session:
    """A session that never stores a cookie, so one example's Set-Cookie cannot change the next example."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


@pytest.fixture
def world(env, server) -> World:
    from passport.compose import settings

    settings()  # binds the storage models to this test's tables
    return World(env, server)


@pytest.fixture
def http(request) -> Iterator[requests.Session]:
    with no_cookies() as session:
        yield session
    print_outcomes(request.node.name)


# -- the token endpoint (RFC 6749 3.2, 4.1.3, 4.3, 4.4, 6; RFC 8628 3.4) -------------------------------------------


def token_fields(w: World) -> dict[str, st.SearchStrategy[str]]:
    _, challenge = pkce_pair()
    return {
        "grant_type": plausible(*GRANT_TYPES),
        "code": plausible("a" * 43, challenge),
        "redirect_uri": plausible(REDIRECT, LOOPBACK, "http://127.0.0.1:9/callback"),
        "code_verifier": plausible("v" * 43, "short"),
        "refresh_token": plausible(w.refresh_token, w.refresh_token.split(".")[0] + ".x", "nofamily", "." * 3,
                                "f" * 3000 + ".x"),
        "scope": plausible("orders:read", "orders:read orders:write", "orders:write", "*", "  orders:read  ",
                           "undefined"),
        "device_code": plausible(w.device["device_code"], "d" * 43),
        "username": plausible(w.user.email, w.user.email.upper(), "nobody@example.com", "a" * 3000 + "@example.com"),
        "password": plausible(PASSWORD, "wrong"),
    }


@st.composite
def client_requests(draw: st.DrawFn, w: World, fields: dict[str, st.SearchStrategy[str]],
                    required: tuple[str, ...]) -> tuple[str | None, Body]:
    """A client's request: its authentication (header and body fields) mixed into a hostile form."""
    authorization, auth_pairs = draw(client_authentications(w.credentials, [w.public.client_id]))
    pairs = draw(st.permutations(draw(form_pairs(fields, required=required)) + auth_pairs))
    return authorization, draw(bodies(st.just(pairs)))


def post(http: requests.Session, w: World, path: str, request: tuple[str | None, Body]) -> requests.Response:
    authorization, body = request
    headers = {"Content-Type": body.content_type} if body.content_type is not None else {}
    if authorization is not None:
        headers["Authorization"] = authorization
    return send(http, w.base, Sent("POST", path, headers=headers, body=body.data))


def test_token_endpoint_answers_any_request_with_an_rfc6749_error_or_a_token(world, http):
    """RFC 6749 5.2: every refusal is a JSON error from the registered set (400, or 401 ``invalid_client`` with
    ``WWW-Authenticate: Basic`` after Basic); RFC 8628 3.5 adds the polling errors. Never a 5xx."""
    w = world
    as_client = basic(w.confidential.client_id, w.confidential.secret)

    @fuzz(80)
    @given(request=client_requests(w, token_fields(w), ("grant_type",)))
    # A username over DynamoDB's 2 KB key limit reached the login throttle's key: 503 (fixed: hashed key).
    @example(request=(as_client, Body(b"grant_type=password&username=" + b"a" * 3000 + b"&password=x", FORM)))
    @example(request=(as_client, Body(b"grant_type=refresh_token&refresh_token=" + b"f" * 3000 + b".x", FORM)))
    @example(request=("Basic " + "A" * 3000, Body(b"grant_type=client_credentials", FORM)))
    @example(request=(as_client, Body(b'{"grant_type": "client_credentials"}', "application/json")))
    def check(request: tuple[str | None, Body]) -> None:
        response = post(http, w, "/oauth/token", request)
        answer = assert_oauth_style(response)
        if response.status_code == 200:
            assert answer["token_type"] == "Bearer" and answer["access_token"], describe(response)

    check()


# -- revocation, introspection, device authorization (RFC 7009, 7662, 8628 3.1) ------------------------------------

LIFECYCLE = ("/oauth/revoke", "/oauth/introspect", "/oauth/device/code")


def lifecycle_fields(w: World) -> dict[str, st.SearchStrategy[str]]:
    tampered = w.access_token[:-4] + "AAAA"
    unsigned = jwt.encode({"jti": "x", "client_id": w.confidential.client_id}, key="", algorithm="none")
    return {
        "token": plausible(w.access_token, w.refresh_token, tampered, unsigned, "a.b.c", "a.b", "x" * 3000 + ".y"),
        "token_type_hint": plausible("access_token", "refresh_token", "device_code"),
        "scope": plausible("orders:read", "orders:write", "orders:read orders:write", "nope"),
    }


def test_revoke_introspect_and_device_code_answer_only_in_their_rfc_json(world, http):
    """RFC 7009 2.2/2.2.1, RFC 7662 2.2/2.3 and RFC 8628 3.1-3.2: a 200 (empty for revocation, a JSON object
    otherwise) or a RFC 6749 5.2 JSON error; never a 5xx or a stack trace."""
    w = world
    as_client = basic(w.confidential.client_id, w.confidential.secret)

    @fuzz(60)
    @given(path=st.sampled_from(LIFECYCLE), request=client_requests(w, lifecycle_fields(w), ("token",)))
    @example(path="/oauth/introspect", request=(as_client, Body(b"token=" + b"x" * 3000 + b".y", FORM)))
    @example(path="/oauth/revoke", request=(as_client, Body(b"token=" + b"x" * 3000 + b".y", FORM)))
    def check(path: str, request: tuple[str | None, Body]) -> None:
        response = post(http, w, path, request)
        answer = assert_oauth_style(response, empty_ok=path == "/oauth/revoke")
        if path == "/oauth/introspect" and answer is not None and response.status_code == 200:
            assert isinstance(answer.get("active"), bool), describe(response)
            if not answer["active"]:
                assert answer == {"active": False}, describe(response)  # RFC 7662 2.2, docs/http.md

    check()


# -- pushed authorization requests (RFC 9126 2) -------------------------------------------------------------------

#: RFC 9126 2.3: RFC 6749 5.2's codes, 4.1.2.1's, and those of the extensions the pushed request uses (RFC 8707
#: invalid_target, OpenID Connect Core 6.1 invalid_request_object, 5.5.1.1 unmet_authentication_requirements).
PAR_ERRORS = frozenset({"invalid_request", "invalid_client", "unauthorized_client", "invalid_scope",
                        "unsupported_response_type", "invalid_target", "invalid_request_object",
                        "unmet_authentication_requirements"})


def par_fields(w: World) -> dict[str, st.SearchStrategy[str]]:
    _, challenge = pkce_pair()
    return {
        "response_type": plausible("code", "token", "code id_token", "none"),
        "redirect_uri": plausible(REDIRECT, LOOPBACK, "https://evil.example/cb"),
        "scope": plausible("orders:read", "openid orders:write", "undefined", "*"),
        "state": plausible("s", "x" * 3000, "\ufffd"),
        "code_challenge": plausible(challenge, "short"),
        "code_challenge_method": plausible("S256", "plain"),
        "prompt": plausible("none", "login consent", "bogus"),
        "max_age": plausible("0", "-1", "9" * 12),
        "resource": plausible(w.env.settings.token_audience, "https://elsewhere.example", "not a uri"),
        "response_mode": plausible("query", "fragment", "form_post", "web_message"),
        "claims": plausible('{"id_token": {"email": null}}', "{", "[]"),
        "request": plausible("a.b.", "eyJhbGciOiJub25lIn0.e30.", "x" * 3000),
        "request_uri": plausible("urn:ietf:params:oauth:request_uri:x", "https://app.example.com/r"),
    }


def test_the_push_answers_a_request_uri_or_an_rfc9126_json_error(world, http):
    """RFC 9126 2.2 and 2.3: 201 with request_uri and expires_in, or a JSON error (400, or 401 invalid_client
    with WWW-Authenticate: Basic after Basic), never cached, never a 5xx."""
    w = world
    as_client = basic(w.confidential.client_id, w.confidential.secret)

    @fuzz(60)
    @given(request=client_requests(w, par_fields(w), ("response_type",)))
    @example(request=(as_client, Body(b"response_type=code&state=" + b"s" * 100_000, FORM)))
    @example(request=(as_client, Body("&".join(f"x{i}=1" for i in range(500)).encode(), FORM)))
    def check(request: tuple[str | None, Body]) -> None:
        response = post(http, w, "/oauth/par", request)
        assert_no_crash(response)
        assert response.headers.get("Cache-Control") == "no-store", describe(response)
        body = response.json()
        if response.status_code == 201:
            assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:"), describe(response)
            return
        assert body.get("error") in PAR_ERRORS, describe(response)
        assert response.status_code == (401 if body["error"] == "invalid_client" else 400), describe(response)

    check()


# -- the authorization endpoint (RFC 6749 3.1, 4.1.1, 4.1.2.1) -----------------------------------------------------


def authorize_fields(w: World) -> dict[str, st.SearchStrategy[str]]:
    _, challenge = pkce_pair()
    return {
        "response_type": plausible("code", "token", "code token", "id_token"),
        "client_id": plausible(w.confidential.client_id, w.public.client_id, str(uuid.uuid4())),
        "redirect_uri": plausible(REDIRECT, LOOPBACK, "http://127.0.0.1:4711/callback", "https://evil.example/cb",
                               REDIRECT + "?x=1", REDIRECT.upper()),
        "scope": plausible("orders:read", "orders:read orders:write", "nope"),
        "state": plausible("xyz", "s" * 3000),
        "code_challenge": plausible(challenge, "short"),
        "code_challenge_method": plausible("S256", "plain"),
        "prompt": plausible("none", "login", "consent", "none login", "select_account"),
        "nonce": plausible("n-0S6_WzA2Mj"),
        "_method": plausible("DELETE", "delete", "PUT"),
    }


def allowed_location(w: World, location: str) -> bool:
    """Redirects go to this server (a local path, or its own origin) or to a registered redirect URI: never an
    open redirect (RFC 6749 4.1.2.1, RFC 9700 4.11)."""
    if location.startswith("/") and not location.startswith("//") and "\\" not in location:
        return True
    parts = urlsplit(location)
    target = f"{parts.scheme}://{parts.hostname}{parts.path}"
    if target.startswith(w.base):
        return True
    return target in (REDIRECT, "http://127.0.0.1/callback")


def cookies_for(w: World, signed_in: bool, extra: str | None) -> dict[str, str]:
    jar = [w.session_cookie] if signed_in else []
    if extra is not None:
        jar.append(extra)
    return {"Cookie": "; ".join(jar)} if jar else {}


#: True two times in three (signed in, with the CSRF token...): the plausible case first.
MOSTLY = st.sampled_from((True, True, False))
#: The session's CSRF token in a form: right, wrong, or missing.
CSRF = st.sampled_from(("right", "right", "wrong", "none"))
COOKIE_NOISE = st.one_of(st.none(), st.none(), st.none(), st.sampled_from((
    "passport_session=" + "x" * 200, "passport_session=", "passport_session", '"unterminated', "a=b;;;c",
    "passport_session=\"quoted\"", "passport_login=zz", "=\x7f", "\u00e9=\u00e9",
)))


def test_authorize_endpoint_answers_html_or_a_redirect_to_a_registered_uri(world, http):
    """RFC 6749 4.1.2.1: an unknown client or unregistered redirect URI gets an HTML page, never a redirect;
    every other answer is an HTML page (sign-in, consent, error) or a 303 to this server or the registered
    redirect URI. GET, POST (approve) and DELETE (deny), signed in or not."""
    w = world
    fields = authorize_fields(w)

    @fuzz(40)
    @given(tail=QUERY_TAILS, method=st.sampled_from(("GET", "GET", "POST", "DELETE")),
           pairs=form_pairs(fields, required=("client_id", "redirect_uri", "response_type")),
           body_kind=st.sampled_from(("form", "form", "json", "wrong_type", "not_utf8")),
           signed_in=MOSTLY, extra_cookie=COOKIE_NOISE, csrf=CSRF)
    @example(method="GET", pairs=[("client_id", w.confidential.client_id), ("redirect_uri", REDIRECT),
                                  ("response_type", "code"), ("state", "s" * 3000)],
             body_kind="form", signed_in=True, extra_cookie=None, csrf="none", tail="")
    def check(tail: str, method: str, pairs: list[tuple[str, str]], body_kind: str, signed_in: bool,
              extra_cookie: str | None, csrf: str) -> None:
        headers = cookies_for(w, signed_in, extra_cookie)
        if method == "GET":
            sent = Sent("GET", "/oauth/authorize", query_string(pairs) + tail, headers)
        else:
            if csrf != "none":
                pairs = [*pairs, ("_token", w.csrf if csrf == "right" else "wrong")]
            sent = Sent(method, "/oauth/authorize", "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        assert_page_style(response)
        if response.is_redirect:
            assert allowed_location(w, response.headers["Location"]), describe(response)

    check()


def _page_body(pairs: list[tuple[str, str]], kind: str, headers: dict[str, str]) -> bytes:
    """A browser form's body, or a hostile variant; sets the Content-Type in ``headers``."""
    encoded = urlencode(pairs).encode()
    if kind == "json":
        headers["Content-Type"] = "application/json"
        return json.dumps(dict(pairs)).encode()
    if kind == "wrong_type":
        headers["Content-Type"] = "text/plain"
        return encoded
    headers["Content-Type"] = FORM
    return encoded + b"&x=\xff" if kind == "not_utf8" else encoded


# -- /login and /logout ------------------------------------------------------------------------------------------


def test_login_and_logout_answer_html_and_redirect_only_to_local_paths(world, http):
    """docs/http.md (login and logout pages): any form gets an HTML page or a 303; ``next`` never becomes
    an open redirect (RFC 9700 4.11.1), whatever its encoding."""
    w = world
    login_fields = {
        "email": plausible(w.user.email, "nobody@example.com", "a" * 3000 + "@example.com"),
        "password": plausible(PASSWORD, "wrong"),
        "_token": plausible(w.login_csrf),
        "next": plausible("/account", "//evil.example", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil",
                       "/oauth/authorize?client_id=x", "\r\n/x", "javascript:alert(1)"),
    }

    @fuzz(30)
    @given(tail=QUERY_TAILS, method=st.sampled_from(("GET", "POST", "POST", "POST_LOGOUT")),
           pairs=form_pairs(login_fields, required=("email", "password", "_token")),
           body_kind=st.sampled_from(("form", "form", "form", "json", "wrong_type", "not_utf8")),
           login_cookie=MOSTLY, extra_cookie=COOKIE_NOISE)
    @example(method="POST", pairs=[("email", "a" * 3000 + "@example.com"), ("password", "x"),
                                   ("_token", w.login_csrf)], body_kind="form", login_cookie=True, extra_cookie=None,
             tail="")
    def check(tail: str, method: str, pairs: list[tuple[str, str]], body_kind: str, login_cookie: bool,
              extra_cookie: str | None) -> None:
        jar = [f"passport_login={w.login_csrf}"] if login_cookie else []
        if extra_cookie is not None:
            jar.append(extra_cookie)
        headers = {"Cookie": "; ".join(jar)} if jar else {}
        if method == "GET":
            sent = Sent("GET", "/login", query_string(pairs) + tail, headers)
        else:
            path = "/logout" if method == "POST_LOGOUT" else "/login"
            sent = Sent("POST", path, "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        assert_page_style(response)
        if response.is_redirect:
            location = response.headers["Location"]
            assert location.startswith("/") and not location.startswith("//"), describe(response)
            assert "\\" not in location and "\r" not in location and "\n" not in location, describe(response)

    check()


# -- the device pages (RFC 8628 3.3) -------------------------------------------------------------------------------

DEVICE_PAGES = (("GET", "/oauth/device"), ("GET", "/oauth/device/authorize"), ("POST", "/oauth/device/authorize"),
                ("DELETE", "/oauth/device/authorize"))


def test_device_pages_answer_html_whatever_the_user_code(world, http):
    """RFC 8628 3.3 and 6.1: any typed code, signed in or not, gets an HTML page (the form again with a message,
    an error page, or the confirmation) or a 303 to this server's pages; never a 5xx."""
    w = world
    code = w.device["user_code"]
    fields = {
        "user_code": plausible(code, code.lower().replace("-", ""), "BCDF-GHJK", "AAAA-AAAA", "B C D F G H J K",
                            "bcdfghjk" * 400),
        "_method": plausible("DELETE", "delete"),
    }

    @fuzz(30)
    @given(tail=QUERY_TAILS, route=st.sampled_from(DEVICE_PAGES), pairs=form_pairs(fields, required=("user_code",)),
           body_kind=st.sampled_from(("form", "form", "json", "wrong_type", "not_utf8")),
           signed_in=MOSTLY, csrf=CSRF, extra_cookie=COOKIE_NOISE)
    def check(tail: str, route: tuple[str, str], pairs: list[tuple[str, str]], body_kind: str, signed_in: bool,
              csrf: str, extra_cookie: str | None) -> None:
        method, path = route
        headers = cookies_for(w, signed_in, extra_cookie)
        if method == "GET":
            sent = Sent("GET", path, query_string(pairs) + tail, headers)
        else:
            if csrf != "none":
                pairs = [*pairs, ("_token", w.csrf if csrf == "right" else "wrong")]
            sent = Sent(method, path, "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        assert_page_style(response)
        if response.is_redirect:
            assert allowed_location(w, response.headers["Location"]), describe(response)

    check()


# -- the signed-in user's JSON API and the account page -------------------------------------------------------------

JSON_ROUTES = (
    ("GET", "/oauth/scopes"), ("GET", "/oauth/tokens"), ("DELETE", "/oauth/tokens/{id}"),
    ("GET", "/oauth/clients"), ("POST", "/oauth/clients"), ("PUT", "/oauth/clients/{id}"),
    ("DELETE", "/oauth/clients/{id}"), ("POST", "/oauth/clients/{id}/secret"),
    ("GET", "/oauth/personal-access-tokens"), ("POST", "/oauth/personal-access-tokens"),
    ("DELETE", "/oauth/personal-access-tokens/{id}"),
)

#: Any JSON value: the API must refuse wrong types with a JSON error, not a TypeError.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text(huge=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def json_api_bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    keys = ("name", "redirect", "redirect_uris", "scopes", "confidential")
    typed = {
        "name": st.one_of(st.just("My app"), hostile_text()),
        "redirect": st.one_of(st.sampled_from((REDIRECT, f"{REDIRECT},{LOOPBACK}", "not a uri", "javascript:x")),
                              JSON_VALUES),
        "redirect_uris": st.one_of(st.just([REDIRECT]), st.lists(hostile_text(huge=False), max_size=3), JSON_VALUES),
        "scopes": st.one_of(st.just(["orders:read"]), st.lists(hostile_text(huge=False), max_size=3), JSON_VALUES),
        "confidential": JSON_VALUES,
    }
    kind = draw(st.sampled_from(("json", "json", "json", "any_json", "form", "broken")))
    if kind == "json":
        chosen = draw(st.lists(st.sampled_from(keys), unique=True))
        return json.dumps({k: draw(typed[k]) for k in chosen}).encode(), "application/json"
    if kind == "any_json":
        return json.dumps(draw(JSON_VALUES)).encode(), "application/json"
    if kind == "form":
        pairs = draw(form_pairs({"name": plausible("My app"), "redirect": plausible(REDIRECT), "scopes[]": plausible(
            "orders:read"), "redirect_uris[]": plausible(REDIRECT), "scopes": plausible("orders:read")}))
        return urlencode(pairs).encode(), draw(st.sampled_from((FORM, None, "text/plain")))
    return draw(st.sampled_from((b"{", b"\xff\xfe", b"[1,2", b'{"name": "\xff"}', b"null"))), "application/json"


def test_json_api_answers_json_errors_for_any_call(world, http):
    """docs/http.md (the signed-in user's JSON API): every call, signed in or not, with or without the
    X-XSRF-TOKEN header, with any JSON value or form, answers JSON (an ``error`` member on failure) or 204."""
    w = world
    w.install()
    made = requests.post(f"{w.base}/oauth/clients", json={"name": "mine", "redirect": REDIRECT},
                         headers={"X-XSRF-TOKEN": w.csrf, "Cookie": w.session_cookie}).json()
    ids = values(made["client_id"], w.confidential.client_id, str(uuid.uuid4()), "..", "%2F", "a/b")

    @fuzz(40)
    @given(route=st.sampled_from(JSON_ROUTES), target=ids, body=json_api_bodies(), signed_in=MOSTLY,
           xsrf=st.one_of(st.just("right"), st.just("right"), st.just(None), hostile_text(huge=False)))
    @example(route=("PUT", "/oauth/clients/{id}"), target=made["client_id"],
             body=(b'{"redirect_uris": [1, 2]}', "application/json"), signed_in=True, xsrf="right")
    @example(route=("POST", "/oauth/personal-access-tokens"), target="x",
             body=(b'{"name": ["x"], "scopes": "orders:read"}', "application/json"), signed_in=True, xsrf="right")
    def check(route: tuple[str, str], target: str, body: tuple[bytes, str | None], signed_in: bool,
              xsrf: str | None) -> None:
        method, template = route
        path = template.replace("{id}", quote(target, safe="")[:8000] or "x")  # API Gateway: URLs up to 10 KB
        headers = cookies_for(w, signed_in, None)
        if xsrf is not None:
            headers["X-XSRF-TOKEN"] = w.csrf if xsrf == "right" else xsrf
        data, content_type = body
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = send(http, w.base, Sent(method, path, "", headers, data if method in ("POST", "PUT") else b""))
        assert_json_style(response)

    check()


def test_account_page_answers_html_for_any_form(world, http):
    """docs/http.md (the account page): any action, id, name or scope, with the right CSRF token or not,
    answers an HTML page or a 303; never a 5xx."""
    w = world
    w.install()
    fields = {
        "action": plausible("revoke_app", "revoke_token", "create_token", "create_client", "delete_client",
                         "rotate_secret", "update_client", "nope"),
        "id": plausible(w.confidential.client_id, str(uuid.uuid4())),
        "name": plausible("My token"),
        "scopes": plausible("orders:read", "orders:write", "nope"),
        "redirect": plausible(REDIRECT, "not a uri"),
        "_token": plausible(w.csrf),
    }

    @fuzz(30)
    @given(tail=QUERY_TAILS, method=st.sampled_from(("GET", "POST", "POST", "POST")),
           pairs=form_pairs(fields, required=("action", "_token")),
           body_kind=st.sampled_from(("form", "form", "form", "json", "wrong_type", "not_utf8")),
           signed_in=MOSTLY, extra_cookie=COOKIE_NOISE)
    def check(tail: str, method: str, pairs: list[tuple[str, str]], body_kind: str, signed_in: bool,
              extra_cookie: str | None) -> None:
        headers = cookies_for(w, signed_in, extra_cookie)
        if method == "GET":
            sent = Sent("GET", "/account", query_string(pairs) + tail, headers)
        else:
            sent = Sent("POST", "/account", "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        assert_page_style(response)
        if response.is_redirect:
            assert allowed_location(w, response.headers["Location"]), describe(response)

    check()


# -- dynamic client registration (RFC 7591) and its management (RFC 7592) -----------------------------------------

INITIAL_ACCESS_TOKEN = "fuzz-initial-access-token"
REGISTRATION_METADATA = {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none",
                         "grant_types": ["authorization_code", "refresh_token"], "client_name": "Fuzzed agent"}
REGISTRATION_ROUTES = (("POST", "/oauth/register"), ("POST", "/oauth/register"), ("GET", "/oauth/register/{id}"),
                       ("PUT", "/oauth/register/{id}"), ("DELETE", "/oauth/register/{id}"))


@st.composite
def registration_bodies(draw: st.DrawFn, client_ids: st.SearchStrategy[str]) -> tuple[bytes, str | None]:
    """Client metadata (RFC 7591 2) made of its real members with plausible, wrong-typed or hostile values; or
    any JSON value, a form, broken bytes, a wrong content type, more than 16 KB."""
    uris = st.one_of(plausible(LOOPBACK, REDIRECT, "http://evil.example/cb", REDIRECT + "#f", "javascript:x",
                               "https://u:p@app.example.com/cb", "/cb", "com.example.app:/cb"),
                     hostile_text(huge=False))
    typed = {
        "redirect_uris": st.one_of(st.lists(uris, max_size=12), JSON_VALUES),
        "post_logout_redirect_uris": st.one_of(st.lists(uris, max_size=2), JSON_VALUES),
        "token_endpoint_auth_method": st.one_of(plausible("none", "client_secret_basic", "client_secret_post",
                                                          "private_key_jwt", "tls_client_auth"), JSON_VALUES),
        "grant_types": st.one_of(st.lists(plausible(*GRANT_TYPES, "urn:x"), max_size=3), JSON_VALUES),
        "response_types": st.one_of(st.lists(plausible("code", "token", "code id_token"), max_size=2), JSON_VALUES),
        "client_name": st.one_of(plausible("Agent", "<script>alert(1)</script>", "A" * 101), JSON_VALUES),
        "client_uri": st.one_of(plausible("https://agent.example.com", "javascript:alert(1)", "http://x"),
                                JSON_VALUES),
        "logo_uri": st.one_of(plausible("https://agent.example.com/l.png", "data:image/png;base64,AA"), JSON_VALUES),
        "scope": st.one_of(plausible("orders:read", "openid orders:write", "nope", "*"), JSON_VALUES),
        "client_id": st.one_of(client_ids, JSON_VALUES),
        "client_secret": st.one_of(plausible("secret"), JSON_VALUES),
        "software_id": JSON_VALUES,
    }
    kind = draw(st.sampled_from(("json",) * 6 + ("any_json", "form", "wrong_type", "broken", "huge")))
    if kind in ("json", "wrong_type", "huge"):
        document = {**REGISTRATION_METADATA, "client_id": draw(client_ids)} if draw(st.booleans()) else {}
        document.update({k: draw(typed[k]) for k in draw(st.lists(st.sampled_from(sorted(typed)), unique=True))})
        if kind == "huge":
            document["padding"] = "a" * draw(st.sampled_from((16_300, 40_000, 100_000)))
        content_type = draw(st.sampled_from(WRONG_TYPES)) if kind == "wrong_type" else draw(st.sampled_from((
            "application/json", "application/json", "application/json; charset=utf-8", "APPLICATION/JSON")))
        return json.dumps(document).encode(), content_type
    if kind == "any_json":
        return json.dumps(draw(JSON_VALUES)).encode(), "application/json"
    if kind == "form":
        pairs = draw(form_pairs({"redirect_uris": plausible(LOOPBACK), "token_endpoint_auth_method": plausible(
            "none"), "access_token": plausible(INITIAL_ACCESS_TOKEN)}))
        return urlencode(pairs).encode(), draw(st.sampled_from((FORM, None)))
    return draw(st.sampled_from((b"{", b"\xff\xfe", b"[1,2", b'{"client_name": "\xff"}', b"null", b""))), \
        "application/json"


def test_registration_answers_json_errors_for_any_request(env, world, http):
    """RFC 7591 3.2 and RFC 7592 2: any registration, read, replacement or deletion, with any metadata, body,
    client id and Authorization header (the initial access token, the registration access token, another one,
    none, another scheme), answers JSON with ``error`` on every error (RFC 6750 3.1's Bearer challenge with a
    401), 201/200/204 otherwise; never a 5xx."""
    import hashlib

    env.reconfigure(PASSPORT_REGISTRATION_POLICY="token", PASSPORT_REGISTRATION_PER_HOUR="10000",
                    PASSPORT_REGISTRATION_INITIAL_ACCESS_TOKEN_SHA256=hashlib.sha256(
                        INITIAL_ACCESS_TOKEN.encode()).hexdigest())
    w = world
    # The live registered client's id and token (a DELETE that succeeds makes a new one for the next examples).
    others_ids = plausible(w.confidential.client_id, str(uuid.uuid4()), "..", "%2F", "a/b")
    ids = st.sampled_from(("current",) * 3 + ("other", "hostile")).flatmap(
        lambda kind: st.builds(lambda: w.registered["client_id"]) if kind == "current"
        else others_ids if kind == "other" else hostile_text())
    # Mostly the right token for the route (the initial access token to register, the client's registration access
    # token to manage it), so examples reach the metadata checks; else the other one, a wrong one, none, noise.
    others = st.one_of(plausible("Bearer wrong", "Bearer a.b.c", "Bearer ", "Bearer " + "A" * 9000, "Basic x"),
                       st.sampled_from(BROKEN_AUTHORIZATIONS[:6]),
                       st.builds(lambda s, t: s + t, st.sampled_from(("Bearer ", "bearer ", "")), hostile_text(
                           huge=False)))
    authorization = st.sampled_from(("right",) * 4 + ("initial", "registration", "none", "other", "other")).flatmap(
        lambda kind: others if kind == "other" else st.just(kind))

    def header(choice: str, method: str) -> str | None:
        if choice == "right":
            choice = "initial" if method == "POST" else "registration"
        if choice == "initial":
            return f"Bearer {INITIAL_ACCESS_TOKEN}"
        if choice == "registration":
            return f"Bearer {w.registered['registration_access_token']}"
        return None if choice == "none" else choice

    @fuzz(50)
    @given(route=st.sampled_from(REGISTRATION_ROUTES), target=ids, body=registration_bodies(ids),
           authorization=authorization)
    @example(route=("POST", "/oauth/register"), target="x", body=(b'{"redirect_uris": [1]}', "application/json"),
             authorization="initial")
    @example(route=("PUT", "/oauth/register/{id}"), target="x", body=(b'{"client_id": {}}', "application/json"),
             authorization="none")
    def check(route: tuple[str, str], target: str, body: tuple[bytes, str | None], authorization: str) -> None:
        method, template = route
        path = template.replace("{id}", quote(target, safe="")[:8000] or "x")
        sent_authorization = header(authorization, method)
        headers = {"Authorization": sent_authorization} if sent_authorization is not None else {}
        data, content_type = body
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = send(http, w.base, Sent(method, path, "", headers, data if method in ("POST", "PUT") else b""))
        answer = assert_json_style(response)
        assert response.status_code in (200, 201, 204, 400, 401, 403, 404, 405, 429), describe(response)
        if response.status_code == 401:
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)
        if response.status_code in (200, 201):
            assert isinstance(answer, dict) and answer["client_id"], describe(response)
            assert response.headers.get("Cache-Control") == "no-store", describe(response)
        if response.status_code == 201:
            assert answer["registration_access_token"] and answer["registration_client_uri"], describe(response)
        if response.status_code == 204:
            w.__dict__.pop("registered", None)  # deleted: the next example registers afresh

    check()


# -- discovery, keys, the OpenAPI document, the demo API behind the guard -----------------------------------------

PUBLIC_JSON = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
               "/.well-known/jwks.json", "/openapi.json")
DEMO = ("/api/user", "/api/ping", "/api/orders")


def test_discovery_documents_and_the_guarded_api_answer_json_for_any_query_or_token(world, http):
    """RFC 8414 3.2 and RFC 7517: the documents are JSON whatever the query; RFC 6750 3.1 and docs/concepts.md:
    the demo API answers 200 or a JSON 401 ``invalid_token`` / 403 ``insufficient_scope`` with a Bearer
    ``WWW-Authenticate``, whatever Authorization header comes."""
    w = world
    header, claims = (jwt.get_unverified_header(w.access_token),
                      jwt.decode(w.access_token, options={"verify_signature": False}))
    forged_none = jwt.encode({**claims, "scope": "orders:read orders:write"}, key="", algorithm="none",
                             headers={"kid": header["kid"], "typ": "at+jwt"})
    forged_hs = jwt.encode(claims, key="k" * 32, algorithm="HS256", headers={"kid": header["kid"], "typ": "at+jwt"})
    tokens = values(w.access_token, w.access_token[:-5] + "AAAAA", forged_none, forged_hs, "a.b.c", "",
                    w.refresh_token, huge=False)
    schemes = st.sampled_from(("Bearer ", "bearer ", "BEARER  ", "Basic ", "", "Bearer\t", "Token "))
    authorization = st.one_of(st.none(), st.builds(lambda s, t: (s + t), schemes, tokens),
                              st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=60),
                              st.just("Bearer " + "A" * 9000))

    @fuzz(50)
    @given(tail=QUERY_TAILS, path=st.sampled_from(PUBLIC_JSON + DEMO + DEMO), query=form_pairs({
        "access_token": plausible(w.access_token), "x": hostile_text(huge=False)}), authorization=authorization)
    def check(tail: str, path: str, query: list[tuple[str, str]], authorization: str | None) -> None:
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = send(http, w.base, Sent("GET", path, query_string(query) + tail, headers))
        body = assert_json_style(response)
        if path in DEMO:
            assert response.status_code in (200, 401, 403, 404), describe(response)
            if response.status_code in (401, 403):
                assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)
                assert body["error"] in ("invalid_token", "insufficient_scope"), describe(response)
        else:
            assert response.status_code == 200, describe(response)

    check()


# -- OpenID Connect: userinfo and RP-initiated logout -------------------------------------------------------------


def test_userinfo_answers_claims_or_an_rfc6750_error_for_any_token_or_body(world, http):
    """OpenID Connect Core 5.3 and RFC 6750 3.1: any GET or POST gets the claims (200) or JSON with ``error`` and
    a Bearer challenge (401, 403) or invalid_request (400)."""
    w = world
    access, id_token = w.openid_tokens
    tokens = values(access, access[:-5] + "AAAAA", id_token, w.access_token, "a.b.c", "", huge=False)
    schemes = st.sampled_from(("Bearer ", "bearer ", "Bearer  ", "Basic ", "", "Token "))
    authorization = st.one_of(st.none(), st.builds(lambda s, t: s + t, schemes, tokens),
                              st.just("Bearer " + "A" * 9000))

    @fuzz(40)
    @given(method=st.sampled_from(("GET", "POST", "POST")), authorization=authorization,
           pairs=form_pairs({"access_token": tokens, "x": hostile_text(huge=False)}),
           body_kind=st.sampled_from(("form", "form", "json", "wrong_type", "not_utf8")), tail=QUERY_TAILS)
    def check(method: str, authorization: str | None, pairs: list[tuple[str, str]], body_kind: str,
              tail: str) -> None:
        headers = {"Authorization": authorization} if authorization is not None else {}
        if method == "GET":
            sent = Sent("GET", "/oauth/userinfo", query_string(pairs) + tail, headers)
        else:
            sent = Sent("POST", "/oauth/userinfo", "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        body = assert_json_style(response)
        assert response.status_code in (200, 400, 401, 403), describe(response)
        if response.status_code == 200:
            assert body["sub"] == w.user.id and body["email"] == w.user.email, describe(response)
        if response.status_code in (401, 403):
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer realm="), describe(response)

    check()


def test_logout_answers_html_and_redirects_only_to_a_registered_post_logout_uri(world, http):
    """RP-Initiated Logout 1.0 sections 2-3: any request, signed in or not, gets an HTML page or a 303 to exactly
    a registered post_logout_redirect_uri (its state appended), never anywhere else."""
    w = world
    _, id_token = w.openid_tokens
    fields = {
        "id_token_hint": plausible(id_token, id_token[:-6] + "AAAAAA", w.access_token, "a.b.c"),
        "client_id": plausible(w.confidential.client_id, w.public.client_id, "nope"),
        "post_logout_redirect_uri": plausible(GOODBYE, GOODBYE + "/", "https://evil.example/", REDIRECT,
                                              "//evil.example", "javascript:alert(1)"),
        "state": plausible("st-1", "a&b=c#d"),
        "_token": plausible(w.csrf),
    }

    @fuzz(40)
    @given(method=st.sampled_from(("GET", "GET", "POST")), pairs=form_pairs(fields),
           body_kind=st.sampled_from(("form", "form", "json", "wrong_type", "not_utf8")), signed_in=MOSTLY,
           tail=QUERY_TAILS)
    def check(method: str, pairs: list[tuple[str, str]], body_kind: str, signed_in: bool, tail: str) -> None:
        headers = {"Cookie": w.session_cookie} if signed_in else {}
        if method == "GET":
            sent = Sent("GET", "/oauth/logout", query_string(pairs) + tail, headers)
        else:
            sent = Sent("POST", "/oauth/logout", "", headers, _page_body(pairs, body_kind, headers))
        response = send(http, w.base, sent)
        assert_page_style(response)
        if response.is_redirect:
            location = response.headers["Location"]
            assert location == GOODBYE or location.startswith(GOODBYE + "?state="), describe(response)
        if "passport_session=;" in response.headers.get("Set-Cookie", ""):
            w.__dict__.pop("browser", None)  # the session ended: the next example signs in afresh

    check()


# -- the gateway itself: unknown paths and methods ---------------------------------------------------------------


def test_unknown_paths_and_methods_get_json_404_and_405_from_the_gateway(world, http):
    """docs/http.md (errors, "Anywhere"): an unknown path is a JSON 404, a known path with another method a JSON 405
    with ``Allow``; encoded slashes, dot segments and non-UTF-8 percent escapes change nothing."""
    w = world
    segment = st.one_of(st.sampled_from(("oauth", "token", "api", "..", ".", "%2F", "%FF", "%00", "%C3%28", "",
                                         "account", "login", ".well-known", "{client_id}")),
                        st.text(st.characters(codec="ascii", categories=("L", "N")), max_size=8))
    methods = st.sampled_from(("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"))

    @fuzz(80)
    @given(method=methods, segments=st.lists(segment, min_size=1, max_size=4), known=st.booleans())
    def check(method: str, segments: list[str], known: bool) -> None:
        path = "/" + "/".join(segments)
        if known:
            path = "/oauth/token" if method != "POST" else "/openapi.json"
        response = send(http, w.base, Sent(method, path))
        assert_no_crash(response)
        if response.status_code in (404, 405):
            if method != "HEAD":
                assert assert_json_style(response)["error"] in ("not_found", "method_not_allowed"), describe(response)
            if response.status_code == 405:
                assert response.headers.get("Allow"), describe(response)

    check()


def test_a_request_line_over_64_kb_is_refused_without_reaching_a_function(server):
    """docs/http.md (errors, "Anywhere"): an absurd URL (100 KB of query) is refused with a 4xx, never a 5xx or a
    trace. API Gateway refuses URLs over 10 KB itself; the local server refuses request lines over 64 KB."""
    response = requests.get(f"{server.url}/oauth/authorize", params={"state": "s" * 100_000}, timeout=30)
    assert_no_crash(response)
    assert response.status_code == 414
