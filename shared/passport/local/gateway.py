"""The local gateway: API Gateway's twin for a laptop (ARCHITECTURE seam 5).

For each request it finds the route in the route table, runs the guard first where the route has a rule
(a real REST ``REQUEST`` authorizer event in, an IAM policy out, evaluated against the method ARN, with the
authorizer result cache), builds a real REST proxy event (payload 1.0) with the authorizer's context, calls
the function's ``handler(event, context)``, and writes its proxy result back. When API Gateway itself would
answer (no route, guard refusal, guard failure), it answers with the same gateway responses the stack
installs. Handlers cannot tell local from AWS.
"""

from __future__ import annotations

import base64
import fnmatch
import importlib.util
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from passport.config import Settings
from passport.gateway_responses import (
    GATEWAY_RESPONSES,
    METHOD_NOT_ALLOWED,
    GatewayResponse,
    api_resource_metadata,
    gateway_responses,
)
from passport.routes import Route, path_pattern, route_table

log = logging.getLogger("passport.gateway")
#: Authorizer answers kept at once (expired ones are dropped first when full).
AUTHORIZER_CACHE_ENTRIES = 10_000

#: API Gateway's payload limit.
MAX_PAYLOAD = 10 * 1024 * 1024
ACCOUNT = "000000000000"
API_ID = "local"
STAGE = "local"
FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class LambdaContext:
    """Enough of the Lambda context object for handlers and Powertools."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 29

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalGateway:
    def __init__(self, settings: Settings, functions_dir: Path = FUNCTIONS_DIR) -> None:
        self.settings = settings
        self._functions_dir = functions_dir
        self._routes = [(route, path_pattern(route.path)) for route in route_table(settings)]
        self._modules: dict[str, ModuleType] = {}
        self._modules_lock = threading.Lock()
        self._authorizer_cache: dict[str, tuple[dict[str, Any], float]] = {}  # by identity, bounded

    # -- functions -------------------------------------------------------------------------------------

    def function(self, name: str) -> ModuleType:
        """``functions/<name>/handler.py``, loaded once, as Lambda loads it once per container."""
        module = self._modules.get(name)
        if module is None:
            with self._modules_lock:
                module = self._modules.get(name)
                if module is None:
                    path = self._functions_dir / name / "handler.py"
                    spec = importlib.util.spec_from_file_location(f"passport_functions.{name}.handler", path)
                    assert spec is not None and spec.loader is not None
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[spec.name] = module
                    spec.loader.exec_module(module)
                    self._modules[name] = module
        return module

    # -- requests --------------------------------------------------------------------------------------

    def dispatch(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str = "127.0.0.1"
    ) -> Reply:
        if len(body) > MAX_PAYLOAD:
            return self._gateway_reply(GATEWAY_RESPONSES["REQUEST_TOO_LARGE"])
        url = urlsplit(target)
        path = unquote(url.path) or "/"
        matches = [(route, m) for route, pattern in self._routes if (m := pattern.fullmatch(path))]
        if not matches:
            return self._gateway_reply(GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"])
        chosen = next(((route, m) for route, m in matches if route.method == method), None)
        if chosen is None:
            allowed = ", ".join(sorted({route.method for route, _ in matches}))
            return self._gateway_reply(METHOD_NOT_ALLOWED, [("Allow", allowed)])
        route, match = chosen
        event = self._proxy_event(route, method, path, url.query, headers, body, source_ip, match.groupdict())
        if route.rule is not None:
            refusal = self._authorize(route, event)
            if refusal is not None:
                return refusal
        return self._invoke(route, event)

    def _proxy_event(
        self, route: Route, method: str, path: str, query: str, headers: list[tuple[str, str]],
        body: bytes, source_ip: str, path_params: Mapping[str, str],
    ) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
        host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
        user_agent = next((v for k, v in headers if k.lower() == "user-agent"), "")
        now = time.time()
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(path_params) or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": route.key,
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "stage": STAGE,
                "protocol": "HTTP/1.1",
                "domainName": host,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(now * 1000),
                "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            },
            "body": text if body else None,
            "isBase64Encoded": is_base64,
        }

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"

    def _authorize(self, route: Route, event: dict[str, Any]) -> Reply | None:
        """Run the guard as a REQUEST authorizer with identity source ``method.request.header.Authorization``;
        None lets the request through (with the context in the event), a reply refuses it."""
        identity = next(
            (v for k, v in (event["headers"] or {}).items() if k.lower() == "authorization"), None
        )
        if not identity:
            return self._gateway_reply(self._unauthorized())  # API Gateway never calls the guard
        method_arn = self.method_arn(event["httpMethod"], event["path"])
        answer = self._cached_policy(identity)
        if answer is None:
            authorizer_event = {
                "type": "REQUEST",
                "methodArn": method_arn,
                **{k: event[k] for k in (
                    "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
                )},
            }
            try:
                answer = self.function("guard").handler(authorizer_event, LambdaContext("guard"))
            except Exception as error:
                if str(error) == "Unauthorized":
                    return self._gateway_reply(self._unauthorized())
                log.warning("the guard failed: %s", type(error).__name__)
                return self._gateway_reply(GATEWAY_RESPONSES["AUTHORIZER_FAILURE"])
            ttl = self.settings.guard.authorizer_cache_seconds
            if ttl > 0:
                if len(self._authorizer_cache) >= AUTHORIZER_CACHE_ENTRIES:
                    # API Gateway's cache is bounded too; a long-running local server must not grow without end.
                    now = time.monotonic()
                    live = {k: v for k, v in self._authorizer_cache.items() if v[1] > now}
                    self._authorizer_cache = live if len(live) < AUTHORIZER_CACHE_ENTRIES else {}
                self._authorizer_cache[identity] = (answer, time.monotonic() + ttl)
        if not policy_allows(answer.get("policyDocument", {}), method_arn):
            return self._gateway_reply(GATEWAY_RESPONSES["ACCESS_DENIED"])
        context = {k: v for k, v in (answer.get("context") or {}).items()}
        event["requestContext"]["authorizer"] = {**context, "principalId": answer.get("principalId")}
        return None

    def _unauthorized(self) -> GatewayResponse:
        """The 401, pointing at the API's protected resource metadata (RFC 9728 5.1), as the stack's is."""
        metadata = api_resource_metadata(self.settings.issuer_url, self.settings.token_audience)
        return gateway_responses(metadata)["UNAUTHORIZED"]

    def _cached_policy(self, identity: str) -> dict[str, Any] | None:
        cached = self._authorizer_cache.get(identity)
        if cached is None:
            return None
        if cached[1] <= time.monotonic():
            self._authorizer_cache.pop(identity, None)
            return None
        return cached[0]

    def _invoke(self, route: Route, event: dict[str, Any]) -> Reply:
        try:
            result = self.function(route.function).handler(event, LambdaContext(route.function))
            status = int(result["statusCode"])
            body = result.get("body") or ""
            raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
            headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers += [(name, str(v)) for v in values]
        except Exception:
            # API Gateway answers a function error or malformed result with 502 and no detail.
            log.exception("function %s failed", route.function)
            return self._gateway_reply(GATEWAY_RESPONSES["DEFAULT_5XX"])
        return Reply(status, headers, raw)

    def _gateway_reply(self, response: GatewayResponse, extra: list[tuple[str, str]] | None = None) -> Reply:
        headers = [("Content-Type", "application/json"), *response.headers.items(), *(extra or [])]
        return Reply(response.status, headers, json.dumps(response.body).encode("utf-8"))


def policy_allows(document: Mapping[str, Any], resource: str) -> bool:
    """IAM evaluation for ``execute-api:Invoke``: an explicit Deny wins, else an Allow is needed."""
    allowed = False
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class _Handler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the headers and the body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers, which cost every keep-alive request 40 ms.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD:
            reply = self.gateway._gateway_reply(GATEWAY_RESPONSES["REQUEST_TOO_LARGE"])
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length > 0 else b""
            reply = self.gateway.dispatch(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
        log.info("%s %s %d %.1f ms", self.command, urlsplit(self.path).path, reply.status,
                 (time.perf_counter() - started) * 1000)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def version_string(self) -> str:
        return "lambda-passport"

    def log_message(self, format: str, *args: Any) -> None:  # the access line above replaces this
        pass


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # API Gateway takes bursts; a backlog of 5 (the default) would reset concurrent clients.
    request_queue_size = 256


def make_server(gateway: LocalGateway, host: str, port: int) -> GatewayServer:
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    return GatewayServer((host, port), handler)
