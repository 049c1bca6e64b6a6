"""Fetching a client ID metadata document without becoming anyone's proxy (draft-ietf-oauth-client-id-metadata-
document-03, Security Considerations, "Server Side Request Forgery (SSRF) Attacks"; the MCP authorization spec,
revision 2026-07-28, Security Considerations, "Client ID Metadata Document Security").

A client ID is a URL any caller of the authorization endpoint chooses, so the fetch is held to:

- **Public addresses only.** The host is resolved once; if any address it resolves to is loopback, private,
  link-local, shared (RFC 6598), multicast, reserved, unspecified or otherwise not globally routable (the IANA
  special-purpose registries, RFC 6890, as :mod:`ipaddress` knows them; an IPv4 address inside an IPv4-mapped,
  6to4, Teredo or NAT64 IPv6 address is judged as itself), nothing is sent. The connection goes to the address
  checked, never to the name again, so a second answer from the name's DNS (rebinding) cannot move it.
  ``allow_loopback`` lets loopback addresses through for local development (``passport serve``), nothing else.
- **https only**, the certificate verified for the URL's host (the system's trust store; ``SSL_CERT_FILE`` as
  OpenSSL reads it).
- **One GET, no redirects, 200 only**; at most :data:`passport.core.client_documents.MAX_DOCUMENT_BYTES` of body
  (refused from ``Content-Length`` before reading, or as it crosses the limit); everything within
  :data:`DEADLINE_SECONDS`, however slowly the other side sends (a watchdog closes the connection then).

The same fetch, with its own size cap (:data:`passport.core.client_keys.MAX_JWKS_BYTES`), gets a ``private_key_jwt``
client's keys from its ``jwks_uri`` (``what`` names the thing fetched in the messages).

Standard library only: the functions that meet client ids (authorize, token, revoke) import this when a client ID
first names a document, and the functions that authenticate clients when they first fetch a ``jwks_uri``.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from passport.core.client_documents import MAX_DOCUMENT_BYTES, DocumentRefused, DocumentUrl, FetchedDocument

#: The whole fetch (resolving, connecting, TLS, the answer): a user is waiting on the authorization page.
DEADLINE_SECONDS = 5.0
CONNECT_TIMEOUT = 3.0
USER_AGENT = "lambda-passport (client ID metadata document fetch)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]
Connector = Callable[[tuple[str, int], float], socket.socket]

#: NAT64's well-known prefix (RFC 6052 2.1): the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Special-purpose blocks (RFC 6890 and the IANA registries) that the interpreter's ipaddress may still call
#: global: IETF protocol assignments (RFC 6890 2.2.2), the deprecated 6to4 relay anycast (RFC 7526), the
#: documentation ranges (RFC 5737, RFC 3849), shared address space (RFC 6598), NAT64's local-use prefix (RFC 8215)
#: and the IETF protocol assignments of IPv6 (RFC 2928).
_RESERVED_BLOCKS = tuple(ipaddress.ip_network(block) for block in (
    "192.0.0.0/24", "192.88.99.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10",
    "2001::/23", "2001:db8::/32", "64:ff9b:1::/48",
))


def special_use(address: Address) -> str | None:
    """Why ``address`` is not a public Internet address (a word for the message), or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (address.sixtofour if address.sixtofour else None)
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return special_use(embedded)
    for name, flag in (("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
                       ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                       ("private", address.is_private), ("reserved", address.is_reserved)):
        if flag:
            return name
    reserved = any(address.version == block.version and address in block for block in _RESERVED_BLOCKS)
    if reserved or not address.is_global:
        return "special-use"
    return None


class SafeFetcher:
    """:class:`passport.core.client_documents.DocumentFetcher` over the standard library, as above."""

    def __init__(
        self, *, allow_loopback: bool = False, resolve: Resolver = socket.getaddrinfo,
        connect: Connector | None = None, tls: ssl.SSLContext | None = None,
        deadline_seconds: float = DEADLINE_SECONDS, max_bytes: int = MAX_DOCUMENT_BYTES,
        what: str = "metadata document",
    ) -> None:
        """``max_bytes``: the largest body accepted; ``what``: what is fetched, as the refusals name it."""
        self._max_bytes = max_bytes
        self._what = what
        self._allow_loopback = allow_loopback
        self._resolve = resolve
        self._connect = connect or (lambda address, timeout: socket.create_connection(address, timeout=timeout))
        self._tls = tls
        self._deadline_seconds = deadline_seconds

    def fetch(self, url: DocumentUrl) -> FetchedDocument:
        deadline = time.monotonic() + self._deadline_seconds
        address = self.checked_address(url, deadline)
        try:
            return self._get(url, address, deadline)
        except DocumentRefused:
            raise
        except TimeoutError:
            raise DocumentRefused(f"{url.host} did not answer within {self._deadline_seconds:g} s") from None
        except ssl.SSLCertVerificationError as error:
            raise DocumentRefused(f"{url.host}'s TLS certificate is not valid for it: {error.verify_message}") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise DocumentRefused(f"the {self._what} could not be fetched from {url.host} "
                                  f"({type(error).__name__})") from None

    # -- the address ---------------------------------------------------------------------------------------------

    def checked_address(self, url: DocumentUrl, deadline: float) -> str:
        """The one address to connect to: every address the host resolves to is public (or loopback where that is
        allowed), else :class:`DocumentRefused` before any connection is made."""
        addresses = self._addresses(url, deadline)
        if not addresses:
            raise DocumentRefused(f"{url.host} has no address")
        for address in addresses:
            why = special_use(address)
            if why is not None and not (why == "loopback" and self._allow_loopback):
                raise DocumentRefused(f"{url.host} resolves to a {why} address ({address}): a {self._what} is "
                                      "fetched from public addresses only")
        return str(addresses[0])

    def _addresses(self, url: DocumentUrl, deadline: float) -> list[Address]:
        try:
            return [ipaddress.ip_address(url.host)]
        except ValueError:
            pass  # a name
        answer: dict[str, Any] = {}

        def resolve() -> None:
            try:
                answer["infos"] = self._resolve(url.host, url.port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as error:
                answer["error"] = error

        # getaddrinfo has no timeout of its own: the lookup runs aside, and is given up on at the deadline.
        worker = threading.Thread(target=resolve, daemon=True, name="cimd-resolve")
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if "infos" not in answer:
            raise DocumentRefused(f"{url.host} could not be resolved") from None
        found: list[Address] = []
        for info in answer["infos"]:
            try:
                address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            except ValueError:
                continue
            if address not in found:
                found.append(address)
        return found

    # -- the request ---------------------------------------------------------------------------------------------

    def _get(self, url: DocumentUrl, address: str, deadline: float) -> FetchedDocument:
        sock = self._connect((address, url.port), min(CONNECT_TIMEOUT, max(0.01, deadline - time.monotonic())))
        # Past the deadline the connection is cut, whatever the other side is doing (sending a byte a second...):
        # the socket in use then (the TLS one, once the handshake is done) is shut down under the reader.
        in_use = [sock]
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), lambda: _cut(in_use[-1]))
        watchdog.daemon = True
        watchdog.start()
        try:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            tls = self._tls or ssl.create_default_context()
            with tls.wrap_socket(sock, server_hostname=url.host) as secure:
                in_use.append(secure)
                secure.sendall(
                    f"GET {url.target} HTTP/1.1\r\nHost: {url.authority}\r\nAccept: application/json\r\n"
                    f"Accept-Encoding: identity\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n".encode()
                )
                response = http.client.HTTPResponse(secure, method="GET")
                response.begin()
                return _document(url, response, deadline, self._max_bytes, self._what)
        finally:
            watchdog.cancel()
            sock.close()


def _document(url: DocumentUrl, response: http.client.HTTPResponse, deadline: float,
              max_bytes: int = MAX_DOCUMENT_BYTES, what: str = "metadata document") -> FetchedDocument:
    """The body of a 200 answer, at most ``max_bytes``; every other answer refused (the draft's Client
    Information Discovery: no redirects, 200 only)."""
    if 300 <= response.status < 400:
        raise DocumentRefused(f"{url.host} answered with a redirect (HTTP {response.status}); a {what} is "
                              "fetched without following redirects")
    if response.status != 200:
        raise DocumentRefused(f"{url.host} answered HTTP {response.status}, not 200")
    if response.length is not None and response.length > max_bytes:
        raise DocumentRefused(f"the {what} is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(max_bytes + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise DocumentRefused(f"the {what} is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise TimeoutError
    if time.monotonic() > deadline:
        raise TimeoutError  # the watchdog cut the connection: what was read is not the whole answer
    if response.length:
        raise DocumentRefused(f"{url.host}'s answer ended before its Content-Length")
    headers = {name.lower(): value for name, value in response.getheaders()}
    return FetchedDocument(b"".join(chunks), headers)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)
