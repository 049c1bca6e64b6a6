"""Where a ``private_key_jwt`` client's public keys come from when an assertion is verified (RFC 7523 3 point 9:
"signed ... by the issuer", with a key the server associates with the client): the ``jwks`` it registered, kept in
its client record, or the ``jwks_uri`` it registered, fetched (RFC 7591 2; OpenID Connect Core 1.0 section 10.1.1
on rotating keys published at a ``jwks_uri``).

:class:`RegisteredKeys` is the key source of :class:`passport.core.client_auth.ClientAssertions`:

- **jwks.** Read from the record and parsed again by :func:`passport.core.client_assertions.parse_client_jwks`
  (storage is not trusted to hold only what registration wrote); the parsed set is kept per process, by its
  canonical JSON, at most :data:`MAX_PARSED_SETS` of them, so a key read costs nothing on a warm container.
- **jwks_uri.** Fetched through a :class:`passport.core.client_documents.DocumentFetcher` (in production
  :class:`passport.client_documents_fetch.SafeFetcher`: https only, public addresses only, resolved once, no
  redirects, 200 only, at most :data:`MAX_JWKS_BYTES`, within a deadline). A fetched set is kept per process for
  :data:`CACHE_SECONDS`; an assertion naming a ``kid`` the kept set lacks (the client rotated its keys) fetches
  it again, at most once every :data:`REFETCH_SECONDS` per URL, as the server's own published keys are read again
  (:class:`passport.keys.keyring.PublishedKeys`); a failed fetch is remembered for :data:`FAILURE_SECONDS`, so
  nothing a caller sends makes the server fetch on every request. At most :data:`MAX_CACHED_SETS` URLs are kept
  (the least recently used goes first). Keys with ``use`` ``enc`` in a fetched set are left out (a client may
  publish its encryption keys at the same URL, OpenID Connect Core 1.0 section 10.2); every other key is held to
  the rules of a registered ``jwks``.

A refusal is :class:`passport.core.client_assertions.InvalidClientAssertion` saying which step failed and nothing
of the keys, the URL's host or its answer; those go to the audit trail (``client_keys_fetched``,
``client_keys_refused``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from passport.core.errors import DocumentRefused
from passport.core.models import Client

if TYPE_CHECKING:
    # Imported where they are used: a function that authenticates clients builds its key source at its first
    # request, and pays for the assertion rules, the client rules and the fetch's types only at its first assertion.
    from passport.core.client_assertions import ClientKeys
    from passport.core.client_documents import DocumentFetcher, DocumentUrl

#: A JWK Set is this large at most: MAX_CLIENT_KEYS RSA-4096 public keys with their kids are about 9 KB.
MAX_JWKS_BYTES = 16 * 1024
#: How long a fetched set is used before it is fetched again.
CACHE_SECONDS = 300
#: How often, at most, an unknown ``kid`` fetches a URL's set again before its time (per URL).
REFETCH_SECONDS = 60
#: How long a failed fetch is remembered: assertions of that client are refused without fetching meanwhile.
FAILURE_SECONDS = 30
#: URLs whose sets are kept per process, and registered sets kept parsed.
MAX_CACHED_SETS = 128
MAX_PARSED_SETS = 256

UNAVAILABLE = "the client's keys could not be fetched from its jwks_uri"


def jwks_url(uri: str) -> DocumentUrl:
    """A registered ``jwks_uri`` as the fetcher takes it, checked again (:func:`passport.core.clients.
    validate_jwks_uri`); :class:`DocumentRefused` when it is not a URL to fetch."""
    from passport.core.client_documents import DocumentUrl
    from passport.core.clients import InvalidClientMetadata, validate_jwks_uri

    try:
        validate_jwks_uri(uri)
    except InvalidClientMetadata as error:
        raise DocumentRefused(str(error)) from None
    parts = urlsplit(uri)
    assert parts.hostname is not None  # validate_jwks_uri checked it
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return DocumentUrl(uri, parts.hostname.lower(), parts.port or 443, target)


def published_keys(body: bytes) -> ClientKeys:
    """The signing keys of a fetched JWK Set (RFC 7517 5), held to the rules of a registered ``jwks`` once the keys
    marked ``use`` ``enc`` are left out; :class:`DocumentRefused` saying what is wrong with it."""
    from passport.core.client_assertions import InvalidClientKeys, parse_client_jwks
    from passport.core.client_documents import fetched_json

    document = fetched_json(body, MAX_JWKS_BYTES, "JWK Set")
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        signing = [key for key in document["keys"] if not (isinstance(key, dict) and key.get("use") == "enc")]
        document = {"keys": signing}
    try:
        return parse_client_jwks(document)
    except InvalidClientKeys as error:
        raise DocumentRefused(str(error)) from None


@dataclass
class _Fetched:
    """A URL's last fetch: its keys (None: it failed), when, and when an unknown kid last fetched it again."""

    keys: ClientKeys | None
    at: float
    refetched_at: float


