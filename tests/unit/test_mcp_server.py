"""The demo MCP server's protocol (docs/mcp.md), in process: MCP's Streamable HTTP transport
(MCP 2025-06-18 and 2025-03-26, Basic > Transports) served stateless with JSON responses, JSON-RPC 2.0 framing,
the lifecycle (Basic > Lifecycle), ping (Basic > Utilities) and tools (Server Features > Tools)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passport.core.http import Headers, Request, Response
from passport.endpoints import demo_api, mcp_server
from passport.endpoints.mcp_server import SUPPORTED_VERSIONS, handle
from passport.guard.context import TokenContext

READER = TokenContext(sub="user-1", client_id="client-1", user_id="user-1", scopes=("orders:read",), jti="j-1")
NO_SCOPES = TokenContext(sub="client-2", client_id="client-2", user_id=None, scopes=(), jti="j-2")
#: What the SDK's client sends (mcp.client.streamable_http).
CLIENT_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT_PARAMS = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


def post(body: Any, *, headers: dict[str, str] | None = None, token: TokenContext = READER, method: str = "POST",
         inherit: bool = False) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    merged = {**CLIENT_HEADERS, "MCP-Protocol-Version": "2025-06-18", **(headers or {})}
    merged = {k: v for k, v in merged.items() if v is not None}
    return handle(Request(method, "/mcp", Headers(merged), body=raw), token, inherit=inherit)


def rpc(method: str, params: dict[str, Any] | None = None, *, request_id: Any = 1, **kwargs: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    response = post(message, **kwargs)
    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    answer = json.loads(response.body)
    assert answer["jsonrpc"] == "2.0" and answer["id"] == request_id
    return answer


def result(method: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    answer = rpc(method, params, **kwargs)
    assert "error" not in answer, answer
    return answer["result"]


def error(method: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    answer = rpc(method, params, **kwargs)
    assert "result" not in answer, answer
    return answer["error"]


def refused(response: Response, status: int, code: int, request_id: Any = None) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    answer = json.loads(response.body)
    assert answer["jsonrpc"] == "2.0" and answer["id"] == request_id and answer["error"]["code"] == code, answer
    return answer["error"]


def call(name: str, arguments: Any = None, **kwargs: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return result("tools/call", params, **kwargs)


# --- initialize (Basic > Lifecycle) ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_initialize_answers_the_clients_protocol_version_when_supported(version):
    answer = result("initialize", {**INIT_PARAMS, "protocolVersion": version}, headers={"MCP-Protocol-Version": None})
    assert answer["protocolVersion"] == version
    assert answer["capabilities"] == {"tools": {"listChanged": False}}
    assert answer["serverInfo"]["name"] == "passport-demo-mcp" and answer["serverInfo"]["version"]
    assert "orders:read" in answer["instructions"]


@pytest.mark.parametrize("version", ["2024-11-05", "2025-11-25", "2026-07-28", "tomorrow"])
def test_initialize_answers_the_latest_supported_version_when_the_clients_is_not(version):
    """Basic > Lifecycle, Version Negotiation: "Otherwise, the server MUST respond with another protocol version
    it supports. This SHOULD be the latest version supported by the server"."""
    answer = result("initialize", {**INIT_PARAMS, "protocolVersion": version})
    assert answer["protocolVersion"] == "2025-06-18"


def test_initialize_is_not_held_to_a_protocol_version_header_as_it_negotiates_the_version_in_its_body():
    assert result("initialize", INIT_PARAMS, headers={"MCP-Protocol-Version": "2026-07-28"})["protocolVersion"]


def test_the_stateless_server_issues_no_session_id_and_accepts_one_it_did_not_issue():
    """Basic > Transports, Session Management: a server MAY assign a session ID; this one never does."""
    response = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS})
    assert response.status == 200 and "mcp-session-id" not in {k.lower() for k in response.headers}
    answer = rpc("tools/list", headers={"Mcp-Session-Id": "made-up-by-the-client"})
    assert len(answer["result"]["tools"]) == 2


