"""A client's web host on 127.0.0.1 for the client ID metadata document tests: HTTPS with a certificate of its own
(for 127.0.0.1, ::1, localhost and the test names in :data:`NAMES`), each path answered as a test scripts it,
every connection counted. The server trusts it through ``SSL_CERT_FILE`` (:attr:`DocumentHost.bundle`), as
OpenSSL reads it."""

from __future__ import annotations

import socket
import socketserver
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import running, self_signed_tls

#: Names the certificate also covers: tests resolve them to 127.0.0.1 themselves (they are not in any DNS).
NAMES = ("agent.test", "rebind.test")


@dataclass
class Reply:
    """One scripted answer: a status, headers and a body, or raw bytes; ``drip`` seconds between bytes."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    raw: bytes | None = None
    drip: float = 0.0

    def wire(self) -> bytes:
        if self.raw is not None:
            return self.raw
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        if not any(k.lower() in ("content-length", "transfer-encoding") for k in self.headers):
            head += f"Content-Length: {len(self.body)}\r\n"
        return f"HTTP/1.1 {self.status} Scripted\r\n{head}Connection: close\r\n\r\n".encode() + self.body


class DocumentHost:
    def __init__(self, server: socketserver.ThreadingTCPServer, bundle: Path) -> None:
        self._server = server
        self.bundle = bundle
        self.replies: dict[str, Reply] = {}
        self.requests: list[str] = []  # each request's first line
        self.connections = 0

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"


@contextmanager
def document_host(folder: Path) -> Iterator[DocumentHost]:
    context, bundle = self_signed_tls(folder, names=("localhost", *NAMES), addresses=("127.0.0.1", "::1"))

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            host.connections += 1
            try:
                with context.wrap_socket(self.request, server_side=True) as tls:
                    tls.settimeout(10)
                    head = b""
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = tls.recv(4096)
                        if not chunk:
                            return
                        head += chunk
                    line = head.split(b"\r\n", 1)[0].decode("latin-1")
                    host.requests.append(line)
                    path = line.split(" ")[1] if line.count(" ") >= 2 else ""
                    reply = host.replies.get(path, Reply(404, b'{"error": "not found"}'))
                    data = reply.wire()
                    if reply.drip:
                        for i in range(len(data)):
                            tls.sendall(data[i:i + 1])
                            time.sleep(reply.drip)
                    else:
                        tls.sendall(data)
            except (OSError, ssl.SSLError):
                pass  # the client went away (a refusal mid-answer is what some tests provoke)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host = DocumentHost(server, bundle)
    with running(server):
        yield host


def resolver_to_loopback(*names: str):
    """A getaddrinfo that answers ``names`` with 127.0.0.1 and refuses every other name without any DNS query."""
    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "not a test name")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]
    return resolve
