"""A client's web host on 127.0.0.1 for the client ID metadata document tests: HTTPS with a certificate of its own
(for 127.0.0.1, ::1, localhost and the test names in :data:`NAMES`), each path answered as a test scripts it,
every connection counted. The server trusts it through ``SSL_CERT_FILE`` (:attr:`DocumentHost.bundle`), as
OpenSSL reads it."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
    context, bundle = _tls(folder)

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

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host = DocumentHost(server, bundle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


def resolver_to_loopback(*names: str):
    """A getaddrinfo that answers ``names`` with 127.0.0.1 and refuses every other name without any DNS query."""
    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "not a test name")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]
    return resolve


def _tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client metadata host")])
    now = datetime.datetime.now(datetime.UTC)
    alternatives = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
                    x509.DNSName("localhost"), *(x509.DNSName(n) for n in NAMES)]
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    bundle = folder / "document-host-ca.pem"
    bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private = folder / "document-host-key.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(bundle, private)
    return context, bundle