@pytest.mark.parametrize("params", [
    None,
    {"capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    {**INIT_PARAMS, "protocolVersion": 20250618},
    {**INIT_PARAMS, "capabilities": None},
    {**INIT_PARAMS, "clientInfo": {"name": "t"}},
    {**INIT_PARAMS, "clientInfo": "t"},
])
def test_initialize_without_its_required_params_is_invalid_params(params):
    assert error("initialize", params)["code"] == -32602


# --- ping, tools/list ------------------------------------------------------------------------------------------


def test_ping_answers_an_empty_result():
    """Basic > Utilities, Ping: "The receiver MUST respond promptly with an empty response"."""
    assert result("ping") == {}
    assert result("ping", {"_meta": {"progressToken": 1}}) == {}


def test_tools_list_describes_list_orders_and_whoami_with_input_and_output_schemas():
    tools = {tool["name"]: tool for tool in result("tools/list")["tools"]}
    assert set(tools) == {"list_orders", "whoami"}
    for tool in tools.values():
        assert tool["inputSchema"]["type"] == "object" and tool["outputSchema"]["type"] == "object"
        assert tool["description"] and tool["annotations"]["readOnlyHint"] is True
    assert "orders:read" in tools["list_orders"]["description"]
    assert set(tools["list_orders"]["inputSchema"]["properties"]) == {"status"}
    assert "nextCursor" not in result("tools/list", {})


def test_tools_list_with_a_cursor_the_server_never_gave_is_invalid_params():
    """Server Features > Pagination, Error Handling: "Invalid cursors SHOULD result in an error with code -32602"."""
    assert error("tools/list", {"cursor": "page-2"})["code"] == -32602


# --- tools/call ------------------------------------------------------------------------------------------------


def test_list_orders_returns_the_demo_orders_as_structured_content_and_as_json_text():
    """Server Features > Tools, Structured Content: "a tool that returns structured content SHOULD also return
    the serialized JSON in a TextContent block"."""
    answer = call("list_orders")
    assert answer["isError"] is False
    assert answer["structuredContent"] == {"orders": demo_api.orders()}
    assert [c["type"] for c in answer["content"]] == ["text"]
    assert json.loads(answer["content"][0]["text"]) == answer["structuredContent"]


def test_list_orders_filters_by_status():
    shipped = call("list_orders", {"status": "shipped"})["structuredContent"]["orders"]
    assert [o["id"] for o in shipped] == ["ord_1001"]
    assert call("list_orders", {"status": "lost"})["structuredContent"] == {"orders": []}


def tools_call(name: str, **kwargs: Any) -> Response:
    return post({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}, **kwargs)


def assert_insufficient_scope(response: Response, scopes: str, metadata: str | None = None) -> None:
    """RFC 6750 3.1: 403, ``error="insufficient_scope"`` and the scopes the call needs (then RFC 9728 5.1's
    ``resource_metadata`` when the resource is known); an OAuth error body, not a JSON-RPC answer."""
    assert response.status == 403, response.body
    challenge = f'Bearer error="insufficient_scope", scope="{scopes}"'
    if metadata:
        challenge += f', resource_metadata="{metadata}"'
    assert response.headers["WWW-Authenticate"] == challenge
    assert json.loads(response.body) == {"error": "insufficient_scope", "scope": scopes,
                                         "error_description": f"The access token lacks a scope this call needs: "
                                                              f"{scopes}."}


def test_list_orders_without_the_orders_read_scope_is_a_403_insufficient_scope_naming_the_scope():
    """The MCP authorization spec's scope challenge (RFC 6750 3.1): the call is refused over HTTP, before the tool
    runs, so the client can authorize again for the scope and retry; whoami needs no scope and still works."""
    assert_insufficient_scope(tools_call("list_orders", token=NO_SCOPES), "orders:read")
    assert call("whoami", token=NO_SCOPES)["isError"] is False


def test_the_403_names_the_protected_resources_metadata_when_the_server_is_given_its_resource():
    from passport.guard.resource import ProtectedResource

    metadata = "https://as.example/.well-known/oauth-protected-resource/mcp"
    resource = ProtectedResource(None, metadata, ("orders:read", "offline_access"))  # type: ignore[arg-type]
    answer = handle(Request("POST", "/mcp", Headers({**CLIENT_HEADERS, "MCP-Protocol-Version": "2025-06-18"}),
                            body=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                             "params": {"name": "list_orders"}}).encode()),
                    NO_SCOPES, resource=resource)
    assert_insufficient_scope(answer, "orders:read", metadata)


