"""Hostile input at the browser endpoints (docs/http.md; RFC 9700 4.1, 4.7, 4.11,
4.16; RFC 6749 10.6, 10.10, 10.12, 10.13, 10.14), swept systematically through the local gateway on a real socket:

- open redirects: ``next`` on /login and every shape of redirect URI at /oauth/authorize;
- CR/LF (and header-breaking characters) in every parameter that reaches a response header, read from the
  raw bytes the server sends;
- XSS: hostile data in every field a page reflects, checked in the HTML and in a real headless Chromium;
- CSRF: every form the pages render, found by parsing them, and every state-changing JSON API route, found
  in the route table, refused without the token, with a wrong one and with another session's, with no effect;
- clickjacking and CORS headers on every HTML answer, error pages included;
- login enumeration: an unknown account and a wrong password get the same answer after the same work (one
  password hash check, the same storage calls), at the sign-in page, the password grant and the throttle.

tests/integration/test_authorization_code.py and tests/unit/test_pages.py hold the first examples of several
of these rules; this module is the complete sweep docs/security.md cites.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from markupsafe import escape

from tests.conftest import make_client
from tests.integration.browser import Browser, Form, forms, pkce_pair, query_of

PASSWORD = "correct horse battery staple"
REDIRECT = "https://app.example.com/callback"
LOOPBACK = "http://127.0.0.1/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
EVIL_ORIGIN = "https://evil.example"


# -- the world: users, clients, signed-in browsers ----------------------------------------------------------------


def new_user(email: str | None = None, name: str = "Ada Lovelace", password: str | None = PASSWORD):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=email or f"u{uuid.uuid4().hex[:8]}@example.com", name=name,
                       password=password)


def signed_in(server, user, **headers: str) -> Browser:
    browser = Browser(server.url)
    browser.http.headers.update(headers)
    assert browser.login(user.email, PASSWORD).status_code == 303
    return browser


def web_app(env, **options):
    options.setdefault("name", "Orders App")
    options.setdefault("grant_types", ("authorization_code", "refresh_token"))
    options.setdefault("redirect_uris", (REDIRECT,))
    options.setdefault("scopes", ("orders:read", "orders:write"))
    return make_client(env, **options)


def device_client(env, name: str = "Living-room TV"):
    return make_client(env, name=name, grant_types=(DEVICE_GRANT, "refresh_token"), public=True)


def start_device(server, client) -> dict:
    response = requests.post(f"{server.url}/oauth/device/code", data={"client_id": client.client_id,
                                                                      "scope": "orders:read"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def authorize_params(app, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "scope": "orders:read",
            "state": "s", **extra}


def html_of(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").startswith("text/html")


# -- where a browser goes --------------------------------------------------------------------------------------------


def browser_destination(base: str, location: str):
    """The URL a browser navigates to for this Location, read as the WHATWG URL parser reads it: leading and
    trailing C0 controls and spaces dropped, tabs and newlines removed anywhere, backslashes taken as slashes."""
    cleaned = location.strip("".join(chr(c) for c in range(0x21)))
    cleaned = re.sub("[\t\n\r]", "", cleaned).replace("\\", "/")
    return urlsplit(urljoin(base + "/login", cleaned))


def stays_on_site(base: str, location: str) -> bool:
    """A valid header value (printable ASCII, so nothing a browser would re-read) that a browser resolves to
    this server's own origin."""
    if not location or any(not "\x21" <= c <= "\x7e" for c in location):
        return False
    target, own = browser_destination(base, location), urlsplit(base)
    return (target.scheme, target.netloc) == (own.scheme, own.netloc) and not location.startswith(("//", "/\\"))


# -- 1. open redirects through `next` --------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/", "http://evil.example/x", "HTTPS://EVIL.EXAMPLE", "//evil.example/", "///evil.example/",
    "////evil.example", "/\\evil.example", "\\/evil.example", "\\\\evil.example", "/\\/evil.example",
    "%2F%2Fevil.example", "%2f%2fevil.example", "javascript:alert(document.domain)", "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "http:evil.example", "https:evil.example", "https:/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\r/evil.example", "\t//evil.example",
    " //evil.example", "/ /evil.example", "/\x00/evil.example", "\x0c//evil.example", "/\x0b/evil.example",
    "/\uff0f/evil.example", "/\u2215/evil.example", "/\u3002evil.example", "evil.example", "@evil.example",
    ".evil.example", "/%0d%0aLocation:%20https://evil.example", "/\r\nLocation: https://evil.example",
    "/\u560d\u560aLocation: https://evil.example",
]
#: Odd but local: a browser stays on this server with each (they are paths, not authorities).
ODD_LOCAL_NEXT = ["/%2F/evil.example", "/.//evil.example", "/oauth/../..//evil.example", "/login@evil.example",
                  "/%5C%5Cevil.example", "/%09/evil.example", "/account?next=//evil.example"]


def test_login_next_never_sends_the_browser_off_the_site(server):
    """RFC 9700 4.11 (open redirectors): whatever `next` holds, the browser lands on this server, after the
    sign-in form (POST), on a signed-in GET /login, and in the login form's hidden field."""
    user = new_user()
    signed = signed_in(server, user)
    stranger = Browser(server.url)
    token = next(f for f in forms(stranger.get("/login").text) if f.action == "/login").fields["_token"]
    failures = []
    for index, target in enumerate(HOSTILE_NEXT + ODD_LOCAL_NEXT):
        form_page = stranger.get("/login", next=target)
        hidden = next(f for f in forms(form_page.text) if f.action == "/login").fields["next"]
        if hidden and not stays_on_site(server.url, hidden):
            failures.append(("login form's next field", target, hidden))
        if index % 3 == 0:
            # A sign-in costs a password hash: one in three values (every shape is in the signed-in GET below,
            # which reads `next` with the same check).
            after_login = requests.post(f"{server.url}/login", cookies={"passport_login": token}, timeout=10,
                                        allow_redirects=False, data={"_token": token, "email": user.email,
                                                                     "password": PASSWORD, "next": target})
            location = after_login.headers.get("Location", "")
            if after_login.status_code != 303 or not stays_on_site(server.url, location):
                failures.append(("after sign-in", target, after_login.status_code, location))
        again = signed.get("/login", next=target)
        if again.status_code == 303 and not stays_on_site(server.url, again.headers["Location"]):
            failures.append(("signed-in GET /login", target, again.headers["Location"]))
        elif again.status_code not in (200, 303):
            failures.append(("signed-in GET /login", target, again.status_code))
    assert not failures, failures
    # The control: a local next is honoured (so the checks above could fail).
    assert signed.get("/login", next="/account").headers["Location"] == "/account"


