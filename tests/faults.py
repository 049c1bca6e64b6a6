"""A fault-injecting HTTP proxy on loopback in front of the local stores (DynamoDB Local, moto's server).

The process under test reaches DynamoDB and Secrets Manager over HTTP (``AWS_ENDPOINT_URL_DYNAMODB`` and
``AWS_ENDPOINT_URL_SECRETS_MANAGER``), exactly as on AWS; pointed at this proxy, every call goes through the
production code path (botocore, its retries, pynamodb) and the proxy forwards it to the store unless told to
fail it. It reads the operation from ``X-Amz-Target`` (``DynamoDB_20120810.TransactWriteItems``,
``secretsmanager.GetSecretValue``) and can be told to fail matching calls as AWS fails them:

- ``throttle``: HTTP 400 ``ProvisionedThroughputExceededException`` (DynamoDB) or ``ThrottlingException``
  (Secrets Manager), both of which botocore retries with backoff;
- ``throttling``: HTTP 400 ``ThrottlingException`` (DynamoDB's control-plane style throttle);
- ``error``: HTTP 500 ``InternalServerError``; ``unavailable``: HTTP 503 ``ServiceUnavailable``;
- ``hang``: read the request and answer nothing until the client gives up (bounded: ``HANG_SECONDS`` or until
  the proxy stops), then close;
- ``close``: close the connection without an answer, before the store saw the call;
- ``reset``: the same with a TCP reset;
- ``denied``: HTTP 400 ``AccessDeniedException`` (not retried by botocore);
- ``lose_answer``: forward the call (the store applies it) and then close without an answer, so the client
  cannot know it committed;
- ``unprocessed``: HTTP 200 to a ``BatchGetItem`` / ``BatchWriteItem`` that processed nothing, every key handed
  back in ``UnprocessedKeys`` / ``UnprocessedItems`` (how DynamoDB throttles part of a batch);
- ``conflict``: what DynamoDB answers a write that meets another transaction in flight on one of its items
  (docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html, "Transaction conflict
  handling"): HTTP 400 ``TransactionCanceledException`` with a ``TransactionConflict`` reason for its first item
  (``None`` for the others) to a ``TransactWriteItems``, ``TransactionConflictException`` to a single write.

Nothing here patches botocore, boto3 or pynamodb: faults are what arrives on the wire.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.servers import running

#: How long a ``hang`` holds a call at most (the clients under test give up well before).
HANG_SECONDS = 5.0

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
KINDS = ("throttle", "throttling", "error", "unavailable", "hang", "close", "reset", "denied", "lose_answer",
         "unprocessed", "conflict")

_DYNAMO = "com.amazonaws.dynamodb.v20120810#"
_ANSWERS: dict[tuple[str, str], tuple[int, str, str]] = {
    # (kind, service) -> (status, __type, message)
    ("throttle", "dynamodb"): (400, f"{_DYNAMO}ProvisionedThroughputExceededException",
                               "The level of configured provisioned throughput for the table was exceeded."),
    ("throttling", "dynamodb"): (400, "com.amazon.coral.availability#ThrottlingException",
                                 "Rate of requests exceeds the allowed throughput."),
    ("error", "dynamodb"): (500, f"{_DYNAMO}InternalServerError", "Internal server error"),
    ("unavailable", "dynamodb"): (503, "com.amazon.coral.availability#ServiceUnavailableException",
                                  "Service unavailable"),
    ("denied", "dynamodb"): (400, "com.amazon.coral.service#AccessDeniedException", "Access denied"),
    ("throttle", "secretsmanager"): (400, "ThrottlingException", "Rate exceeded"),
    ("throttling", "secretsmanager"): (400, "ThrottlingException", "Rate exceeded"),
    ("error", "secretsmanager"): (500, "InternalServiceError", "An error occurred on the server side."),
    ("unavailable", "secretsmanager"): (503, "ServiceUnavailable", "Service unavailable"),
    ("denied", "secretsmanager"): (400, "AccessDeniedException", "Access denied"),
}


@dataclass
class Fault:
    """Fail matching calls: let ``after`` of them through first, then fail ``times`` of them (None: all)."""

    operations: frozenset[str]
    kind: str
    after: int = 0
    times: int | None = None
    table: str | None = None
    seen: int = 0
    injected: int = 0

    def matches(self, operation: str, tables: tuple[str, ...]) -> bool:
        if "*" not in self.operations and operation not in self.operations:
            return False
        return self.table is None or self.table in tables

    def take(self) -> bool:
        """Count one matching call; True when this one is to fail."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.injected >= self.times:
            return False
        self.injected += 1
        return True


