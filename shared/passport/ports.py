"""The narrow interfaces through which the core reaches storage, keys and time (one per capability).

The pynamodb adapters in :mod:`passport.storage` implement them; the core only ever sees these Protocols.
Adapters raise :class:`passport.core.errors.StorageUnavailable` when the store is throttled or down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from passport.core.models import AccessTokenRecord, Client, User


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


class UserStore(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def find_by_email(self, email: str) -> User | None: ...

    def create(self, user: User) -> None:
        """Store a new user; raises :class:`passport.core.users.EmailTaken` if the email is in use."""
        ...


class AccessTokenStore(Protocol):
    def save(self, record: AccessTokenRecord) -> None: ...

    def get(self, jti: str) -> AccessTokenRecord | None: ...

    def revoke(self, jti: str) -> None: ...


class Signer(Protocol):
    """The current signing key: signs a JWT with its ``kid`` and ``alg``."""

    kid: str
    alg: str

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, str]) -> str: ...
