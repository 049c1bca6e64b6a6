"""How MCP clients identify themselves here, as the MCP authorization spec (revision 2026-07-28, Client
Registration) orders it: a Client ID Metadata Document when the server advertises
``client_id_metadata_document_supported`` (draft-ietf-oauth-client-id-metadata-document-03), dynamic registration
(RFC 7591) when it does not. Proven with both official SDKs from the MCP server's URL alone: the Python ``mcp``
package's ``OAuthClientProvider(client_metadata_url=...)`` and the TypeScript ``@modelcontextprotocol/sdk``'s
``clientMetadataUrl``, run by node.

The client's metadata document is served over HTTPS on 127.0.0.1 (tests/document_host.py), which the server
fetches under ``[client_documents] allow_loopback`` (for local development only) and trusts through
``SSL_CERT_FILE``. The browser step is Debian's Chromium or a scripted user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.document_host import Reply, document_host
from tests.e2e.chromium import serve_callback
from tests.e2e.node_clients import SCRIPTS, converse, mcp_sdk
from tests.e2e.test_mcp_oauth import (
    MCP_PATH,
    ORDER_IDS,
    PRM_PATH,
    Exchange,
    MemoryStorage,
    chromium_approval,
    recording_client,
    run_bounded,
    scripted_approval,
)
from tests.integration import conftest as integration
from tests.integration.browser import query_of

user = integration.user
DOCUMENT_PATH = "/oauth/mcp-client.json"
CIMD_ON = "[client_documents]\nallow_loopback = true\n"
CIMD_OFF = "[client_documents]\nenabled = false\n"


@pytest.fixture
def callback():
    with serve_callback(b"You may close this window.") as record:
        yield record


@pytest.fixture
def client_host(tmp_path: Path, monkeypatch, callback):
    """The client's own web host, serving its metadata document; the server trusts its certificate."""
    with document_host(tmp_path) as host:
        url = host.url(DOCUMENT_PATH)
        host.replies[DOCUMENT_PATH] = Reply(body=json.dumps({
            "client_id": url, "client_name": "Agent", "client_uri": "https://agent.example.com",
            "redirect_uris": [callback.url], "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "token_endpoint_auth_method": "none", "application_type": "native",
        }).encode(), headers={"Content-Type": "application/json", "Cache-Control": "max-age=300"})
        monkeypatch.setenv("SSL_CERT_FILE", str(host.bundle))
        yield host


# -- the browser step -----------------------------------------------------------------------------------------------


def expected_notice(cimd: bool, host) -> str:
    return f"describes itself in a document at {urlsplit(host.url('/')).hostname}" if cimd else "registered itself"


async def approve_in_chromium(authorization_url: str, server_url: str, callback, user, notice: str) -> dict:
    query, _ = await chromium_approval(authorization_url, server_url, callback, user, notices=(("p.unvetted", notice),))
    return query


def approve_as_scripted_user(authorization_url: str, server_url: str, user, notice: str) -> dict[str, str]:
    return scripted_approval(authorization_url, server_url, user, notices=(notice,))[0]


# -- the Python SDK -------------------------------------------------------------------------------------------------


def python_sdk_session(server, user, callback, client_host, *, cimd: bool, chromium: bool):
    import anyio
    from mcp import ClientSession
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    mcp_url = server.url + MCP_PATH
    exchanges: list[Exchange] = []
    answers: list[dict[str, str]] = []
    storage = MemoryStorage()
    notice = expected_notice(cimd, client_host)

    async def redirect_handler(authorization_url: str) -> None:
        if chromium:
            answers.append(await approve_in_chromium(authorization_url, server.url, callback, user, notice))
        else:
            answers.append(await anyio.to_thread.run_sync(approve_as_scripted_user, authorization_url, server.url,
                                                          user, notice))

    async def callback_handler() -> AuthorizationCodeResult:
        query = answers[-1]
        assert "error" not in query, query
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Agent", redirect_uris=[callback.url], grant_types=["authorization_code", "refresh_token"],
            response_types=["code"], token_endpoint_auth_method="none",
        ),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler,
        client_metadata_url=client_host.url(DOCUMENT_PATH),
    )

    async def scenario():
        async with (recording_client(exchanges, auth=provider) as http,
                    streamable_http_client(mcp_url, http_client=http) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=15) as session):
            await session.initialize()
            return await session.call_tool("list_orders", {}), await session.call_tool("whoami", {})

    orders, who = run_bounded(scenario, seconds=40)
    return orders, who, storage, exchanges


