"""The demo MCP server end to end (docs/mcp.md): real tokens from the token endpoint, the MCP
function's own handler (functions/mcp/handler.py) running the real guard in-process for its own resource
``<issuer>/mcp`` (RFC 8707, RFC 9728), the local gateway on a loopback socket (``POST /mcp``, no authorizer in
front), and the official ``mcp`` SDK's client speaking MCP's Streamable HTTP transport (MCP 2025-06-18, Basic >
Transports) to it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import jwt
import pytest
import requests
from passport.local.gateway import LambdaContext

from tests.conftest import make_client

MCP_PATH = "/mcp"
PRM_PATH = "/.well-known/oauth-protected-resource"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}}
ORDERS = [
    {"id": "ord_1001", "item": "Espresso machine", "status": "shipped"},
    {"id": "ord_1002", "item": "Coffee beans, 1 kg", "status": "processing"},
]


def access_token(server, client, scope: str, **form: str) -> str:
    response = server.token(client.client_id, client.secret, scope=scope, **form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def mcp_resource(server) -> str:
    """The demo MCP server's resource identifier (RFC 8707 2): its own URL, ``<issuer>/mcp`` (docs/mcp.md)."""
    return server.url + MCP_PATH


def challenge_of(server, error: str | None) -> str:
    """The MCP server's Bearer challenge (RFC 6750 3): no error code without credentials (3.1), the scopes its
    tools need (3), and always where its protected resource metadata is (RFC 9728 5.1), at its identifier's own
    well-known location (3.1)."""
    metadata = f'scope="orders:read", resource_metadata="{server.url}{PRM_PATH}{MCP_PATH}"'
    bearer = f'Bearer error="{error}", {metadata}' if error else f"Bearer {metadata}"
    return f'{bearer}, DPoP algs="ES256 RS256 EdDSA"'  # DPoP is offered too (RFC 9449 7.1)


@pytest.fixture
def reader_token(server, client) -> str:
    """A live token for the MCP server (``resource=<issuer>/mcp``) with orders:read."""
    return access_token(server, client, "orders:read", resource=mcp_resource(server))


@pytest.fixture
def writer_token(server) -> str:
    """A live token for the MCP server without orders:read."""
    writer = make_client(server.env, scopes=("orders:write",))
    return access_token(server, writer, "orders:write", resource=mcp_resource(server))


@pytest.fixture
def mcp_url(server) -> str:
    """``POST /mcp`` on the local gateway."""
    return server.url + MCP_PATH


