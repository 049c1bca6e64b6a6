"""Redirect URI matching (RFC 6749 3.1.2.3, RFC 9700 2.1): exact string comparison, with one exception:
the port of a loopback redirect URI may vary, because native apps listen on an ephemeral port
(RFC 8252 7.3)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

LOOPBACK_IPS = ("127.0.0.1", "[::1]")


def _without_port(uri: str) -> str | None:
    """The loopback URI with its port removed; None when the URI is not an http loopback IP literal."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    host = parts.netloc
    host = host[: host.rfind(":")] if port is not None else host
    # Only the port may vary (RFC 8252 7.3): userinfo ("http://x@127.0.0.1:9/cb") leaves host != the IP literal.
    if parts.scheme != "http" or host not in LOOPBACK_IPS:
        return None
    return parts._replace(netloc=host).geturl()


def matches(requested: str, registered: str) -> bool:
    if requested == registered:
        return True
    # RFC 8252 8.3 recommends the IP literals; "localhost" gets no port exception.
    loose = _without_port(registered)
    return loose is not None and _without_port(requested) == loose


def find_registered(requested: str | None, registered: Sequence[str]) -> str | None:
    """The registered URI the request names; without a request, the only one registered (3.1.2.3)."""
    if requested is None:
        return registered[0] if len(registered) == 1 else None
    return next((uri for uri in registered if matches(requested, uri)), None)
