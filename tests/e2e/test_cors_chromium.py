"""Cross-origin reads in a real browser (Fetch standard, CORS protocol; docs/http.md, "Cross-origin requests"): a
page served from another loopback origin runs the code flow with PKCE in Chromium using fetch() against discovery,
the token endpoint and UserInfo; a page from an unregistered origin is refused by the browser.

The single-page app is a page on its own tiny HTTP server (``http://127.0.0.1:<port>``, another origin than the
issuer's), whose client is registered with a redirect URI on that origin; a second server on another port, named by
no client, serves a page that tries the same calls. Headless Debian Chromium drives both (tests/e2e/chromium.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_client
from tests.e2e.chromium import Tab, launched_chromium, new_tab
from tests.integration.conftest import PASSWORD
from tests.servers import running

TIMEOUT_MS = 15_000

#: The SPA: discovery, then the authorization request with PKCE S256 (RFC 7636 4.2), all from fetch() and Web Crypto
#: (http://127.0.0.1 is a secure context).
SPA_START = """<!doctype html><meta charset="utf-8"><title>spa</title><pre id="result"></pre><script>
const ISSUER = %(issuer)s, CLIENT_ID = %(client_id)s, REDIRECT = location.origin + "/callback";
const b64url = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
async function start() {
  const meta = await (await fetch(ISSUER + "/.well-known/openid-configuration")).json();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("flow", JSON.stringify({meta, verifier, state}));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({response_type: "code", client_id: CLIENT_ID, redirect_uri: REDIRECT,
    scope: "openid", state, code_challenge: challenge, code_challenge_method: "S256"});
  location.assign(url.toString());
}
start().catch(e => { document.getElementById("result").textContent = "failed: " + e; document.title = "failed"; });
</script>"""

#: The redirect URI: the code for tokens at the token endpoint, then UserInfo with the access token.
SPA_CALLBACK = """<!doctype html><meta charset="utf-8"><title>callback</title><pre id="result"></pre><script>
const CLIENT_ID = %(client_id)s, REDIRECT = location.origin + "/callback";
async function finish() {
  const {meta, verifier, state} = JSON.parse(sessionStorage.getItem("flow"));
  const query = new URLSearchParams(location.search);
  if (query.get("state") !== state || query.get("iss") !== meta.issuer) throw new Error("state or iss mismatch");
  const tokenAnswer = await fetch(meta.token_endpoint, {method: "POST", body: new URLSearchParams({
    grant_type: "authorization_code", code: query.get("code"), redirect_uri: REDIRECT, client_id: CLIENT_ID,
    code_verifier: verifier})});
  const tokens = await tokenAnswer.json();
  const userinfoAnswer = await fetch(meta.userinfo_endpoint,
    {headers: {Authorization: "Bearer " + tokens.access_token}});
  return {token_status: tokenAnswer.status, token_type: tokens.token_type, access_token: tokens.access_token,
          userinfo_status: userinfoAnswer.status, userinfo: await userinfoAnswer.json(),
          challenge: userinfoAnswer.headers.get("WWW-Authenticate")};
}
finish().then(r => { document.getElementById("result").textContent = JSON.stringify(r); document.title = "done"; })
  .catch(e => { document.getElementById("result").textContent = "failed: " + e; document.title = "failed"; });
</script>"""

#: The unregistered origin: discovery is public; the token endpoint and UserInfo (with a token it got hold of) answer,
#: but the browser will not let the page read them.
INTRUDER = """<!doctype html><meta charset="utf-8"><title>intruder</title><pre id="result"></pre><script>
const ISSUER = %(issuer)s, CLIENT_ID = %(client_id)s, TOKEN = %(token)s;
async function attempt(call) {
  try { const answer = await call(); return "read " + answer.status; } catch (e) { return "refused: " + e.name; }
}
async function probe() {
  const meta = await (await fetch(ISSUER + "/.well-known/openid-configuration")).json();
  return {
    discovery: meta.issuer,
    jwks: await attempt(() => fetch(meta.jwks_uri)),
    token: await attempt(() => fetch(meta.token_endpoint, {method: "POST", body: new URLSearchParams({
      grant_type: "authorization_code", code: "stolen", redirect_uri: ISSUER + "/x", client_id: CLIENT_ID})})),
    userinfo: await attempt(() => fetch(meta.userinfo_endpoint, {headers: {Authorization: "Bearer " + TOKEN}})),
  };
}
probe().then(r => { document.getElementById("result").textContent = JSON.stringify(r); document.title = "done"; })
  .catch(e => { document.getElementById("result").textContent = "failed: " + e; document.title = "failed"; });