def test_login_next_behind_a_stage_path_stays_within_the_site(env):
    """On API Gateway's default URL the issuer has a base path (/prod): hostile `next` values still resolve to
    the issuer's origin, and the default answer stays under the base path."""
    from passport import compose
    from passport.core.http import Headers, Request

    env.reconfigure(PASSPORT_ISSUER="https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
    base = "https://abc123.execute-api.eu-west-1.amazonaws.com"
    user = new_user()
    pages = compose.browser_endpoints()
    failures = []
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example",
                   "javascript:alert(1)", "https:evil.example", "/prod//evil.example", "//prod/evil.example",
                   "/prod/\\evil.example", "/prod/../..//evil.example", "/prod/\r\nLocation: https://evil.example"]:
        token = "t" * 32
        body = urlencode({"_token": token, "email": user.email, "password": PASSWORD, "next": target}).encode()
        answer = pages.handle(Request("POST", "/login", Headers({
            "content-type": "application/x-www-form-urlencoded", "cookie": f"__Host-passport_login={token}"}),
            {}, body, "198.51.100.7"))
        location = answer.headers.get("Location", "")
        if answer.status != 303 or not stays_on_site(base, location):
            failures.append((target, answer.status, location))
    assert not failures, failures
    default = pages.handle(Request("POST", "/login", Headers({
        "content-type": "application/x-www-form-urlencoded", "cookie": "__Host-passport_login=" + "t" * 32}), {},
        urlencode({"_token": "t" * 32, "email": user.email, "password": PASSWORD}).encode(), "198.51.100.8"))
    assert default.headers["Location"] == "/prod/login"


# -- 2. open redirects through redirect_uri ----------------------------------------------------------------------

REDIRECT_URI_VARIANTS = [
    # scheme, host, port
    "http://app.example.com/callback", "https://app.example.com:443/callback", "https://app.example.com:8443/callback",
    "https://evil.example/callback", "https://app.example.com.evil.example/callback", "https://example.com/callback",
    "https://evil.example/https://app.example.com/callback", "wss://app.example.com/callback",
    # path prefix, suffix, dot segments, encoding, case
    "https://app.example.com/callback/", "https://app.example.com/callback/evil", "https://app.example.com/callbackx",
    "https://app.example.com/call", "https://app.example.com/", "https://app.example.com",
    "https://app.example.com/callback/../evil", "https://app.example.com/evil/../callback",
    "https://app.example.com/./callback", "https://app.example.com//callback", "https://app.example.com/%63allback",
    "https://app.example.com/callback%2F", "https://app.example.com/callback%00", "https://app%2Eexample.com/callback",
    "HTTPS://app.example.com/callback", "https://APP.example.com/callback", "https://app.example.com/Callback",
    "https://app.example.com./callback", "https://app.example.com%2E/callback",
    # query, fragment
    "https://app.example.com/callback?x=1", "https://app.example.com/callback?", "https://app.example.com/callback#x",
    "https://app.example.com/callback#", "https://app.example.com/callback?redirect=https://evil.example",
    # userinfo and its look-alikes
    "https://app.example.com@evil.example/callback", "https://evil.example@app.example.com/callback",
    "https://app.example.com:@evil.example/callback", "https://app.example.com%40evil.example/callback",
    "https://app.example.com%2F@evil.example/callback", "https://app.example.com\\@evil.example/callback",
    "https://app.example.com\\.evil.example/callback",
    # relative, blank, whitespace, control characters, other schemes
    "//app.example.com/callback", "app.example.com/callback", "/callback", " https://app.example.com/callback",
    "https://app.example.com/callback ", "https://app.example.com/callback\t", "https://app.example.com/call\tback",
    "https://app.example.com/callback\r\nX-Injected: yes", "https://app.example.com/callback%0d%0aX-Injected:%20yes",
    "javascript:alert(1)//https://app.example.com/callback", "data:text/html,<script>alert(1)</script>",
    "https://app.example.com/callback,https://evil.example/callback", "https://app.example.com/callback\u2028",
    "https://app.example.com/\u0441allback",
]
LOOPBACK_VARIANTS = [
    "http://127.0.0.1:8080/callback/x", "http://127.0.0.1:8080/Callback", "https://127.0.0.1:8080/callback",
    "http://localhost:8080/callback", "http://[::1]:8080/callback", "http://127.0.0.2:8080/callback",
    "http://127.0.0.1.evil.example:8080/callback", "http://evil.example@127.0.0.1:8080/callback",
    "http://127.0.0.1:8080@evil.example/callback", "http://127.0.0.1@evil.example/callback",
    "http://127.0.0.1:8080/callback?x=1", "http://127.0.0.1:8080/callback#x", "http://127.0.0.1:99999/callback",
    "http://127.0.0.1:-1/callback", "http://0x7f000001:8080/callback", "http://2130706433:8080/callback",
    "http://127.1:8080/callback", "http://127.0.0.1:8080//callback", "http://127.0.0.1:8080/callback%0d%0a",
    "http://127.0.0.1:80:80/callback", "http://127.0.0.1:8080\\@evil.example/callback",
]


def test_no_redirect_uri_but_the_registered_one_ever_gets_a_redirect(server, env):
    """RFC 6749 3.1.2.3 and 4.1.2.1, RFC 9700 2.1 and 4.1: exact string matching (a loopback URI's port aside,
    RFC 8252 7.3). Any other redirect URI gets an HTML error page and never a Location: not when the request
    also has an error the client would otherwise hear of (here a bad scope), not to a signed-in user, not on
    a tampered approval or denial."""
    user = new_user()
    browser = signed_in(server, user)
    app = web_app(env)
    native = make_client(env, name="CLI", grant_types=("authorization_code",), redirect_uris=(LOOPBACK,),
                         public=True)
    _, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    consent = browser.authorize(**authorize_params(app))
    approve, deny = browser.consent_forms(consent)
    native_consent = browser.authorize(**authorize_params(native, redirect_uri="http://127.0.0.1:8080/callback",
                                                          **pkce))
    native_approve, native_deny = browser.consent_forms(native_consent)
    cases = [(app, uri, approve, deny, {}) for uri in REDIRECT_URI_VARIANTS]
    cases += [(native, uri, native_approve, native_deny, pkce) for uri in LOOPBACK_VARIANTS]
    stranger = Browser(server.url)  # the redirect URI is checked before the session: no sign-in needed
    failures = []
    for index, (client, uri, approve_form, deny_form, extra) in enumerate(cases):
        # With a bad scope: a URI taken as registered would get the invalid_scope error redirected to it.
        answers = {"GET": stranger.authorize(**authorize_params(client, redirect_uri=uri, scope="nope", **extra))}
        if index % 4 == 0 or "@" in uri:
            # The consent form's answer is validated by the same code: a sample of the shapes is enough.
            answers["signed-in GET"] = browser.authorize(**authorize_params(client, redirect_uri=uri, **extra))
            answers["approve"] = browser.submit(approve_form, redirect_uri=uri)
            answers["deny"] = browser.submit(deny_form, redirect_uri=uri)
        for name, answer in answers.items():
            if answer.status_code != 400 or "Location" in answer.headers or not html_of(answer):
                failures.append((uri, name, answer.status_code, answer.headers.get("Location")))
    assert not failures, failures
    # The controls: the registered URIs (and a loopback one on any port) do get their redirects.
    error = stranger.authorize(**authorize_params(app, scope="nope"))
    assert error.status_code == 303 and error.headers["Location"].startswith(REDIRECT + "?error=invalid_scope")
    assert browser.submit(approve).headers["Location"].startswith(REDIRECT + "?code=")
    assert browser.submit(native_approve).headers["Location"].startswith("http://127.0.0.1:8080/callback?code=")


