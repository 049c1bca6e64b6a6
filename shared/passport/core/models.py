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

    @property
    def public(self) -> bool:
        """A public client has no secret (RFC 6749 2.1) and must use PKCE."""
        return self.secret_hash is None

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str | None = None
    created_at: int = 0


@dataclass(frozen=True)
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
