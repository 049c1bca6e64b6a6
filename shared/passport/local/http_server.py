"""The local gateway's HTTP/1.1 server: httptools parses, this module moves bytes and keeps time.

HTTP/1.1's framing is where a hand-written server goes wrong: a negative or non-numeric ``Content-Length``, two
lengths, a length beside ``Transfer-Encoding: chunked``, a header folded over two lines or ended by a bare LF,
each read one way by the server and another by whatever sits in front of it, let one request smuggle a second
(RFC 9112 6.3, 11.2). httptools wraps llhttp, Node.js's HTTP parser, which refuses every one of those by default
and is fuzzed as part of Node; it never touches a socket. Around it, a thread per connection (API Gateway runs
every request apart) with:

- a deadline per request: its head and body must arrive within :attr:`Limits.request_seconds` of its first byte
  (API Gateway's 29 s) or it is answered 408 and the connection closed, so a client that announces more body than
  it sends, or trickles a byte now and then, holds a thread that long at most;
- an idle keep-alive connection closed after :attr:`Limits.idle_seconds`;
- the body limit (API Gateway's 10 MB) checked against ``Content-Length`` before a byte of body is read, and
  against a chunked body as it arrives;
- a request line of at most :attr:`Limits.max_head` bytes (else 414) and a head of at most as much (else 431).

What the server refuses itself is answered by the application's ``refuse(status)``, so refusals read like the
rest of its answers; a refusal closes the connection, as its framing can no longer be trusted. A method llhttp
does not know is refused as 405: no route has it. Answers are framed here: ``Content-Length`` always (never
chunked), header names and values checked so that no answer can split into two.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import socketserver
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import NamedTuple

import httptools

log = logging.getLogger("passport.gateway")


@dataclass(frozen=True)
class HttpRequest:
    """A complete request as the client sent it: header names keep their case, names and values are Latin-1
    text (RFC 9110 5.5 leaves octets above 0x7F opaque), the target is the request line's."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str


@dataclass
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Limits(NamedTuple):
    #: API Gateway's payload limit (REST and HTTP APIs: 10 MB).
    max_body: int = 10 * 1024 * 1024
    #: The request line, and the head as a whole (API Gateway itself refuses URLs over 10,240 characters).
    max_head: int = 64 * 1024
    #: API Gateway's integration timeout: a request must have arrived in full this long after its first byte.
    request_seconds: float = 29.0
    #: A keep-alive connection with no request under way is closed after this long.
    idle_seconds: float = 60.0


#: API Gateway's figures.
API_GATEWAY_LIMITS = Limits()
App = Callable[[HttpRequest], HttpReply]
Refuse = Callable[[int], HttpReply]

#: Framing is this server's: an application's own values for these are dropped.
_FRAMING = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive", "date"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")  # RFC 9110 5.5, without CR, LF or NUL
_METHOD_START = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ /")  # a token, then an origin-form target
_RECEIVE_BYTES = 65536


def message_reply(status: int, message: str) -> HttpReply:
    """``{"message": ...}``, as an HTTP API words its own answers (it has no gateway responses to say more)."""
    return HttpReply(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())


def message_refusal(status: int) -> HttpReply:
    """The default refusal: the status's reason phrase as the message."""
    return message_reply(status, _phrase(status))


class HttpServer(socketserver.ThreadingTCPServer):
    """``app`` on ``address``, a thread per connection; ``serve_forever``, ``shutdown`` and ``server_close`` as
    any ``socketserver`` server."""

    daemon_threads = True
    allow_reuse_address = True
    # API Gateway takes bursts; a backlog of 5 (the default) would reset concurrent clients.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: App, *, refuse: Refuse = message_refusal,
                 limits: Limits = API_GATEWAY_LIMITS) -> None:
        self.app = app
        self.refuse = refuse
        self.limits = limits
        super().__init__(address, _Connection)


