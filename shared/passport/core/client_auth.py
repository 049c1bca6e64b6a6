"""Client authentication at the token endpoint (RFC 6749 sections 2.3.1 and 3.2.1).

Confidential clients authenticate with HTTP Basic (``client_secret_basic``) or with ``client_id`` and
``client_secret`` in the body (``client_secret_post``), never both. Public clients send ``client_id`` only
(``none``) and must prove possession another way (PKCE).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote_plus

from passport.core.errors import DocumentRefused, OAuthError, invalid_client, invalid_request
from passport.core.hashing import verify_secret
from passport.core.http import Headers, single
from passport.core.models import Client
from passport.ports import ClientStore

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")

#: Client ids are UUIDs, or the https URL of a metadata document (passport.core.client_documents, at most
#: passport.core.clients.MAX_URI characters); anything longer is refused before it reaches storage.
MAX_CLIENT_ID_LENGTH = 512


class ClientCredentials(NamedTuple):
    """What the client presented to authenticate, and how (RFC 6749 2.3.1). Immutable; a named tuple, as one is
    built per token request."""

    client_id: str | None
    secret: str | None
    method: str  # one of AUTH_METHODS


def parse_basic(header: str) -> tuple[str, str]:
    """Decode ``Basic base64(urlencode(id):urlencode(secret))`` (RFC 6749 2.3.1, RFC 7617).

    Strict base64 (RFC 4648 4: the alphabet and its padding only), as ``base64.b64decode(validate=True)`` checks it.
    """
    try:
        raw = binascii.a2b_base64(header[6:].strip().encode("ascii"), strict_mode=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_client("The Basic credentials are malformed.", used_basic=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise invalid_client("The Basic credentials are malformed.", used_basic=True)
    if "%" in decoded or "+" in decoded:
        return unquote_plus(client_id), unquote_plus(secret)
    return client_id, secret  # nothing to unquote: UUID client ids, URL-safe secrets


def extract_credentials(headers: Headers, form: Mapping[str, list[str]]) -> ClientCredentials:
    """Find how the client authenticates; two methods at once is ``invalid_request`` (RFC 6749 2.3)."""
    body_id = single(form, "client_id")
    body_secret = single(form, "client_secret")
    authorization = headers.get("authorization", "")
    if authorization[:6].lower() == "basic ":
        if body_secret is not None:
            raise invalid_request("The client used more than one authentication method.")
        client_id, secret = parse_basic(authorization)
        if body_id is not None and body_id != client_id:
            raise invalid_request("The client_id in the body differs from the authenticated client.")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    if body_secret is not None:
        return ClientCredentials(body_id, body_secret, "client_secret_post")
    return ClientCredentials(body_id, None, "none")


def authenticate_client(credentials: ClientCredentials, clients: ClientStore) -> Client:
    """The client the credentials prove, or ``invalid_client``: unknown, revoked, wrong secret, or a
    confidential client that sent no secret."""
    client_id, secret = credentials.client_id, credentials.secret
    if not client_id:
        raise _refused(credentials, "Client authentication failed: no client identifier was sent.")
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise _refused(credentials)
    try:
        client = clients.get(client_id)
    except DocumentRefused as refused:
        raise _refused(credentials, f"The client's metadata document cannot be used: {refused}.") from None
    if client is None or client.revoked:
        if secret is not None:
            verify_secret(secret, None)  # same work as a real check: timing tells nothing
        raise _refused(credentials)
    if client.public:
        if credentials.method != "none":
            raise _refused(credentials, "A public client has no secret to send.")
        return client
    if secret is None or not verify_secret(secret, client.secret_hash):
        raise _refused(credentials)
    return client


def _refused(credentials: ClientCredentials, description: str = "Client authentication failed.") -> OAuthError:
    """``invalid_client``, with the Basic challenge when the client tried Basic (RFC 6749 5.2)."""
    return invalid_client(description, used_basic=credentials.method == "client_secret_basic")