def test_a_batch_with_a_call_the_token_cannot_make_is_refused_whole_naming_every_scope_it_needs():
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami"}},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_orders"}}]
    assert_insufficient_scope(post(batch, token=NO_SCOPES, headers={"MCP-Protocol-Version": "2025-03-26"}),
                              "orders:read")
    assert post(batch, headers={"MCP-Protocol-Version": "2025-03-26"}).status == 200


def test_list_orders_honours_the_wildcard_scope_and_inherited_scopes_only_where_turned_on():
    wildcard = TokenContext("u", "c", "u", ("*",), "j")
    parent = TokenContext("u", "c", "u", ("orders",), "j")
    assert call("list_orders", token=wildcard)["isError"] is False
    assert_insufficient_scope(tools_call("list_orders", token=parent), "orders:read")
    assert call("list_orders", token=parent, inherit=True)["isError"] is False


def test_whoami_returns_the_tokens_subject_client_and_scopes():
    token = TokenContext(sub="client-9", client_id="client-9", user_id=None, scopes=("a", "b:c"), jti="j")
    answer = call("whoami", {}, token=token)
    assert answer["isError"] is False
    assert answer["structuredContent"] == {"sub": "client-9", "client_id": "client-9", "scopes": ["a", "b:c"]}
    assert json.loads(answer["content"][0]["text"]) == answer["structuredContent"]


@pytest.mark.parametrize("params", [
    {"name": "delete_orders"},
    {},
    {"name": 7},
    {"name": "whoami", "arguments": {"verbose": "yes"}},
    {"name": "list_orders", "arguments": {"status": 3}},
    {"name": "list_orders", "arguments": ["shipped"]},
    {"name": "list_orders", "arguments": "status=shipped"},
])
def test_an_unknown_tool_or_bad_arguments_is_invalid_params(params):
    """Server Features > Tools, Error Handling: "Unknown tools", "Invalid arguments": -32602."""
    assert error("tools/call", params)["code"] == -32602


def test_a_failing_method_is_an_internal_error_without_a_trace(monkeypatch):
    def broken(params, token, inherit):
        raise RuntimeError("secret detail at /var/task/x.py line 3")

    monkeypatch.setitem(mcp_server.METHODS, "ping", broken)
    answer = error("ping")
    assert answer == {"code": -32603, "message": "Internal error."}


# --- JSON-RPC framing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["resources/list", "prompts/list", "logging/setLevel", "tools/delete", "x"])
def test_an_unknown_method_is_method_not_found(method):
    """JSON-RPC 2.0 5.1: -32601; the server declares only the tools capability."""
    assert error(method)["code"] == -32601


def test_the_request_id_is_echoed_whether_a_string_or_an_integer():
    assert rpc("ping", request_id="abc-1")["id"] == "abc-1"
    assert rpc("ping", request_id=0)["id"] == 0


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe{}", b'{"jsonrpc": "2.0", "id": NaN, "method": "ping"}',
                                  b"[" * 100_000 + b"]" * 100_000])
def test_a_body_that_is_not_json_is_a_parse_error_with_400(body):
    """JSON-RPC 2.0 5.1: -32700, id null."""
    refused(post(body), 400, -32700)


@pytest.mark.parametrize("message, answered_id", [
    ("ping", None), (3, None), (None, None), ({}, None), ({"id": 1, "method": "ping"}, 1),
    ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, 1), ({"jsonrpc": "2.0", "id": 1, "method": 5}, 1),
    ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": 1}, 1),
    ({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "x"}}, 1),
    ({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": "x"}, 8),
])
def test_a_body_that_is_no_json_rpc_message_is_an_invalid_request_with_400(message, answered_id):
    """JSON-RPC 2.0 5.1: -32600, answered with the message's id when it has a usable one, else null (JSON-RPC 2.0
    5); MCP 2025-06-18, Basic > Requests: the id is a string or an integer and "MUST NOT be null"."""
    refused(post(message), 400, -32600, answered_id)


def test_positional_params_are_invalid_params_as_mcp_params_are_objects():
    assert error("ping", [1, 2])["code"] == -32602  # type: ignore[arg-type]


