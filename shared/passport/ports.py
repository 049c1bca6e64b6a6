"""The narrow interfaces through which the core reaches storage, keys and time (one per capability).

The pynamodb adapters in :mod:`passport.storage` implement them; the core only ever sees these Protocols.
Adapters raise :class:`passport.core.errors.StorageUnavailable` when the store is throttled or down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from passport.core.errors import PassportError
from passport.core.models import (
    AccessTokenRecord,
    AuthorizationCode,
    Client,
    DeviceAuthorization,
    PushedRequest,
    RefreshTokenRecord,
    Session,
    TokenFamily,
    User,
)


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch."""
        ...


class ClientStore(Protocol):
    def get(self, client_id: str) -> Client | None: ...

    def create(self, client: Client) -> None: ...

    def all(self) -> Iterable[Client]: ...

    def revoke(self, client_id: str) -> bool:
        """Mark the client revoked; False when it does not exist."""
        ...

    def owned_by(self, user_id: str) -> list[Client]:
        """The clients a user made (through the JSON API)."""
        ...

    def update(
        self, client_id: str, owner: str | None, *, name: str, redirect_uris: tuple[str, ...],
        scopes: tuple[str, ...] | None = None, first_party: bool | None = None,
        post_logout_redirect_uris: tuple[str, ...] | None = None, introspection: bool | None = None,
        application_type: str | None = None, require_par: bool | None = None,
        dpop_bound: bool | None = None, profile: str | None = None,
    ) -> bool: ...

    def replace_registered(self, client: Client) -> bool:
        """RFC 7592 2.2: a registered client's metadata replaced while it is live and its registration access
        token is the one the caller proved; False otherwise."""
        ...

    def set_secret(self, client_id: str, secret_hash: str, owner: str | None = None) -> bool:
        """Replace a confidential client's secret (the hash of it)."""
        ...

    def set_keys(self, client_id: str, jwks: str | None, jwks_uri: str | None, signing_alg: str = "",
                 owner: str | None = None) -> bool:
        """Replace a ``private_key_jwt`` client's keys (RFC 7591 2 ``jwks`` or ``jwks_uri``, one of them) and its
        ``token_endpoint_auth_signing_alg``; False when there is no such live client with keys."""
        ...


class UserStore(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def find_by_email(self, email: str) -> User | None: ...

    def create(self, user: User) -> None:
        """Store a new user; raises :class:`passport.core.users.EmailTaken` if the email is in use."""
        ...

    def update_profile(self, user_id: str, changes: Mapping[str, str | None], updated_at: int) -> bool:
        """Set the user's ``name`` and profile claims given (None: remove it) and ``updated_at``; False when there
        is no such user."""
        ...


class AccessTokenStore(Protocol):
    def save(self, record: AccessTokenRecord) -> None: ...

    def get(self, jti: str) -> AccessTokenRecord | None: ...

    def revoke(self, jti: str) -> None: ...

    def personal(self, user_id: str) -> list[AccessTokenRecord]:
        """The user's live personal access tokens."""
        ...


class Signer(Protocol):
    """The current signing key: signs a JWT with its ``kid`` and ``alg``."""

    kid: str
    alg: str

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, str]) -> str: ...


class CodeAlreadyUsed(PassportError):
    """The code was redeemed before (or concurrently): nothing was issued."""


class RefreshRejected(PassportError):
    """The refresh token was rotated already, revoked, or its family revoked: nothing was issued."""


