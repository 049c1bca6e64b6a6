"""Token introspection (RFC 7662).

Anything the caller may not know about is exactly ``{"active": false}`` (RFC 7662 2.2, 4): a client introspects its
own tokens, and only a resource server the operator trusted (``Client.introspection``) every client's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from passport.core.client_auth import ClientAssertions
from passport.core.errors import OAuthError, invalid_client
from passport.core.grants.refresh_token import family_of
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, json_response, oauth_error_response
from passport.core.models import Client
from passport.core.presented_tokens import PresentedTokenEndpoint
from passport.jws import TokenVerifier
from passport.ports import ClientStore, Clock, GrantStore

INACTIVE = {"active": False}
#: The liveness of a token record and of a client, read together (either may be None: not asked).
Liveness = Callable[[str | None, str | None], tuple[bool | None, bool | None]]


class IntrospectionEndpoint(PresentedTokenEndpoint):
    """``POST /oauth/introspect``: a confidential client asks whether a token is active (RFC 7662 2.1)."""

    def __init__(self, *, clients: ClientStore, grants: GrantStore, clock: Clock, access_tokens: TokenVerifier,
                 liveness: Liveness, assertions: ClientAssertions | None = None) -> None:
        super().__init__(clients, access_tokens, assertions)
        self._grants = grants
        self._clock = clock
        self._liveness = liveness

    def handle(self, request: Request) -> Response:
        try:
            client, token, _ = self.presented(request)
            if client.public:
                # 2.1: the endpoint MUST require authorization; a public client proves nothing.
                raise invalid_client("Introspection needs a confidential client.")
            return json_response(self._describe(token, client), headers=NO_STORE)
        except OAuthError as error:
            return oauth_error_response(error)

    def _describe(self, token: str, caller: Client) -> dict[str, Any]:
        """2.2's answer, or exactly ``{"active": false}`` for anything this caller may not know about (4: "the
        authorization server MAY respond ... as inactive" when the caller is not entitled to the token's state,
        which also keeps one client from probing another's tokens)."""
        if token.count(".") == 2:
            return self._describe_access(token, caller)
        return self._describe_refresh(token, caller)

    def _entitled(self, caller: Client, owner: str) -> bool:
        """A client introspects its own tokens; a resource server the operator trusted, every client's."""
        return owner == caller.client_id or caller.introspection

    def _describe_access(self, token: str, caller: Client) -> dict[str, Any]:
        claims = self.claims(token, check_expiry=True)
        if claims is None or not self._entitled(caller, claims["client_id"]):
            return INACTIVE
        # The record and its client in one read, as the guard does.
        token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
        if not (token_live and client_live):
            return INACTIVE
        answer = {
            "active": True, "scope": claims.get("scope", ""), "client_id": claims["client_id"],
            "sub": claims["sub"], "exp": claims["exp"], "iat": claims["iat"], "token_type": "Bearer",
            "iss": claims["iss"], "aud": claims["aud"], "jti": claims["jti"],
        }
        cnf = claims.get("cnf")
        if isinstance(cnf, dict) and isinstance(cnf.get("jkt"), str):
            # RFC 9449 6.2: a DPoP-bound token says so, and which key a resource must see proven
            answer.update(token_type="DPoP", cnf={"jkt": cnf["jkt"]})
        return answer

    def _describe_refresh(self, token: str, caller: Client) -> dict[str, Any]:
        family_id = family_of(token)
        if family_id is None:
            return INACTIVE
        refresh, family = self._grants.get_refresh(hash_secret(token), family_id)
        if (refresh is None or family is None or refresh.rotated or refresh.revoked or family.revoked
                or refresh.expires_at <= self._clock.now() or not self._entitled(caller, refresh.client_id)):
            return INACTIVE
        # The caller authenticated just now, so its own client is live; another's is read (a revoked client's
        # refresh tokens are dead: the token endpoint refuses it).
        if refresh.client_id != caller.client_id and not self._liveness(None, refresh.client_id)[1]:
            return INACTIVE
        body: dict[str, Any] = {
            "active": True, "scope": " ".join(refresh.scopes), "client_id": refresh.client_id,
            "exp": refresh.expires_at, "iat": refresh.issued_at, "token_type": "refresh_token",
        }
        if refresh.user_id:
            body["sub"] = refresh.user_id
        return body
