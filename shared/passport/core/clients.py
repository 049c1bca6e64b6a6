"""Client rules: what a client may be (RFC 6749 2 and 3.1.2, RFC 7591 2, RFC 8252 7, RFC 9700 2.1).

Every way a client comes to exist or changes goes through :func:`new_client` or :func:`changed_client`: the CLI
and the install step, the signed-in user's JSON API (``/oauth/clients``) and dynamic registration (RFC 7591 and
7592). One set of rules, so no door lets in what another refuses, and every size is bounded here, before
storage sees the item (DynamoDB refuses an item over 400 KB; that must never be how a client is refused).
"""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from passport.core.errors import PassportError
from passport.core.hashing import hash_secret, new_secret
from passport.core.models import Client
from passport.core.oidc.claims import IDENTITY_SCOPES
from passport.core.profile import FAPI2, FAPI2_GRANTS, PROFILES
from passport.core.redirects import valid_port

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
#: Hosts on which plain http is allowed (RFC 8252 7.3 and 8.3: the loopback interface never leaves the device).
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1", "localhost")
#: OpenID Connect Dynamic Client Registration 1.0 section 2, ``application_type``: a web application (the
#: default) or a native one (desktop, mobile, command line, an app served on localhost).
WEB, NATIVE = "web", "native"
APPLICATION_TYPES = (WEB, NATIVE)
#: A URI scheme as RFC 3986 3.1 writes one (compared lowercased, as 3.1 says schemes compare).
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*", re.ASCII)
#: Schemes that are never a native app's own (RFC 8252 7.1, 8.4): the browser's and the system's own handlers
#: (script, inline data, local files, browser internals and extensions, other protocols). A redirect to one of
#: them runs or opens something in the browser or the system rather than returning to the app.
NOT_APP_SCHEMES = frozenset({
    "javascript", "vbscript", "livescript", "data", "blob", "file", "filesystem", "about", "view-source",
    "chrome", "chrome-extension", "chrome-untrusted", "edge", "brave", "opera", "moz-extension", "resource",
    "safari-extension", "safari-web-extension", "ms-browser-extension", "intent", "android-app", "content",
    "jar", "wyciwyg", "ftp", "ftps", "sftp", "ws", "wss", "mailto", "tel", "sms", "smsto", "mms", "news",
    "nntp", "irc", "ircs", "urn", "ldap", "ldaps", "smb", "nfs", "gopher", "telnet", "ssh", "git", "svn",
    "itms-services", "shell", "ms-settings", "search-ms", "ms-msdt", "cid", "mid",
})

#: A name is shown on the consent page as the client's identity: a line of text, not a page.
MAX_NAME = 100
#: Each redirect URI (and post-logout redirect URI): far more than any real callback needs, and it goes out
#: in a Location header.
MAX_URI = 512
#: Redirect URIs of one client, and post-logout redirect URIs of one client (each list).
MAX_REDIRECT_URIS = 10
#: Scopes one client may be limited to.
MAX_SCOPES = 100
#: Unicode categories a display name may not hold, because they change how the name looks without being seen:
#: controls (Cc: newlines, tabs, NUL, DEL, C1), formatting characters (Cf: the bidirectional embeddings and
#: overrides U+202A..U+202E, the isolates U+2066..U+2069, the marks U+200E, U+200F and U+061C, the zero-width
#: U+200B..U+200D, U+2060..U+2064 and U+FEFF), surrogates (Cs: never text) and the line and paragraph
#: separators (Zl, Zp). A right-to-left override makes "Google\u202egnp.exe" read differently from what it is.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Characters RFC 3986 2 never allows in a URI (and quotes, which would end an HTML attribute).
_NOT_IN_URIS = frozenset("\"'<>\\^`{|}")


class InvalidClientMetadata(PassportError, ValueError):
    """A client that cannot be made or changed as asked; the message says why (RFC 7591 3.2.2's
    ``invalid_client_metadata``)."""


class InvalidRedirectUri(InvalidClientMetadata):
    """A redirect URI (or post-logout redirect URI) the rules refuse: RFC 7591 3.2.2's ``invalid_redirect_uri``."""