class GrantStore(Protocol):
    """Codes, refresh tokens and their families. Each write that issues tokens is one transaction: either the
    code is spent (or the refresh token rotated) and every new token exists, or nothing changed."""

    def save_code(self, code: AuthorizationCode) -> None: ...

    def get_code(self, code_hash: str) -> AuthorizationCode | None: ...

    def redeem_code(
        self, code: AuthorizationCode, family: TokenFamily, access: AccessTokenRecord,
        refresh: RefreshTokenRecord | None,
    ) -> None:
        """Spend the code and write the new family and tokens; :class:`CodeAlreadyUsed` if it was spent."""
        ...

    def start_family(self, family: TokenFamily, access: AccessTokenRecord, refresh: RefreshTokenRecord | None) -> None:
        """Write a new family with its first tokens (grants without a code: password)."""
        ...

    def get_refresh(self, token_hash: str, family_id: str) -> tuple[RefreshTokenRecord | None, TokenFamily | None]:
        """The refresh token and its family, in one read."""
        ...

    def rotate_refresh(
        self, old: RefreshTokenRecord, family: TokenFamily, access: AccessTokenRecord, refresh: RefreshTokenRecord
    ) -> None:
        """Retire ``old`` and write its successors; :class:`RefreshRejected` if it was already rotated or the
        family was revoked meanwhile."""
        ...

    def get_family(self, family_id: str) -> TokenFamily | None: ...

    def families_of(self, user_id: str) -> list[TokenFamily]:
        """The live authorizations a user gave apps (owner index)."""
        ...

    def revoke_family(self, family_id: str, known: TokenFamily | None = None) -> None:
        """Revoke the family, its live access tokens and so every refresh token in it (``known``: the family
        as just read, to spare a read)."""
        ...


class Sessions(Protocol):
    def create(self, session: Session) -> None: ...

    def get(self, session_hash: str) -> Session | None: ...

    def delete(self, session_hash: str) -> None: ...


class Consents(Protocol):
    def granted(self, user_id: str, client_id: str) -> tuple[str, ...] | None:
        """The scopes the user already granted the client; None if the user never approved it."""
        ...

    def remember(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> None: ...

    def forget(self, user_id: str, client_id: str) -> None:
        """The user revoked the app: ask again next time."""
        ...


class LoginThrottle(Protocol):
    def check(self, keys: tuple[str, ...]) -> tuple[int, frozenset[str]]:
        """How long the next attempt for any of these keys (account, address) must wait (0: go ahead), and
        which keys have failures on record (only those need clearing after a success)."""
        ...

    def failed(self, keys: tuple[str, ...]) -> None: ...

    def succeeded(self, keys: tuple[str, ...]) -> None: ...


class Devices(Protocol):
    """Device authorizations (RFC 8628), by device code hash and by user code."""

    def create(self, make: Callable[[], DeviceAuthorization]) -> DeviceAuthorization:
        """Store a new authorization; ``make`` is called again when its user code clashes with a live one."""
        ...

    def poll(self, device_hash: str, now: int) -> DeviceAuthorization | None:
        """Note a poll (one write that returns the record with the previous poll time)."""
        ...

    def slow_down(self, device_hash: str, step: int) -> None: ...

    def find_by_user_code(self, user_code: str) -> DeviceAuthorization | None: ...

    def decide(self, device_hash: str, *, approve: bool, user_id: str, auth_time: int) -> bool:
        """Approve or deny a pending authorization; False when it is no longer pending."""
        ...

    def redeem(
        self, device: DeviceAuthorization, family: TokenFamily, access: AccessTokenRecord,
        refresh: RefreshTokenRecord | None,
    ) -> None:
        """Mark the approved authorization redeemed and write the tokens, once (:class:`CodeAlreadyUsed`)."""
        ...


class PushedRequests(Protocol):
    """Pushed authorization requests (RFC 9126), by the SHA-256 of their request_uri: pushed once, taken by the
    client that pushed them, spent once when the request is decided (4)."""

    def save(self, pushed: PushedRequest) -> None:
        """Store a new pushed request, never over an existing one."""
        ...

    def take(self, uri_hash: str, client_id: str, now: int, decide_within: int) -> PushedRequest | None:
        """The request, when ``client_id`` pushed it and it is live and unused at ``now``; None otherwise. The
        first take starts its decision: it then lives ``decide_within`` seconds from ``now`` (one conditional
        write, so two first takes extend it once)."""
        ...

    def spend(self, uri_hash: str, client_id: str, now: int) -> bool:
        """Mark the request used, on condition that it is ``client_id``'s, live and unused; False when it was
        not (spent before, concurrently, or expired)."""
        ...