# -- 3. CR/LF and header-breaking characters -------------------------------------------------------------------------


@dataclass
class RawReply:
    status: int
    headers: list[tuple[str, str]]
    head: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def raw_request(base: str, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> RawReply:
    """Send a request as written (the target already percent-encoded) and read the answer's bytes, so a header
    a parser might have merged or dropped is seen as sent."""
    parts = urlsplit(base)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    status_line, *header_lines = head.split(b"\r\n")
    parsed = []
    for line in header_lines:
        name, _, value = line.decode("latin-1").partition(":")
        parsed.append((name, value.strip()))
    return RawReply(int(status_line.split()[1]), parsed, head)


#: Percent-encoded as they would arrive in a URL or a form body.
CRLF_PAYLOADS = ["%0d%0aX-Injected:%20yes", "%0aX-Injected:%20yes", "%0dX-Injected:%20yes%0d%0a%0d%0a<html>",
                 "%E5%98%8A%E5%98%8DX-Injected:%20yes", "%00%c0%8aX-Injected:%20yes"]


def test_crlf_in_any_parameter_never_reaches_a_response_header(server, env):
    """RFC 9112 and RFC 9110 5.5: CR, LF (raw, percent-encoded, or as the UTF-8 characters that a careless
    encoder truncates to them) in state, redirect_uri, next, user_code, scope or client_id never inject a
    header: every header line the server writes is printable, and a Location carries them percent-encoded."""
    user, unlucky = new_user(), new_user()
    browser = signed_in(server, user)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.http.cookies)
    first_party = web_app(env, first_party=True)
    login_page = Browser(server.url)
    token = next(f for f in forms(login_page.get("/login").text) if f.action == "/login").fields["_token"]
    login_cookie = f"passport_login={token}"
    form = "application/x-www-form-urlencoded"

    def authorize(name: str, raw: str, **changes: str) -> str:
        """/oauth/authorize with one parameter written raw (its payload percent-encoded as sent)."""
        params = {k: v for k, v in {**authorize_params(first_party), **changes}.items() if k != name}
        return f"/oauth/authorize?{urlencode(params)}&{name}={raw}"

    failures = []
    for p in CRLF_PAYLOADS:
        requests_ = [
            ("GET", authorize("state", p), cookie, b""),
            ("GET", authorize("state", p), "", b""),
            ("GET", authorize("state", p, scope="nope"), cookie, b""),
            ("GET", authorize("scope", f"nope{p}"), cookie, b""),
            ("GET", authorize("state", p, response_type="token"), cookie, b""),
            ("GET", authorize("redirect_uri", f"{REDIRECT}{p}"), cookie, b""),
            ("GET", authorize("client_id", f"{first_party.client_id}{p}"), cookie, b""),
            ("GET", f"/login?next=/account{p}", cookie, b""),
            ("GET", f"/login?next=/account{p}", "", b""),
            ("POST", "/login", login_cookie,
             f"_token={token}&email={unlucky.email}&password=wrong&next=/account{p}".encode()),
            ("POST", "/login", login_cookie,
             f"_token={token}&email={user.email}&password={PASSWORD.replace(' ', '+')}&next=/x{p}".encode()),
            ("GET", f"/oauth/device?user_code=BCDF{p}", cookie, b""),
            ("GET", f"/oauth/device?user_code=BCDF{p}", "", b""),
            ("GET", f"/oauth/device/authorize?user_code=BCDF{p}", cookie, b""),
            ("GET", f"/account?x={p}", "", b""),
        ]
        for method, target, cookies, body in requests_:
            headers = {"Cookie": cookies} if cookies else {}
            if method == "POST":
                headers["Content-Type"] = form
            reply = raw_request(server.url, method, target, headers, body)
            names = [name.lower() for name, _ in reply.headers]
            bad_lines = [line for line in reply.head.split(b"\r\n")[1:]
                         if not re.fullmatch(rb"[!-9;-~]+:[ -~]*", line)]
            location = reply.header("Location")
            if ("x-injected" in names or bad_lines or reply.status >= 500 or b"<html>" in reply.head
                    or (location is not None and not re.fullmatch(r"[!-~]+", location))):
                failures.append((method, target, reply.status, reply.head[:300]))
    assert not failures, failures
    # The control: the state does come back (encoded), so the payload did reach a header.
    reply = raw_request(server.url, "GET", authorize("state", CRLF_PAYLOADS[0]), {"Cookie": cookie})
    assert reply.status == 303 and "state=%0D%0AX-Injected%3A+yes" in reply.header("Location")


# -- 4. XSS in every reflected field -------------------------------------------------------------------------------

SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=1">'
SVG = "'><svg/onload=window.__xss=1>"
JS_URL = "javascript:window.__xss=1"
#: A `next` that is a local path (no space) and still markup.
NEXT = "/" + "'><svg/onload=window.__xss=1>" + "<script>window.__xss=1</script>"
PAYLOADS = [SCRIPT, IMG, SVG]
HOSTILE_SCOPE = "<svg/onload=window.__xss=1>"
HOSTILE_CONFIG = (
    "app_name = '<script>window.__xss=1</script>Evil & \"Co\"'\n"
    "[scopes]\n"
    "\"orders:read\" = '<img src=x onerror=window.__xss=1>Read your orders'\n"
    "\"orders:write\" = \"Create and change your orders\"\n"
    f"\"{HOSTILE_SCOPE}\" = '<script>window.__xss=1</script>'\n"
)
#: A redirect URI that registration accepts and that still carries script-looking text.
HOSTILE_REDIRECT = "https://app.example.com/cb?next=javascript:window.__xss=1&x=%3Cscript%3E"
#: The tags the templates use: anything else on a page was injected.
TEMPLATE_TAGS = {"html", "head", "meta", "link", "title", "style", "body", "header", "span", "main", "h1", "h2", "p",
                 "div", "form", "input", "label", "button", "ul", "li", "strong", "code", "fieldset", "legend", "a"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def injection_problems(html: str, expected: list[str]) -> list[str]:
    """What makes this page unsafe: a payload verbatim, a tag the templates do not use, an event handler
    attribute, a javascript: URL in an attribute; and what makes the check vacuous: a payload that did not
    reach the page (escaped)."""
    problems = [f"raw payload {p!r}" for p in [*PAYLOADS, HOSTILE_SCOPE] if p in html]
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag not in TEMPLATE_TAGS:
            problems.append(f"injected <{tag}>")
        problems += [f"<{tag} {name}=...>" for name in attrs if name.startswith("on")]
        problems += [f"<{tag} {name}={value!r}>" for name, value in attrs.items()
                     if name in ("href", "src", "action", "formaction") and value
                     and re.sub(r"[\x00-\x20]", "", value).lower().startswith(("javascript:", "data:text"))]
    problems += [f"payload missing (not reflected at all?) {p!r}" for p in expected if str(escape(p)) not in html]
    return problems


@dataclass
class HostileWorld:
    """A deployment where every field a page shows holds hostile text, and the pages that show them."""

    user: object
    browser: Browser
    pages: dict[str, tuple[str, list[str]]]  # page name -> (html, the payloads it must show escaped)
    urls: dict[str, str]  # GET pages a real browser can open with the session


@pytest.fixture
def hostile(server, env) -> HostileWorld:
    from passport import admin
    from passport.storage.repositories import DynamoClientStore

    admin.install(env.settings, DynamoClientStore())
    email = '"><svg/onload=window.__xss=1>@x.example'
    user = new_user(email=email, name=SCRIPT + IMG)
    browser = signed_in(server, user)
    app = web_app(env, name=SCRIPT + SVG, redirect_uris=(HOSTILE_REDIRECT,),
                  scopes=("orders:read", HOSTILE_SCOPE))
    pages: dict[str, tuple[str, list[str]]] = {}
    urls: dict[str, str] = {}
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": HOSTILE_REDIRECT,
             "scope": f"orders:read {HOSTILE_SCOPE}", "state": IMG + SCRIPT, "nonce": SVG}
    consent = browser.get("/oauth/authorize?" + urlencode(query))
    assert consent.status_code == 200, consent.text
    pages["consent"] = (consent.text, [SCRIPT + SVG, IMG + SCRIPT, SVG, HOSTILE_SCOPE, SCRIPT + IMG, email,
                                       "<img src=x onerror=window.__xss=1>Read your orders", SCRIPT,
                                       HOSTILE_REDIRECT])
    urls["consent"] = "/oauth/authorize?" + urlencode({**query, "prompt": "consent"})
    # Approve and redeem: the app then shows under "Apps you authorized".
    approve, _ = browser.consent_forms(consent)
    code = query_of(browser.submit(approve).headers["Location"])["code"]
    redeemed = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": HOSTILE_REDIRECT})
    assert redeemed.status_code == 200, redeemed.text
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    made = browser.http.post(f"{server.url}/oauth/personal-access-tokens", headers=xsrf, timeout=10,
                             json={"name": IMG + SVG, "scopes": ["orders:read"]})
    assert made.status_code == 201, made.text
    mine = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf, timeout=10,
                             json={"name": SVG + SCRIPT, "redirect": HOSTILE_REDIRECT})
    assert mine.status_code == 201, mine.text
    account = browser.get("/account")
    pages["account"] = (account.text, [SCRIPT + IMG, email, SCRIPT + SVG, IMG + SVG, SVG + SCRIPT, HOSTILE_REDIRECT,
                                       "<img src=x onerror=window.__xss=1>Read your orders"])
    urls["account"] = "/account"
    # The account page's error page reflects the refused redirect URI.
    create = next(f for f in forms(account.text) if f.fields.get("action") == "create_client")
    refused = browser.submit(create, name="x", redirect=JS_URL + IMG)
    assert refused.status_code == 422, refused.text
    pages["account error"] = (refused.text, [JS_URL + IMG])
    tv = device_client(env, name=IMG + SCRIPT)
    grant = start_device(server, tv)
    confirm = browser.get("/oauth/device/authorize", user_code=grant["user_code"])
    assert confirm.status_code == 200, confirm.text
    pages["device consent"] = (confirm.text, [IMG + SCRIPT, SCRIPT + IMG])
    urls["device consent"] = "/oauth/device/authorize?" + urlencode({"user_code": grant["user_code"]})
    typed = browser.get("/oauth/device/authorize", user_code=IMG + SCRIPT)
    assert typed.status_code == 400
    pages["device form"] = (typed.text, [IMG + SCRIPT])
    urls["device form"] = "/oauth/device/authorize?" + urlencode({"user_code": IMG + SCRIPT})
    signed = browser.get("/login")
    pages["signed in"] = (signed.text, [email])
    urls["signed in"] = "/login"
    stranger = Browser(server.url)
    form_page = stranger.get("/login", next=NEXT)
    pages["login form"] = (form_page.text, [NEXT, SCRIPT])
    urls["login form"] = "/login?" + urlencode({"next": NEXT})
    login = next(f for f in forms(form_page.text) if f.action == "/login")
    wrong = stranger.submit(login, email=SVG + IMG, password="wrong")
    assert wrong.status_code == 401
    pages["login failed"] = (wrong.text, [SVG + IMG, NEXT])
    other = signed_in(server, new_user())
    logout = next(f for f in forms(other.get("/account").text) if f.action == "/logout")
    pages["logged out"] = (other.submit(logout).text, [SCRIPT])
    return HostileWorld(user, browser, pages, urls)


