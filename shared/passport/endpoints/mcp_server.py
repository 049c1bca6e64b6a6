"""The demo MCP server behind the guard (docs/mcp.md): a template for a user's own MCP server.

The Model Context Protocol's Streamable HTTP transport (MCP 2025-06-18 and 2025-03-26, "Basic > Transports"),
served stateless and in JSON-response mode, so one Lambda invocation answers one POST:

- ``POST`` a JSON-RPC 2.0 request: ``200 application/json`` with its response (a JSON-RPC error, for a request
  that was understood but failed, is a 200 too). A notification or a response: ``202`` with no body.
- A batch (an array) is answered per MCP 2025-03-26 (JSON-RPC 2.0 section 6: an array of the answers, ``202``
  when nothing is to be answered) when the request speaks 2025-03-26 (its ``MCP-Protocol-Version`` header, or
  none, which means 2025-03-26); 2025-06-18 removed batching, so a batch sent under it is refused.
- Refused with a JSON-RPC error whose ``id`` is null (or the message's, when it had a usable one): a body that
  is not JSON (``400``, -32700), that is not a JSON-RPC message (``400``, -32600), an unsupported
  ``MCP-Protocol-Version`` (``400``, -32600), a body that is not ``application/json`` (``415``), an ``Accept``
  that excludes JSON (``406``), a body over :data:`MAX_BODY_BYTES` (``413``), any method but ``POST`` (``405``:
  no SSE stream to ``GET``, no session to ``DELETE``).
- Stateless: no ``Mcp-Session-Id`` is issued, and one sent is ignored; every request carries its bearer token,
  which the guard checked before this code runs.

Tools: ``list_orders`` (the demo API's orders; the token needs ``orders:read``) and ``whoami`` (the token's
subject, client and scopes). Their answers carry 2025-06-18's additions (``title``, ``outputSchema``,
``structuredContent``) at either revision: a 2025-03-26 client ignores members it does not know, and the same
content is in the text block. Nothing of API Gateway: :func:`handle` takes the core's request and the guard's
:class:`~passport.guard.context.TokenContext`.

A call to a tool whose scopes the token lacks is refused before it runs, over HTTP: ``403`` with
``WWW-Authenticate: Bearer error="insufficient_scope", scope="<every scope the call needs>",
resource_metadata="..."`` (RFC 6750 3.1, RFC 9728 5.1; the MCP authorization spec's scope challenge), so an MCP
client authorizes again for those scopes (with those it holds) and retries. A batch needs the scopes of all its
calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from passport import __version__
from passport.core.errors import PassportError
from passport.core.http import Request, Response
from passport.endpoints.demo_api import orders
from passport.guard.context import TokenContext

if TYPE_CHECKING:
    from passport.guard.resource import ProtectedResource

log = logging.getLogger("passport.mcp")

#: The revisions this server speaks, newest first (initialize answers the client's if listed, else the first).
SUPPORTED_VERSIONS = ("2025-06-18", "2025-03-26")
LATEST_VERSION = SUPPORTED_VERSIONS[0]
#: "If the server does not receive an MCP-Protocol-Version header [...] the server SHOULD assume protocol version
#: 2025-03-26" (MCP 2025-06-18, Basic > Transports, Protocol Version Header).
ASSUMED_VERSION = "2025-03-26"
#: The revisions that allow JSON-RPC batches (2025-06-18 removed them).
BATCHING_VERSIONS = ("2025-03-26",)
VERSION_HEADER = "mcp-protocol-version"

#: The largest body read. Tool calls are a few hundred bytes; this also bounds what an answer can echo back.
MAX_BODY_BYTES = 1024 * 1024
#: The most messages in one batch (each is answered in the same invocation).
MAX_BATCH = 64

SERVER_INFO = {"name": "passport-demo-mcp", "version": __version__}
INSTRUCTIONS = (
    "The demo MCP server of lambda-passport. Every request carries an OAuth 2.0 bearer token issued by this "
    "Passport server. whoami says whose token it is; list_orders lists the demo orders and needs the scope "
    "orders:read."
)
ORDERS_SCOPE = "orders:read"

# JSON-RPC 2.0 section 5.1.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


class RpcError(PassportError):
    """A JSON-RPC error object (JSON-RPC 2.0 section 5.1): the JSON-RPC surface's base."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


# --- HTTP ------------------------------------------------------------------------------------------------------


