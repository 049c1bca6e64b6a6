"""API Gateway proxy events <-> the core's :class:`~passport.core.http.Request` and
:class:`~passport.core.http.Response`. The only module that knows the event shapes of a proxy integration.

:func:`serve` is what every HTTP handler calls: it turns the event into a request, runs the endpoint, and
answers anything that escapes it in the endpoint's style, never with a stack trace. A function whose routes allow
cross-origin reads passes its ``cors`` builder (``passport.cors``): the answer then carries the CORS headers, and
an ``OPTIONS`` preflight (sent to the function by an HTTP API) is answered without the endpoint.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from passport.config import load_settings
from passport.core.errors import OAuthError, StorageUnavailable, temporarily_unavailable
from passport.core.http import (
    NO_PARAMS,
    NO_STORE,
    SOURCE_ADDRESS,
    Headers,
    Request,
    Response,
    json_response,
    oauth_error_response,
)
from passport.gateway_responses import STRICT_TRANSPORT_SECURITY

log = logging.getLogger("passport")


class Cors(Protocol):
    """``passport.cors.PublicCors`` or ``ClientCors``: what a function's routes answer cross-origin."""

    def preflight(self, request: Request) -> Response: ...

    def answer(self, request: Request, response: Response) -> None: ...


@functools.cache
def strict_transport_security() -> str | None:
    """The HSTS value for this deployment, read once per process: sent only when the issuer is https. Over plain
    http browsers ignore it (RFC 6797 8.1), and on a local issuer it would only pin localhost to https."""
    https = load_settings().issuer_url.lower().startswith("https://")
    return STRICT_TRANSPORT_SECURITY if https else None


def _transport_security() -> str | None:
    try:
        return strict_transport_security()
    except Exception as error:  # unreadable settings: the answer still goes out, without the header
        log.warning("no Strict-Transport-Security: the settings could not be read (%s)", type(error).__name__)
        return None


def request_from_event(event: Mapping[str, Any]) -> Request:
    """A REST (payload 1.0) or HTTP API (2.0) proxy event as a core request."""
    context = event.get("requestContext") or {}
    query: Mapping[str, list[str]]
    if event.get("version") == "2.0":
        method = context.get("http", {}).get("method", "GET")
        path = event.get("rawPath", "/")
        fields = dict(event.get("headers") or {})
        if event.get("cookies"):
            fields["cookie"] = "; ".join(event["cookies"])
        headers = Headers(fields)
        single = event.get("queryStringParameters")
        query = {k: v.split(",") for k, v in single.items()} if single else NO_PARAMS
        source_ip = context.get("http", {}).get("sourceIp", "")
    else:
        method = event.get("httpMethod", "GET")
        path = event.get("path", "/")
        multi = event.get("multiValueHeaders")
        headers = Headers.of_fields(multi) if multi else Headers(event.get("headers"))
        # API Gateway sends both forms; the multi-value one, when there is one, keeps repeated parameters.
        multi_query = event.get("multiValueQueryStringParameters")
        single = event.get("queryStringParameters")
        if multi_query:
            query = dict(multi_query)
        elif single:
            query = {k: [v] for k, v in single.items()}
        else:
            query = NO_PARAMS
        source_ip = context.get("identity", {}).get("sourceIp", "")
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            body = b"\xff"  # undecodable: the endpoint refuses it as it would any non-UTF-8 body
    else:
        body = raw.encode("utf-8", "surrogateescape")
    path_params = event.get("pathParameters")
    # In Request's field order (method, path, headers, query, body, source_ip, path_params): passing seven
    # keywords costs more than building the request itself.
    return Request(method.upper(), path, headers, query, body, source_ip,
                   dict(path_params) if path_params else NO_PARAMS)


def result_from_response(response: Response) -> dict[str, Any]:
    """A REST proxy result (payload 1.0); cookies go in ``multiValueHeaders``, the one place API Gateway
    accepts several ``Set-Cookie`` headers."""
    result: dict[str, Any] = {
        "statusCode": response.status,
        "headers": response.headers,
        "body": response.body,
        "isBase64Encoded": False,
    }
    if response.cookies:
        result["multiValueHeaders"] = {"Set-Cookie": list(response.cookies)}
    return result


def _cross_origin(cors: Callable[[], Cors], request: Request, response: Response) -> Response:
    """The answer with its CORS headers, as a copy (an endpoint may hand back the same object every time); a failure
    leaves the answer as it was, unreadable cross-origin, rather than turning it into a 500."""
    try:
        answered = Response(response.status, dict(response.headers), response.body, response.cookies)
        cors().answer(request, answered)
        return answered
    except Exception:
        log.exception("CORS headers failed")
        return response


def serve(event: Mapping[str, Any], endpoint: Callable[[Request], Response],
          cors: Callable[[], Cors] | None = None) -> dict[str, Any]:
    request: Request | None = None
    address = None
    try:
        request = request_from_event(event)
        address = SOURCE_ADDRESS.set(request.source_ip)
        # Fetch standard, CORS protocol: a preflight is answered without the endpoint.
        preflight = cors is not None and request.method == "OPTIONS"
        response = cors().preflight(request) if preflight and cors is not None else endpoint(request)
    except OAuthError as error:
        response = oauth_error_response(error)
    except StorageUnavailable as error:
        log.warning("storage unavailable: %s", error)
        response = oauth_error_response(temporarily_unavailable())
    except Exception:
        log.exception("unhandled error")  # the trace goes to the log, never to the caller
        response = json_response(
            {"error": "server_error", "error_description": "The server met an unexpected condition."},
            500, NO_STORE,
        )
    finally:
        if address is not None:
            SOURCE_ADDRESS.reset(address)
    if cors is not None and request is not None and request.method != "OPTIONS":
        response = _cross_origin(cors, request, response)
    result = result_from_response(response)
    hsts = _transport_security()
    if hsts is not None and "Strict-Transport-Security" not in response.headers:
        # In a copy of the headers: an endpoint may hand back the same Response object (or headers) on every call.
        result["headers"] = {**response.headers, "Strict-Transport-Security": hsts}
    return result