@pytest.mark.passport_config(HOSTILE_CONFIG)
def test_hostile_text_in_every_reflected_field_is_shown_escaped_and_runs_no_script(server, hostile):
    """docs/http.md (every page autoescaped) and RFC 6749 10.14: the client's name and redirect URI, scope
    names and descriptions, state and nonce, the user's name and email, the app name, PAT and client names, a
    typed user code, an email typed into the login form, `next`, and an error page's message each reach their
    page escaped, never as markup.

    Then the same pages in headless Chromium with the Content-Security-Policy bypassed (the CSP alone would
    block inline scripts), so escaping alone must stop every payload: no script sets window.__xss, no dialog
    opens, no injected element exists, and no request leaves the server."""
    problems = {name: injection_problems(html, expected) for name, (html, expected) in hostile.pages.items()}
    assert not {name: found for name, found in problems.items() if found}
    assert len(hostile.pages) == 9

    from playwright.sync_api import sync_playwright

    from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS, MISSING_CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    injected = "script, img, svg, iframe, object, embed"
    dialogs: list[str] = []
    away: list[str] = []
    seen: list[tuple[str, str, int]] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(bypass_csp=True)
            context.set_default_timeout(15_000)
            context.add_cookies([{"name": c.name, "value": c.value, "url": server.url}
                                 for c in hostile.browser.http.cookies])
            context.on("request", lambda r: None if r.url.startswith((server.url, "data:")) else away.append(r.url))
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            def look(name: str) -> None:
                seen.append((name, page.evaluate("typeof window.__xss"), page.locator(injected).count()))

            for name, url in hostile.urls.items():
                page.goto(server.url + url)
                look(name)
            # Pages only a form submission reaches: the account page's error page, then a failed sign-in.
            page.goto(server.url + "/account")
            page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
            page.fill("#client-name", "x")
            page.fill("#client-redirect", JS_URL + IMG)
            page.get_by_role("button", name="Create client").click()
            page.wait_for_load_state()
            assert "Could not do that" in page.content()
            look("account error")
            context.clear_cookies()
            page.goto(server.url + "/login?" + urlencode({"next": NEXT}))
            page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
            page.fill("#email", SVG + IMG)
            page.fill("#password", "wrong")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            assert "These credentials do not match" in page.content()
            look("login failed")
            context.close()
        finally:
            chromium.close()
    assert [s for s in seen if s[1] != "undefined" or s[2]] == [], seen
    assert len(seen) == len(hostile.urls) + 2
    assert not dialogs and not away, (dialogs, away)


# -- 5. CSRF on every form and every state-changing JSON call --------------------------------------------------------


@dataclass
class CsrfWorld:
    user: object
    browser: Browser
    other: Browser
    app: object
    own_client: dict
    pat: dict
    device: dict
    pages: dict[str, requests.Response]


@pytest.fixture
def csrf_world(server, env) -> CsrfWorld:
    from passport import admin
    from passport.storage.repositories import DynamoClientStore

    admin.install(env.settings, DynamoClientStore())
    user = new_user()
    browser = signed_in(server, user)
    other = signed_in(server, new_user())
    app = web_app(env)
    consent = browser.authorize(**authorize_params(app))
    approve, _ = browser.consent_forms(consent)
    code = query_of(browser.submit(approve).headers["Location"])["code"]
    assert requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}).status_code == 200
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    pat = browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "deploy"}, headers=xsrf,
                            timeout=10).json()
    own = browser.http.post(f"{server.url}/oauth/clients", json={"name": "Mine", "redirect": REDIRECT},
                            headers=xsrf, timeout=10).json()
    device = start_device(server, device_client(env))
    pages = {
        "login": Browser(server.url).get("/login"),
        "consent": browser.authorize(**authorize_params(app, prompt="consent")),
        "device code entry": browser.get("/oauth/device"),
        "device consent": browser.get("/oauth/device/authorize", user_code=device["user_code"]),
        "account": browser.get("/account"),
    }
    assert all(page.status_code == 200 for page in pages.values()), {k: v.status_code for k, v in pages.items()}
    return CsrfWorld(user, browser, other, app, own, pat, device, pages)


def state_of(server, world: CsrfWorld) -> dict:
    """Everything a forged request could change, read without changing anything."""
    from passport.core.device import normalize_user_code
    from passport.storage.devices import DynamoDevices
    from passport.storage.sessions import DynamoConsents

    get = world.browser.http.get
    device = DynamoDevices().find_by_user_code(normalize_user_code(world.device["user_code"]))
    secret_works = requests.post(f"{server.url}/oauth/token", auth=(world.own_client["client_id"],
                                 world.own_client["client_secret"]), timeout=10,
                                 data={"grant_type": "refresh_token", "refresh_token": "x.y"}).json()["error"]
    return {
        "signed in": get(f"{server.url}/oauth/scopes", timeout=10).status_code,
        "apps": get(f"{server.url}/oauth/tokens", timeout=10).json(),
        "tokens": get(f"{server.url}/oauth/personal-access-tokens", timeout=10).json(),
        "clients": get(f"{server.url}/oauth/clients", timeout=10).json(),
        "own client secret": secret_works,  # invalid_grant: the secret still authenticates
        "device": device.status if device else None,
        "consent": DynamoConsents().granted(world.user.id, world.app.client_id),
    }


#: The forms the pages render, by page, as (action, the value of the form's "action" or "_method" field).
EXPECTED_FORMS = {
    "login": {("post", "/login", None)},
    "consent": {("post", "/oauth/authorize", None), ("post", "/oauth/authorize", "DELETE"), ("post", "/logout", None)},
    "device code entry": {("get", "/oauth/device/authorize", None)},
    "device consent": {("post", "/oauth/device/authorize", None), ("post", "/oauth/device/authorize", "DELETE"),
                       ("post", "/logout", None)},
    "account": {("post", "/logout", None)} | {("post", "/account", action) for action in (
        "revoke_app", "revoke_token", "create_token", "update_client", "rotate_secret", "delete_client",
        "create_client")},
}


def form_key(form: Form) -> tuple[str, str, str | None]:
    return (form.method, form.action, form.fields.get("action") or form.fields.get("_method"))


