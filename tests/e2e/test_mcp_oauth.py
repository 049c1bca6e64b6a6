"""The acceptance test of docs/mcp.md: the official ``mcp`` Python SDK's OAuth client (``OAuthClientProvider``)
connects to the demo MCP server through the local gateway starting from nothing but the server URL.

It follows the MCP authorization spec (2025-06-18, Basic > Authorization): the unauthenticated request gets a 401
whose ``WWW-Authenticate`` names the protected resource metadata (RFC 9728 5.1); the client reads that metadata
(RFC 9728 3), then the authorization server's (RFC 8414 3), registers itself (RFC 7591 3), runs the authorization
code flow with PKCE (RFC 7636, S256) naming the resource (RFC 8707 2), redeems the code, and calls tools with the
bearer token (RFC 6750 2.1). The browser step is headless Chromium (Debian's, through Playwright) or a scripted
user. The MCP server is a protected resource of its own, ``<issuer>/mcp`` (docs/mcp.md), with its metadata at
``/.well-known/oauth-protected-resource/mcp``; a token issued for another resource (the deployment's API, or another
registered one) is refused by it, and its token by the API (RFC 8707 2, RFC 9068 4: the audience must be the
resource's own).

Everything runs on 127.0.0.1: the local gateway, the client's redirect URI, the browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from tests.conftest import make_client
from tests.e2e.chromium import MISSING_CHROMIUM, Callback, launched_chromium_async, serve_callback
from tests.integration import conftest as integration
from tests.integration.browser import Browser, pkce_pair, query_of
from tests.integration.conftest import PASSWORD

# The integration suite's user with a password (tests/e2e has no conftest).
user = integration.user

OTHER_RESOURCE = "https://other.example/api"
# Another protected resource registered, so a token can be issued for it. Registration is left at its default,
# open (docs/mcp.md: what an MCP client needs on first contact, with no manual set-up).
pytestmark = pytest.mark.passport_config(f'resources = ["{OTHER_RESOURCE}"]\n')

MCP_PATH = "/mcp"
API_PATH = "/api"
PRM_PATH = "/.well-known/oauth-protected-resource"
BROWSER_TIMEOUT_MS = 10_000  # this module's own: shorter than tests/e2e/chromium.py's TIMEOUT_MS (15 s)
ORDER_IDS = ["ord_1001", "ord_1002"]

#: Every challenge of the MCP server offers DPoP too, with the proof algorithms it checks (RFC 9449 7.1).
DPOP_OFFERED = ', DPoP algs="ES256 RS256 EdDSA"'


# -- the client's redirect URI: a tiny HTTP server on loopback (tests/e2e/chromium.py) --------------------------


@pytest.fixture
def callback() -> Iterator[Callback]:
    with serve_callback(b"You may close this window.") as record:
        yield record


# -- what the SDK sent and got: every HTTP exchange of its client ----------------------------------------------------


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    request_headers: dict[str, str]
    request_body: bytes
    response_headers: dict[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.request_body.decode()).items()}


def recording_client(exchanges: list[Exchange], **options: Any):
    """An httpx2 client whose response hook records each exchange, including those the auth flow makes itself
    (httpx2 runs event hooks for every request an ``Auth`` flow yields)."""
    import httpx2

    async def record(response: httpx2.Response) -> None:
        request = response.request
        try:
            body = request.content
        except httpx2.RequestNotRead:
            body = b""
        exchanges.append(Exchange(request.method, str(request.url), response.status_code, dict(request.headers),
                                  body, dict(response.headers)))

    # trust_env off: loopback only, whatever proxy the environment names.
    return httpx2.AsyncClient(timeout=10, trust_env=False, event_hooks={"response": [record]}, **options)


def run_bounded(scenario, *, seconds: float = 25) -> Any:
    import anyio

    async def bounded():
        with anyio.fail_after(seconds):
            return await scenario()

    return anyio.run(bounded)


class MemoryStorage:
    """The SDK's ``TokenStorage`` protocol, in memory: nothing is known before the first request."""

    def __init__(self) -> None:
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