def message(method: str, params: dict[str, Any] | None = None, request_id: int | None = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        body["id"] = request_id
    if params is not None:
        body["params"] = params
    return body


# --- the function's handler, the guard in-process, without the gateway ----------------------------------------


def invoke(server, authorization: str | None, body: dict[str, Any] | None, method: str = "POST") -> dict[str, Any]:
    """The MCP function's handler with the REST proxy event (payload 1.0) API Gateway sends for ``POST /mcp``: no
    authorizer in front (the route is not behind one), the ``Authorization`` header as the client sent it."""
    headers = {**HEADERS, "Host": server.url.split("://", 1)[1], "MCP-Protocol-Version": "2025-06-18"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request_context = {
        "resourcePath": MCP_PATH, "httpMethod": method, "path": f"/local{MCP_PATH}", "stage": "local",
        "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1", "userAgent": "tests"},
    }
    event = {
        "resource": MCP_PATH, "path": MCP_PATH, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": request_context, "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    result = server.gateway.function("mcp").handler(event, LambdaContext("mcp"))
    assert not result.get("isBase64Encoded")
    return result


def invoke_with(server, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return invoke(server, f"Bearer {token}", body)


def assert_handler_refused(result: dict[str, Any], challenge: str) -> None:
    """RFC 6750 3: 401 with the exact challenge, a JSON error body, and nothing the MCP layer would have said."""
    assert result["statusCode"] == 401, result
    assert result["headers"]["WWW-Authenticate"] == challenge
    assert result["headers"]["Content-Type"] == "application/json"
    body = json.loads(result["body"])
    assert body["error"] == "invalid_token" and "jsonrpc" not in body


def test_the_mcp_function_checks_a_real_token_for_its_resource_then_initializes_lists_and_runs_its_tools(
    server, client, reader_token
):
    """RFC 6750 2.1 and RFC 8707 2: a bearer token issued with ``resource=<issuer>/mcp`` is accepted by the function
    itself (the guard runs in-process, no authorizer context), which then speaks MCP 2025-06-18."""
    initialized = invoke_with(server, reader_token, message("initialize", INIT_PARAMS))
    assert initialized["statusCode"] == 200 and initialized["headers"]["Content-Type"] == "application/json"
    assert json.loads(initialized["body"])["result"]["protocolVersion"] == "2025-06-18"
    acknowledged = invoke_with(server, reader_token, message("notifications/initialized", request_id=None))
    assert (acknowledged["statusCode"], acknowledged["body"]) == (202, "")
    tools = json.loads(invoke_with(server, reader_token, message("tools/list"))["body"])["result"]
    assert {tool["name"] for tool in tools["tools"]} == {"list_orders", "whoami"}
    orders = invoke_with(server, reader_token, message("tools/call", {"name": "list_orders"}))
    assert json.loads(orders["body"])["result"]["structuredContent"] == {"orders": ORDERS}
    who = invoke_with(server, reader_token, message("tools/call", {"name": "whoami"}))
    assert json.loads(who["body"])["result"]["structuredContent"] == {
        "sub": client.client_id, "client_id": client.client_id, "scopes": ["orders:read"]}


def test_the_mcp_function_answers_list_orders_with_403_insufficient_scope_for_a_token_without_orders_read(
    server, writer_token
):
    """RFC 6750 3.1 and RFC 9728 5.1 (the MCP authorization spec's scope challenge): 403, the scope the call
    needs, and the resource's metadata."""
    answer = invoke_with(server, writer_token, message("tools/call", {"name": "list_orders"}))
    assert answer["statusCode"] == 403, answer
    assert answer["headers"]["WWW-Authenticate"] == challenge_of(server, "insufficient_scope")
    assert json.loads(answer["body"])["error"] == "insufficient_scope"


def test_the_mcp_function_without_a_bearer_token_answers_401_naming_its_resource_metadata(server):
    """RFC 6750 3.1: a request without credentials gets a challenge with no error code; RFC 9728 5.1: it names
    the MCP server's own metadata (``/.well-known/oauth-protected-resource/mcp``, RFC 9728 3.1), so a client with
    nothing but the server's URL finds its authorization server (MCP 2025-06-18, Basic > Authorization)."""
    for authorization in (None, "Bearer ", "Basic " + base64.b64encode(b"a:b").decode()):
        assert_handler_refused(invoke(server, authorization, message("ping")), challenge_of(server, None))


def test_the_mcp_function_refuses_an_invalid_token_with_invalid_token_and_its_resource_metadata(server):
    """RFC 6750 3.1: an invalid token gets ``error="invalid_token"``, and the challenge still names the metadata
    (RFC 9728 5.1)."""
    assert_handler_refused(invoke(server, "Bearer not-a-jwt", message("ping")), challenge_of(server, "invalid_token"))


def test_the_mcp_function_refuses_a_token_for_the_api_or_issued_without_a_resource(server, client):
    """RFC 8707 2 and RFC 9068 4: a token whose ``aud`` is not ``<issuer>/mcp`` is not for this resource, even a
    live one from this issuer: one issued without ``resource`` is for the deployment's API (``<issuer>/api``)."""
    without = access_token(server, client, "orders:read")
    assert jwt.decode(without, options={"verify_signature": False})["aud"] in (f"{server.url}/api",
                                                                              [f"{server.url}/api"])
    for token in (without, access_token(server, client, "orders:read", resource=f"{server.url}/api")):
        assert_handler_refused(invoke_with(server, token, message("ping")), challenge_of(server, "invalid_token"))


def test_the_mcp_function_refuses_a_revoked_token_for_its_resource(server, client, reader_token):
    """RFC 7009 2: a revoked access token is no longer accepted; the in-process guard asks the token store
    (a revoked token is invalid: RFC 6750 3.1 ``invalid_token``)."""
    revoked = requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret),
                            data={"token": reader_token}, timeout=10)
    assert revoked.status_code == 200, revoked.text
    assert_handler_refused(invoke_with(server, reader_token, message("ping")), challenge_of(server, "invalid_token"))
    # Another token of the same client, for the same resource, still works: only the revoked one is refused.
    live = access_token(server, client, "orders:read", resource=mcp_resource(server))
    assert invoke_with(server, live, message("ping"))["statusCode"] == 200


# --- over HTTP through the local gateway (POST /mcp) ------------------------------------------------------


def post(url: str, body: Any, token: str | None, **headers: str) -> requests.Response:
    merged = {**HEADERS, "MCP-Protocol-Version": "2025-06-18", **headers}
    if token:
        merged["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, data=data, headers=merged, timeout=10)


def rpc(url: str, token: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    response = post(url, message(method, params), token)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert "Mcp-Session-Id" not in response.headers
    answer = response.json()
    assert answer["id"] == 1 and "error" not in answer, answer
    return answer["result"]


def test_initialize_tools_list_and_both_tools_over_http_with_a_client_credentials_token(
    mcp_url, client, reader_token
):
    assert rpc(mcp_url, reader_token, "initialize", INIT_PARAMS)["serverInfo"]["name"] == "passport-demo-mcp"
    assert post(mcp_url, message("notifications/initialized", request_id=None), reader_token).status_code == 202
    tools = rpc(mcp_url, reader_token, "tools/list")["tools"]
    assert sorted(tool["name"] for tool in tools) == ["list_orders", "whoami"]
    orders = rpc(mcp_url, reader_token, "tools/call", {"name": "list_orders", "arguments": {}})
    assert orders["isError"] is False and orders["structuredContent"] == {"orders": ORDERS}
    assert json.loads(orders["content"][0]["text"]) == {"orders": ORDERS}
    who = rpc(mcp_url, reader_token, "tools/call", {"name": "whoami"})["structuredContent"]
    assert who == {"sub": client.client_id, "client_id": client.client_id, "scopes": ["orders:read"]}


def test_a_token_without_orders_read_gets_403_from_list_orders_but_whoami_works(server, mcp_url, writer_token):
    refused = post(mcp_url, message("tools/call", {"name": "list_orders"}), writer_token)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert refused.headers["WWW-Authenticate"] == challenge_of(server, "insufficient_scope")
    assert rpc(mcp_url, writer_token, "tools/call", {"name": "whoami"})["structuredContent"]["scopes"] == [
        "orders:write"]


def test_protocol_errors_over_http_are_json_rpc_errors_never_a_server_error(mcp_url, reader_token):
    parse = post(mcp_url, b"{not json", reader_token)
    assert parse.status_code == 400 and parse.json()["error"]["code"] == -32700
    unknown = post(mcp_url, message("resources/list"), reader_token)
    assert unknown.status_code == 200 and unknown.json()["error"]["code"] == -32601
    version = post(mcp_url, message("tools/list"), reader_token, **{"MCP-Protocol-Version": "2026-07-28"})
    assert version.status_code == 400 and version.json()["error"]["code"] == -32600
    media = post(mcp_url, message("ping"), reader_token, **{"Content-Type": "text/plain"})
    assert media.status_code == 415 and media.json()["error"]["code"] == -32600
    undecodable = post(mcp_url, b"\xff\xfe\x00", reader_token)  # reaches the function base64-encoded
    assert undecodable.status_code == 400 and undecodable.json()["error"]["code"] == -32700


def test_over_http_without_a_valid_token_for_the_mcp_server_the_answer_is_401_naming_its_metadata(
    server, mcp_url, client
):
    """RFC 6750 3.1: a missing token gets a challenge without an error code, an invalid one (or one for another
    resource: RFC 8707 2, RFC 9068 4) ``error="invalid_token"``; RFC 9728 5.1: both name the MCP server's metadata.
    MCP 2025-06-18, Basic > Authorization: "Invalid or expired tokens MUST receive a HTTP 401 response"."""
    api_token = access_token(server, client, "orders:read")
    cases = [(None, None), ("Basic " + base64.b64encode(b"a:b").decode(), None),
             ("Bearer not-a-jwt", "invalid_token"), (f"Bearer {api_token}", "invalid_token")]
    for authorization, error in cases:
        headers = {**HEADERS, **({"Authorization": authorization} if authorization else {})}
        response = requests.post(mcp_url, data=json.dumps(message("ping")), headers=headers, timeout=10)
        assert response.status_code == 401, authorization
        assert response.headers["WWW-Authenticate"] == challenge_of(server, error), authorization
        assert response.json()["error"] == "invalid_token"
    metadata = requests.get(f"{server.url}{PRM_PATH}{MCP_PATH}", timeout=10)
    assert metadata.status_code == 200 and metadata.json()["resource"] == mcp_resource(server)


def test_get_on_the_mcp_endpoint_is_405_as_the_server_opens_no_sse_stream(server, mcp_url, reader_token):
    """MCP 2025-06-18, Basic > Transports, Listening for Messages from the Server: the server "MUST either return
    Content-Type: text/event-stream in response to this HTTP GET, or else return HTTP 405 Method Not Allowed"; so
    does the function itself for an authorized GET."""
    response = requests.get(mcp_url, headers={"Accept": "text/event-stream", "Authorization": f"Bearer {reader_token}"},
                            timeout=10)
    assert response.status_code == 405
    assert invoke(server, f"Bearer {reader_token}", None, "GET")["statusCode"] == 405


# --- the official MCP SDK's client ----------------------------------------------------------------------------


def run_sdk(scenario, *, seconds: float = 20) -> Any:
    import anyio

    async def bounded():
        with anyio.fail_after(seconds):
            return await scenario()

    return anyio.run(bounded)


def sdk_http_client(token: str):
    import httpx2

    # trust_env off: loopback only, whatever proxy the environment names.
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10, trust_env=False)


@pytest.mark.timeout(60)
def test_the_mcp_sdk_client_session_initializes_lists_tools_and_calls_list_orders(mcp_url, reader_token):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def scenario():
        async with (sdk_http_client(reader_token) as http, streamable_http_client(mcp_url, http_client=http) as (
                read, write), ClientSession(read, write, read_timeout_seconds=10) as session):
            initialized = await session.initialize()
            tools = await session.list_tools()
            orders = await session.call_tool("list_orders", {"status": "shipped"})
            await session.send_ping()
            return initialized, tools, orders

    initialized, tools, orders = run_sdk(scenario)
    assert initialized.protocol_version == "2025-06-18"  # the SDK offers 2025-11-25; the server counters
    assert initialized.server_info.name == "passport-demo-mcp"
    assert sorted(tool.name for tool in tools.tools) == ["list_orders", "whoami"]
    assert orders.is_error is False  # and the SDK checked it against the tool's output schema
    assert orders.structured_content == {"orders": ORDERS[:1]}


@pytest.mark.timeout(60)
def test_the_mcp_sdk_client_in_auto_mode_falls_back_from_its_server_discover_probe_to_initialize(
    mcp_url, writer_token
):
    """The SDK's default client first probes ``server/discover`` at a newer revision; the server's 400 for that
    MCP-Protocol-Version sends it to the initialize handshake."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def scenario():
        async with sdk_http_client(writer_token) as http, Client(
                streamable_http_client(mcp_url, http_client=http), read_timeout_seconds=10) as client:
            return client.session.protocol_version, await client.call_tool("whoami", {})

    version, who = run_sdk(scenario)
    assert version == "2025-06-18"
    assert who.structured_content["scopes"] == ["orders:write"]