def test_every_post_form_refuses_a_missing_wrong_or_foreign_csrf_token_and_changes_nothing(server, csrf_world):
    """OWASP CSRF (RFC 6749 10.12 for the consent form). The sweep covers every form: parsed out of every page,
    they are exactly the known ones, each POST form with a hidden _token, and the only GET form (typing a
    device code) changes nothing. Each signed-in POST form sent without its token, with a wrong one, or with
    the token of another user's session (also as DELETE) is refused with 403 and no redirect (but for a POST to
    the authorization endpoint without any of the consent form's fields, which is an authorization request and
    answers as the same GET), and the account, its apps, tokens, clients, the device and the consent are exactly
    as before."""
    world = csrf_world
    found = {name: {form_key(f) for f in forms(page.text)} for name, page in world.pages.items()}
    assert found == EXPECTED_FORMS
    assert all(f.fields.get("_token") for page in world.pages.values() for f in forms(page.text)
               if f.method == "post")
    foreign = next(f for f in forms(world.other.get("/account").text) if f.action == "/logout").fields["_token"]
    before = state_of(server, world)
    failures = []
    for name, page in world.pages.items():
        if name == "login":
            continue
        for form in [f for f in forms(page.text) if f.method == "post"]:
            # (an extra field keeps the body non-empty: the refusal must be the token's, not the body's)
            filled = {"submitted": "1", **{k: v or "x" for k, v in form.fields.items() if k != "_token"}}
            if form.fields.get("action") == "update_client":
                filled["redirect"] = "https://evil.example/callback"
            for label, token in (("missing", None), ("wrong", "A" * 32), ("foreign", foreign)):
                data = dict(filled) if token is None else {**filled, "_token": token}
                answer = world.browser.http.post(server.url + form.action, data=data, allow_redirects=False,
                                                 timeout=10)
                if form.action == "/oauth/authorize" and token is None and "_method" not in filled:
                    # Without the consent form's own fields this is no answer to it but a relying party's
                    # authorization request sent by POST (OpenID Connect Core 3.1.2.1): it may do what the same
                    # GET does (answer at once where consent is remembered) and nothing more.
                    same_get = world.browser.http.get(server.url + form.action, params=filled,
                                                      allow_redirects=False, timeout=10)
                    if (answer.status_code, urlsplit(answer.headers.get("Location", "")).path) != (
                            same_get.status_code, urlsplit(same_get.headers.get("Location", "")).path):
                        failures.append((name, form_key(form), label, answer.status_code, same_get.status_code))
                    continue
                if answer.status_code != 403 or "Location" in answer.headers:
                    failures.append((name, form_key(form), label, answer.status_code,
                                     answer.headers.get("Location")))
            delete = world.browser.http.delete(server.url + form.action, data={**filled, "_token": foreign},
                                               allow_redirects=False, timeout=10)
            if delete.status_code not in (403, 405) or "Location" in delete.headers:
                failures.append((name, form_key(form), "DELETE foreign", delete.status_code))
    assert not failures, failures
    assert state_of(server, world) == before
    # The control: the same form with its own token does work.
    revoke = next(f for f in forms(world.pages["account"].text) if f.fields.get("action") == "revoke_token")
    assert world.browser.submit(revoke).status_code == 303
    assert state_of(server, world)["tokens"] == []


def test_the_login_form_refuses_a_missing_wrong_or_foreign_csrf_token(server):
    """Login CSRF (RFC 6749 10.12, OWASP): the sign-in form is a double submit (token == the login cookie): no
    token, a wrong one, another browser's, or no cookie at all is refused with 403 and no session."""
    user = new_user()
    victim, attacker = Browser(server.url), Browser(server.url)
    form = next(f for f in forms(victim.get("/login").text) if f.action == "/login")
    foreign = next(f for f in forms(attacker.get("/login").text) if f.action == "/login").fields["_token"]
    credentials = {"email": user.email, "password": PASSWORD, "next": ""}
    for label, data, jar in (("missing", credentials, victim), ("wrong", {**credentials, "_token": "A" * 32}, victim),
                             ("foreign", {**credentials, "_token": foreign}, victim),
                             ("no cookie", {**credentials, "_token": form.fields["_token"]}, Browser(server.url))):
        answer = jar.http.post(f"{server.url}/login", data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 403, label
        assert "passport_session" not in answer.headers.get("Set-Cookie", ""), label
    assert victim.submit(form, email=user.email, password=PASSWORD).status_code == 303  # the control


def test_every_state_changing_json_api_route_needs_the_xsrf_header(server, env, csrf_world):
    """Laravel Passport's JSON API convention: every POST, PUT and DELETE route of the account API (all found
    in the route table) needs X-XSRF-TOKEN equal to the session's XSRF-TOKEN cookie; without it, with a wrong
    one or another session's, 403 xsrf_token_mismatch and nothing changes."""
    from passport.routes import route_table

    world = csrf_world
    family = world.browser.http.get(f"{server.url}/oauth/tokens", timeout=10).json()[0]["id"]
    params = {"token_id": world.pat["token_id"], "client_id": world.own_client["client_id"]}
    bodies = {"/oauth/clients": {"name": "forged", "redirect": REDIRECT},
              "/oauth/personal-access-tokens": {"name": "forged"},
              "/oauth/clients/{client_id}": {"name": "forged", "redirect": "https://evil.example/cb"}}
    routes = [r for r in route_table(env.settings) if r.function == "account" and r.method not in ("GET", "HEAD")
              and r.path != "/account"]
    assert len(routes) == 7
    before = state_of(server, world)
    foreign = world.other.http.cookies["XSRF-TOKEN"]
    failures = []
    for route in routes:
        path = route.path.format(**{**params, "token_id": family if route.path.startswith("/oauth/tokens/")
                                    else params["token_id"]})
        body = bodies.get(route.path, {})
        for label, headers, send in (
                ("missing", {}, {"json": body}),
                ("missing, in a form as a cross-site page sends it", {}, {"data": body or {"x": "y"}}),
                ("wrong", {"X-XSRF-TOKEN": "A" * 32}, {"json": body}),
                ("foreign", {"X-XSRF-TOKEN": foreign}, {"json": body}),
                ("empty", {"X-XSRF-TOKEN": ""}, {"json": body})):
            answer = world.browser.http.request(route.method, server.url + path, headers=headers, timeout=10, **send)
            if answer.status_code != 403 or answer.json().get("error") != "xsrf_token_mismatch":
                failures.append((route.key, label, answer.status_code, answer.text[:100]))
    assert not failures, failures
    assert state_of(server, world) == before
    xsrf = {"X-XSRF-TOKEN": world.browser.http.cookies["XSRF-TOKEN"]}  # the control
    assert world.browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "ok"},
                                   headers=xsrf, timeout=10).status_code == 201


# -- 6. clickjacking and CORS ------------------------------------------------------------------------------------------


