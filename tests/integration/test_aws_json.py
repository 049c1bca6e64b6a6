"""The signed JSON-protocol client (passport.aws_json) on the wire, against a scripted server on loopback: what it
sends, its keep-alive connection, which answers it retries as botocore's standard mode retries (throttling, 5xx,
dropped connections, timeouts, a CRC32 mismatch) and which it refuses at once (other 4xx, an oversized, truncated
or non-JSON answer), always ending as StorageUnavailable without a secret in it (an error answer as ServiceError,
with its code). DynamoDB's calls, and Secrets Manager's where the protocol differs."""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from passport.aws_json import (
    DYNAMODB,
    MAX_ANSWER_BYTES,
    MAX_BACKOFF,
    REQUEST_OBSERVERS,
    SECRETS_MANAGER,
    Configuration,
    Credentials,
    Endpoint,
    Service,
    ServiceError,
    SignedClient,
)
from passport.core.errors import StorageUnavailable

from tests.conftest import free_port
from tests.servers import running, self_signed_tls

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
PAYLOAD = {"RequestItems": {"tokens": {"Keys": [{"pk": {"S": "access#j1"}}]}}}
ANSWER = {"Responses": {"tokens": [{"pk": {"S": "access#j1"}}]}, "UnprocessedKeys": {}}

Behaviour = Callable[["_Handler"], None]