def validate_name(name: object, *, default: str | None = None) -> str:
    """A client's display name: text of 1 to :data:`MAX_NAME` characters without control, invisible or
    bidirectional formatting characters (RFC 7591 5: the name is the client's own claim, shown to users who
    decide by it). Refused with the reason, never silently cleaned. ``default`` stands for a blank name."""
    if not isinstance(name, str):
        raise InvalidClientMetadata("the client name must be text")
    if len(name) > MAX_NAME:
        raise InvalidClientMetadata(f"the client name must be at most {MAX_NAME} characters")
    hidden = next((c for c in name if unicodedata.category(c) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        label = unicodedata.name(hidden, "a control character" if unicodedata.category(hidden) == "Cc" else "unnamed")
        raise InvalidClientMetadata(
            f"the client name contains U+{ord(hidden):04X} ({label}): control, invisible and bidirectional "
            "formatting characters could disguise what a user reads, so they are not allowed"
        )
    name = name.strip()
    if not name:
        if default is None:
            raise InvalidClientMetadata("a client needs a name")
        return default
    return name


def validate_redirect_uri(uri: object, application_type: str = WEB) -> str:
    """One redirect URI, on every path alike: absolute, printable ASCII (RFC 3986 2; it goes out in a Location
    header, RFC 9110 5.5), at most :data:`MAX_URI` characters, without a fragment (RFC 6749 3.1.2) or
    credentials (RFC 9700 4.1, RFC 3986 3.2.1); ``http`` only on a loopback address (RFC 8252 7.3, RFC 9700 2.1).
    The port, when written, is a real port written as one.

    By ``application_type`` (OpenID Connect Dynamic Client Registration 1.0 section 2): a web application's are
    ``https`` (or ``http`` on loopback, for development). A native app's may also use a private-use scheme
    (RFC 8252 7.1): reverse-domain ones (``com.example.app:/callback``) as RFC 8252 recommends, and the short
    ones desktop apps use (``cursor://anysphere.cursor-retrieval/oauth/callback``, ``vscode://...``), never one
    of :data:`NOT_APP_SCHEMES` (``javascript:``, ``data:``, ``file:``...); and its ``https`` URIs are claimed
    ones (RFC 8252 7.2), so never on ``localhost``."""
    if not isinstance(uri, str) or not uri:
        raise InvalidRedirectUri("a redirect URI must be a non-empty string")
    if len(uri) > MAX_URI:
        raise InvalidRedirectUri(f"a redirect URI must be at most {MAX_URI} characters")
    if any(not "\x21" <= c <= "\x7e" for c in uri):
        raise InvalidRedirectUri(f"redirect URI {uri!r} must be ASCII without spaces: percent-encode other characters")
    if any(c in _NOT_IN_URIS for c in uri):
        raise InvalidRedirectUri(f"redirect URI {uri!r} contains a character a URI never has (RFC 3986 2)")
    if "#" in uri:
        raise InvalidRedirectUri(f"redirect URI {uri!r} must not contain a fragment")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise InvalidRedirectUri(f"redirect URI {uri!r} is not a URI") from None
    if not parts.scheme:
        raise InvalidRedirectUri(f"redirect URI {uri!r} must be absolute")
    if "@" in parts.netloc:
        raise InvalidRedirectUri(f"redirect URI {uri!r} must not carry credentials")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        _check_web_authority(uri, parts.netloc, parts.hostname)
        if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise InvalidRedirectUri(f"redirect URI {uri!r}: plain http is allowed only for loopback addresses")
        if scheme == "https" and application_type == NATIVE and parts.hostname == "localhost":
            raise InvalidRedirectUri(f"redirect URI {uri!r}: a native app's loopback redirect uses http "
                                     "(RFC 8252 7.3); https on localhost is no claimed URI")
    elif not _SCHEME.fullmatch(scheme) or scheme in NOT_APP_SCHEMES:
        raise InvalidRedirectUri(
            f"redirect URI {uri!r}: {scheme}: is not an app's own scheme; use https, http on a loopback address, "
            "or a private-use scheme for a native app (com.example.app:/callback)"
        )
    elif application_type != NATIVE:
        raise InvalidRedirectUri(
            f"redirect URI {uri!r}: a private-use scheme is for native apps: register the client with "
            "application_type native"
        )
    return uri


def _check_web_authority(uri: str, netloc: str, hostname: str | None) -> None:
    """An http(s) URI names a host, and a port only as a port is written (RFC 3986 3.2.3)."""
    if not hostname:
        raise InvalidRedirectUri(f"redirect URI {uri!r} has no host")
    _, colon, port = netloc.rpartition(":") if not netloc.endswith("]") else ("", "", "")
    if colon and not valid_port(port):
        raise InvalidRedirectUri(f"redirect URI {uri!r}: the port must be a number from 1 to 65535")


def validate_jwks_uri(uri: object) -> str:
    """Where a ``private_key_jwt`` client publishes its keys (RFC 7591 2 ``jwks_uri``): an absolute ``https`` URL
    (OpenID Connect Dynamic Client Registration 1.0 section 2: "MUST use the https scheme"), printable ASCII, at
    most :data:`MAX_URI` characters, a host, a real port if one is written, no credentials (RFC 9700 4.1, RFC
    3986 3.2.1) and no fragment (never sent: RFC 3986 3.5). Whether its host is one the server may fetch from
    (public addresses only) is decided when it is fetched (:mod:`passport.core.client_keys`)."""
    if not isinstance(uri, str) or not uri:
        raise InvalidClientMetadata("the jwks_uri must be an https URL")
    if len(uri) > MAX_URI:
        raise InvalidClientMetadata(f"the jwks_uri must be at most {MAX_URI} characters")
    if any(not "\x21" <= c <= "\x7e" for c in uri) or any(c in _NOT_IN_URIS for c in uri):
        raise InvalidClientMetadata("the jwks_uri must be an https URL of printable ASCII (percent-encode the rest)")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise InvalidClientMetadata("the jwks_uri must be an https URL") from None
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidClientMetadata("the jwks_uri must be an https URL")
    if "@" in parts.netloc or "#" in uri:
        raise InvalidClientMetadata("the jwks_uri must not carry credentials or a fragment")
    _, colon, port = parts.netloc.rpartition(":") if not parts.netloc.endswith("]") else ("", "", "")
    if colon and not valid_port(port):
        raise InvalidClientMetadata("the jwks_uri's port must be a number from 1 to 65535")
    return uri


@dataclass(frozen=True)
class KeyRegistration:
    """A ``private_key_jwt`` client's keys as kept (RFC 7591 2): the canonical JSON of its ``jwks``, or its
    ``jwks_uri``, never both; and the one algorithm its assertions must use, if it registered one
    (``token_endpoint_auth_signing_alg``, OpenID Connect Dynamic Client Registration 1.0 section 2)."""

    jwks: str | None = None
    jwks_uri: str | None = None
    signing_alg: str = ""

    def client_fields(self) -> dict[str, str | None]:
        """The :class:`passport.core.models.Client` fields that hold them."""
        return {"jwks": self.jwks, "jwks_uri": self.jwks_uri, "auth_signing_alg": self.signing_alg}


def validate_client_keys(jwks: object = None, jwks_uri: object = None, signing_alg: object = None) -> KeyRegistration:
    """A client's ``jwks`` (a JWK Set: the parsed JSON object, or its text; checked by
    :func:`passport.core.client_assertions.parse_client_jwks`) or ``jwks_uri`` (:func:`validate_jwks_uri`): exactly
    one (RFC 7591 2: "MUST NOT both be present"), and ``signing_alg``, when given, one of the algorithms assertions
    may use and, with a ``jwks``, one a registered key signs with."""
    from passport.core.client_assertions import ALGORITHMS, ClientKeys, parse_client_jwks

    if jwks is not None and jwks_uri is not None:
        raise InvalidClientMetadata("the jwks and the jwks_uri must not both be present (RFC 7591 2): register one")
    if jwks is None and jwks_uri is None:
        raise InvalidClientMetadata("a private_key_jwt client needs its public keys: jwks or jwks_uri")
    keys = None
    if jwks is not None:
        keys = ClientKeys.from_json(jwks) if isinstance(jwks, str) else parse_client_jwks(jwks)
    uri = validate_jwks_uri(jwks_uri) if jwks_uri is not None else None
    alg = ""
    if signing_alg is not None:
        if not isinstance(signing_alg, str) or signing_alg not in ALGORITHMS:
            raise InvalidClientMetadata(f"the token_endpoint_auth_signing_alg must be one of {', '.join(ALGORITHMS)}")
        if keys is not None and not any(signing_alg in key.algorithms for key in keys.keys):
            raise InvalidClientMetadata(f"no key of the jwks signs with {signing_alg} "
                                        "(token_endpoint_auth_signing_alg)")
        alg = signing_alg
    return KeyRegistration(keys.canonical_json if keys is not None else None, uri, alg)


def validate_application_type(value: object) -> str:
    """``web`` or ``native`` (OpenID Connect Dynamic Client Registration 1.0 section 2)."""
    if value not in APPLICATION_TYPES:
        raise InvalidClientMetadata(f"the application type (application_type) must be {WEB} or {NATIVE}")
    return str(value)


def validate_profile(profile: object, client: Client) -> str:
    """A client's own security profile (:mod:`passport.core.profile`): "" (the server's ``security_profile``),
    ``baseline`` or ``fapi2``. An operator's decision, never registration metadata. A FAPI 2.0 client must be able
    to meet the profile: it authenticates with ``private_key_jwt`` (FAPI 2.0 Security Profile 5.3.2.1 point 4), so
    it has keys, not a secret, and is not public; and it uses only the grants the profile allows."""
    if profile != "" and profile not in PROFILES:
        raise InvalidClientMetadata(f"the security profile must be one of {', '.join(PROFILES)}")
    if profile == FAPI2:
        if not client.has_keys:
            kind = "a public client" if client.public else "a client with a secret"
            raise InvalidClientMetadata(f"the fapi2 profile needs private_key_jwt, and {kind} has no keys: make a "
                                        "new client with keys (jwks or jwks_uri) instead")
        other = [grant for grant in client.grant_types if grant not in FAPI2_GRANTS]
        if other:
            raise InvalidClientMetadata(f"the fapi2 profile does not allow the grant(s) {', '.join(other)}")
    return str(profile)


def validate_redirect_uris(
    uris: Sequence[object], what: str = "redirect URIs", application_type: str = WEB
) -> tuple[str, ...]:
    """A list of redirect URIs (or post-logout redirect URIs): each kept once, at most
    :data:`MAX_REDIRECT_URIS`, each by :func:`validate_redirect_uri`."""
    if not all(isinstance(uri, str) for uri in uris):
        raise InvalidClientMetadata(f"{what} must be strings")
    kept = tuple(dict.fromkeys(uris))
    if len(kept) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"a client may have at most {MAX_REDIRECT_URIS} {what}")
    return tuple(validate_redirect_uri(uri, application_type) for uri in kept)


def _grants(grant_types: Sequence[str], *, public: bool) -> tuple[str, ...]:
    grants = tuple(dict.fromkeys(grant_types))
    unknown = [g for g in grants if g not in KNOWN_GRANTS]
    if unknown or not grants:
        raise InvalidClientMetadata(
            f"unknown grant type(s) {', '.join(map(str, unknown)) or '(none)'}; choose from {', '.join(KNOWN_GRANTS)}"
        )
    if public and "client_credentials" in grants:
        raise InvalidClientMetadata("a public client cannot use the client_credentials grant")
    return grants


def _scopes(scopes: Sequence[str], defined_scopes: Mapping[str, str]) -> tuple[str, ...]:
    kept = tuple(dict.fromkeys(scopes))
    if len(kept) > MAX_SCOPES:
        raise InvalidClientMetadata(f"a client may be limited to at most {MAX_SCOPES} scopes")
    # The identity scopes are listed too (discovery names them among the scopes), and limit the client once listed.
    undefined = [s for s in kept if s not in defined_scopes and s not in IDENTITY_SCOPES and s != "*"]
    if undefined:
        raise InvalidClientMetadata(f"undefined scope(s): {', '.join(map(str, undefined))}")
    return kept


def _check_introspection(introspection: bool, *, public: bool) -> None:
    """RFC 7662 2.1: the introspection endpoint authenticates its caller, which a public client cannot do."""
    if introspection and public:
        raise InvalidClientMetadata("a public client cannot introspect tokens: it cannot authenticate")


def _needs_redirect(grants: Sequence[str], uris: Sequence[str]) -> None:
    """RFC 6749 3.1.2.2 (and RFC 9700 2.1): a redirecting client registers where it may be sent."""
    if any(g in REDIRECTING_GRANTS for g in grants) and not uris:
        raise InvalidRedirectUri("a client using authorization_code or implicit needs a redirect URI")


@dataclass(frozen=True)
class NewClient:
    """A client just made, with its secret in clear this one time."""

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
    introspection: bool = False,
    application_type: str = WEB,
    keys: KeyRegistration | None = None,
) -> NewClient:
    """A new client held to every rule here, with a fresh UUID and (unless public, or given ``keys``) a 256-bit
    secret. ``introspection``: a resource server that may introspect every client's tokens (RFC 7662 2.1).
    ``keys`` (from :func:`validate_client_keys`): a confidential client that authenticates with ``private_key_jwt``
    (RFC 7523 2.2, OpenID Connect Core 1.0 section 9) and so has no secret at all."""
    if keys is not None and public:
        raise InvalidClientMetadata("a public client has no keys: a client with keys authenticates (private_key_jwt)")
    display_name = validate_name(name)
    kind = validate_application_type(application_type)
    grants = _grants(grant_types, public=public)
    uris = validate_redirect_uris(redirect_uris, application_type=kind)
    _needs_redirect(grants, uris)
    kept_scopes = _scopes(scopes, defined_scopes)
    logout_uris = validate_redirect_uris(post_logout_redirect_uris, "post-logout redirect URIs", kind)
    _check_introspection(introspection, public=public)
    secret = None if public or keys is not None else new_secret()
    client = Client(
        client_id=str(uuid.uuid4()), name=display_name, secret_hash=hash_secret(secret) if secret else None,
        redirect_uris=uris, grant_types=grants, scopes=kept_scopes, first_party=first_party,
        user_id=user_id, created_at=int(time.time()), post_logout_redirect_uris=logout_uris,
        introspection=introspection, application_type=kind,
        **({} if keys is None else keys.client_fields()),
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
    grant_types: Sequence[str] | None = None,
    introspection: bool | None = None,
    application_type: str | None = None,
    keys: KeyRegistration | None = None,
) -> Client:
    """The client with these changes (None keeps a field), each change held to the rules of :func:`new_client`.
    What is kept is not judged again, so a client made under older rules can still be changed. ``keys`` replace a
    ``private_key_jwt`` client's keys (rotation); a client with a secret, or a public one, gets none this way (its
    kind, and so what it must send to authenticate, never changes: make a new client)."""
    if keys is not None and not current.has_keys:
        raise InvalidClientMetadata("only a client that authenticates with private_key_jwt has keys to replace: "
                                    "make a new client with keys instead")
    kind = current.application_type if application_type is None else validate_application_type(application_type)
    if kind != current.application_type and redirect_uris is None:
        redirect_uris = current.redirect_uris  # judged again: a web app has no private-use scheme
    grants = current.grant_types if grant_types is None else _grants(grant_types, public=current.public)
    uris = current.redirect_uris if redirect_uris is None else validate_redirect_uris(redirect_uris,
                                                                                      application_type=kind)
    _needs_redirect(grants, uris)
    if introspection is not None:
        _check_introspection(introspection, public=current.public)
    return replace(
        current,
        introspection=current.introspection if introspection is None else introspection,
        name=current.name if name is None else validate_name(name),
        redirect_uris=uris,
        grant_types=grants,
        scopes=current.scopes if scopes is None else _scopes(scopes, defined_scopes),
        first_party=current.first_party if first_party is None else first_party,
        post_logout_redirect_uris=current.post_logout_redirect_uris if post_logout_redirect_uris is None
        else validate_redirect_uris(post_logout_redirect_uris, "post-logout redirect URIs", kind),
        application_type=kind,
        **({} if keys is None else keys.client_fields()),
    )
