"""The core's records: what a client, a user and an access token are, independent of how they are stored."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Client:
    """An OAuth client (RFC 6749 section 2). Client ids are UUIDs, as Passport's ``--uuids``."""

    client_id: str
    name: str
    secret_hash: str | None = None
    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    #: The scopes this client may ask for; empty allows every defined scope.
    scopes: tuple[str, ...] = ()
    first_party: bool = False
    revoked: bool = False
    user_id: str | None = None
    created_at: int = 0
    #: Where RP-initiated logout may send the browser back to (OpenID Connect RP-Initiated Logout 1.0 section 3).
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: RFC 7591 metadata of a registered client: its home page and logo (https), shown escaped.
    client_uri: str | None = None
    logo_uri: str | None = None
    #: The SHA-256 of the registration access token (RFC 7592) of a dynamically registered client; None else.
    registration_token_hash: str | None = None
    #: The token_endpoint_auth_method it registered with ("": the default for its kind).
    auth_method: str = ""
    #: A resource server the operator let introspect every client's tokens (RFC 7662 2.1, 4); without it a client
    #: introspects only its own.
    introspection: bool = False
    #: OpenID Connect Dynamic Client Registration 1.0 section 2: "web" or "native" (passport.core.clients).
    application_type: str = "web"
    #: A client described by the metadata document at its client_id (passport.core.client_documents): when that
    #: copy of the document stops being fresh (Unix seconds); 0 for every other client.
    document_expires_at: int = 0
    #: ``private_key_jwt`` (RFC 7523 2.2, OpenID Connect Core 1.0 9): the client's public keys, as the canonical
    #: JSON of ``passport.core.client_assertions.ClientKeys`` (RFC 7591 2 ``jwks``), or the https URL they are
    #: fetched from (``jwks_uri``); at most one of the two.
    jwks: str | None = None
    jwks_uri: str | None = None
    #: The one JWS algorithm its assertions may use (``token_endpoint_auth_signing_alg``, OpenID Connect Dynamic
    #: Client Registration 1.0 section 2); "": any of those the server accepts.
    auth_signing_alg: str = ""
    #: RFC 9126 6: the client's authorization requests must be pushed (``require_pushed_authorization_requests``).
    require_par: bool = False
    #: RFC 9449 5.2: the client's access tokens are always DPoP-bound (``dpop_bound_access_tokens``): a token
    #: request without a proof is refused.
    dpop_bound: bool = False
    #: The security profile the client is held to (passport.core.profile): "" follows the server's
    #: ``security_profile``; "baseline" or "fapi2" (FAPI 2.0 Security Profile) for this client alone.
    profile: str = ""

    @property
    def has_keys(self) -> bool:
        """Authenticates with a signed assertion (``private_key_jwt``) rather than a secret."""
        return self.jwks is not None or self.jwks_uri is not None

    @property
    def public(self) -> bool:
        """A public client has no credentials at all, neither a secret nor keys (RFC 6749 2.1), and must use
        PKCE."""
        return self.secret_hash is None and not self.has_keys

    @property
    def registered(self) -> bool:
        """Registered dynamically (RFC 7591), not by the CLI or the JSON API."""
        return self.registration_token_hash is not None

    @property
    def from_document(self) -> bool:
        """Described by a client ID metadata document, fetched from its URL (passport.core.client_documents)."""
        return self.document_expires_at > 0

    @property
    def vetted(self) -> bool:
        """Made by an operator of this server (the CLI or the install step), who vouches for its name and its
        redirect URIs. A client that registered itself (RFC 7591), that a metadata document describes, or that a
        signed-in user created through the JSON API (it has ``user_id``) is only what it says it is: its name is a
        claim nobody checked (RFC 7591 5, RFC 6749 10.2), and the consent page says so."""
        return not self.registered and self.user_id is None and not self.from_document

    @property
    def token_endpoint_auth_method(self) -> str:
        if self.auth_method:
            return self.auth_method
        if self.has_keys:
            return "private_key_jwt"
        return "none" if self.public else "client_secret_basic"

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True)
class User:
    """A resource owner, as the users table stores one (the password only as its hash)."""

    id: str
    email: str
    name: str
    password_hash: str | None = None
    created_at: int = 0
    #: Whether the address is known to be the user's (OpenID Connect's email_verified claim).
    email_verified: bool = False
    #: When the profile last changed (OpenID Connect's updated_at); 0: never since created_at.
    updated_at: int = 0
    #: The optional standard claims of OpenID Connect Core 1.0 5.1 the profile scope asks for (5.4), validated by
    #: ``passport.core.users.validate_profile``; None: the user has none.
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    nickname: str | None = None
    preferred_username: str | None = None
    profile: str | None = None
    picture: str | None = None
    website: str | None = None
    gender: str | None = None
    birthdate: str | None = None
    zoneinfo: str | None = None
    locale: str | None = None


@dataclass(frozen=True, init=False)
class AccessTokenRecord:
    """What the server remembers of an access token: enough to revoke and introspect it, never the JWT."""

    jti: str
    client_id: str
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int
    grant_type: str
    user_id: str | None = None
    revoked: bool = False
    name: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __init__(
        self, jti: str, client_id: str, scopes: tuple[str, ...], issued_at: int, expires_at: int, grant_type: str,
        user_id: str | None = None, revoked: bool = False, name: str | None = None, extra: dict[str, str] | None = None,
    ) -> None:
        # What the dataclass would write, with the fields set in one step: its __init__ for a frozen class sets them
        # one by one through object.__setattr__, which made this record (one per token issued) cost as much as the
        # rest of minting a token, the signature aside. Still frozen: assigning a field afterwards raises.
        self.__dict__.update(
            jti=jti, client_id=client_id, scopes=scopes, issued_at=issued_at, expires_at=expires_at,
            grant_type=grant_type, user_id=user_id, revoked=revoked, name=name, extra={} if extra is None else extra,
        )