# -- the browser step: the user signs in and approves -----------------------------------------------------------------


#: What the consent page says of a client that registered itself (RFC 7591): its name, and that nobody checked it.
REGISTERED_NOTICES = (("h1.request", "Test agent"), ("p.registered", "registered itself"))


async def chromium_approval(authorization_url: str, server_url: str, callback: Callback, user, *,
                            notices: tuple[tuple[str, str], ...] = ()) -> tuple[dict[str, str], list[str]]:
    """Headless Chromium (Debian's, never a downloaded one) from the authorization URL through sign-in and consent
    to the redirect URI, the consent page showing each of ``notices`` (a selector, a text it contains); the query
    the client's redirect URI received last, and the scopes the consent page named."""
    from playwright.async_api import expect

    async with launched_chromium_async() as browser:
        if browser is None:
            pytest.fail(MISSING_CHROMIUM, pytrace=False)
        context = await browser.new_context()
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        page = await context.new_page()
        await page.goto(authorization_url)
        await page.wait_for_url(f"{server_url}/login?**")
        await page.fill('input[name="email"]', user.email)
        await page.fill('input[name="password"]', PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{server_url}/oauth/authorize?**")
        for selector, text in notices:
            await expect(page.locator(selector)).to_contain_text(text)
        shown = await page.locator("span.scope-name").all_inner_texts()
        await page.get_by_role("button", name="Approve").click()
        await page.wait_for_url(f"{callback.url}?**")
    redirects = [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]
    return query_of(redirects[-1]), shown


async def approve_in_chromium(authorization_url: str, server_url: str, callback: Callback, user) -> dict[str, str]:
    """The first authorization of a client that registered itself: the consent page names it and warns that nobody
    checked who it is; the one query the client's redirect URI received."""
    query, _ = await chromium_approval(authorization_url, server_url, callback, user, notices=REGISTERED_NOTICES)
    redirects = [hit for hit in callback.hits if urlsplit(hit).path == "/callback"]
    assert len(redirects) == 1, callback.hits
    return query


def consent_scope_names(html: str) -> list[str]:
    return re.findall(r'<span class="scope-name">([^<]*)</span>', html)


def scripted_approval(authorization_url: str, server_url: str, user, *,
                      notices: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """The same step without a browser engine: sign in at /login, open the authorization URL (the consent page
    holding each of ``notices``), submit Approve and read the 303 to the redirect URI; its query, and the scopes
    the consent page named."""
    b = Browser(server_url)
    assert b.login(user.email, PASSWORD).status_code == 303
    consent = b.get(authorization_url)
    assert consent.status_code == 200, consent.text
    assert all(notice in consent.text for notice in notices), consent.text[-800:]
    answer = b.submit(b.consent_forms(consent)[0])
    assert answer.status_code == 303, answer.text
    return query_of(answer.headers["Location"]), consent_scope_names(consent.text)


def approve_as_scripted_user(authorization_url: str, server_url: str, user) -> dict[str, str]:
    return scripted_approval(authorization_url, server_url, user,
                             notices=tuple(text for _, text in REGISTERED_NOTICES))[0]


def resource_metadata_url(challenge: str, server_url: str, resource_path: str) -> str:
    """The ``resource_metadata`` of a Bearer challenge (RFC 9728 5.1): the RFC 9728 3.1 location of the resource
    ``<issuer><resource_path>``, the well-known path with the resource's path appended."""
    assert challenge.startswith("Bearer "), challenge
    match = re.search(r'resource_metadata="([^"]+)"', challenge)
    assert match, challenge
    assert match[1] == f"{server_url}{PRM_PATH}{resource_path}", challenge
    return match[1]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def verified_claims(server_url: str, token: str, audience: str) -> dict[str, Any]:
    """The access token's claims, its signature checked against the published JWKS (RFC 9068 4)."""
    jwks = jwt.PyJWKSet.from_dict(requests.get(f"{server_url}/.well-known/jwks.json", timeout=10).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=audience, issuer=server_url)


# -- the acceptance test -------------------------------------------------------------------------------------------


@pytest.mark.timeout(45)
@pytest.mark.parametrize("browser_step", ["chromium", "scripted"])
def test_the_mcp_sdk_oauth_client_goes_from_the_server_url_alone_to_a_tool_call(server, user, callback,
                                                                                  browser_step):
    """MCP 2025-06-18 Authorization, end to end with the SDK's ``OAuthClientProvider``: 401 + ``resource_metadata``
    (RFC 9728 5.1), protected resource metadata (RFC 9728 3), authorization server metadata (RFC 8414 3), dynamic
    registration (RFC 7591 3), code + PKCE S256 (RFC 7636 4) + ``resource`` (RFC 8707 2), token, tool calls; the
    resource is the MCP server's own (``<issuer>/mcp``), and so is the access token's ``aud`` (RFC 8707 2,
    RFC 9068 2.2)."""
    import anyio
    from mcp import ClientSession
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    mcp_url = server.url + MCP_PATH
    resource = server.url + MCP_PATH  # the MCP server's URL is its resource identifier
    exchanges: list[Exchange] = []
    authorization_urls: list[str] = []
    answers: list[dict[str, str]] = []
    storage = MemoryStorage()

    async def redirect_handler(authorization_url: str) -> None:
        authorization_urls.append(authorization_url)
        if browser_step == "chromium":
            answers.append(await approve_in_chromium(authorization_url, server.url, callback, user))
        else:
            answers.append(await anyio.to_thread.run_sync(approve_as_scripted_user, authorization_url, server.url,
                                                          user))

    async def callback_handler() -> AuthorizationCodeResult:
        query = answers[-1]
        assert "error" not in query, query
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Test agent",
            redirect_uris=[callback.url],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    async def scenario():
        async with (recording_client(exchanges, auth=provider) as http,
                    streamable_http_client(mcp_url, http_client=http) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=15) as session):
            initialized = await session.initialize()
            tools = await session.list_tools()
            orders = await session.call_tool("list_orders", {})
            who = await session.call_tool("whoami", {})
            return initialized, tools, orders, who

    initialized, tools, orders, who = run_bounded(scenario)

    # The MCP session worked, as the signed-in user.
    assert initialized.server_info.name == "passport-demo-mcp"
    assert sorted(tool.name for tool in tools.tools) == ["list_orders", "whoami"]
    assert orders.is_error is False, orders
    assert [order["id"] for order in orders.structured_content["orders"]] == ORDER_IDS
    assert who.is_error is False, who
    client_id = storage.client_info.client_id
    assert who.structured_content["sub"] == user.id
    assert who.structured_content["client_id"] == client_id
    assert "orders:read" in who.structured_content["scopes"]

    # The discovery and authorization requests, in order, then only MCP requests with the bearer token.
    steps = [(e.method, e.path, e.status) for e in exchanges]
    assert steps[:5] == [
        ("POST", MCP_PATH, 401),
        ("GET", PRM_PATH + MCP_PATH, 200),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("POST", "/oauth/register", 201),
        ("POST", "/oauth/token", 200),
    ], steps
    unauthorized, prm, asm, registration, token = exchanges[:5]
    mcp_calls = exchanges[5:]

    # 1. The bare 401 (no credentials: no error code, RFC 6750 3.1) says where the MCP server's own protected
    #    resource metadata is (RFC 9728 5.1), and the SDK went there.
    assert "authorization" not in unauthorized.request_headers
    challenge = unauthorized.response_headers["www-authenticate"]
    # RFC 6750 3: it names the scopes the server's tools need, which the SDK asks for (never offline_access).
    assert challenge == (f'Bearer scope="orders:read", resource_metadata="{server.url}{PRM_PATH}{MCP_PATH}"'
                         + DPOP_OFFERED)
    assert prm.url == resource_metadata_url(challenge, server.url, MCP_PATH)

    # 2. The metadata the SDK read: the resource (the MCP server's URL) and its authorization server (this issuer),
    #    whose RFC 8414 metadata it found at the issuer's well-known location (RFC 8414 3.1), listing registration.
    assert asm.url == f"{server.url}/.well-known/oauth-authorization-server"
    metadata = provider.context.protected_resource_metadata
    assert str(metadata.resource).rstrip("/") == resource
    assert [str(a).rstrip("/") for a in metadata.authorization_servers] == [server.url]
    assert str(provider.context.oauth_metadata.registration_endpoint) == f"{server.url}/oauth/register"

    # 3. Dynamic registration of a public client (RFC 7591 2, 3.2.1).
    sent = json.loads(registration.request_body)
    assert sent["client_name"] == "Test agent" and sent["token_endpoint_auth_method"] == "none"
    assert sent["redirect_uris"] == [callback.url]
    assert storage.client_info.client_secret is None
    assert storage.client_info.token_endpoint_auth_method == "none"

    # 4. The authorization request: code, PKCE S256, the resource (RFC 8707 2), to this issuer's endpoint.
    assert len(authorization_urls) == 1
    authorize = urlsplit(authorization_urls[0])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{server.url}/oauth/authorize"
    asked = query_of(authorization_urls[0])
    assert asked["response_type"] == "code" and asked["client_id"] == client_id
    assert asked["redirect_uri"] == callback.url
    assert asked["code_challenge_method"] == "S256"
    assert asked["resource"] == resource
    assert "orders:read" in asked["scope"].split()
    # The authorization response came back with the state and the issuer (RFC 9207 2).
    assert answers[0]["state"] == asked["state"] and answers[0]["iss"] == server.url

    # 5. The token request: the code, its verifier (which hashes to the challenge), the resource.
    form = token.form()
    assert form["grant_type"] == "authorization_code" and form["client_id"] == client_id
    assert form["code"] == answers[0]["code"] and form["redirect_uri"] == callback.url
    assert s256(form["code_verifier"]) == asked["code_challenge"]
    assert form["resource"] == resource
    assert "authorization" not in token.request_headers  # a public client: no secret

    # 6. The access token is for this resource, signed by this issuer, for the user (RFC 9068 2.2, RFC 8707 2).
    access_token = storage.tokens.access_token
    claims = verified_claims(server.url, access_token, resource)
    assert claims["aud"] == resource
    assert claims["sub"] == user.id and claims["client_id"] == client_id

    # 7. Then MCP over streamable HTTP, every request carrying the token: the retried initialize, the initialized
    #    notification (202), tools/list, and the two tools/call.
    assert [(e.method, e.path) for e in mcp_calls] == [("POST", MCP_PATH)] * 5, steps
    assert [e.status for e in mcp_calls] == [200, 202, 200, 200, 200], steps
    assert all(e.request_headers["authorization"] == f"Bearer {access_token}" for e in mcp_calls)
    methods = [json.loads(e.request_body)["method"] for e in mcp_calls]
    assert methods == ["initialize", "notifications/initialized", "tools/list", "tools/call", "tools/call"]


# -- a token for another resource -----------------------------------------------------------------------------------


def assert_refused_with_the_challenge(response: requests.Response, server_url: str, resource_path: str) -> None:
    """RFC 6750 3.1: 401 invalid_token, and RFC 9728 5.1: the challenge names the resource's own metadata, which
    names the resource (so the client learns which token it should have asked for: RFC 8707 2)."""
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge, challenge
    assert response.json()["error"] == "invalid_token"
    metadata = requests.get(resource_metadata_url(challenge, server_url, resource_path), timeout=10)
    assert metadata.status_code == 200 and metadata.json()["resource"] == server_url + resource_path


@pytest.mark.timeout(45)
def test_a_token_issued_for_another_resource_is_refused_by_the_mcp_server_and_its_token_by_the_api(server):
    """RFC 8707 2: a token is for the resource it was requested for; the MCP server (``<issuer>/mcp``) and the API
    (``<issuer>/api``) each accept only tokens whose ``aud`` names their own identifier (RFC 9068 4). So a token for
    the API (asked for by name, or issued without ``resource``) or for another registered resource gets 401
    invalid_token from the MCP server with its ``resource_metadata`` challenge (RFC 9728 5.1), and the SDK's session
    fails to initialize with one; the MCP server's own token works there and is refused by the API."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.exceptions import MCPError

    mcp_url = server.url + MCP_PATH
    agent = make_client(server.env, scopes=("orders:read",))

    def issue(**form: str) -> str:
        issued = server.token(agent.client_id, agent.secret, scope="orders:read", **form)
        assert issued.status_code == 200, issued.text
        return issued.json()["access_token"]

    def audience(token: str) -> Any:
        return jwt.decode(token, options={"verify_signature": False})["aud"]

    # The same client, the same scope: only the audience differs.
    mcp_token = issue(resource=mcp_url)
    api_token = issue(resource=server.url + API_PATH)
    default_token = issue()  # no resource: the deployment's API
    other_token = issue(resource=OTHER_RESOURCE)
    assert audience(mcp_token) == mcp_url
    assert audience(api_token) == audience(default_token) == server.url + API_PATH
    assert audience(other_token) == OTHER_RESOURCE

    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "tests", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    def post_mcp(token: str) -> requests.Response:
        return requests.post(mcp_url, json=initialize, headers={**headers, "Authorization": f"Bearer {token}"},
                             timeout=10)

    def get_orders(token: str) -> requests.Response:
        return requests.get(f"{server.url}{API_PATH}/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    # The MCP server: its own token works; the API's and the other resource's are refused, naming /mcp's metadata.
    welcomed = post_mcp(mcp_token)
    assert welcomed.status_code == 200, welcomed.text
    assert welcomed.json()["result"]["serverInfo"]["name"] == "passport-demo-mcp"
    for token in (api_token, default_token, other_token):
        assert_refused_with_the_challenge(post_mcp(token), server.url, MCP_PATH)
    # The API: its own token works; the MCP server's and the other resource's are refused, naming /api's metadata.
    assert get_orders(api_token).status_code == 200
    for token in (mcp_token, other_token):
        assert_refused_with_the_challenge(get_orders(token), server.url, API_PATH)

    # The SDK with the API's token as a static header (no auth provider to recover with): initialize fails on the
    # one 401.
    exchanges: list[Exchange] = []

    async def scenario():
        async with (recording_client(exchanges, headers={"Authorization": f"Bearer {api_token}"}) as http,
                    streamable_http_client(mcp_url, http_client=http) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=10) as session):
            with pytest.raises(MCPError):
                await session.initialize()

    run_bounded(scenario)
    assert [(e.method, e.path, e.status) for e in exchanges] == [("POST", MCP_PATH, 401)]
    refusal = exchanges[0].response_headers["www-authenticate"]
    assert refusal == (f'Bearer error="invalid_token", scope="orders:read", '
                       f'resource_metadata="{server.url}{PRM_PATH}{MCP_PATH}"' + DPOP_OFFERED)


# -- step-up: a scope challenge (403 insufficient_scope), then a new authorization for the union of scopes ----------


def first_token_without_orders_read(server_url: str, callback: Callback, user, resource: str) -> tuple[Any, Any]:
    """A public client registered by the SDK's rules (RFC 7591) and a token it got earlier for ``orders:write``
    only (as an agent restarted from its storage has): the SDK's ``OAuthClientInformationFull`` and ``OAuthToken``."""
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

    registered = requests.post(f"{server_url}/oauth/register", json={
        "client_name": "Test agent", "redirect_uris": [callback.url], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}, timeout=10)
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    b = Browser(server_url)
    assert b.login(user.email, PASSWORD).status_code == 303
    verifier, challenge = pkce_pair()
    consent = b.authorize(response_type="code", client_id=client_id, redirect_uri=callback.url, scope="orders:write",
                          state="first", code_challenge=challenge, code_challenge_method="S256", resource=resource)
    assert consent.status_code == 200, consent.text
    approved = b.submit(b.consent_forms(consent)[0])
    assert approved.status_code == 303, approved.text
    code = query_of(approved.headers["Location"])["code"]
    token = requests.post(f"{server_url}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback.url, "client_id": client_id,
        "code_verifier": verifier, "resource": resource}, timeout=10)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "orders:write"
    return (OAuthClientInformationFull.model_validate(registered.json()),
            OAuthToken.model_validate(token.json()))


