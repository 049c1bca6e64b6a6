"""Personal access tokens (Laravel Passport's ``$user->createToken($name, $scopes)``): long-lived access
tokens a user makes for themselves, issued through the personal access client that ``passport install``
creates, named, listed and revoked by their owner."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from passport.core.clients import PERSONAL_ACCESS
from passport.core.errors import PassportError, invalid_request
from passport.core.models import AccessTokenRecord, Client
from passport.core.scopes import ScopePolicy
from passport.core.tokens import AccessTokenIssuer, IssuedToken
from passport.ports import AccessTokenStore

MAX_NAME = 255


class NoPersonalAccessClient(PassportError, RuntimeError):
    def __init__(self) -> None:
        super().__init__("there is no personal access client: run `passport install`")


class PersonalAccessTokens:
    def __init__(
        self, *, issuer: AccessTokenIssuer, store: AccessTokenStore, client: Callable[[], Client | None],
        scopes: ScopePolicy, lifetime: int,
    ) -> None:
        self._issuer = issuer
        self._store = store
        self._client = client
        self._scopes = scopes
        self._lifetime = lifetime

    def create(self, user_id: str, name: str, scopes: Sequence[str] = ()) -> IssuedToken:
        name = (name or "").strip()
        if not name or len(name) > MAX_NAME:
            raise invalid_request(f"A personal access token needs a name of 1 to {MAX_NAME} characters.")
        client = self._client()
        if client is None:
            raise NoPersonalAccessClient()
        # As in Passport: "*" is allowed here; no scope asked means none granted (no defaults).
        granted = self._scopes.resolve(" ".join(scopes), client.scopes, wildcard=True) if scopes else ()
        return self._issuer.issue(
            client_id=client.client_id, scopes=granted, grant_type=PERSONAL_ACCESS, user_id=user_id,
            lifetime=self._lifetime, name=name,
        )

    def list(self, user_id: str) -> list[AccessTokenRecord]:
        return self._store.personal(user_id)

    def revoke(self, user_id: str, token_id: str) -> bool:
        """Revoke one of the user's own tokens; False when it is not theirs (or does not exist)."""
        record = self._store.get(token_id) if token_id and len(token_id) <= 64 else None
        if record is None or record.user_id != user_id or record.grant_type != PERSONAL_ACCESS:
            return False
        self._store.revoke(token_id)
        return True


def find_personal_access_client(clients: Sequence[Client] | object, configured: str = "") -> Client | None:
    """The configured personal access client, else the first live client allowed the personal access grant."""
    candidates = list(clients)  # type: ignore[call-overload]
    if configured:
        return next((c for c in candidates if c.client_id == configured and not c.revoked), None)
    return next((c for c in candidates if PERSONAL_ACCESS in c.grant_types and not c.revoked), None)