def test_every_html_answer_forbids_framing_and_no_answer_allows_cross_origin_reads(server, env):
    """RFC 6749 10.13 and RFC 9700 4.16 (clickjacking): every HTML answer of the browser endpoints, error pages
    and throttled pages included, has X-Frame-Options: DENY and CSP frame-ancestors 'none'. And no answer,
    HTML or JSON, 2xx or error, carries an Access-Control-Allow-* header, even to a request from another
    origin or a CORS preflight: another site's script cannot read the pages or the account API."""
    from passport import admin
    from passport.storage.repositories import DynamoClientStore

    admin.install(env.settings, DynamoClientStore())
    origin = {"Origin": EVIL_ORIGIN}
    user = new_user()
    browser = signed_in(server, user, **origin)
    stranger = Browser(server.url)
    stranger.http.headers.update(origin)
    app = web_app(env)
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    answers: dict[str, requests.Response] = {}
    answers["login"] = stranger.get("/login")
    login = next(f for f in forms(answers["login"].text) if f.action == "/login")
    answers["login failed"] = stranger.submit(login, email=user.email, password="wrong")
    answers["login forged"] = stranger.submit(login, _token="forged", email=user.email, password="x")
    answers["login bad body"] = stranger.http.post(f"{server.url}/login", data=b"\xff\xfe", timeout=10,
                                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    throttled = new_user()
    for _ in range(7):
        answers["login throttled"] = stranger.submit(login, email=throttled.email, password="wrong")
    assert answers["login throttled"].status_code == 429
    answers["signed in"] = browser.get("/login")
    answers["consent"] = browser.authorize(**authorize_params(app))
    answers["unknown client"] = browser.authorize(**authorize_params(app, client_id=str(uuid.uuid4())))
    answers["unregistered redirect"] = browser.authorize(**authorize_params(app, redirect_uri=REDIRECT + "/x"))
    answers["repeated parameter"] = browser.get(
        "/oauth/authorize?" + urlencode(authorize_params(app)) + "&client_id=" + app.client_id)
    approve, _ = browser.consent_forms(answers["consent"])
    answers["approve signed out"] = stranger.submit(approve)
    answers["approve forged"] = browser.submit(approve, _token="forged")
    answers["approve bad body"] = browser.http.post(f"{server.url}/oauth/authorize", json={"x": 1}, timeout=10)
    answers["approve tampered"] = browser.submit(approve, client_id=str(uuid.uuid4()))
    answers["device form"] = browser.get("/oauth/device")
    answers["device bad code"] = browser.get("/oauth/device/authorize", user_code="BCDF-GHJK")
    grant = start_device(server, device_client(env))
    answers["device consent"] = browser.get("/oauth/device/authorize", user_code=grant["user_code"])
    device_approve, _ = browser.consent_forms_at(answers["device consent"], "/oauth/device/authorize")
    answers["device forged"] = browser.submit(device_approve, _token="forged")
    answers["device connected"] = browser.submit(device_approve)
    answers["device answered twice"] = browser.submit(device_approve)
    for _ in range(6):
        answers["device throttled"] = browser.get("/oauth/device/authorize", user_code="BCDF-GHJK")
    assert answers["device throttled"].status_code == 429
    answers["account"] = browser.get("/account")
    create = next(f for f in forms(answers["account"].text) if f.fields.get("action") == "create_client")
    answers["account refused redirect"] = browser.submit(create, name="x", redirect="http://evil.example/cb")
    answers["account unknown action"] = browser.submit(create, action="nope")
    answers["account forged"] = browser.submit(create, _token="forged")
    answers["account new token"] = browser.submit(
        next(f for f in forms(answers["account"].text) if f.fields.get("action") == "create_token"), name="t")
    answers["account signed out"] = stranger.get("/account")
    answers["scopes"] = browser.http.get(f"{server.url}/oauth/scopes", timeout=10)
    answers["tokens api"] = browser.http.get(f"{server.url}/oauth/personal-access-tokens", timeout=10)
    answers["tokens api created"] = browser.http.post(f"{server.url}/oauth/personal-access-tokens", timeout=10,
                                                      json={"name": "x"}, headers=xsrf)
    answers["tokens api forged"] = browser.http.post(f"{server.url}/oauth/personal-access-tokens", timeout=10,
                                                     json={"name": "x"})
    answers["api signed out"] = stranger.http.get(f"{server.url}/oauth/clients", timeout=10)
    for path in ("/login", "/oauth/authorize", "/oauth/personal-access-tokens", "/account", "/logout"):
        answers[f"preflight {path}"] = stranger.http.options(f"{server.url}{path}", timeout=10, headers={
            "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-xsrf-token"})
    answers["unknown path"] = stranger.get("/nope")
    answers["wrong method"] = stranger.http.put(f"{server.url}/login", timeout=10)
    answers["logout forged"] = browser.submit(next(f for f in forms(answers["account"].text)
                                                   if f.action == "/logout"), _token="forged")
    answers["logged out"] = browser.submit(next(f for f in forms(answers["account"].text) if f.action == "/logout"))
    answers["logout bad body"] = stranger.http.post(f"{server.url}/logout", json={}, timeout=10)

    html_answers = {name: a for name, a in answers.items() if html_of(a)}
    statuses = sorted({a.status_code for a in html_answers.values()})
    assert statuses == [200, 400, 401, 403, 422, 429], statuses  # pages, errors, the throttle: all checked
    unframed = [(name, a.status_code) for name, a in html_answers.items()
                if a.headers.get("X-Frame-Options") != "DENY"
                or "frame-ancestors 'none'" not in a.headers.get("Content-Security-Policy", "")]
    assert not unframed
    cors = [(name, k) for name, a in answers.items() for k in a.headers if k.lower().startswith("access-control-")]
    assert not cors
    # Everything that is not an HTML page is JSON or a bodiless redirect: nothing else a frame could show.
    others = {name: a.headers.get("Content-Type") for name, a in answers.items() if name not in html_answers
              and a.status_code != 303 and not a.headers.get("Content-Type", "").startswith("application/json")
              and a.status_code != 204}
    assert not others


# -- 7. login enumeration ------------------------------------------------------------------------------------------


@dataclass
class Work:
    """What one request cost the server: password hash checks (with their scrypt parameters) and storage calls."""

    hash_checks: list[tuple[str, ...]]
    storage_calls: list[str]


@pytest.fixture
def measure(monkeypatch) -> Iterator[Callable[[Callable[[], requests.Response]], tuple[requests.Response, Work]]]:
    """Run a request and count the work: a spy on our own verify_password (as check_credentials and the user
    provider call it) and every DynamoDB request sent: the signed client's observers, and botocore's DEBUG line per
    API call where botocore serves (read from the log, not patched)."""
    from passport.core import passwords, users

    checks: list[tuple[str, ...]] = []
    real = users.verify_password

    def spy(password: str, stored: str | None) -> bool:
        # The parameters the hash is checked with: an unknown account's dummy hash must cost the same.
        checks.append(tuple((stored or passwords.DUMMY_HASH).split("$")[:4]))
        return real(password, stored)

    monkeypatch.setattr(users, "verify_password", spy)
    calls: list[str] = []

    class Calls(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = re.match(r"Making request for OperationModel\(name=(\w+)\)", record.getMessage())
            if found:
                calls.append(found.group(1))

    logger = logging.getLogger("botocore.endpoint")
    handler, level = Calls(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    from passport.aws_json import REQUEST_OBSERVERS

    def signed(service: str, operation: str) -> None:
        if service == "dynamodb":
            calls.append(operation)

    REQUEST_OBSERVERS.append(signed)

    def run(send: Callable[[], requests.Response]) -> tuple[requests.Response, Work]:
        checks.clear()
        calls.clear()
        answer = send()
        return answer, Work(list(checks), list(calls))

    yield run
    REQUEST_OBSERVERS.remove(signed)
    logger.removeHandler(handler)
    logger.setLevel(level)


def normalized(answer: requests.Response, *values: str) -> str:
    """The body with what differs by design blanked: the CSRF token, the CSP nonce, the typed email."""
    body = answer.text
    for value in values:
        body = body.replace(str(escape(value)), "<typed>")
    body = re.sub(r'name="_token" value="[^"]*"', 'name="_token" value=""', body)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', body)


def cookie_shapes(answer: requests.Response) -> list[str]:
    return sorted(re.sub(r"=[^;]*;", "=;", c, count=1) for c in answer.raw.headers.getlist("Set-Cookie"))


class _From(requests.adapters.HTTPAdapter):
    """Connections from another loopback address (127.0.0.0/8 is all the loopback interface's): the server
    sees another client address, so per-address throttle counters stay apart."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def from_address(browser: Browser, address: str) -> Browser:
    browser.http.mount("http://", _From(address))
    return browser


def password_grant(server, client, username: str, password: str = "wrong",
                   http: requests.Session | None = None) -> requests.Response:
    return (http or requests.Session()).post(
        f"{server.url}/oauth/token", auth=(client.client_id, client.secret), timeout=10,
        data={"grant_type": "password", "username": username, "password": password})


@pytest.mark.passport_config("[grants]\npassword = true\n")
def test_an_unknown_account_and_a_wrong_password_get_the_same_answer_after_the_same_work(server, env, measure):
    """Account enumeration (RFC 6749 10.10, OWASP ASVS V2 authentication). At the sign-in page an
    unknown email, a known one with a wrong password, an account without a password and an overlong username
    each get the same status, page, headers and cookies; at the password grant, the same invalid_grant body and
    headers. Each costs exactly one scrypt check with the same parameters and the same storage calls, so the
    response time does not tell them apart either (proved by counting, not by timing)."""
    known, passwordless = new_user(), new_user(password=None)
    cases = {"wrong password": known.email, "unknown": f"nobody{uuid.uuid4().hex[:6]}@example.com",
             "no password": passwordless.email, "overlong": "x" * 300 + "@example.com"}
    pages, grants = {}, {}
    client = make_client(env, grant_types=("password",), scopes=("orders:read",))
    for label, email in cases.items():
        b = Browser(server.url)
        form = next(f for f in forms(b.get("/login").text) if f.action == "/login")
        answer, work = measure(lambda: b.submit(form, email=email, password="wrong password"))
        pages[label] = (answer.status_code, normalized(answer, email), sorted(answer.headers),
                        cookie_shapes(answer), work.hash_checks, work.storage_calls)
        answer, work = measure(lambda: password_grant(server, client, email))
        grants[label] = (answer.status_code, answer.json(), sorted(answer.headers), work.hash_checks,
                         work.storage_calls)
    assert pages["wrong password"][0] == 401 and len(pages["wrong password"][4]) == 1
    assert pages["wrong password"][4][0] == tuple(known.password_hash.split("$")[:4])
    assert grants["wrong password"][0] == 400 and grants["wrong password"][1]["error"] == "invalid_grant"
    for results in (pages, grants):
        reference = results["wrong password"]
        assert reference[-1] and len(reference[-2]) == 1
        for label, result in results.items():
            # A username longer than any email is never looked up (it cannot be an account): fewer storage
            # calls, which tell nothing about which accounts exist.
            compared = result[:-1] if label == "overlong" else result
            assert compared == reference[:len(compared)], label
    # The control: the right password does get in (so "wrong" was the only reason for the refusals).
    assert password_grant(server, client, known.email, PASSWORD).status_code == 200


@pytest.mark.passport_config("[grants]\npassword = true\n")
def test_the_throttles_treat_an_unknown_account_like_a_known_one(server, env):
    """The sign-in throttle (docs/http.md) and the password grant's: an unknown account is slowed down and
    then refused after exactly as many failures, with the same page or body and Retry-After, as a real
    account, so the throttle does not reveal which accounts exist. (Each account is tried from its own
    loopback address, so only the account counters decide.)"""
    client = make_client(env, grant_types=("password",), scopes=("orders:read",))
    pages: list[list[tuple[int, str, bool]]] = []
    for email, address in ((new_user().email, "127.0.0.2"), (f"ghost{uuid.uuid4().hex[:6]}@example.com", "127.0.0.3")):
        b = from_address(Browser(server.url), address)
        form = next(f for f in forms(b.get("/login").text) if f.action == "/login")
        pages.append([])
        for _ in range(7):
            answer = b.submit(form, email=email, password="wrong")
            pages[-1].append((answer.status_code, re.sub(r"\d+ seconds", "N seconds", normalized(answer, email)),
                              "Retry-After" in answer.headers))
    grants: list[list[tuple[int, str, bool]]] = []
    for username, address in ((new_user().email, "127.0.0.4"), (f"ghost{uuid.uuid4().hex[:6]}@example.com",
                                                                 "127.0.0.5")):
        http = from_address(Browser(server.url), address).http
        grants.append([])
        for _ in range(7):
            answer = password_grant(server, client, username, http=http)
            grants[-1].append((answer.status_code, re.sub(r"\d+", "N", json.dumps(answer.json())),
                               "Retry-After" in answer.headers))
    known_pages, unknown_pages = pages
    assert known_pages == unknown_pages
    assert [p[0] for p in unknown_pages] == [401] * 6 + [429] and unknown_pages[-1][2]
    known_grants, unknown_grants = grants
    assert known_grants == unknown_grants
    assert [g[2] for g in unknown_grants] == [False] * 6 + [True]  # slowed down on the seventh, like a real one