@pytest.mark.parametrize("message", [
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
    {"jsonrpc": "2.0", "method": "notifications/unheard-of"},
    {"jsonrpc": "2.0", "id": 4, "result": {}},
    {"jsonrpc": "2.0", "id": "s", "error": {"code": -1, "message": "no"}},
])
def test_a_notification_or_a_response_is_accepted_with_202_and_no_body(message):
    """Basic > Transports, Sending Messages to the Server: "the server MUST return HTTP status code 202 Accepted
    with no body"."""
    response = post(message)
    assert response.status == 202 and response.body == ""


# --- the transport's headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "json"])
def test_a_post_that_is_not_application_json_is_415(content_type):
    refused(post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Content-Type": content_type}), 415, -32600)


def test_application_json_with_a_charset_is_accepted():
    assert result("ping", headers={"Content-Type": "Application/JSON; charset=utf-8"}) == {}


@pytest.mark.parametrize("accept", [None, "", "application/json", "*/*", "application/*;q=0.5",
                                    "text/event-stream, application/json", "application/json;q=bad"])
def test_any_accept_that_admits_json_is_enough(accept):
    assert result("ping", headers={"Accept": accept}) == {}


@pytest.mark.parametrize("accept", ["text/event-stream", "text/html", "application/json;q=0"])
def test_an_accept_that_excludes_json_is_406(accept):
    refused(post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"Accept": accept}), 406, -32600)


@pytest.mark.parametrize("version", [None, *SUPPORTED_VERSIONS])
def test_a_supported_protocol_version_header_or_none_is_accepted(version):
    assert result("ping", headers={"MCP-Protocol-Version": version}) == {}


@pytest.mark.parametrize("version", ["2026-07-28", "2024-11-05", "", "latest"])
def test_an_unsupported_protocol_version_header_is_400(version):
    """Basic > Transports, Protocol Version Header: "If the server receives a request with an invalid or
    unsupported MCP-Protocol-Version, it MUST respond with 400 Bad Request"."""
    answer = refused(post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                          headers={"MCP-Protocol-Version": version}), 400, -32600, 2)
    assert answer["data"]["supported"] == list(SUPPORTED_VERSIONS)


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_methods_other_than_post_are_405_as_there_is_no_stream_and_no_session(method):
    """Basic > Transports: to a GET "the server MUST either return Content-Type: text/event-stream [...] or else
    return HTTP 405 Method Not Allowed"; a DELETE may be answered 405 by a server without sessions."""
    response = post(b"", method=method)
    refused(response, 405, -32600)
    assert response.headers["Allow"] == "POST"


def test_a_body_over_the_limit_is_413():
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * 1024 * 1024}})
    refused(post(body.encode()), 413, -32600)


# --- batches (MCP 2025-03-26) ----------------------------------------------------------------------------------

OLD = {"MCP-Protocol-Version": "2025-03-26"}


@pytest.mark.parametrize("headers", [OLD, {"MCP-Protocol-Version": None}])
def test_a_batch_under_2025_03_26_is_answered_with_an_array_in_request_order(headers):
    """MCP 2025-03-26, Basic > Transports: a POST body may be "an array batching one or more requests and/or
    notifications"; JSON-RPC 2.0 6: the answer is an array, notifications unanswered."""
    response = post([
        {"jsonrpc": "2.0", "id": "a", "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "whoami"}},
        {"jsonrpc": "2.0", "id": "c", "method": "nope"},
    ], headers=headers)
    assert response.status == 200
    answers = json.loads(response.body)
    assert [a["id"] for a in answers] == ["a", "b", "c"]
    assert answers[0]["result"] == {} and answers[1]["result"]["structuredContent"]["sub"] == "user-1"
    assert answers[2]["error"]["code"] == -32601


def test_a_batch_of_notifications_and_responses_only_is_202():
    response = post([{"jsonrpc": "2.0", "method": "notifications/initialized"},
                     {"jsonrpc": "2.0", "id": 3, "result": {}}], headers=OLD)
    assert response.status == 202 and response.body == ""


def test_invalid_members_of_a_batch_get_their_own_errors():
    response = post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, 5, {"jsonrpc": "2.0", "id": 2}], headers=OLD)
    answers = json.loads(response.body)
    assert response.status == 200
    assert [(a["id"], a.get("error", {}).get("code")) for a in answers] == [(1, None), (None, -32600), (2, -32600)]


