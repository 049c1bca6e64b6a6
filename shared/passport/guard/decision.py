"""The guard's decision: who the token speaks for, and whether a route's rule admits it."""

from __future__ import annotations

from dataclasses import dataclass

from passport.config import RouteRule
from passport.guard.revocation import RevocationCache
from passport.guard.rules import RuleTable, permits
from passport.jws import InvalidToken, TokenVerifier

_DENIED_MEMO_SIZE = 1024


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for, as the guard's rules read it."""

    sub: str
    client_id: str
    scopes: tuple[str, ...]
    jti: str

    @property
    def user_id(self) -> str | None:
        # RFC 9068 2.2: without a resource owner, sub is the client's own id (client credentials).
        return None if self.sub == self.client_id else self.sub

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    def context(self) -> dict[str, str]:
        """The authorizer context handed to the backend: flat strings, as API Gateway requires."""
        return {
            "sub": self.sub,
            "user_id": self.user_id or "",
            "client_id": self.client_id,
            "scopes": " ".join(self.scopes),
            "jti": self.jti,
        }


class Guard:
    def __init__(
        self, verifier: TokenVerifier, revocations: RevocationCache, rules: RuleTable, *, inherit: bool = False
    ) -> None:
        self._inherit = inherit
        self._verifier = verifier
        self._revocations = revocations
        #: How long a token's or client's liveness is kept (``guard.revocation_cache_seconds``).
        self.revocation_cache_seconds = revocations.ttl_seconds
        self.rules = rules
        self._denied: dict[tuple[tuple[str, ...], bool], tuple[str, ...]] = {}

    def authenticate(self, token: str | None) -> Principal:
        """The principal of a valid, live token; :class:`InvalidToken` for anything else."""
        if not token:
            raise InvalidToken("no token")
        claims = self._verifier.verify(token)  # an access token: sub, client_id, jti and scope are strings
        principal = Principal(claims["sub"], claims["client_id"], tuple(claims.get("scope", "").split()),
                              claims["jti"])
        if not self._revocations.is_live(principal.jti, principal.client_id):
            raise InvalidToken("revoked, unknown or of a revoked client")
        return principal

    def permits(self, principal: Principal, rule: RouteRule) -> bool:
        return permits(rule, scopes=principal.scopes, is_user=principal.is_user, inherit=self._inherit)

    def denied_routes(self, principal: Principal) -> tuple[str, ...]:
        """The route keys whose rule refuses this principal. Only its scopes and kind matter, and the same
        few combinations recur on every call, so the answer is remembered (boundedly)."""
        key = (principal.scopes, principal.is_user)
        denied = self._denied.get(key)
        if denied is None:
            denied = tuple(route for route, rule in self.rules if not self.permits(principal, rule))
            if len(self._denied) >= _DENIED_MEMO_SIZE:
                self._denied.clear()
            self._denied[key] = denied
        return denied