@dataclass(frozen=True)
class Call:
    service: str  # "dynamodb" or "secretsmanager"
    operation: str  # "TransactWriteItems"
    tables: tuple[str, ...]
    fault: str | None  # the kind injected, None when forwarded untouched
    members: tuple[str, ...] = ()  # the request's top-level members ("TableName", "Key", ...)


@dataclass
class _State:
    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _operations(spec: str | Iterable[str]) -> frozenset[str]:
    names = [spec] if isinstance(spec, str) else list(spec)
    expanded: set[str] = set()
    for name in names:
        name = name.rpartition(".")[2] if "." in name else name  # "DynamoDB_20120810.PutItem" -> "PutItem"
        expanded |= WRITES if name == "write" else READS if name == "read" else {name}
    return frozenset(expanded)


def _tables(operation: str, request: dict[str, Any]) -> tuple[str, ...]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return tuple(spec.get("TableName", "") for item in request.get("TransactItems", []) for spec in item.values())
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return tuple(request.get("RequestItems", {}))
    name = request.get("TableName")
    return (name,) if name else ()


def upstreams(upstream: Any) -> tuple[str, str]:
    """(DynamoDB's endpoint, the other services') of ``upstream``: the tests' stores (tests.conftest.Stores), or
    one endpoint for every service."""
    if isinstance(upstream, str):
        return upstream, upstream
    return upstream.dynamodb, upstream.aws


class FaultProxy(ThreadingHTTPServer):
    """Forwards every call to ``upstream`` (DynamoDB's calls to DynamoDB Local, the others to moto's server) unless
    a :class:`Fault` says otherwise."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, upstream: Any) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        dynamodb, others = upstreams(upstream)
        self.upstream = urlsplit(dynamodb)
        self.others = urlsplit(others)
        self.state = _State()
        self.stopping = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def inject(self, operations: str | Iterable[str], kind: str, *, after: int = 0, times: int | None = None,
               table: str | None = None) -> Fault:
        """Fail calls of ``operations`` (names such as ``PutItem``, ``GetSecretValue``; ``write``/``read`` for
        every DynamoDB write/read; ``*`` for anything) with ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        fault = Fault(_operations(operations), kind, after, times, table)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def heal(self) -> None:
        """Forget every fault: calls go through again."""
        with self.state.lock:
            self.state.faults.clear()

    @property
    def calls(self) -> list[Call]:
        with self.state.lock:
            return list(self.state.calls)

    def operations(self, *, service: str | None = None) -> list[str]:
        return [c.operation for c in self.calls if service is None or c.service == service]

    def _decide(self, service: str, operation: str, tables: tuple[str, ...],
                members: tuple[str, ...] = ()) -> str | None:
        with self.state.lock:
            kind = None
            for fault in self.state.faults:
                if fault.matches(operation, tables) and fault.take() and kind is None:
                    kind = fault.kind
            self.state.calls.append(Call(service, operation, tables, kind, members))
            return kind

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its read timeout) before the answer is expected here; anything else is not.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def stop(self) -> None:
        self.stopping.set()  # releases hung calls
        self.shutdown()
        self.server_close()


