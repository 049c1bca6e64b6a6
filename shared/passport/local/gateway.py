"""The local gateway: API Gateway's twin for a laptop and for the tests.

As a REST API (the default, and what ``passport serve`` runs): for each request it finds the route in the route
table, runs the guard first where the route has a rule (a real REST ``REQUEST`` authorizer event in, an IAM policy
out, evaluated against the method ARN), builds a real REST proxy event (payload 1.0) with the authorizer's
context, calls the function's ``handler(event, context)``, and writes its proxy result back. When API Gateway
itself would answer (no route, guard refusal, guard failure), it answers with the same gateway responses the
stack installs. Handlers cannot tell local from AWS.

As an HTTP API (``http_api=True``, for a user's API that ``PassportGuard.http_authorizer`` protects): payload 2.0
authorizer and proxy events, the guard's simple responses (``isAuthorized``), and HTTP API's own
``{"message": ...}`` refusals, since HTTP APIs have no gateway responses.

CORS preflights (``OPTIONS`` on a path whose routes allow cross-origin reads, ``passport.routes.preflight_routes``):
as a REST API the gateway answers them itself, as the stack's mock integrations do; as an HTTP API (no mock
integrations) they go to the path's function, which answers the same. On the passport route table its own answers
(gateway responses) are readable from any origin, as the stack's are (``gateway_responses(cors=True)``).

Both model API Gateway's authorizer result cache as the construct configures it (``passport.authorizer_cache``):
an answer is cached under the values of the authorizer's identity sources for the TTL, and a request missing
any of them is refused with 401 before the guard runs.
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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from passport.authorizer_cache import (
    DEFAULT_TTL_SECONDS,
    HTTP_IDENTITY_SOURCES,
    REST_IDENTITY_SOURCES,
    RequestValues,
    cache_key,
    check,
    ttl_seconds,
)
from passport.config import Settings
from passport.cors import preflight_headers
from passport.gateway_responses import (
    GATEWAY_RESPONSES,
    METHOD_NOT_ALLOWED,
    STRICT_TRANSPORT_SECURITY,
    GatewayResponse,
    api_resource_metadata,
    gateway_responses,
    with_transport_security,
)
from passport.local.http_server import HttpReply, HttpRequest, HttpServer, Limits, message_refusal, message_reply
from passport.routes import PREFLIGHT, Route, path_pattern, preflight_methods, preflight_routes, route_table

log = logging.getLogger("passport.gateway")
#: Authorizer answers kept at once (expired ones are dropped first when full).
AUTHORIZER_CACHE_ENTRIES = 10_000

#: API Gateway's payload limit.
MAX_PAYLOAD = 10 * 1024 * 1024
ACCOUNT = "000000000000"
API_ID = "local"
STAGE = "local"
#: An HTTP API's stage, as the CDK's HttpApi creates it.
HTTP_STAGE = "$default"
FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"
#: The authorizer: always the product's ``functions/guard``, the code PassportGuard deploys on any API.
GUARD = "guard"
#: What an HTTP API answers itself (it has no gateway responses): status and ``{"message": ...}``.
HTTP_API_UNAUTHORIZED = (401, "Unauthorized")
HTTP_API_FORBIDDEN = (403, "Forbidden")
HTTP_API_NOT_FOUND = (404, "Not Found")
HTTP_API_TOO_LARGE = (413, "Request Entity Too Large")
HTTP_API_ERROR = (500, "Internal Server Error")


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
    """API Gateway in front of ``functions_dir``'s handlers: a REST API (the default) or an HTTP API
    (``http_api=True``), serving ``routes`` (default: the passport route table). ``identity_sources`` and
    ``cache_ttl`` are the guard's authorizer settings, by default those ``PassportGuard`` gives that kind of API
    (for the passport route table, the TTL is ``guard.authorizer_cache_seconds``, as the stack sets it)."""

    def __init__(
        self,
        settings: Settings,
        functions_dir: Path = FUNCTIONS_DIR,
        *,
        http_api: bool = False,
        routes: Iterable[Route] | None = None,
        identity_sources: Sequence[str] | None = None,
        cache_ttl: float | None = None,
    ) -> None:
        self.settings = settings
        self.http_api = http_api
        self._functions_dir = functions_dir
        table = route_table(settings) if routes is None else tuple(routes)
        # Fetch standard, CORS protocol: the preflights of the paths that allow cross-origin reads.
        self._preflight_methods = {kind: preflight_methods(table, kind) for kind in {r.cors for r in table if r.cors}}
        table = (*table, *preflight_routes(table))
        self._routes = [(route, path_pattern(route.path)) for route in table]
        default_sources = HTTP_IDENTITY_SOURCES if http_api else REST_IDENTITY_SOURCES
        # A misspelt identity source fails here, not on every request.
        self.identity_sources = check(identity_sources if identity_sources is not None else default_sources)
        self._cache_ttl = cache_ttl
        self._own_routes = routes is not None
        self._modules: dict[str, ModuleType] = {}
        self._modules_lock = threading.Lock()
        # Authorizer answers by cache key (the identity sources' values), bounded.
        self._authorizer_cache: dict[tuple[str, ...], tuple[Any, float]] = {}

    # -- functions -------------------------------------------------------------------------------------

    def function(self, name: str) -> ModuleType:
        """``functions/<name>/handler.py``, loaded once, as Lambda loads it once per container."""
        module = self._modules.get(name)
        if module is None:
            with self._modules_lock:
                module = self._modules.get(name)
                if module is None:
                    folder = FUNCTIONS_DIR if name == GUARD else self._functions_dir
                    path = folder / name / "handler.py"
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
    ) -> HttpReply:
        if len(body) > MAX_PAYLOAD:
            return self.too_large()
        url = urlsplit(target)
        path = unquote(url.path) or "/"
        matches = [(route, m) for route, pattern in self._routes if (m := pattern.fullmatch(path))]
        chosen = next(((route, m) for route, m in matches if route.method == method), None)
        if self.http_api:
            if chosen is None:  # an HTTP API has no 405: a method without a route is no route
                return message_reply(*HTTP_API_NOT_FOUND)
            route, match = chosen
            return self._dispatch_http(route, method, url.path or "/", url.query, headers, body, source_ip,
                                       match.groupdict())
        if not matches:
            return self._gateway_reply(self._response("MISSING_AUTHENTICATION_TOKEN"))
        if chosen is None:
            allowed = ", ".join(sorted({route.method for route, _ in matches}))
            return self._gateway_reply(METHOD_NOT_ALLOWED, [("Allow", allowed)])
        route, match = chosen
        if route.method == PREFLIGHT and route.cors:
            return self.preflight(route)
        event = self._proxy_event(route, method, path, url.query, headers, body, source_ip, match.groupdict())
        if route.rule is not None:
            refusal = self._authorize(event, _request_values(headers, url.query, event["requestContext"]))
            if refusal is not None:
                return refusal
        return self._invoke(route, event)

    def preflight(self, route: Route) -> HttpReply:
        """A CORS preflight, as the stack's mock integration answers it: 204, the same headers for every origin
        (``passport.cors.preflight_headers``)."""
        headers = preflight_headers(route.cors, self._preflight_methods[route.cors][route.path])
        if self.settings.issuer_url.lower().startswith("https://"):
            headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        return HttpReply(204, list(headers.items()), b"")

    def serve(self, request: HttpRequest) -> HttpReply:
        """The HTTP server's application: one complete request in, the answer out."""
        return self.dispatch(request.method, request.target, request.headers, request.body, request.client_ip)

    def refusal(self, status: int) -> HttpReply:
        """What the server answers itself (a request too large, malformed, too slow): API Gateway's gateway
        response where it has one, else a JSON message."""
        if status == 413:
            return self.too_large()
        if self.http_api:
            # An HTTP API has no 405: a method without a route is no route.
            return message_reply(*HTTP_API_NOT_FOUND) if status == 405 else message_refusal(status)
        if status == 405:  # a method the parser does not know: no route has it
            return self._gateway_reply(METHOD_NOT_ALLOWED)
        if status == 502:
            return self._gateway_reply(self._response("DEFAULT_5XX"))
        return message_refusal(status)

    def too_large(self) -> HttpReply:
        if self.http_api:
            return message_reply(*HTTP_API_TOO_LARGE)
        return self._gateway_reply(self._response("REQUEST_TOO_LARGE"))

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
        text, is_base64 = _body_text(body)
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
                # The path as the client addressed it, as API Gateway gives it: with the stage on the default URL,
                # with the base path on a custom domain. Here the server's root maps to the stage, as a custom
                # domain's root mapping does, so it is the path itself (what a DPoP proof's htu names).
                "path": path,
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

    def _authorize(self, event: dict[str, Any], values: RequestValues) -> HttpReply | None:
        """Run the guard as a REST API's REQUEST authorizer; None lets the request through (with the context in
        the event), a reply refuses it. The cached policy is evaluated against each request's method ARN."""
        key = cache_key(self.identity_sources, values)
        if key is None:
            return self._gateway_reply(self._unauthorized())  # API Gateway never calls the guard
        method_arn = self.method_arn(event["httpMethod"], event["path"])
        answer = self._cached_answer(key)
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
                answer = self.function(GUARD).handler(authorizer_event, LambdaContext(GUARD))
            except Exception as error:
                if str(error) == "Unauthorized":
                    return self._gateway_reply(self._unauthorized())
                log.warning("the guard failed: %s", type(error).__name__)
                return self._gateway_reply(self._response("AUTHORIZER_FAILURE"))
            if not _is_policy(answer):
                log.warning("the guard's answer is not a policy")
                return self._gateway_reply(self._response("AUTHORIZER_CONFIGURATION_ERROR"))
            self._remember(key, answer)
        if not policy_allows(answer["policyDocument"], method_arn):
            return self._gateway_reply(self._response("ACCESS_DENIED"))
        context = {k: v for k, v in (answer.get("context") or {}).items()}
        event["requestContext"]["authorizer"] = {**context, "principalId": answer.get("principalId")}
        return None

    def _unauthorized(self) -> GatewayResponse:
        """The 401, pointing at the API's protected resource metadata (RFC 9728 5.1), as the stack's is."""
        metadata = api_resource_metadata(self.settings.issuer_url, self.settings.token_audience)
        return gateway_responses(metadata, cors=not self._own_routes,
                                 dpop=self.settings.dpop.enabled)["UNAUTHORIZED"]

    def _response(self, kind: str) -> GatewayResponse:
        """A gateway response; on the passport route table readable cross-origin where the stack's is
        (``gateway_responses(cors=True)``)."""
        return GATEWAY_RESPONSES[kind] if self._own_routes else gateway_responses(cors=True)[kind]

    # -- the authorizer result cache -------------------------------------------------------------------

    def cache_ttl(self) -> float:
        """The authorizer cache's TTL: as given, else the stack's setting for the passport route table (read now:
        a test may change the settings), else PassportGuard's default."""
        if self._cache_ttl is not None:
            return self._cache_ttl
        configured = DEFAULT_TTL_SECONDS if self._own_routes else self.settings.guard.authorizer_cache_seconds
        return ttl_seconds(configured, dpop=self.settings.dpop.enabled)

    def _cached_answer(self, key: tuple[str, ...]) -> Any:
        cached = self._authorizer_cache.get(key)
        if cached is None:
            return None
        if cached[1] <= time.monotonic():
            self._authorizer_cache.pop(key, None)
            return None
        return cached[0]

    def _remember(self, key: tuple[str, ...], answer: Any) -> None:
        ttl = self.cache_ttl()
        # API Gateway caches only with a TTL and at least one identity source (the key).
        if ttl <= 0 or not key:
            return
        if len(self._authorizer_cache) >= AUTHORIZER_CACHE_ENTRIES:
            # API Gateway's cache is bounded too; a long-running local server must not grow without end.
            now = time.monotonic()
            live = {k: v for k, v in self._authorizer_cache.items() if v[1] > now}
            self._authorizer_cache = live if len(live) < AUTHORIZER_CACHE_ENTRIES else {}
        self._authorizer_cache[key] = (answer, time.monotonic() + ttl)

    # -- HTTP API (payload 2.0) ------------------------------------------------------------------------

    def _dispatch_http(
        self, route: Route, method: str, raw_path: str, query: str, headers: list[tuple[str, str]], body: bytes,
        source_ip: str, path_params: Mapping[str, str],
    ) -> HttpReply:
        event = http_api_event(route, method, raw_path, query, headers, body, source_ip, path_params)
        if route.rule is not None:
            refusal = self._authorize_http(event, _request_values(headers, query, _http_context(event)))
            if refusal is not None:
                return refusal
        return self._invoke_http(route, event)

    def route_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{HTTP_STAGE}/{method}{path}"

    def _authorize_http(self, event: dict[str, Any], values: RequestValues) -> HttpReply | None:
        """Run the guard as an HTTP API's Lambda authorizer (payload 2.0, simple responses). The cached answer is
        reused for every request with the same identity source values, whatever its route: only a route key
        among the identity sources keeps one route's answer from deciding another."""
        key = cache_key(self.identity_sources, values)
        if key is None:
            return message_reply(*HTTP_API_UNAUTHORIZED)  # API Gateway never calls the guard
        answer = self._cached_answer(key)
        if answer is None:
            context = event["requestContext"]
            authorizer_event = {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": self.route_arn(context["http"]["method"], context["http"]["path"]),
                "identitySource": list(key),
                **{k: v for k, v in event.items() if k not in ("version", "body", "isBase64Encoded")},
            }
            try:
                answer = self.function(GUARD).handler(authorizer_event, LambdaContext(GUARD))
            except Exception as error:
                if str(error) == "Unauthorized":
                    return message_reply(*HTTP_API_UNAUTHORIZED)
                log.warning("the guard failed: %s", type(error).__name__)
                return message_reply(*HTTP_API_ERROR)
            if not _is_simple_response(answer):
                log.warning("the guard's answer is not a simple response")
                return message_reply(*HTTP_API_ERROR)
            self._remember(key, answer)
        if not answer["isAuthorized"]:
            return message_reply(*HTTP_API_FORBIDDEN)
        event["requestContext"]["authorizer"] = {"lambda": dict(answer.get("context") or {})}
        return None

    def _invoke_http(self, route: Route, event: dict[str, Any]) -> HttpReply:
        try:
            return http_api_reply(self.function(route.function).handler(event, LambdaContext(route.function)))
        except Exception:
            # An HTTP API answers a function error or malformed result with 500 and no detail.
            log.exception("function %s failed", route.function)
            return message_reply(*HTTP_API_ERROR)

    # -- REST API --------------------------------------------------------------------------------------

    def _invoke(self, route: Route, event: dict[str, Any]) -> HttpReply:
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
            return self._gateway_reply(self._response("DEFAULT_5XX"))
        return HttpReply(status, headers, raw)

    def _gateway_reply(self, response: GatewayResponse, extra: list[tuple[str, str]] | None = None) -> HttpReply:
        if self.settings.issuer_url.lower().startswith("https://"):
            response = with_transport_security(response)  # as API Gateway's, over https (RFC 6797)
        headers = [("Content-Type", "application/json"), *response.headers.items(), *(extra or [])]
        return HttpReply(response.status, headers, json.dumps(response.body).encode("utf-8"))