def handle(request: Request, token: TokenContext, *, inherit: bool = False,
           resource: ProtectedResource | None = None) -> Response:
    """One HTTP request to the MCP endpoint. ``inherit``: the deployment's ``inherited_scopes`` (as the guard's);
    ``resource``: the protected resource whose 403 answers a call the token's scopes do not cover (without it, the
    same challenge without ``resource_metadata``)."""
    if request.method != "POST":
        return _refuse(405, INVALID_REQUEST, "Method not allowed: this stateless MCP server takes POST only "
                       "(it opens no SSE stream and keeps no session).", {"Allow": "POST"})
    if not _accepts_json(request.headers.get("accept", "")):
        return _refuse(406, INVALID_REQUEST, "Not acceptable: the client must accept application/json.")
    if request.media_type != "application/json":
        return _refuse(415, INVALID_REQUEST, "Unsupported media type: the body must be application/json.")
    if len(request.body) > MAX_BODY_BYTES:
        return _refuse(413, INVALID_REQUEST, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        payload = _parse(request.body)
    except RpcError as error:
        return _reply(400, _error(None, error))
    header_version = request.headers.get(VERSION_HEADER)
    if isinstance(payload, list):
        return _batch(payload, header_version, token, inherit, resource)
    return _single(payload, header_version, token, inherit, resource)


def _needed_scopes(messages: Iterable[Any]) -> tuple[str, ...]:
    """Every scope the tool calls among ``messages`` need (a tool that does not exist needs none: its call is a
    protocol error, answered as one)."""
    needed: dict[str, None] = {}
    for message in messages:
        if not (isinstance(message, dict) and message.get("method") == "tools/call" and "id" in message):
            continue
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        tool = TOOLS.get(name) if isinstance(name, str) else None
        needed.update(dict.fromkeys(tool.scopes if tool else ()))
    return tuple(needed)


def _scope_refusal(messages: Iterable[Any], token: TokenContext, inherit: bool,
                   resource: ProtectedResource | None) -> Response | None:
    """RFC 6750 3.1: the 403 ``insufficient_scope`` naming every scope the calls need, when the token lacks one."""
    needed = _needed_scopes(messages)
    if all(token.token_can(scope, inherit=inherit) for scope in needed):
        return None
    if resource is not None:
        return resource.insufficient_scope(needed, dpop=bool(token.jkt))
    from passport.guard.resource import bearer_refusal  # the resource's module loads the guard's verifier

    return bearer_refusal(403, "insufficient_scope", f"The access token lacks a scope this call needs: "
                          f"{' '.join(needed)}.", None, needed)


def _single(message: Any, header_version: str | None, token: TokenContext, inherit: bool,
            resource: ProtectedResource | None) -> Response:
    try:
        kind, request_id = _classify(message)
        # initialize negotiates the version in its body; every later message says it in the header.
        if not (kind == "request" and message["method"] == "initialize"):
            _protocol_version(header_version)
    except RpcError as error:
        return _reply(400, _error(_usable_id(message), error))
    if kind != "request":
        return Response(202, {"Cache-Control": "no-store"}, "")
    refusal = _scope_refusal([message], token, inherit, resource)
    if refusal is not None:
        return refusal
    return _reply(200, _answer(message, request_id, token, inherit))


def _batch(messages: list[Any], header_version: str | None, token: TokenContext, inherit: bool,
           resource: ProtectedResource | None) -> Response:
    """A JSON-RPC batch, as MCP 2025-03-26 allows (JSON-RPC 2.0 section 6)."""
    try:
        version = _protocol_version(header_version)
        if version not in BATCHING_VERSIONS:
            raise RpcError(INVALID_REQUEST, f"MCP {version} has no JSON-RPC batches: send one message per request.")
        if not messages:
            raise RpcError(INVALID_REQUEST, "The batch is empty.")
        if len(messages) > MAX_BATCH:
            raise RpcError(INVALID_REQUEST, f"The batch holds more than {MAX_BATCH} messages.")
    except RpcError as error:
        return _reply(400, _error(None, error))
    refusal = _scope_refusal(messages, token, inherit, resource)
    if refusal is not None:
        return refusal
    answers = []
    for message in messages:
        try:
            kind, request_id = _classify(message)
        except RpcError as error:
            answers.append(_error(_usable_id(message), error))
            continue
        if kind != "request":
            continue
        if message["method"] == "initialize":
            # MCP 2025-03-26, Basic > Lifecycle: "The initialization request MUST NOT be part of a JSON-RPC batch".
            answers.append(_error(request_id, RpcError(INVALID_REQUEST, "initialize may not be part of a batch.")))
            continue
        answers.append(_answer(message, request_id, token, inherit))
    if not answers:
        return Response(202, {"Cache-Control": "no-store"}, "")
    return _reply(200, answers)


def _accepts_json(accept: str) -> bool:
    """Loosely: no Accept, or one that admits application/json (``application/json, text/event-stream``, ``*/*``)."""
    if not accept.strip():
        return True
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() not in ("application/json", "application/*", "*/*"):
            continue
        quality = next((p.split("=", 1)[1].strip() for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True  # a malformed weight is not a refusal
    return False


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        raise RpcError(PARSE_ERROR, "Parse error: the body is not JSON in UTF-8.") from None
    except RecursionError:
        raise RpcError(PARSE_ERROR, "Parse error: the JSON is nested too deeply.") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _protocol_version(header: str | None) -> str:
    """The revision a non-initialize message speaks: its ``MCP-Protocol-Version`` header, which "MUST" get a
    400 when the server does not support it (MCP 2025-06-18, Basic > Transports), or 2025-03-26 without one."""
    if header is None:
        return ASSUMED_VERSION
    version = header.strip()
    if version not in SUPPORTED_VERSIONS:
        raise RpcError(INVALID_REQUEST, f"Unsupported MCP-Protocol-Version {_quote(version)}.",
                       {"supported": list(SUPPORTED_VERSIONS), "requested": version[:64]})
    return version


def _reply(status: int, payload: Any) -> Response:
    return Response(status, dict(JSON_HEADERS), json.dumps(payload, separators=(",", ":")))


def _refuse(status: int, code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    response = _reply(status, _error(None, RpcError(code, message)))
    response.headers.update(headers or {})
    return response


# --- JSON-RPC --------------------------------------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    """MCP's RequestId: a string or an integer, never null (MCP 2025-06-18, Basic > Requests)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _usable_id(message: Any) -> str | int | None:
    """The id to answer an invalid message with: its own when it has a valid one, else null (JSON-RPC 2.0 5)."""
    if isinstance(message, dict) and _is_id(message.get("id")):
        return message["id"]
    return None


def _classify(message: Any) -> tuple[str, str | int | None]:
    """``("request", id)``, ``("notification", None)`` or ``("response", id)``; RpcError if it is none of them."""
    if not isinstance(message, dict):
        raise RpcError(INVALID_REQUEST, "Invalid request: a JSON-RPC message is an object.")
    if message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".')
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            raise RpcError(INVALID_REQUEST, 'Invalid request: "method" must be a string.')
        params = message.get("params")
        if params is not None and not isinstance(params, dict | list):
            raise RpcError(INVALID_REQUEST, 'Invalid request: "params" must be an object.')
        if "id" not in message:
            return "notification", None
        if not _is_id(message["id"]):
            raise RpcError(INVALID_REQUEST, 'Invalid request: "id" must be a string or an integer.')
        return "request", message["id"]
    if _is_id(message.get("id")) and ("result" in message) != ("error" in message):
        return "response", message["id"]
    raise RpcError(INVALID_REQUEST, "Invalid request: neither a request, a notification nor a response.")


def _error(request_id: str | int | None, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.body()}


def _answer(message: dict[str, Any], request_id: str | int | None, token: TokenContext,
            inherit: bool) -> dict[str, Any]:
    method = message["method"]
    try:
        handler = METHODS.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {_quote(method)}.")
        params = message.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "Invalid params: MCP params are an object.")
        result = handler(params, token, inherit)
    except RpcError as error:
        return _error(request_id, error)
    except Exception:
        log.exception("MCP method %s failed", method[:64])  # the trace goes to the log, never to the caller
        return _error(request_id, RpcError(INTERNAL_ERROR, "Internal error."))
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def required_scopes() -> tuple[str, ...]:
    """Every scope a tool of this server needs: what its 401 names (RFC 6750 3), so a first authorization covers
    every tool."""
    return tuple(dict.fromkeys(scope for tool in TOOLS.values() for scope in tool.scopes))


def _quote(value: str) -> str:
    return json.dumps(value[:64] + ("..." if len(value) > 64 else ""))


# --- MCP methods -----------------------------------------------------------------------------------------------


def _initialize(params: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    """MCP Basic > Lifecycle, Initialization."""
    requested = params.get("protocolVersion")
    if not isinstance(requested, str) or not requested:
        raise RpcError(INVALID_PARAMS, 'Invalid params: "protocolVersion" must be a string.')
    if not isinstance(params.get("capabilities"), dict):
        raise RpcError(INVALID_PARAMS, 'Invalid params: "capabilities" must be an object.')
    client_info = params.get("clientInfo")
    if not (isinstance(client_info, dict) and isinstance(client_info.get("name"), str)
            and isinstance(client_info.get("version"), str)):
        raise RpcError(INVALID_PARAMS, 'Invalid params: "clientInfo" must be an object with a name and a version.')
    return {
        "protocolVersion": requested if requested in SUPPORTED_VERSIONS else LATEST_VERSION,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": dict(SERVER_INFO),
        "instructions": INSTRUCTIONS,
    }


def _ping(params: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    """MCP Basic > Utilities, Ping: an empty result."""
    return {}


def _tools_list(params: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    """MCP Server Features > Tools, Listing Tools: every tool on one page (a cursor is one this server never gave)."""
    if params.get("cursor") is not None:
        raise RpcError(INVALID_PARAMS, "Invalid params: unknown cursor (every tool is on the first page).")
    return {"tools": [tool.definition() for tool in TOOLS.values()]}


def _tools_call(params: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    """MCP Server Features > Tools, Calling Tools: an unknown tool or bad arguments are protocol errors (-32602).
    A missing scope never gets here: :func:`handle` answered it with a 403 (RFC 6750 3.1)."""
    name = params.get("name")
    if not isinstance(name, str):
        raise RpcError(INVALID_PARAMS, 'Invalid params: "name" must be a string.')
    tool = TOOLS.get(name)
    if tool is None:
        raise RpcError(INVALID_PARAMS, f"Unknown tool: {_quote(name)}.")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, 'Invalid params: "arguments" must be an object.')
    tool.check(arguments)
    return tool.run(arguments, token, inherit)


METHODS: dict[str, Callable[[dict[str, Any], TokenContext, bool], dict[str, Any]]] = {
    "initialize": _initialize,
    "ping": _ping,
    "tools/list": _tools_list,
    "tools/call": _tools_call,
}


# --- tools -----------------------------------------------------------------------------------------------------


class Tool:
    """A tool: its definition (MCP 2025-06-18 ``Tool``), the scopes a call needs, and its run. Arguments are
    strings, checked against the input schema's ``properties`` (no others are allowed)."""

    def __init__(self, name: str, title: str, description: str, properties: dict[str, Any],
                 output_schema: dict[str, Any],
                 run: Callable[[dict[str, Any], TokenContext, bool], dict[str, Any]],
                 scopes: tuple[str, ...] = ()) -> None:
        self.name, self.title, self.description = name, title, description
        self.properties, self.output_schema, self.run = properties, output_schema, run
        self.scopes = scopes

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": {"type": "object", "properties": self.properties, "additionalProperties": False},
            "outputSchema": self.output_schema,
            "annotations": {"title": self.title, "readOnlyHint": True, "openWorldHint": False},
        }

    def check(self, arguments: dict[str, Any]) -> None:
        unknown = sorted(set(arguments) - set(self.properties))
        if unknown:
            raise RpcError(INVALID_PARAMS, f"Invalid arguments for {self.name}: unknown argument {_quote(unknown[0])}.")
        for argument, value in arguments.items():
            if not isinstance(value, str):
                raise RpcError(INVALID_PARAMS, f"Invalid arguments for {self.name}: {argument} must be a string.")


def _result(structured: dict[str, Any]) -> dict[str, Any]:
    """Structured content, and its JSON as text for clients older than structured content (MCP 2025-06-18,
    Server Features > Tools, Structured Content)."""
    return {
        "content": [{"type": "text", "text": json.dumps(structured, separators=(",", ":"))}],
        "structuredContent": structured,
        "isError": False,
    }


def _list_orders(arguments: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    found = orders()
    status = arguments.get("status")
    if status is not None:
        found = [order for order in found if order["status"] == status]
    return _result({"orders": found})


def _whoami(arguments: dict[str, Any], token: TokenContext, inherit: bool) -> dict[str, Any]:
    return _result({"sub": token.sub, "client_id": token.client_id, "scopes": list(token.scopes)})


_ORDER = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "item": {"type": "string"}, "status": {"type": "string"}},
    "required": ["id", "item", "status"],
}

TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool(
        "list_orders", "List orders",
        f"The demo API's orders (as GET /api/orders answers). Needs the scope {ORDERS_SCOPE}.",
        {"status": {"type": "string", "description": "Only the orders in this status ("
                    + ", ".join(sorted({order["status"] for order in orders()})) + ")."}},
        {"type": "object", "properties": {"orders": {"type": "array", "items": _ORDER}}, "required": ["orders"]},
        _list_orders, (ORDERS_SCOPE,),
    ),
    Tool(
        "whoami", "Who am I",
        "Whose access token this is: its subject (the user, or the client for client credentials), the client "
        "and the scopes.",
        {},
        {
            "type": "object",
            "properties": {"sub": {"type": "string"}, "client_id": {"type": "string"},
                           "scopes": {"type": "array", "items": {"type": "string"}}},
            "required": ["sub", "client_id", "scopes"],
        },
        _whoami,
    ),
)}