def _conflict(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's answer to a write that met a transaction in flight on (here) its first item."""
    if operation != "TransactWriteItems":
        return {"__type": f"{_DYNAMO}TransactionConflictException",
                "message": "Transaction is ongoing for the item"}
    items = request.get("TransactItems") or [{}]
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    reasons += [{"Code": "None"} for _ in items[1:]]
    codes = ", ".join(r["Code"] for r in reasons)
    return {"__type": f"{_DYNAMO}TransactionCanceledException", "CancellationReasons": reasons,
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"}


class _Handler(BaseHTTPRequestHandler):
    server: FaultProxy
    # HTTP/1.0: one call per connection, so a closed connection fails exactly one call.
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        prefix, _, operation = target.partition(".")
        service = "secretsmanager" if prefix.lower() == "secretsmanager" else "dynamodb"
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        members = tuple(request) if isinstance(request, dict) else ()
        kind = self.server._decide(service, operation, _tables(operation, request), members)
        if kind in ("close", "reset", "hang"):
            if kind == "hang":
                self.server.stopping.wait(HANG_SECONDS)
            self._drop(reset=kind == "reset")
            return
        if kind == "lose_answer":
            self._forward(body, answer=False, service=service)
            self._drop(reset=False)
            return
        if kind == "unprocessed":
            items = request.get("RequestItems", {})
            if operation == "BatchGetItem":
                self._answer(200, {"Responses": {table: [] for table in items}, "UnprocessedKeys": items}, service)
            else:
                self._answer(200, {"UnprocessedItems": items}, service)
            return
        if kind == "conflict":
            self._answer(400, _conflict(operation, request), service)
            return
        if kind is not None:
            status, error_type, message = _ANSWERS[(kind, service)]
            self._answer(status, {"__type": error_type, "message": message}, service)
            return
        self._forward(body, answer=True, service=service)

    def _forward(self, body: bytes, *, answer: bool, service: str = "dynamodb") -> None:
        to = self.server.upstream if service == "dynamodb" else self.server.others
        upstream = http.client.HTTPConnection(to.hostname, to.port, timeout=10)
        try:
            upstream.request("POST", self.path, body, dict(self.headers.items()))
            reply = upstream.getresponse()
            payload = reply.read()
        finally:
            upstream.close()
        if not answer:
            return
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self, status: int, document: dict[str, Any], service: str) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        version = "1.1" if service == "secretsmanager" else "1.0"
        self.send_header("Content-Type", f"application/x-amz-json-{version}")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self, *, reset: bool) -> None:
        self.close_connection = True
        if reset:
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(upstream: Any) -> Iterator[FaultProxy]:
    """A proxy on a free loopback port, stopped (and its hung calls released) on exit."""
    proxy = FaultProxy(upstream)
    with running(proxy, stop=proxy.stop):
        yield proxy


@contextmanager
def routed_to(endpoint: str, monkeypatch: Any, upstream: Any) -> Iterator[None]:
    """Point this process's DynamoDB and Secrets Manager clients at ``endpoint`` (a fresh client and fresh
    caches: a cold container), and back at ``upstream`` (see :func:`upstreams`) afterwards."""
    from passport.storage.connection import forget_client

    from tests.conftest import reset_caches

    def point(dynamodb: str, others: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", others)
        forget_client()
        reset_caches()

    point(endpoint, endpoint)
    try:
        yield
    finally:
        point(*upstreams(upstream))


@contextmanager
def routed_through(proxy: FaultProxy, monkeypatch: Any, upstream: Any) -> Iterator[FaultProxy]:
    """:func:`routed_to` the proxy; its faults are cleared on the way out."""
    with routed_to(proxy.endpoint, monkeypatch, upstream):
        try:
            yield proxy
        finally:
            proxy.heal()


class StoreView:
    """The store as it is, read directly (never through the proxy or the code under test): for proving that
    nothing was left half-written."""

    def __init__(self, endpoint: str) -> None:
        import botocore.session

        self._client = botocore.session.get_session().create_client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
            # DynamoDB Local files data under the key id of the process that wrote it: this process's
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="local",
        )

    def items(self, table: str) -> dict[str, dict[str, Any]]:
        """Every item of ``table`` by its key (``pk`` or ``client_id``)."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for item in page.get("Items", []):
                key = item.get("pk") or item.get("client_id")
                found[next(iter(key.values()))] = item
        return found