@pytest.mark.timeout(60)
@pytest.mark.passport_config(CIMD_ON)
def test_the_python_sdk_identifies_itself_by_its_metadata_document_when_the_server_supports_it(
    server, user, callback, client_host
):
    """MCP 2026-07-28 Client Registration, priority 2: the server advertises client_id_metadata_document_supported,
    so the SDK uses its document's URL as its client_id and never registers; the server fetches the document
    (once), the consent page names its host, and the token is the client's."""
    orders, who, storage, exchanges = python_sdk_session(server, user, callback, client_host, cimd=True,
                                                         chromium=True)
    url = client_host.url(DOCUMENT_PATH)
    assert orders.is_error is False and [o["id"] for o in orders.structured_content["orders"]] == ORDER_IDS
    assert who.structured_content["client_id"] == url and who.structured_content["sub"] == user.id
    assert storage.client_info.client_id == url
    steps = [(e.method, urlsplit(e.url).path, e.status) for e in exchanges]
    assert steps[:4] == [("POST", MCP_PATH, 401), ("GET", PRM_PATH + MCP_PATH, 200),
                         ("GET", "/.well-known/oauth-authorization-server", 200), ("POST", "/oauth/token", 200)], steps
    assert not any(path == "/oauth/register" for _, path, _ in steps)
    assert client_host.requests == [f"GET {DOCUMENT_PATH} HTTP/1.1"]


@pytest.mark.timeout(60)
@pytest.mark.passport_config(CIMD_OFF)
def test_the_python_sdk_registers_dynamically_when_the_server_does_not_support_metadata_documents(
    server, user, callback, client_host
):
    """Priority 3: without client_id_metadata_document_supported, the same SDK falls back to RFC 7591."""
    orders, who, storage, exchanges = python_sdk_session(server, user, callback, client_host, cimd=False,
                                                         chromium=False)
    assert orders.is_error is False
    assert storage.client_info.client_id != client_host.url(DOCUMENT_PATH)
    assert who.structured_content["client_id"] == storage.client_info.client_id
    assert ("POST", "/oauth/register", 201) in [(e.method, urlsplit(e.url).path, e.status) for e in exchanges]
    assert client_host.connections == 0


# -- the TypeScript SDK, on node ------------------------------------------------------------------------------------


def node_session(server, user, callback, client_host, *, cimd: bool, chromium: bool) -> dict[str, Any]:
    import anyio

    sdk = mcp_sdk()
    notice = expected_notice(cimd, client_host)

    def answer(message: dict[str, Any]) -> dict[str, Any] | None:
        url = message["authorize"]
        if chromium:
            return anyio.run(approve_in_chromium, url, server.url, callback, user, notice)
        return approve_as_scripted_user(url, server.url, user, notice)

    outcome = converse([str(SCRIPTS / "mcp_client.mjs"), str(sdk), server.url + MCP_PATH, callback.url,
                        client_host.url(DOCUMENT_PATH)], answer)
    assert "result" in outcome, outcome.get("error")
    return outcome["result"]


@pytest.mark.timeout(60)
@pytest.mark.passport_config(CIMD_ON)
def test_the_typescript_sdk_identifies_itself_by_its_metadata_document_when_the_server_supports_it(
    server, user, callback, client_host
):
    result = node_session(server, user, callback, client_host, cimd=True, chromium=True)
    url = client_host.url(DOCUMENT_PATH)
    assert result["server"] == "passport-demo-mcp" and result["tools"] == ["list_orders", "whoami"]
    assert [o["id"] for o in result["orders"]["orders"]] == ORDER_IDS and result["ordersError"] is False
    assert result["clientId"] == url and result["who"]["client_id"] == url and result["who"]["sub"] == user.id
    assert query_of(result["authorizationUrls"][0])["client_id"] == url
    assert client_host.requests == [f"GET {DOCUMENT_PATH} HTTP/1.1"]


@pytest.mark.timeout(60)
@pytest.mark.passport_config(CIMD_OFF)
def test_the_typescript_sdk_registers_dynamically_when_the_server_does_not_support_metadata_documents(
    server, user, callback, client_host
):
    result = node_session(server, user, callback, client_host, cimd=False, chromium=False)
    assert result["ordersError"] is False and result["clientId"] != client_host.url(DOCUMENT_PATH)
    assert result["who"]["client_id"] == result["clientId"] and client_host.connections == 0