def http_api_event(
    route: Route, method: str, raw_path: str, query: str, headers: list[tuple[str, str]], body: bytes,
    source_ip: str, path_params: Mapping[str, str],
) -> dict[str, Any]:
    """An HTTP API's payload 2.0 proxy event: headers lower-cased, repeats joined by commas, cookies apart
    (AWS, "Working with AWS Lambda proxy integrations for HTTP APIs")."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    text, is_base64 = _body_text(body)
    now = time.time()
    host = joined.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": HTTP_STAGE,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    # Absent members are left out, as an HTTP API leaves them out.
    optional = {"cookies": cookies, "queryStringParameters": params, "pathParameters": dict(path_params),
                "body": text if body else None}
    event.update({name: value for name, value in optional.items() if value})
    return event


def http_api_reply(result: Any) -> HttpReply:
    """A function's payload 2.0 answer. Without ``statusCode``, an HTTP API takes any JSON value as a 200
    ``application/json`` body (AWS, "Working with AWS Lambda proxy integrations for HTTP APIs")."""
    if not (isinstance(result, Mapping) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpReply(200, [("Content-Type", "application/json")], text.encode("utf-8"))
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    return HttpReply(int(result["statusCode"]), headers, raw)


def _body_text(body: bytes) -> tuple[str, bool]:
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _request_values(headers: list[tuple[str, str]], query: str, context: Mapping[str, Any]) -> RequestValues:
    """What the identity sources read; neither kind of API here has stage variables."""
    return RequestValues(headers=headers, query=parse_qsl(query, keep_blank_values=True), context=context)


def _http_context(event: Mapping[str, Any]) -> dict[str, Any]:
    """An HTTP API's context variables (``$context.routeKey``, ``$context.httpMethod``,
    ``$context.identity.sourceIp``...) for a request's event."""
    context = event["requestContext"]
    http = context["http"]
    return {
        "routeKey": context["routeKey"],
        "httpMethod": http["method"],
        "path": http["path"],
        "protocol": http["protocol"],
        "stage": context["stage"],
        "apiId": context["apiId"],
        "accountId": context["accountId"],
        "domainName": context["domainName"],
        "domainPrefix": context["domainPrefix"],
        "requestId": context["requestId"],
        "requestTime": context["time"],
        "requestTimeEpoch": context["timeEpoch"],
        "identity": {"sourceIp": http["sourceIp"], "userAgent": http["userAgent"]},
    }


def _is_policy(answer: Any) -> bool:
    """A REST authorizer's answer: a principal and a policy document (and an optional context object)."""
    return (
        isinstance(answer, Mapping)
        and isinstance(answer.get("policyDocument"), Mapping)
        and "principalId" in answer
        and isinstance(answer.get("context") or {}, Mapping)
    )


def _is_simple_response(answer: Any) -> bool:
    """An HTTP API simple response: ``isAuthorized`` a boolean, ``context`` an optional object."""
    return (
        isinstance(answer, Mapping)
        and isinstance(answer.get("isAuthorized"), bool)
        and isinstance(answer.get("context") or {}, Mapping)
    )


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


def make_server(gateway: LocalGateway, host: str, port: int) -> HttpServer:
    """The gateway on ``host:port``, with API Gateway's payload limit and integration timeout."""
    return HttpServer((host, port), gateway.serve, refuse=gateway.refusal, limits=Limits(max_body=MAX_PAYLOAD))