@dataclass(frozen=True)
class AuthorizationCode:
    """A code as stored: bound to its client, redirect URI, scopes and PKCE challenge (RFC 6749 4.1.2, RFC 7636
    4.4). ``code_hash`` is the SHA-256 of the code; the code itself is never stored."""

    code_hash: str
    client_id: str
    user_id: str
    redirect_uri: str
    #: Whether the authorization request carried redirect_uri (then the token request must repeat it).
    redirect_uri_sent: bool
    scopes: tuple[str, ...]
    expires_at: int
    auth_time: int
    challenge: str | None = None
    nonce: str | None = None
    used: bool = False
    #: The token family the code was exchanged for (set on use, so a replay can revoke it).
    family_id: str | None = None
    #: The resources (RFC 8707) the authorization request named; empty: the deployment's own API.
    resources: tuple[str, ...] = ()
    #: OpenID Connect Core 1.0 5.5: the claims the claims parameter asked of userinfo (their names; the values are
    #: read when userinfo is called) and the values of those it asked in the ID token, read at approval.
    userinfo_claims: tuple[str, ...] = ()
    id_token_claims: dict[str, object] = field(default_factory=dict)
    #: 3.1.2.1 and 5.5.1.1: the acr the ID token carries, when the request asked for one.
    acr: str | None = None
    #: RFC 9449 10: the thumbprint of the DPoP key the code is bound to (``dpop_jkt`` of the authorization
    #: request, or the key of the proof sent with the pushed request, 10.1); the exchange must prove that key.
    dpop_jkt: str | None = None


@dataclass(frozen=True)
class RefreshTokenRecord:
    """A refresh token, stored by hash, in the family its rotations share (RFC 9700 4.14.2)."""

    token_hash: str
    family_id: str
    client_id: str
    user_id: str | None
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int
    rotated: bool = False
    revoked: bool = False
    #: RFC 9449 5: a public client's refresh token is bound to the DPoP key it was issued with; using it needs a
    #: proof of that key. None: not bound (a confidential client's, or issued without a proof).
    jkt: str | None = None


@dataclass(frozen=True)
class TokenFamily:
    """Every access and refresh token descended from one authorization (fosite's "request id"): reuse of a
    rotated refresh token or a replayed code revokes the whole family."""

    family_id: str
    client_id: str
    user_id: str | None
    auth_time: int
    expires_at: int
    revoked: bool = False
    #: (jti, exp) of the family's access tokens that may still be alive, to revoke them with the family.
    live_access: tuple[tuple[str, int], ...] = ()
    #: The scopes the user granted: what "apps I authorized" shows.
    scopes: tuple[str, ...] = ()
    #: The resources (RFC 8707) the grant covers; a refresh may narrow them, never widen them.
    resources: tuple[str, ...] = ()
    #: The claims the claims parameter asked of userinfo (OpenID Connect Core 1.0 5.5): every access token of the
    #: family carries them.
    userinfo_claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    """A browser session (server-side, revocable). ``session_hash`` is the SHA-256 of the cookie value."""

    session_hash: str
    user_id: str
    auth_time: int
    expires_at: int
    #: The session's CSRF token as BrowserEndpoints.current() returns it (derived from the cookie); the stored
    #: record keeps only its hash.
    csrf: str


DEVICE_PENDING, DEVICE_APPROVED, DEVICE_DENIED, DEVICE_REDEEMED = "pending", "approved", "denied", "redeemed"


@dataclass(frozen=True)
class DeviceAuthorization:
    """A device authorization request (RFC 8628 3.1-3.5), stored by the device code's hash."""

    device_hash: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: int
    interval: int
    status: str = DEVICE_PENDING
    user_id: str | None = None
    auth_time: int = 0
    #: When the device last polled before this poll (0: never).
    previous_poll: int = 0
    family_id: str | None = None
    #: How the client authenticated when the device code was issued: its secret hash, or "none" for a public
    #: client (None: not known). A poll that can issue nothing is authenticated against it, without reading the
    #: client again.
    client_auth: str | None = None


@dataclass(frozen=True)
class PushedRequest:
    """A pushed authorization request (RFC 9126 2), stored by the SHA-256 of its ``request_uri`` (never the URI
    itself, as codes are stored): the authorization request's parameters as the client pushed them, for that one
    client, until it is decided once (4)."""

    uri_hash: str
    client_id: str
    #: The pushed form, name -> values, less the client's credentials (client_secret, client_assertion...).
    params: dict[str, list[str]]
    pushed_at: int
    #: Until when the request can be used: the request_uri's ``expires_in`` (2.2) until the browser first brings
    #: it to the authorization endpoint, then the time the user has to sign in and decide (passport.core.par).
    expires_at: int
    #: When the browser first brought it to the authorization endpoint (0: not yet).
    started_at: int = 0
    #: Decided (a code issued, or an answer sent to the redirect URI): never usable again (4).
    used: bool = False
