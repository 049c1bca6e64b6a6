"""A test's own HTTP server (a fake upstream, a redirect target, a fault proxy) on a thread for one block, and a
certificate for one that speaks TLS."""

from __future__ import annotations

import datetime
import ipaddress
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running(server: socketserver.BaseServer, stop: Callable[[], None] | None = None) -> Iterator[None]:
    """``server`` serves on a daemon thread for the block; then ``stop`` (by default: shut down and close the
    socket) and the thread is joined, so nothing outlives the test."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        if stop is not None:
            stop()
        else:
            server.shutdown()
            server.server_close()
        thread.join(timeout=5)


def self_signed_tls(folder: Path, *, names: tuple[str, ...] = (), addresses: tuple[str, ...] = ("127.0.0.1",),
                    ) -> tuple[ssl.SSLContext, Path]:
    """A server context with a new self-signed certificate (a CA of its own) for these DNS ``names`` and IP
    ``addresses``, valid for two hours; and the PEM file a client trusts it by (AWS_CA_BUNDLE, SSL_CERT_FILE)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test server")])
    now = datetime.datetime.now(datetime.UTC)
    alternatives = [*(x509.IPAddress(ipaddress.ip_address(a)) for a in addresses), *(x509.DNSName(n) for n in names)]
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    bundle = folder / "test-server-ca.pem"
    bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private = folder / "test-server-key.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(bundle, private)
    return context, bundle