</script>"""


@contextmanager
def serve_pages(pages: dict[str, Callable[[], str]]) -> Iterator[str]:
    """An HTTP server on a free loopback port serving ``path -> html`` (the query is ignored); yields its origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages.get(self.path.split("?", 1)[0])
            body = page().encode() if page else b"not found"
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with running(httpd):
        yield f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser | None]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def user(env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"u{uuid.uuid4().hex[:8]}@example.com", name="Ada Lovelace",
                       password=PASSWORD)


def result_of(page: Page) -> dict:
    expect(page).to_have_title("done", timeout=TIMEOUT_MS)
    return json.loads(page.locator("#result").inner_text())


@pytest.mark.timeout(60)
def test_a_spa_on_another_loopback_origin_runs_the_code_flow_with_fetch_and_an_unregistered_origin_is_refused(
        server, env, user, chromium):
    js = json.dumps
    client: dict[str, str] = {}
    token: dict[str, str] = {}
    with serve_pages({"/": lambda: SPA_START % {"issuer": js(server.url), "client_id": js(client["id"])},
                      "/callback": lambda: SPA_CALLBACK % {"client_id": js(client["id"])}}) as spa, \
            serve_pages({"/": lambda: INTRUDER % {"issuer": js(server.url), "client_id": js(client["id"]),
                                                  "token": js(token["access"])}}) as intruder:
        assert spa != intruder != server.url
        # A public client (PKCE, no secret) whose one redirect URI is on the SPA's origin.
        client["id"] = make_client(env, name="Browser SPA", grant_types=("authorization_code",), public=True,
                                   redirect_uris=(f"{spa}/callback",)).client_id
        tab: Tab = new_tab(chromium)
        try:
            page = tab.page
            page.goto(spa + "/")
            page.wait_for_url(f"{server.url}/login?**")
            page.fill('input[name="email"]', user.email)
            page.fill('input[name="password"]', PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{server.url}/oauth/authorize?**")
            page.get_by_role("button", name="Approve").click()
            page.wait_for_url(f"{spa}/callback?**")
            flow = result_of(page)
            # The page read the token endpoint's answer and UserInfo's, cross-origin.
            assert flow["token_status"] == 200 and flow["token_type"] == "Bearer", flow
            assert flow["userinfo_status"] == 200 and flow["userinfo"]["sub"] == user.id, flow
            # Every call the SPA made to the server went to the issuer's origin (no other server was asked).
            calls = [url for url in tab.requests if url.startswith(server.url)]
            assert any("/.well-known/openid-configuration" in url for url in calls)
            assert any(url.endswith("/oauth/token") for url in calls)
            assert any(url.endswith("/oauth/userinfo") for url in calls)
            token["access"] = flow["access_token"]

            # The same calls from an origin no client names: discovery and the JWKS read, the rest refused by the
            # browser (the answers carry no Access-Control-Allow-Origin for that origin).
            tab.console_errors.clear()
            page.goto(intruder + "/")
            probe = result_of(page)
            assert probe == {"discovery": server.url, "jwks": "read 200", "token": "refused: TypeError",
                             "userinfo": "refused: TypeError"}, probe
            assert any("CORS" in error or "Access-Control-Allow-Origin" in error for error in tab.console_errors), \
                tab.console_errors
        finally:
            tab.context.close()
