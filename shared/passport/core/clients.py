"""Client registration rules: what a client may be (RFC 6749 section 2, RFC 8252, RFC 9700 2.1).

Used by the CLI, the install step and later by dynamic registration, so every path to a new client applies
the same rules.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from passport.core.hashing import hash_secret, new_secret
from passport.core.models import Client

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
PERSONAL_ACCESS = "personal_access"

#: Every grant a client can be allowed; whether the server answers it is the server's configuration.
KNOWN_GRANTS = (
    "authorization_code", "refresh_token", "client_credentials", DEVICE_CODE, "password", "implicit",
    PERSONAL_ACCESS,
)
#: Grants that send the user's browser back to a redirect URI.
REDIRECTING_GRANTS = ("authorization_code", "implicit")
#: Longest state value accepted (it comes back in a URL; real clients send a few dozen characters).
MAX_STATE = 2048
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1", "localhost")


class InvalidClientMetadata(ValueError):
    """A client that cannot be registered as asked; the message says why."""


def validate_redirect_uri(uri: str) -> str:
    """An absolute URI without a fragment (RFC 6749 3.1.2); plain http only for loopback (RFC 8252 7.3,
    RFC 9700 2.1); private-use schemes for native apps (RFC 8252 7.1)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise InvalidClientMetadata(f"redirect URI {uri!r} is not a URI") from None
    if not parts.scheme or any(c in uri for c in " \r\n\t<>\"'"):
        raise InvalidClientMetadata(f"redirect URI {uri!r} must be absolute")
    # A URI is printable ASCII (RFC 3986 2): it goes out in a Location header, which must be (RFC 9110 5.5).
    if any(not "\x21" <= c <= "\x7e" for c in uri):
        raise InvalidClientMetadata(f"redirect URI {uri!r} must be ASCII: percent-encode other characters")
    if parts.fragment or "#" in uri:
        raise InvalidClientMetadata(f"redirect URI {uri!r} must not contain a fragment")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and not parts.hostname:
        raise InvalidClientMetadata(f"redirect URI {uri!r} has no host")
    if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidClientMetadata(f"redirect URI {uri!r}: plain http is allowed only for loopback addresses")
    if scheme not in ("http", "https") and "." not in scheme:
        # RFC 8252 7.1: a private-use scheme is a reverse domain name (com.example.app), which also keeps
        # out javascript:, data:, file:, ws: and the like.
        raise InvalidClientMetadata(
            f"redirect URI {uri!r}: use https, http on a loopback address, or a reverse-domain private-use scheme"
        )
    return uri


@dataclass(frozen=True)
class NewClient:
    client: Client
    #: The plain secret, shown once; None for public clients.
    secret: str | None


def new_client(
    *,
    name: str,
    grant_types: Sequence[str],
    redirect_uris: Sequence[str] = (),
    scopes: Sequence[str] = (),
    public: bool = False,
    first_party: bool = False,
    user_id: str | None = None,
    defined_scopes: Mapping[str, str],
    post_logout_redirect_uris: Sequence[str] = (),
) -> NewClient:
    if not name.strip():
        raise InvalidClientMetadata("a client needs a name")
    grants = tuple(dict.fromkeys(grant_types))
    unknown = [g for g in grants if g not in KNOWN_GRANTS]
    if unknown or not grants:
        raise InvalidClientMetadata(
            f"unknown grant type(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(KNOWN_GRANTS)}"
        )
    if public and "client_credentials" in grants:
        raise InvalidClientMetadata("a public client cannot use the client_credentials grant")
    uris = tuple(validate_redirect_uri(u) for u in dict.fromkeys(redirect_uris))
    if any(g in REDIRECTING_GRANTS for g in grants) and not uris:
        raise InvalidClientMetadata("a client using authorization_code or implicit needs a --redirect-uri")
    undefined = [s for s in scopes if s not in defined_scopes and s != "*"]
    if undefined:
        raise InvalidClientMetadata(f"undefined scope(s): {', '.join(undefined)}")
    logout_uris = tuple(validate_redirect_uri(u) for u in dict.fromkeys(post_logout_redirect_uris))
    secret = None if public else new_secret()
    client = Client(
        client_id=str(uuid.uuid4()), name=name.strip(), secret_hash=hash_secret(secret) if secret else None,
        redirect_uris=uris, grant_types=grants, scopes=tuple(dict.fromkeys(scopes)), first_party=first_party,
        user_id=user_id, created_at=int(time.time()), post_logout_redirect_uris=logout_uris,
    )
    return NewClient(client, secret)


def changed_client(
    current: Client,
    *,
    name: str | None = None,
    redirect_uris: Sequence[str] | None = None,
    scopes: Sequence[str] | None = None,
    first_party: bool | None = None,
    defined_scopes: Mapping[str, str],
    post_logout_redirect_uris: Sequence[str] | None = None,
) -> Client:
    """The client with these changes (None keeps a field), held to the rules of :func:`new_client`."""
    new_name = current.name if name is None else name.strip()
    if not new_name:
        raise InvalidClientMetadata("a client needs a name")
    uris = current.redirect_uris if redirect_uris is None else tuple(
        validate_redirect_uri(u) for u in dict.fromkeys(redirect_uris)
    )
    if any(g in REDIRECTING_GRANTS for g in current.grant_types) and not uris:
        raise InvalidClientMetadata("a client using authorization_code or implicit needs a --redirect-uri")
    new_scopes = current.scopes if scopes is None else tuple(dict.fromkeys(scopes))
    undefined = [s for s in new_scopes if s not in defined_scopes and s != "*"]
    if undefined:
        raise InvalidClientMetadata(f"undefined scope(s): {', '.join(undefined)}")
    logout_uris = current.post_logout_redirect_uris if post_logout_redirect_uris is None else tuple(
        validate_redirect_uri(u) for u in dict.fromkeys(post_logout_redirect_uris)
    )
    return replace(
        current, name=new_name[:255], redirect_uris=uris, scopes=new_scopes,
        first_party=current.first_party if first_party is None else first_party,
        post_logout_redirect_uris=logout_uris,
    )
