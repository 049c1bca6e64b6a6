"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-03, "CIMD"; the MCP authorization
spec's preferred way for a client to identify itself, revision 2026-07-28, Client Registration): a client whose
``client_id`` is an https URL is described by the JSON document at that URL, fetched when the server first meets
it, instead of registering.

What is judged here, without I/O:

- The URL (the draft's "Client Identifier URL"): ``https``, a host, a path other than ``/``, no fragment, no user
  info, no ``.`` or ``..`` segment, printable ASCII, at most :data:`passport.core.clients.MAX_URI` characters.
- The document ("Client ID Metadata Document"): a JSON object whose ``client_id`` is the URL, compared as simple
  strings (RFC 3986 6.2.1) and never normalized; no ``client_secret`` nor ``client_secret_expires_at`` (a
  document is public: no shared secret can be in it); ``token_endpoint_auth_method`` ``none`` (the
  ``client_secret_*`` methods need a shared secret; ``private_key_jwt`` is not offered to a document's client); the code
  flow only; redirect URIs and every other member held to the rules of every client (RFC 7591 2 through
  :class:`passport.core.registration.ClientMetadata`, OpenID Connect Dynamic Client Registration 1.0 section 2's
  ``application_type``).
- How long a document is kept ("Metadata Caching": the fetch's HTTP caching headers, RFC 9111 5.2 and 5.3, within
  :data:`MIN_CACHE_SECONDS` and :data:`MAX_CACHE_SECONDS`). A failure is never kept: the next request fetches
  again.

:class:`DocumentClients` puts it together in front of the client store: the fetch is a port
(:class:`DocumentFetcher`, passport.client_documents_fetch in production), and the document's client is kept in
the clients table under its URL, so every function (and the guard, which reads the client's status with its
token) shares one copy, and the operator can revoke it like any client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

# DocumentRefused is defined with the other errors, where client authentication finds it without this module.
from passport.core.errors import DocumentRefused, PageError
from passport.core.http import SOURCE_ADDRESS, MalformedJson, parse_json
from passport.core.models import Client
from passport.ports import ClientStore

#: A document is this large at most (the draft's "Maximum Response Size" asks for a limit): a real one is a
#: few hundred bytes; 5 KB leaves room for ten long redirect URIs.
MAX_DOCUMENT_BYTES = 5 * 1024
#: How long a document is kept when its answer says nothing, and the bounds of what an answer may say: at least
#: a minute (a document that forbids caching would otherwise be fetched on every request of a flow), at most a
#: day (a client that changes its redirect URIs is heard within a day).
DEFAULT_CACHE_SECONDS = 600
MIN_CACHE_SECONDS = 60
MAX_CACHE_SECONDS = 86_400
#: The grants a document's client may have: the code flow, and refresh tokens (RFC 6749 4.1 and 6).
DOCUMENT_GRANTS = ("authorization_code", "refresh_token")
#: The longest client ID URL: passport.core.clients.MAX_URI, the longest URI a client may have (a test holds them
#: equal; that module is imported only when a document is judged, not by every function that meets a client id).
MAX_URI = 512


def page_client(clients: ClientStore, client_id: str | None) -> Client | None:
    """For a page (authorization, logout): the client ``client_id`` names (a UUID, or a metadata document's URL
    of at most :data:`passport.core.clients.MAX_URI` characters), None when there is none; a document that cannot
    be used is an error page saying why (never a redirect: its redirect URIs are not known)."""
    if not client_id or len(client_id) > MAX_URI:
        return None
    try:
        return clients.get(client_id)
    except DocumentRefused as refused:
        raise PageError("Unknown application", f"The application that sent you here identifies itself by the "
                        f"metadata document at {client_id}, which cannot be used: {refused}.") from None


def is_document_client_id(client_id: str | None) -> bool:
    """Whether ``client_id`` names a metadata document: an https URL (client ids made here are UUIDs)."""
    return client_id is not None and client_id[:8].lower() == "https://"


@dataclass(frozen=True)
class DocumentUrl:
    """A client ID URL that passed :func:`parse_client_id_url`."""

    url: str
    host: str  # lowercased; an IPv6 address without brackets
    port: int
    target: str  # the request target: the path and the query, as written

    @property
    def authority(self) -> str:
        """The Host header: the host as the URL writes it, and the port unless it is 443."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 443 else f"{host}:{self.port}"


def parse_client_id_url(url: str) -> DocumentUrl:
    """The draft's "Client Identifier URL" rules (section 3 of -03): https, a host, a path component, no
    fragment, no user info, no dot segments. A query is allowed (the draft discourages it)."""
    if len(url) > MAX_URI:
        raise DocumentRefused(f"the client ID URL is longer than {MAX_URI} characters")
    if any(not "\x21" <= c <= "\x7e" for c in url):
        raise DocumentRefused("the client ID URL must be printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DocumentRefused("the client ID URL is not a valid URL") from None
    if parts.scheme != "https":
        raise DocumentRefused("the client ID URL must use https")
    if "#" in url:
        raise DocumentRefused("the client ID URL must not have a fragment")
    if "@" in parts.netloc:
        raise DocumentRefused("the client ID URL must not have user info")
    if not parts.hostname:
        raise DocumentRefused("the client ID URL has no host")
    if parts.path in ("", "/"):
        raise DocumentRefused("the client ID URL must have a path (https://app.example.com/client.json)")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise DocumentRefused("the client ID URL must not have dot segments (. or ..) in its path")
    if port == 0:
        raise DocumentRefused("the client ID URL's port is not a port")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return DocumentUrl(url, parts.hostname.lower(), 443 if port is None else port, target)


def fetched_json(body: bytes, limit: int, what: str) -> Any:
    """A fetched document's JSON value, the document at most ``limit`` bytes; :class:`DocumentRefused` saying
    which rule ``what`` (the document, as its message names it) broke."""
    if len(body) > limit:
        raise DocumentRefused(f"the {what} is larger than {limit} bytes")
    try:
        return parse_json(body)
    except MalformedJson as error:
        raise DocumentRefused(f"the {what} is not valid JSON: {error}") from None


def client_from_document(
    url: str, body: bytes, *, defined_scopes: Mapping[str, str], now: int, cache_seconds: int
) -> Client:
    """The client a fetched document describes (the draft's "Client ID Metadata Document"), or
    :class:`DocumentRefused` saying what is wrong with it."""
    from passport.core.registration import ClientMetadata, RegistrationError

    document = fetched_json(body, MAX_DOCUMENT_BYTES, "metadata document")
    if not isinstance(document, dict):
        raise DocumentRefused("the metadata document must be a JSON object")
    if "client_id" not in document:
        raise DocumentRefused("the metadata document has no client_id")
    if document["client_id"] != url:
        raise DocumentRefused("the metadata document's client_id is not the URL it was fetched from")
    for member in ("client_secret", "client_secret_expires_at"):
        if member in document:
            raise DocumentRefused(f"a metadata document must not carry {member}: it is public")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise DocumentRefused(f"token_endpoint_auth_method {method!r} is not accepted for a metadata document "
                              "client: it has no shared secret (use none, with PKCE)")
    grants = document.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or any(g not in DOCUMENT_GRANTS for g in grants):
        raise DocumentRefused(f"grant_types may hold only {', '.join(DOCUMENT_GRANTS)}")
    if not document.get("redirect_uris"):
        raise DocumentRefused("the metadata document has no redirect_uris")
    if not isinstance(document.get("client_name", ""), str):
        raise DocumentRefused("client_name must be a string")
    try:
        # Keys (jwks, jwks_uri, token_endpoint_auth_signing_alg) serve private_key_jwt only, which a document's
        # client does not use here: left out, as before the server offered it, rather than refused.
        described = {name: value for name, value in document.items()
                     if name not in ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg")}
        metadata = ClientMetadata.parse({**described, "token_endpoint_auth_method": "none"}, defined_scopes)
    except RegistrationError as error:
        raise DocumentRefused(error.description[:1].lower() + error.description[1:].rstrip(".")) from None
    name = metadata.client_name if document.get("client_name", "").strip() else urlsplit(url).hostname or url
    return Client(
        client_id=url, name=name, redirect_uris=metadata.redirect_uris, grant_types=metadata.grant_types,
        scopes=metadata.scope, created_at=now, post_logout_redirect_uris=metadata.post_logout_redirect_uris,
        client_uri=metadata.client_uri, logo_uri=metadata.logo_uri, auth_method="none",
        application_type=metadata.application_type, document_expires_at=now + cache_seconds,
    )


def cache_seconds(headers: Mapping[str, str], now: float) -> int:
    """How long to keep a document (RFC 9111 5.2.2 ``max-age``, ``no-store``, ``no-cache``; 5.3 ``Expires``),
    within :data:`MIN_CACHE_SECONDS` and :data:`MAX_CACHE_SECONDS`; :data:`DEFAULT_CACHE_SECONDS` when the
    answer says nothing; 0 (fetched again at the next request) when it forbids keeping or reusing it unchecked.
    ``headers``: lowercased names."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0
    seconds: float | None = None
    if "max-age" in directives:
        age = directives["max-age"]
        # RFC 9111 1.2.2 and 4.2.1: delta-seconds are digits; anything else leaves the answer stale at once.
        seconds = int(age) if age.isascii() and age.isdigit() and len(age) <= 10 else 0
    elif "expires" in headers:
        from email.utils import parsedate_to_datetime  # here: only a fetch needs it

        try:
            seconds = parsedate_to_datetime(headers["expires"]).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = 0  # RFC 9111 5.3: an invalid date means already expired
    if seconds is None:
        return DEFAULT_CACHE_SECONDS
    return int(min(max(seconds, MIN_CACHE_SECONDS), MAX_CACHE_SECONDS))


@dataclass(frozen=True)
class FetchedDocument:
    """A 200 answer to the document's GET: its body and its headers (lowercased names)."""

    body: bytes
    headers: Mapping[str, str]


class DocumentFetcher(Protocol):
    def fetch(self, url: DocumentUrl) -> FetchedDocument:
        """GET the document (https, no redirects, 200 only, bounded in size and time, never to a loopback,
        private or other special-use address unless allowed), or :class:`DocumentRefused` saying why."""
        ...


class DocumentClientStore(ClientStore, Protocol):
    def save_document_client(self, client: Client) -> Client:
        """Keep a document's client (its fields and ``document_expires_at``) under its URL without touching
        whether the operator revoked it; the client as stored (revoked, if it was)."""
        ...


class DocumentClients:
    """A client store that also knows the clients of metadata documents: :meth:`get` of an https client ID
    answers the kept client while it is fresh, else fetches its document again (and keeps the answer). Every
    other call is the store's own."""

    def __init__(
        self, store: DocumentClientStore, fetcher: DocumentFetcher, *, defined_scopes: Mapping[str, str],
        allowed_hosts: Sequence[str] = (), clock: Callable[[], float] = time.time,
        rate_limit: Callable[[str], bool] | None = None,
    ) -> None:
        """``rate_limit``: takes one fetch for a source address, False once it has had its share (a client ID is
        any URL a caller of the authorization endpoint picks, so each address may make the server fetch only so
        many documents an hour; a document already kept costs nothing)."""
        self._store = store
        self._fetcher = fetcher
        self._scopes = defined_scopes
        self._allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self._clock = clock
        self._rate_limit = rate_limit

    def get(self, client_id: str) -> Client | None:
        """The client; for a metadata document's URL, :class:`DocumentRefused` when its document cannot be used
        (the caller tells the user or the client why)."""
        if not is_document_client_id(client_id):
            return self._store.get(client_id)
        now = int(self._clock())
        kept = self._store.get(client_id)
        if kept is not None and (kept.revoked or not kept.from_document or kept.document_expires_at > now):
            return kept
        return self._fetch(client_id, now)

    def _fetch(self, client_id: str, now: int) -> Client:
        url = parse_client_id_url(client_id)
        try:
            if self._allowed_hosts and url.host not in self._allowed_hosts:
                raise DocumentRefused("this server accepts metadata documents only from "
                                      + ", ".join(self._allowed_hosts))
            if self._rate_limit is not None and not self._rate_limit(f"client-document:{SOURCE_ADDRESS.get()}"):
                raise DocumentRefused("this address has had too many metadata documents fetched this hour; try "
                                      "again later")
            fetched = self._fetcher.fetch(url)
            client = client_from_document(client_id, fetched.body, defined_scopes=self._scopes, now=now,
                                          cache_seconds=cache_seconds(fetched.headers, now))
        except DocumentRefused as refused:
            from passport.core.audit import audit

            audit("client_document_refused", client_id=client_id, host=url.host, reason=str(refused))
            raise
        stored = self._store.save_document_client(client)
        from passport.core.audit import audit

        audit("client_document_fetched", client_id=client_id, host=url.host,
              expires_at=client.document_expires_at)
        return stored

    # -- the rest of the client store, as it is --------------------------------------------------------------

    def create(self, client: Client) -> None:
        self._store.create(client)

    def all(self) -> Iterable[Client]:
        return self._store.all()

    def revoke(self, client_id: str) -> bool:
        return self._store.revoke(client_id)

    def owned_by(self, user_id: str) -> list[Client]:
        return self._store.owned_by(user_id)

    def update(self, client_id: str, owner: str | None, **changes: Any) -> bool:
        return self._store.update(client_id, owner, **changes)

    def replace_registered(self, client: Client) -> bool:
        return self._store.replace_registered(client)

    def set_secret(self, client_id: str, secret_hash: str, owner: str | None = None) -> bool:
        return self._store.set_secret(client_id, secret_hash, owner)

    def set_keys(self, client_id: str, jwks: str | None, jwks_uri: str | None, signing_alg: str = "",
                 owner: str | None = None) -> bool:
        return self._store.set_keys(client_id, jwks, jwks_uri, signing_alg, owner)


def only_loopback(uris: Sequence[str]) -> bool:
    """Whether every redirect URI is on this device (RFC 8252 7.3): any app on the user's machine can listen
    there, so a document naming only such URIs proves nothing about who will receive the code (the MCP
    authorization spec's "Localhost Redirect URI Risks")."""
    hosts = [urlsplit(uri).hostname if uri[:7].lower() == "http://" else None for uri in uris]
    return bool(hosts) and all(host in ("127.0.0.1", "::1", "localhost") for host in hosts)