@pytest.mark.timeout(45)
@pytest.mark.parametrize("browser_step", ["chromium", "scripted"])
def test_a_token_without_orders_read_gets_403_on_list_orders_the_sdk_authorizes_again_and_the_call_succeeds(
        server, user, callback, browser_step):
    """The MCP authorization spec's scope challenge and step-up: a token without ``orders:read`` gets 403 with
    ``WWW-Authenticate: Bearer error="insufficient_scope", scope="orders:read", resource_metadata=...``
    (RFC 6750 3.1, RFC 9728 5.1) on list_orders; the SDK's ``OAuthClientProvider`` authorizes again for the union
    of what it held and what the challenge named; the consent page asks only about the new scope; the new token
    has both, and the retried call succeeds."""
    import anyio
    from mcp import ClientSession
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    mcp_url = server.url + MCP_PATH
    storage = MemoryStorage()
    storage.client_info, storage.tokens = first_token_without_orders_read(server.url, callback, user, mcp_url)
    first_token = storage.tokens.access_token
    exchanges: list[Exchange] = []
    authorization_urls: list[str] = []
    answers: list[dict[str, str]] = []
    consented: list[list[str]] = []

    async def redirect_handler(authorization_url: str) -> None:
        authorization_urls.append(authorization_url)
        if browser_step == "chromium":
            answer, shown = await chromium_approval(authorization_url, server.url, callback, user)
        else:
            answer, shown = await anyio.to_thread.run_sync(scripted_approval, authorization_url, server.url, user)
        answers.append(answer)
        consented.append(shown)

    async def callback_handler() -> AuthorizationCodeResult:
        query = answers[-1]
        assert "error" not in query, query
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(client_name="Test agent", redirect_uris=[callback.url],
                                            grant_types=["authorization_code", "refresh_token"],
                                            response_types=["code"], token_endpoint_auth_method="none"),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler,
    )

    async def scenario():
        async with (recording_client(exchanges, auth=provider) as http,
                    streamable_http_client(mcp_url, http_client=http) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=15) as session):
            await session.initialize()
            who_before = await session.call_tool("whoami", {})
            orders = await session.call_tool("list_orders", {})
            who_after = await session.call_tool("whoami", {})
            return who_before, orders, who_after

    who_before, orders, who_after = run_bounded(scenario)

    # The first token was enough for whoami, and held orders:write alone.
    assert who_before.structured_content["scopes"] == ["orders:write"]
    # list_orders: 403 with the scope challenge, then a new authorization, then the same call again, which works.
    calls = [e for e in exchanges if e.path == MCP_PATH and b'"list_orders"' in e.request_body]
    assert [e.status for e in calls] == [403, 200], [(e.method, e.path, e.status) for e in exchanges]
    refusal = calls[0]
    assert refusal.request_headers["authorization"] == f"Bearer {first_token}"
    assert refusal.response_headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="orders:read", '
        f'resource_metadata="{server.url}{PRM_PATH}{MCP_PATH}"' + DPOP_OFFERED)
    assert orders.is_error is False, orders
    assert [order["id"] for order in orders.structured_content["orders"]] == ORDER_IDS
    # The authorization asked for the union (what the token held, then what the challenge named), for this resource.
    assert len(authorization_urls) == 1
    asked = query_of(authorization_urls[0])
    assert {"orders:write", "orders:read"} <= set(asked["scope"].split())
    assert asked["resource"] == mcp_url and asked["client_id"] == storage.client_info.client_id
    # The consent page asked only about what was new: orders:read, not orders:write (granted before).
    assert "orders:read" in consented[0] and "orders:write" not in consented[0], consented
    # The new token carries both; the retried call and the next one used it.
    assert calls[1].request_headers["authorization"] == f"Bearer {storage.tokens.access_token}"
    assert storage.tokens.access_token != first_token
    assert {"orders:read", "orders:write"} <= set(who_after.structured_content["scopes"])
    assert verified_claims(server.url, storage.tokens.access_token, mcp_url)["aud"] == mcp_url