# -- the scripted server -----------------------------------------------------------------------------------------


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next behaviour of its script (the last one repeats); records requests and
    the client ports they came from (one port per TCP connection)."""

    daemon_threads = True

    def __init__(self, script: list[Behaviour]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        self.scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def next(self) -> Behaviour:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    @property
    def connections(self) -> int:
        return len({port for _, _, port in self.requests})


class _Handler(BaseHTTPRequestHandler):
    server: Scripted
    protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests.append((dict(self.headers.items()), body, self.client_address[1]))
        self.server.next()(self)

    def log_message(self, *args: Any) -> None:
        pass


def answer(status: int = 200, document: Any = ANSWER, *, raw: bytes | None = None, crc: str | None = "right",
           close: bool = False) -> Behaviour:
    payload = raw if raw is not None else json.dumps(document).encode()

    def behave(handler: _Handler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/x-amz-json-1.0")
        handler.send_header("Content-Length", str(len(payload)))
        if crc is not None:
            handler.send_header("x-amz-crc32", str(zlib.crc32(payload)) if crc == "right" else crc)
        handler.end_headers()
        handler.wfile.write(payload)
        handler.close_connection = close  # closed without saying so (no Connection: close)

    return behave


def error(status: int, code: str) -> Behaviour:
    return answer(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "no"})


def chunked(size: int) -> Behaviour:
    def behave(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 65536
        for _ in range(size // len(chunk) + 1):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")

    return behave


def declared(length: int, sent: bytes) -> Behaviour:
    """Content-Length ``length`` and only ``sent`` of it, then the connection closes."""

    def behave(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        handler.wfile.write(sent)
        handler.close_connection = True

    return behave


def drop(handler: _Handler) -> None:
    handler.close_connection = True


def hang(seconds: float) -> Behaviour:
    def behave(handler: _Handler) -> None:
        time.sleep(seconds)
        handler.close_connection = True

    return behave


@contextmanager
def scripted(*script: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[Scripted]:
    server = Scripted(list(script))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.scheme = "https"
    with running(server):
        yield server


def client(url: str, *, retries: int = 2, timeout: float = 2, token: str | None = TOKEN, ca_bundle: str | None = None,
           sleeps: list[float] | None = None, service: Service = DYNAMODB) -> SignedClient:
    config = Configuration(Endpoint.parse(url), "eu-west-1", Credentials("AKIDEXAMPLE", SECRET, token),
                           timeout_seconds=timeout, retries=retries, ca_bundle=ca_bundle)
    return SignedClient(service, config, sleep=(sleeps if sleeps is not None else []).append)


def refused(dynamodb: SignedClient, match: str) -> str:
    with pytest.raises(StorageUnavailable, match=match) as raised:
        dynamodb.call("BatchGetItem", PAYLOAD)
    message = str(raised.value)
    assert SECRET not in message and TOKEN not in message and "access#j1" not in message
    return message


# -- what it sends -----------------------------------------------------------------------------------------------


def test_it_posts_the_json_protocol_signed_and_answers_the_json_object():
    with scripted(answer()) as server:
        dynamodb = client(server.url)
        assert dynamodb.call("BatchGetItem", PAYLOAD) == ANSWER
    ((headers, body, _),) = server.requests
    assert json.loads(body) == PAYLOAD
    assert headers["Host"] == f"127.0.0.1:{server.server_address[1]}"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.BatchGetItem"
    assert headers["X-Amz-Security-Token"] == TOKEN
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target," in headers["Authorization"]
    assert "X-Amz-Content-SHA256" not in headers and SECRET not in json.dumps(headers)


def test_secrets_manager_gets_its_own_protocol_version_target_and_signing_scope():
    secret = {"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:k", "SecretString": "{}"}
    with scripted(answer(document=secret, crc=None)) as server:
        assert client(server.url, service=SECRETS_MANAGER).call("GetSecretValue", {"SecretId": "k"}) == secret
    ((headers, body, _),) = server.requests
    assert json.loads(body) == {"SecretId": "k"}
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert headers["X-Amz-Target"] == "secretsmanager.GetSecretValue"
    assert "/eu-west-1/secretsmanager/aws4_request, " in headers["Authorization"]


def test_an_error_answer_not_worth_retrying_carries_its_code_and_a_broken_exchange_does_not():
    missing = {"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}
    with scripted(answer(400, missing, crc=None)) as server:
        with pytest.raises(ServiceError) as raised:
            client(server.url, service=SECRETS_MANAGER).call("GetSecretValue", {"SecretId": "k"})
    assert raised.value.code == "ResourceNotFoundException" and len(server.requests) == 1
    with scripted(answer(503, {"Responses": {}})) as server:
        with pytest.raises(StorageUnavailable) as raised:
            client(server.url, retries=1).call("BatchGetItem", PAYLOAD)
    assert not isinstance(raised.value, ServiceError) and len(server.requests) == 2


def test_a_service_error_carries_its_status_document_and_attempts():
    cancelled = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "Message": "cancelled",
                 "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "no"}]}
    with scripted(answer(500, {}), answer(400, cancelled)) as server:
        with pytest.raises(ServiceError) as raised:
            client(server.url, retries=2).call("TransactWriteItems", {"TransactItems": []})
    assert len(server.requests) == 2
    assert (raised.value.code, raised.value.status, raised.value.attempts) == ("TransactionCanceledException", 400, 2)
    assert raised.value.document == cancelled


def test_a_transaction_gets_one_idempotency_token_for_all_its_attempts_as_botocore_gives_it():
    with scripted(answer(500, {}), answer(document={})) as server:
        client(server.url, retries=1).call("TransactWriteItems", {"TransactItems": []})
    tokens = [json.loads(body)["ClientRequestToken"] for _, body, _ in server.requests]
    assert len(tokens) == 2 and tokens[0] == tokens[1] and str(uuid.UUID(tokens[0], version=4)) == tokens[0]
    with scripted(answer(document={})) as server:
        client(server.url).call("TransactWriteItems", {"TransactItems": [], "ClientRequestToken": "mine"})
        client(server.url).call("BatchGetItem", PAYLOAD)
    assert json.loads(server.requests[0][1])["ClientRequestToken"] == "mine"
    assert "ClientRequestToken" not in json.loads(server.requests[1][1])


def test_dynamodb_answers_may_be_as_large_as_a_batch_read_and_a_secret_s_may_not():
    # BatchGetItem returns up to 16 MB of items; a Secrets Manager answer is a few KB.
    items = {"Responses": {"tokens": [{"pk": {"S": "x" * 1000}}] * (2 * MAX_ANSWER_BYTES // 1000)}}
    with scripted(answer(document=items)) as server:
        assert client(server.url).call("BatchGetItem", PAYLOAD) == items
    with scripted(declared(MAX_ANSWER_BYTES + 1, b"{}")) as server:
        with pytest.raises(StorageUnavailable, match="too large"):
            client(server.url, service=SECRETS_MANAGER).call("GetSecretValue", {"SecretId": "k"})
        assert len(server.requests) == 1


def test_observers_see_every_request_sent_retries_included():
    seen: list[tuple[str, str]] = []
    REQUEST_OBSERVERS.append(lambda service, operation: seen.append((service, operation)))
    try:
        with scripted(answer(500, {}), answer()) as server:
            client(server.url, retries=1).call("BatchGetItem", PAYLOAD)
    finally:
        REQUEST_OBSERVERS.clear()
    assert seen == [("dynamodb", "BatchGetItem")] * 2 and len(server.requests) == 2


def test_without_a_session_token_no_token_header_is_sent_or_signed():
    with scripted(answer()) as server:
        client(server.url, token=None).call("BatchGetItem", PAYLOAD)
    ((headers, _, _),) = server.requests
    assert "X-Amz-Security-Token" not in headers
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target," in headers["Authorization"]


def test_calls_share_one_keep_alive_connection_and_a_closed_one_is_replaced_before_use():
    with scripted(answer(), answer(), answer(close=True), answer()) as server:
        dynamodb = client(server.url, retries=0)
        for _ in range(3):
            assert dynamodb.call("BatchGetItem", PAYLOAD) == ANSWER
        assert server.connections == 1
        time.sleep(0.1)  # the server has closed the idle connection without saying so; no retry is left
        assert dynamodb.call("BatchGetItem", PAYLOAD) == ANSWER
        assert server.connections == 2


def test_threads_share_the_client():
    with scripted(answer()) as server:
        dynamodb = client(server.url, retries=0)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(25):
                    assert dynamodb.call("BatchGetItem", PAYLOAD) == ANSWER
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        dynamodb.close()
    assert failures == [] and len(server.requests) == 200
    assert server.connections <= 8


def test_https_with_the_ca_bundle_botocore_would_use(tmp_path: Path):
    """TLS with certificate and host name verification against AWS_CA_BUNDLE's certificates."""
    context, bundle = self_signed_tls(tmp_path)
    with scripted(answer(), tls=context) as server:
        assert client(server.url, ca_bundle=str(bundle)).call("BatchGetItem", PAYLOAD) == ANSWER
        refused(client(server.url, retries=0), "SSLCertVerificationError")  # not trusted without the bundle


