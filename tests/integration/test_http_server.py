"""The local gateway's HTTP server (passport.local.http_server) on a real socket, fed raw bytes as an attacker
writes them: framing that could smuggle a request (RFC 9112 6.1, 6.3, 11.2), bodies that never come, heads and
bodies over the limits, answers HTTP cannot carry. Each gets a clean answer or a closed connection, within the
timeout, and never reaches the application. The last tests run the same cases through the real gateway."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from passport.local.gateway import LocalGateway, make_server
from passport.local.http_server import API_GATEWAY_LIMITS, HttpReply, HttpRequest, HttpServer, Limits

from tests.servers import running

LIMITS = Limits(max_body=100, max_head=1024, request_seconds=1.0, idle_seconds=1.5)
#: Longer than any deadline above: an answer or a close must come before this.
PATIENCE = 5.0


@dataclass
class Exchange:
    data: bytes
    closed: bool
    seconds: float

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1])

    @property
    def statuses(self) -> list[int]:
        return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", self.data)]


class App:
    """Records what reached it; answers 200 with the body it got, or what a test makes it answer (or raise)."""

    def __init__(self) -> None:
        self.seen: list[HttpRequest] = []
        self.reply: HttpReply | Exception | None = None

    def __call__(self, request: HttpRequest) -> HttpReply:
        self.seen.append(request)
        if isinstance(self.reply, Exception):
            raise self.reply
        if self.reply is not None:
            return self.reply
        return HttpReply(200, [("Content-Type", "text/plain")], b"got:" + request.body)


@pytest.fixture
def app() -> Iterator[tuple[App, int]]:
    recorder = App()
    server = HttpServer(("127.0.0.1", 0), recorder, limits=LIMITS)
    with running(server):
        yield recorder, server.server_address[1]


def exchange(port: int, *parts: bytes, pause: float = 0.0) -> Exchange:
    """Send ``parts`` (``pause`` seconds apart), then read until the server closes or PATIENCE runs out."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        for part in parts:
            try:
                sock.sendall(part)
            except OSError:
                break  # the server closed already: read what it said
            time.sleep(pause)
        data, closed = b"", False
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
    return Exchange(data, closed, time.monotonic() - started)


def refused(result: Exchange, status: int, app: App) -> None:
    assert result.statuses == [status], result.data[:300]
    assert b"Connection: close" in result.data
    assert result.closed, "the connection stays open after a refusal"
    assert app.seen == [], "a refused request reached the application"


# -- framing: no request smuggles another (RFC 9112 6.1, 6.3) ------------------------------------------------------


@pytest.mark.parametrize("length", [b"-1", b"abc", b"+3", b"3 3", b"0x3", b""])
def test_a_content_length_that_is_not_one_run_of_digits_is_400_and_closes(app, length):
    recorder, port = app
    result = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\nabcGET /smuggled "
                      b"HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(result, 400, recorder)


def test_two_different_content_lengths_are_400(app):
    recorder, port = app
    refused(exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc"), 400,
            recorder)


def test_content_length_beside_chunked_is_400_so_the_request_inside_the_body_is_never_served(app):
    """RFC 9112 6.1: a server may refuse such a request, and must close the connection after it either way."""
    recorder, port = app
    result = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(result, 400, recorder)


def test_a_chunked_body_reaches_the_application_decoded(app):
    recorder, port = app
    result = exchange(port, b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert result.statuses == [200] and result.data.endswith(b"got:abcde")
    assert [(r.method, r.target, r.body) for r in recorder.seen] == [("POST", "/c", b"abcde")]


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"xchunked", b"identity"])
def test_a_transfer_coding_other_than_chunked_is_501(app, coding):
    """RFC 9112 6.1: a transfer coding the server does not understand is 501 (Not Implemented)."""
    recorder, port = app
    refused(exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding + b"\r\n\r\n0\r\n\r\n"), 501,
            recorder)


