"""For backend Lambdas behind the guard: who is calling, and may they (Passport's ``HasApiTokens``).

Works with REST API proxy events (``requestContext.authorizer``) and HTTP API 2.0 events
(``requestContext.authorizer.lambda``)::

    token = TokenContext.from_event(event)
    if token.token_can("orders:write"): ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from passport.guard.rules import token_can


@dataclass(frozen=True)
class TokenContext:
    """What the guard tells the protected API about the token it allowed."""

    sub: str
    client_id: str
    user_id: str | None
    scopes: tuple[str, ...]
    jti: str
    #: The DPoP key the token is bound to (RFC 9449 6.1), its proof checked by the guard; "" for a Bearer token.
    jkt: str = ""

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> TokenContext:
        authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
        if isinstance(authorizer.get("lambda"), Mapping):
            authorizer = authorizer["lambda"]
        if not authorizer.get("jti"):
            raise LookupError("the event carries no guard context: is the route behind the guard?")
        return cls(
            sub=str(authorizer.get("sub", "")),
            client_id=str(authorizer.get("client_id", "")),
            user_id=str(authorizer.get("user_id") or "") or None,
            scopes=tuple(str(authorizer.get("scopes", "")).split()),
            jti=str(authorizer.get("jti", "")),
            jkt=str(authorizer.get("jkt") or ""),
        )

    def token_can(self, scope: str, *, inherit: bool = False) -> bool:
        """Passport's ``tokenCan``; pass ``inherit=True`` where the deployment turns inherited scopes on."""
        return token_can(self.scopes, scope, inherit=inherit)

    @property
    def is_user(self) -> bool:
        return self.user_id is not None