# -- what it retries, and how long it waits ----------------------------------------------------------------------


@pytest.mark.parametrize("failure", [
    error(400, "ProvisionedThroughputExceededException"),
    answer(400, {"__type": "com.amazon.coral.availability#ThrottlingException", "message": "slow down"}),
    error(400, "RequestLimitExceeded"),
    error(400, "TransactionInProgressException"),
    error(500, "InternalServerError"),
    answer(503, {"__type": "com.amazon.coral.availability#ServiceUnavailableException"}),
    answer(502, raw=b"<html>bad gateway</html>", crc=None),
    answer(429, raw=b"", crc=None),
    answer(200, crc="12345"),  # a CRC32 that does not match: botocore retries it too
    drop,
    declared(500, b'{"Responses":'),  # truncated
], ids=["provisioned-throughput", "throttling", "request-limit", "transaction-in-progress", "500", "503",
        "502-html", "429", "crc32-mismatch", "dropped", "truncated"])
def test_throttling_5xx_and_broken_answers_are_retried_with_short_backoff(failure):
    sleeps: list[float] = []
    with scripted(failure, failure, answer()) as server:
        assert client(server.url, retries=2, sleeps=sleeps).call("BatchGetItem", PAYLOAD) == ANSWER
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and all(0 <= s <= MAX_BACKOFF for s in sleeps)
    # each attempt signed anew (botocore re-signs a retry)
    assert all(h["Authorization"].startswith("AWS4-HMAC-SHA256 ") for h, _, _ in server.requests)


def test_retries_are_bounded_by_the_setting_and_then_storage_is_unavailable():
    with scripted(error(400, "ProvisionedThroughputExceededException")) as server:
        message = refused(client(server.url, retries=2), "ProvisionedThroughputExceededException")
        assert "after 3 attempts" in message and len(server.requests) == 3
    with scripted(error(500, "InternalServerError")) as server:
        refused(client(server.url, retries=0), r"InternalServerError \(HTTP 500\)")
        assert len(server.requests) == 1


def test_a_mismatched_crc32_to_the_end_is_a_failure_not_an_answer():
    with scripted(answer(200, crc="1")) as server:
        refused(client(server.url, retries=1), "CRC32")
        assert len(server.requests) == 2


@pytest.mark.parametrize(("failure", "match"), [
    (error(400, "ResourceNotFoundException"), "ResourceNotFoundException"),
    (answer(400, {"__type": "com.amazon.coral.service#AccessDeniedException"}), "AccessDeniedException"),
    (error(400, "ValidationException"), "ValidationException"),
    (answer(403, {"__type": "com.amazon.coral.service#UnrecognizedClientException:http://internal"}),
     r"UnrecognizedClientException \(HTTP 403\)"),
    (answer(400, raw=b"not json", crc=None), r"an error \(HTTP 400\)"),
    (answer(200, raw=b"<html>captive portal</html>", crc=None), "not a JSON object"),
    (answer(200, [1, 2]), "not a JSON object"),
    (answer(200, raw=b"\xff\xfe", crc=None), "not a JSON object"),
    (declared(DYNAMODB.max_answer_bytes + 1, b"{}"), "too large"),
    (chunked(DYNAMODB.max_answer_bytes + 1), "too large"),
    (answer(200, raw=b"[" + b" " * DYNAMODB.max_answer_bytes + b"]", crc=None), "too large"),
], ids=["resource-not-found", "access-denied", "validation", "unrecognized-client", "400-not-json", "html",
        "json-array", "not-utf8", "oversized", "oversized-chunked", "oversized-by-a-byte"])
def test_other_errors_and_unusable_answers_fail_at_once(failure, match):
    with scripted(failure) as server:
        refused(client(server.url, retries=3), match)
        assert len(server.requests) == 1


def test_a_call_that_never_answers_times_out_within_the_read_timeout():
    with scripted(hang(3)) as server:
        started = time.monotonic()
        refused(client(server.url, retries=1, timeout=0.3), "timed out after 2 attempts")
        assert time.monotonic() - started < 2


def test_an_unreachable_endpoint_is_storage_unavailable():
    refused(client(f"http://127.0.0.1:{free_port()}", retries=1), "ConnectionRefusedError after 2 attempts")