@pytest.mark.parametrize("head", [
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", id="obs-fold"),
    pytest.param(b"GET / HTTP/1.1\nHost: x\n\n", id="bare LF"),
    pytest.param(b"GET / HTTP/1.1\rHost: x\r\n\r\n", id="bare CR"),
    pytest.param(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", id="space before colon"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", id="NUL in a value"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x13b\r\n\r\n", id="control character in a value"),
    pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="HTTP/1.1 without Host"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", id="two Hosts"),
    pytest.param(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", id="TLS on the plain port"),
])
def test_a_head_that_http_does_not_allow_is_400(app, head):
    """RFC 9112 5.2 (obs-fold), 2.2 (line endings), 5.1 (no space before the colon), RFC 9110 5.5 (field values),
    RFC 9112 3.2 (exactly one Host): each read differently by different parsers, so each refused."""
    recorder, port = app
    refused(exchange(port, head), 400, recorder)


# -- time: nothing holds a connection longer than the deadline -------------------------------------------------------


def _connection_threads() -> int:
    return sum("process_request_thread" in thread.name for thread in threading.enumerate())


def test_a_body_shorter_than_its_content_length_gets_408_at_the_deadline_and_frees_its_thread(app):
    recorder, port = app
    before = _connection_threads()
    result = exchange(port, b"POST /short HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    refused(result, 408, recorder)
    assert LIMITS.request_seconds <= result.seconds < LIMITS.request_seconds + 1.0
    deadline = time.monotonic() + 2
    while _connection_threads() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _connection_threads() <= before


def test_a_request_trickled_a_byte_at_a_time_still_ends_at_its_deadline(app):
    """A slow client cannot stretch the deadline by sending something before each timeout: it runs from the
    request's first byte."""
    _recorder, port = app
    raw = b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40 + b"\r\n\r\n"
    result = exchange(port, *[raw[i:i + 1] for i in range(len(raw))], pause=0.1)  # ~6 s to send in full
    assert result.statuses == [408] and result.closed
    assert result.seconds < LIMITS.request_seconds + 1.5


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(app):
    _recorder, port = app
    result = exchange(port, b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert result.statuses == [200] and result.closed
    assert LIMITS.idle_seconds <= result.seconds < LIMITS.idle_seconds + 1.0


def test_a_client_that_leaves_mid_body_is_not_answered_and_nothing_reaches_the_application(app):
    recorder, port = app
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
    time.sleep(0.2)
    assert recorder.seen == []


# -- size ------------------------------------------------------------------------------------------------------


def test_a_content_length_over_the_limit_is_413_before_the_body_is_read(app):
    recorder, port = app
    # Only the head is sent: the answer cannot have waited for the body.
    result = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
    refused(result, 413, recorder)
    assert result.seconds < LIMITS.request_seconds


def test_a_chunked_body_over_the_limit_is_413_as_it_crosses_it(app):
    recorder, port = app
    chunk = b"%x\r\n" % 60 + b"a" * 60 + b"\r\n"
    result = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk)
    refused(result, 413, recorder)


def test_expect_100_continue_gets_100_then_the_answer(app):
    """RFC 9110 10.1.1: the client waits for 100 (Continue) before it sends the body."""
    _recorder, port = app
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close"
                     b"\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"got:abc")


def test_expect_100_continue_with_a_body_over_the_limit_gets_413_and_no_100(app):
    recorder, port = app
    result = exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
    refused(result, 413, recorder)


def test_a_request_line_over_the_limit_is_414_and_a_head_over_it_is_431(app):
    recorder, port = app
    refused(exchange(port, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414, recorder)
    refused(exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 2000 + b"\r\n\r\n"), 431, recorder)


# -- answers ---------------------------------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order_on_one_connection(app):
    recorder, port = app
    result = exchange(port, b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
                      b"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert result.statuses == [200, 200, 200] and result.closed
    assert [r.target for r in recorder.seen] == ["/1", "/2", "/3"]
    assert result.data.count(b"Connection: close") == 1


def test_an_answer_whose_header_would_split_the_response_becomes_502(app):
    """A line break in an answer's header value would let it write a second header or response (RFC 9110 5.5):
    the answer is replaced by the application's 502, as API Gateway treats a malformed integration response."""
    recorder, port = app
    recorder.reply = HttpReply(200, [("Location", "/x\r\nSet-Cookie: session=stolen")], b"")
    result = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert result.statuses == [502] and b"stolen" not in result.data


@pytest.mark.parametrize("status", [99, 100, 600, 1000])
def test_a_status_http_cannot_carry_becomes_502(app, status):
    recorder, port = app
    recorder.reply = HttpReply(status, [], b"x")
    assert exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").statuses == [502]


def test_an_application_that_raises_gets_502_and_the_connection_serves_on(app):
    recorder, port = app
    recorder.reply = RuntimeError("boom")
    result = exchange(port, b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close"
                      b"\r\n\r\n")
    assert result.statuses == [502, 502] and b"boom" not in result.data


def test_head_gets_the_length_of_the_body_and_no_body(app):
    recorder, port = app
    recorder.reply = HttpReply(200, [], b"12345")
    result = exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert result.statuses == [200] and b"Content-Length: 5\r\n" in result.data and result.data.endswith(b"\r\n\r\n")


def test_a_204_carries_no_content_length_and_no_body(app):
    """RFC 9110 8.6: a server MUST NOT send Content-Length in a 204."""
    recorder, port = app
    recorder.reply = HttpReply(204, [("Content-Length", "5")], b"ignored")
    result = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert result.statuses == [204] and b"Content-Length" not in result.data and result.data.endswith(b"\r\n\r\n")


def test_header_names_keep_their_case_and_values_are_latin_1_text(app):
    """API Gateway passes header names as the client wrote them; RFC 9110 5.5 leaves octets above 0x7F opaque."""
    recorder, port = app
    exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Mixed-Case: caf\xc3\xa9\r\nConnection: close\r\n\r\n")
    assert ("X-Mixed-Case", "caf\xc3\xa9") in recorder.seen[0].headers


# -- the gateway -------------------------------------------------------------------------------------------------


def test_the_gateway_serves_with_api_gateways_limits(env):
    """API Gateway's payload limit (10 MB) and integration timeout (29 s)."""
    server = make_server(LocalGateway(env.settings), "127.0.0.1", 0)
    try:
        assert server.limits == API_GATEWAY_LIMITS
        assert (server.limits.max_body, server.limits.request_seconds) == (10 * 1024 * 1024, 29.0)
    finally:
        server.server_close()


def _port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("method", [b"FOO", b"BREW", b"PROPFIND"])
def test_an_unknown_method_gets_the_gateways_json_405(server, method):
    """docs/http.md (errors, "Anywhere"): a method the route does not have is a JSON 405, whatever the method."""
    result = exchange(_port(server), method + b" /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert result.statuses == [405]
    head, _, body = result.data.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head
    assert b"method_not_allowed" in body or b"Method Not Allowed" in body


def test_a_smuggling_attempt_at_the_token_endpoint_is_refused_before_any_function_runs(server):
    result = exchange(_port(server), b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/orders HTTP/1.1\r\nHost: x\r\n\r\n")
    assert result.statuses == [400] and result.closed
    assert b"invalid_request" not in result.data  # no function answered it


def test_a_short_body_at_the_token_endpoint_is_closed_within_the_timeout(server):
    """The gateway's own server, with its deadline shortened for the test (the default is pinned above)."""
    gateway = server.gateway
    httpd = make_server(gateway, "127.0.0.1", 0)
    httpd.limits = LIMITS._replace(max_body=API_GATEWAY_LIMITS.max_body)
    with running(httpd):
        result = exchange(httpd.server_address[1], b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=")
    assert result.statuses == [408] and result.closed and result.seconds < PATIENCE