class _Refused(Exception):
    """The request cannot be served: answer ``status`` and close."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Message:
    target: bytearray = field(default_factory=bytearray)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    head_bytes: int = 0
    method: bytes = b""
    body: bytearray = field(default_factory=bytearray)
    keep_alive: bool = False


class _Reader:
    """httptools' callbacks: complete requests queue up in ``ready`` (a client may pipeline several in one
    read); a limit crossed raises :class:`_Refused` from inside the parser, which stops it there."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.parser = httptools.HttpRequestParser(self)
        self.current: _Message | None = None
        self.ready: deque[_Message] = deque()
        self.wants_continue = False

    def on_message_begin(self) -> None:
        self.current = _Message()

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.target += url
        if len(self.current.target) > self.limits.max_head:
            raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG)

    def on_header(self, name: bytes, value: bytes) -> None:
        message = self.current
        assert message is not None
        message.headers.append((name, value))
        message.head_bytes += len(name) + len(value) + 4
        if message.head_bytes + len(message.target) > self.limits.max_head:
            raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)

    def on_headers_complete(self) -> None:
        message = self.current
        assert message is not None
        message.method = self.parser.get_method()
        hosts = 0
        for name, value in message.headers:
            lowered = name.lower()
            if lowered == b"content-length" and int(value) > self.limits.max_body:  # llhttp checked: digits
                raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            if lowered == b"transfer-encoding" and value.strip().lower() != b"chunked":
                # RFC 9112 6.1: a coding the server does not understand is 501. (llhttp frames "gzip, chunked" as
                # chunked; the body would reach the function still gzipped.)
                raise _Refused(HTTPStatus.NOT_IMPLEMENTED)
            if lowered == b"expect" and value.lower() == b"100-continue":
                self.wants_continue = True
            hosts += lowered == b"host"
        if hosts > 1 or (hosts == 0 and self.parser.get_http_version() == "1.1"):
            raise _Refused(HTTPStatus.BAD_REQUEST)  # RFC 9112 3.2: exactly one Host in HTTP/1.1

    def on_body(self, body: bytes) -> None:
        assert self.current is not None
        self.current.body += body
        if len(self.current.body) > self.limits.max_body:  # chunked: the size is known only as it comes
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def on_message_complete(self) -> None:
        assert self.current is not None
        self.current.keep_alive = self.parser.should_keep_alive()
        self.ready.append(self.current)
        self.current = None

    def feed(self, data: bytes) -> bool:
        """Parse ``data``; False once the connection can carry nothing more (an upgrade to another protocol,
        or CONNECT: what follows is not HTTP/1.1). Raises :class:`_Refused` for anything it cannot frame."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            return False
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Refused):
                raise error.__context__ from None
            raise
        except httptools.HttpParserInvalidMethodError:
            # A method llhttp does not know (RFC 9110 9.1: a server's list is its own) is one no route has, as
            # API Gateway answers any other method; bytes that are no method at all are a bad request.
            unknown_method = _METHOD_START.match(data) is not None
            raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED if unknown_method else HTTPStatus.BAD_REQUEST) from None
        except httptools.HttpParserError:
            raise _Refused(HTTPStatus.BAD_REQUEST) from None
        return True


class _Connection(socketserver.BaseRequestHandler):
    server: HttpServer
    request: socket.socket

    def setup(self) -> None:
        # Answers go out in one write each; no delayed-ACK stall on either side.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = _Reader(self.server.limits)
        self.deadline: float | None = None  # of the request under way, if one is

    def handle(self) -> None:
        try:
            self._serve()
        except _Refused as refused:
            self._refuse(refused.status)
        except TimeoutError:
            if self.deadline is not None:  # a request under way: say why it ends
                self._refuse(HTTPStatus.REQUEST_TIMEOUT)
        except OSError:
            pass  # the client went away

    def _serve(self) -> None:
        reader = self.reader
        while True:
            data = self._receive()
            if not data:
                return  # the client closed (mid-request or not: nothing to answer)
            more = reader.feed(data)
            if reader.wants_continue:  # RFC 9110 10.1.1: the client waits for this before it sends the body
                reader.wants_continue = False
                if reader.current is not None:
                    self.request.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            answered = bool(reader.ready)
            while reader.ready:
                message = reader.ready.popleft()
                if not self._answer(message, close=not (more and message.keep_alive)):
                    return
            if not more:
                return
            if reader.current is None:
                self.deadline = None  # nothing under way: the idle timeout applies
            elif answered:
                # The next request began in this read, behind the ones answered: its clock starts now. (A request
                # still arriving keeps the clock of its first byte, however slowly the rest comes.)
                self.deadline = time.monotonic() + self.server.limits.request_seconds

    def _answer(self, message: _Message, close: bool) -> bool:
        """Answer one complete request; whether the connection stays open."""
        started = time.perf_counter()
        request = HttpRequest(
            method=message.method.decode("latin-1"),
            target=message.target.decode("latin-1"),
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in message.headers],
            body=bytes(message.body),
            client_ip=self.client_address[0],
        )
        try:
            reply = self.server.app(request)
        except Exception:
            log.exception("the application failed on %s %s", request.method, request.target.split("?", 1)[0])
            reply = self.server.refuse(HTTPStatus.BAD_GATEWAY)
        self.request.sendall(self._framed(reply, head=request.method == "HEAD", close=close))
        log.info("%s %s %d %.1f ms", request.method, request.target.split("?", 1)[0], reply.status,
                 (time.perf_counter() - started) * 1000)
        return not close

    # -- reading ---------------------------------------------------------------------------------------

    def _receive(self) -> bytes:
        limits = self.server.limits
        if self.deadline is None:
            self.request.settimeout(limits.idle_seconds)
            data = self.request.recv(_RECEIVE_BYTES)
            self.deadline = time.monotonic() + limits.request_seconds
            return data
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.request.settimeout(left)
        return self.request.recv(_RECEIVE_BYTES)

    # -- writing ---------------------------------------------------------------------------------------

    def _framed(self, reply: HttpReply, *, head: bool = False, close: bool = False) -> bytes:
        """The answer on the wire, or the application's 502 if HTTP cannot carry it (a line break in a header, a
        status out of range: API Gateway answers a malformed integration response as a failed one)."""
        try:
            return _framed(reply, head=head, close=close)
        except ValueError as error:
            log.warning("an answer HTTP cannot carry: %s", error)
            return _framed(self.server.refuse(HTTPStatus.BAD_GATEWAY), head=head, close=close)

    def _refuse(self, status: int) -> None:
        try:
            self.request.settimeout(5)
            self.request.sendall(self._framed(self.server.refuse(status), close=True))
        except OSError:
            pass


def _framed(reply: HttpReply, *, head: bool, close: bool) -> bytes:
    status = reply.status
    if not (isinstance(status, int) and 200 <= status <= 599):
        raise ValueError(f"status {status!r}")
    lines = [f"HTTP/1.1 {status} {_phrase(status)}"]
    for name, value in reply.headers:
        if name.lower() in _FRAMING:
            continue
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"header {name[:40]!r}")
        lines.append(f"{name}: {value}")
    lines.append(f"Date: {_date()}")
    # RFC 9110 8.6: no Content-Length (and no body) in a 204; a 304's would describe the representation.
    bodiless = status in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
    if not bodiless:
        lines.append(f"Content-Length: {len(reply.body)}")
    if close:
        lines.append("Connection: close")
    framed = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return framed if head or bodiless else framed + reply.body


_last_date: tuple[int, str] = (0, "")


def _date() -> str:
    """The Date header (RFC 9110 6.6.1), formatted once a second."""
    global _last_date
    now = int(time.time())
    if _last_date[0] != now:
        _last_date = (now, email.utils.formatdate(now, usegmt=True))
    return _last_date[1]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