class RegisteredKeys:
    """:class:`passport.core.client_auth.ClientKeySource` over the client record and a fetcher, as the module's
    docstring says. ``clock``: monotonic seconds (a test moves it)."""

    def __init__(self, fetcher: DocumentFetcher | None, *, clock: Callable[[], float] = time.monotonic,
                 cache_seconds: float = CACHE_SECONDS, refetch_seconds: float = REFETCH_SECONDS,
                 failure_seconds: float = FAILURE_SECONDS, max_sets: int = MAX_CACHED_SETS) -> None:
        """``fetcher`` None: a ``jwks_uri`` client's assertions are refused (nothing is fetched)."""
        self._fetcher = fetcher
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._failure_seconds = failure_seconds
        self._max_sets = max_sets
        self._parsed: OrderedDict[str, ClientKeys] = OrderedDict()
        self._fetched: OrderedDict[str, _Fetched] = OrderedDict()
        self._lock = threading.Lock()  # the local server answers on several threads; Lambda on one

    def keys(self, client: Client, kid: str | None) -> ClientKeys:
        """The keys that may verify ``client``'s assertion, whose header names ``kid`` (None: names none)."""
        from passport.core.client_assertions import InvalidClientAssertion

        if client.jwks is not None:
            return self._registered(client.jwks)
        if client.jwks_uri is not None:
            return self._published(client, client.jwks_uri, kid)
        raise InvalidClientAssertion("the client has registered no keys")

    def _registered(self, text: str) -> ClientKeys:
        from passport.core.client_assertions import ClientKeys, InvalidClientAssertion, InvalidClientKeys

        with self._lock:
            kept = self._parsed.get(text)
            if kept is not None:
                self._parsed.move_to_end(text)
                return kept
        try:
            keys = ClientKeys.from_json(text)
        except InvalidClientKeys:
            raise InvalidClientAssertion("the client's registered keys cannot be used") from None
        with self._lock:
            self._parsed[text] = keys
            while len(self._parsed) > MAX_PARSED_SETS:
                self._parsed.popitem(last=False)
        return keys

    def _published(self, client: Client, uri: str, kid: str | None) -> ClientKeys:
        from passport.core.client_assertions import InvalidClientAssertion

        now = self._clock()
        with self._lock:
            kept = self._fetched.get(uri)
            if kept is not None:
                self._fetched.move_to_end(uri)
                age = now - kept.at
                if kept.keys is None and age < self._failure_seconds:
                    raise InvalidClientAssertion(UNAVAILABLE)
                if kept.keys is not None and age < self._cache_seconds:
                    known = kid is None or any(key.kid == kid for key in kept.keys.keys)
                    if known or now - kept.refetched_at < self._refetch_seconds:
                        return kept.keys
                    kept.refetched_at = now  # an unknown kid: fetched again now, and not again for a while
                else:
                    kept = None  # too old, or a failure long enough ago: fetched as if never seen
        return self._fetch(client, uri, now, kept)

    def _fetch(self, client: Client, uri: str, now: float, kept: _Fetched | None) -> ClientKeys:
        from passport.core.audit import audit
        from passport.core.client_assertions import InvalidClientAssertion

        try:
            if self._fetcher is None:
                raise DocumentRefused("this server fetches no jwks_uri")
            url = jwks_url(uri)
            keys = published_keys(self._fetcher.fetch(url).body)
        except DocumentRefused as refused:
            audit("client_keys_refused", client_id=client.client_id, host=urlsplit(uri).hostname,
                  reason=str(refused))
            if kept is not None and kept.keys is not None:
                return kept.keys  # a rotation's fetch failed: the kept set serves until it is too old
            self._remember(uri, _Fetched(None, now, now))
            raise InvalidClientAssertion(UNAVAILABLE) from None
        audit("client_keys_fetched", client_id=client.client_id, host=url.host)
        self._remember(uri, _Fetched(keys, now, kept.refetched_at if kept is not None else float("-inf")))
        return keys

    def _remember(self, uri: str, fetched: _Fetched) -> None:
        with self._lock:
            self._fetched[uri] = fetched
            self._fetched.move_to_end(uri)
            while len(self._fetched) > self._max_sets:
                self._fetched.popitem(last=False)
