"""Token revocation (RFC 7009) and introspection (RFC 7662).

Access tokens are our JWTs: their signature (checked against the published keys, expiry aside for revocation)
says which client they belong to, so only their record is touched. Refresh tokens carry their family id, so the
token and its family are read together; revoking one ends the whole family, its access tokens included
(RFC 7009 2.1: "the authorization server ... SHOULD also invalidate the access tokens based on the same
authorization grant").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from passport.core.audit import audit
from passport.core.client_auth import authenticate_client, extract_credentials
from passport.core.errors import OAuthError, invalid_client, unauthorized_client
from passport.core.grants.refresh_token import family_of
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, json_response, single
from passport.core.models import Client
from passport.jws import InvalidToken, TokenVerifier
from passport.ports import AccessTokenStore, ClientStore, Clock, GrantStore

INACTIVE = {"active": False}
HINTS = ("access_token", "refresh_token")


class TokenLifecycle:
    def __init__(
        self, *, clients: ClientStore, access: AccessTokenStore, grants: GrantStore, clock: Clock,
        access_tokens: TokenVerifier, liveness: Callable[[str | None, str | None], tuple[bool | None, bool | None]],
    ) -> None:
        """``access_tokens`` verifies our access tokens for every resource this server issues them for."""
        self._liveness = liveness
        self._clients = clients
        self._access = access
        self._grants = grants
        self._clock = clock
        self._access_tokens = access_tokens

    def _claims(self, token: str, *, check_expiry: bool) -> dict[str, Any] | None:
        """Our access token's claims, or None: never trust a claim whose signature we did not make."""
        try:
            return self._access_tokens.verify(token, check_expiry=check_expiry)
        except InvalidToken:
            return None

    def _request(self, request: Request) -> tuple[Any, str, str | None]:
        form = request.form()
        client = authenticate_client(extract_credentials(request.headers, form), self._clients)
        token = single(form, "token", required=True)
        hint = single(form, "token_type_hint")
        return client, token, hint if hint in HINTS else None  # 2.1: an unknown hint is ignored

    # -- RFC 7009 ---------------------------------------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        try:
            client, token, hint = self._request(request)
            looks_like_jwt = token.count(".") == 2
            if looks_like_jwt or hint == "access_token":
                claims = self._claims(token, check_expiry=False)
                if claims is not None:
                    if claims["client_id"] != client.client_id:
                        raise unauthorized_client("The token was not issued to this client.")
                    self._access.revoke(claims["jti"])
                    audit("token_revoked", client_id=client.client_id, jti=claims["jti"], token_type="access_token")
                    return Response(200, dict(NO_STORE))
            family_id = family_of(token)
            if family_id is not None and not looks_like_jwt:
                refresh, family = self._grants.get_refresh(hash_secret(token), family_id)
                if refresh is not None and family is not None:
                    if refresh.client_id != client.client_id:
                        raise unauthorized_client("The token was not issued to this client.")
                    self._grants.revoke_family(family_id, family)
                    audit("token_revoked", client_id=client.client_id, family_id=family_id,
                          token_type="refresh_token")
            # 2.2: "invalid tokens do not cause an error response": unknown tokens get 200 too.
            return Response(200, dict(NO_STORE))
        except OAuthError as error:
            return json_response(error.body(), error.status, {**NO_STORE, **error.headers})

    # -- RFC 7662 ---------------------------------------------------------------------------------------------

    def introspect(self, request: Request) -> Response:
        try:
            client, token, _ = self._request(request)
            if client.public:
                # 2.1: the endpoint MUST require authorization; a public client proves nothing.
                raise invalid_client("Introspection needs a confidential client.")
            return json_response(self._describe(token, client), headers=NO_STORE)
        except OAuthError as error:
            return json_response(error.body(), error.status, {**NO_STORE, **error.headers})

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
        claims = self._claims(token, check_expiry=True)
        if claims is None or not self._entitled(caller, claims["client_id"]):
            return INACTIVE
        # The record and its client in one read, as the guard does.
        token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
        if not (token_live and client_live):
            return INACTIVE
        return {
            "active": True, "scope": claims.get("scope", ""), "client_id": claims["client_id"],
            "sub": claims["sub"], "exp": claims["exp"], "iat": claims["iat"], "token_type": "Bearer",
            "iss": claims["iss"], "aud": claims["aud"], "jti": claims["jti"],
        }

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