def test_initialize_inside_a_batch_is_refused():
    """MCP 2025-03-26, Basic > Lifecycle: "The initialization request MUST NOT be part of a JSON-RPC batch"."""
    response = post([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS}], headers=OLD)
    assert json.loads(response.body) == [{"jsonrpc": "2.0", "id": 1, "error": {
        "code": -32600, "message": "initialize may not be part of a batch."}}]


@pytest.mark.parametrize("body, headers", [
    ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], {"MCP-Protocol-Version": "2025-06-18"}),
    ([], OLD),
    ([{"jsonrpc": "2.0", "method": "notifications/initialized"}] * 65, OLD),
    ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], {"MCP-Protocol-Version": "2026-07-28"}),
])
def test_a_batch_under_2025_06_18_an_empty_or_an_oversized_batch_is_refused_with_400(body, headers):
    """MCP 2025-06-18 removed JSON-RPC batching; JSON-RPC 2.0 6: an empty array is an Invalid Request."""
    refused(post(body, headers=headers), 400, -32600)


# --- never a 500 -----------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
MESSAGES = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0")},
    optional={
        "id": st.integers() | st.text(max_size=8) | st.none(),
        "method": st.sampled_from(["initialize", "ping", "tools/list", "tools/call", "x"]) | JSON_VALUES,
        "params": st.fixed_dictionaries({}, optional={
            "name": st.sampled_from(["list_orders", "whoami"]) | JSON_VALUES, "arguments": JSON_VALUES,
            "protocolVersion": JSON_VALUES, "capabilities": JSON_VALUES, "clientInfo": JSON_VALUES,
            "cursor": JSON_VALUES}) | JSON_VALUES,
        "result": JSON_VALUES,
    },
)


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(body=MESSAGES | st.lists(MESSAGES, max_size=3) | JSON_VALUES,
       version=st.sampled_from([None, "2025-03-26", "2025-06-18", "2026-07-28"]))
def test_no_message_gets_a_server_error_or_an_answer_that_is_not_json_rpc(body, version):
    response = post(body, headers={"MCP-Protocol-Version": version})
    assert response.status in (200, 202, 400), response.body
    if response.status == 202:
        assert response.body == ""
        return
    answers = json.loads(response.body)
    for answer in answers if isinstance(answers, list) else [answers]:
        assert answer["jsonrpc"] == "2.0" and ("result" in answer) != ("error" in answer)
        if "error" in answer:
            assert answer["error"]["code"] in (-32700, -32600, -32601, -32602)


# --- the demo API keeps its answer -----------------------------------------------------------------------------


def test_the_demo_apis_orders_answer_is_byte_identical_after_sharing_the_orders():
    event = {"requestContext": {"authorizer": {"jti": "j", "sub": "c", "client_id": "c", "scopes": "orders:read"}}}
    response = demo_api.DemoApi(users=lambda: None).handle(Request("GET", "/api/orders"), event)
    assert response.body == (
        '{"orders":[{"id":"ord_1001","item":"Espresso machine","status":"shipped"},'
        '{"id":"ord_1002","item":"Coffee beans, 1 kg","status":"processing"}],"client_id":"c"}'
    )


def test_a_protected_resources_401_names_the_scopes_it_needs_but_never_offline_access():
    """RFC 6750 3: the challenge of a request without a token (3.1: no error code) names the scopes the resource
    needs and its metadata (RFC 9728 5.1); offline_access is a client's choice, not something a resource needs."""
    from passport.guard.resource import ProtectedResource, Refused

    metadata = "https://as.example/.well-known/oauth-protected-resource/mcp"
    resource = ProtectedResource(None, metadata, ("orders:read", "offline_access"))  # type: ignore[arg-type]
    with pytest.raises(Refused) as refused:
        resource.authenticate(Request("POST", "/mcp", Headers(CLIENT_HEADERS)))
    assert refused.value.response.status == 401
    assert refused.value.response.headers["WWW-Authenticate"] == (
        f'Bearer scope="orders:read", resource_metadata="{metadata}"')
    reader = ProtectedResource(None, metadata, ("orders:read",))  # type: ignore[arg-type]
    reader.require(READER, ["orders:read"])  # granted: no refusal
    with pytest.raises(Refused) as refused:
        reader.require(NO_SCOPES, ["orders:read", "orders:write"])
    assert refused.value.response.status == 403
    assert 'scope="orders:read orders:write"' in refused.value.response.headers["WWW-Authenticate"]
