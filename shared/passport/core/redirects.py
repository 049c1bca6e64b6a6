"""Redirect URI matching (RFC 6749 3.1.2.3, RFC 9700 2.1): simple string comparison, character for character,
with one exception: the port of an ``http`` loopback IP-literal redirect URI may vary, because a native app
listens on whatever port the system gives it (RFC 8252 7.3).

Nothing is normalized before comparing: not the scheme's or the host's case, not an empty query (``?``), not
percent-encoding, not a trailing slash. A URI that differs from the registered one in any of these is another
URI, and the authorization server must not send a browser (and a code) to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: An http loopback IP-literal URI exactly as written: the literal (127.0.0.1 or [::1], those RFC 8252 7.3 names;
#: "localhost", which 8.3 advises against, gets no exception), the text after a ":" up to the path (the port,
#: when there is one), and the rest (path, query and anything after). Case-sensitive on purpose: "HTTP://" is
#: another string than the registered "http://" and gets no exception.
_LOOPBACK = re.compile(r"http://(127\.0\.0\.1|\[::1\])(?::([^/?#]*))?([/?#].*)?", re.DOTALL)
#: A port as a port is written (RFC 3986 3.2.3, with RFC 6335's range): decimal digits without a leading zero,
#: sign or space.
_PORT = re.compile(r"[1-9][0-9]{0,4}")


def valid_port(text: str) -> bool:
    """Whether ``text`` is a real port (1-65535) written as one: not "", "0", "08080", "+80", "99999"."""
    return _PORT.fullmatch(text) is not None and int(text) <= 65535


def _without_port(uri: str) -> str | None:
    """The http loopback IP-literal URI with its port removed; None for any other URI, and for a loopback one
    whose port is not a real port written as one (userinfo, "http://127.0.0.1:9@evil.example/", lands here
    too: "9@evil.example" is no port)."""
    match = _LOOPBACK.fullmatch(uri)
    if match is None:
        return None
    host, port, rest = match.groups()
    if port is not None and not valid_port(port):
        return None
    return f"http://{host}{rest or ''}"


def matches(requested: str, registered: str) -> bool:
    """RFC 6749 3.1.2.3 and RFC 9700 2.1: the same string; or, for an http loopback IP literal, the same string
    but for the port (RFC 8252 7.3)."""
    if requested == registered:
        return True
    loose = _without_port(registered)
    return loose is not None and _without_port(requested) == loose


def find_registered(requested: str | None, registered: Sequence[str]) -> str | None:
    """The registered URI the request names; without a request, the only one registered (3.1.2.3)."""
    if requested is None:
        return registered[0] if len(registered) == 1 else None
    return next((uri for uri in registered if matches(requested, uri)), None)
