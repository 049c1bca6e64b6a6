"""Token revocation (RFC 7009) and introspection (RFC 7662).

Access tokens are our JWTs: their signature (checked against the published keys, expiry aside for revocation)
says which client they belong to, so only their record is touched. Refresh tokens carry their family id, so the
token and its family are read together; revoking one ends the whole family, its access tokens included
(RFC 7009 2.1: "the authorization server ... SHOULD also invalidate the access tokens based on the same
authorization grant").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jwt

from passport.core.audit import audit
from passport.core.client_auth import authenticate_client, extract_credentials
from passport.core.errors import OAuthError, invalid_client, unauthorized_client
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, json_response, single
from passport.keys.material import VerificationKey
from passport.ports import AccessTokenStore, ClientStore, Clock, Grants

INACTIVE = {"active": False}
HINTS = ("access_token", "refresh_token")


def access_claims(token: str, keys: Mapping[str, VerificationKey], issuer: str, *, verify_exp: bool) -> dict | None:
    """Our JWT's claims, or None: never trust a claim whose signature we did not make."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        return jwt.decode(token, key.key, algorithms=[key.alg], issuer=issuer,
                          options={"verify_aud": False, "verify_exp": verify_exp, "require": ["jti", "client_id"]})
    except jwt.InvalidTokenError:
        return None


class TokenLifecycle:
    def __init__(
        self, *, clients: ClientStore, access: AccessTokenStore, grants: Grants, clock: Clock, issuer: str,
        keys: Callable[[], Mapping[str, VerificationKey]],
        liveness: Callable[[str, str], tuple[bool | None, bool | None]],
    ) -> None:
        self._liveness = liveness
        self._clients = clients
        self._access = access
        self._grants = grants
        self._clock = clock
        self._issuer = issuer
        self._keys = keys

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
                claims = access_claims(token, self._keys(), self._issuer, verify_exp=False)
                if claims is not None:
                    if claims["client_id"] != client.client_id:
                        raise unauthorized_client("The token was not issued to this client.")
                    self._access.revoke(claims["jti"])
                    audit("token_revoked", client_id=client.client_id, jti=claims["jti"], token_type="access_token")
                    return Response(200, dict(NO_STORE))
            family_id, dot, _ = token.partition(".")
            if dot and not looks_like_jwt:
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
            return json_response(self._describe(token), headers=NO_STORE)
        except OAuthError as error:
            return json_response(error.body(), error.status, {**NO_STORE, **error.headers})

    def _describe(self, token: str) -> dict[str, Any]:
        now = self._clock.now()
        if token.count(".") == 2:
            claims = access_claims(token, self._keys(), self._issuer, verify_exp=True)
            if claims is None:
                return INACTIVE
            # The record and its client in one read, as the guard does.
            token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
            if not (token_live and client_live):
                return INACTIVE
            return {
                "active": True, "scope": claims.get("scope", ""), "client_id": claims["client_id"],
                "sub": claims.get("sub"), "exp": claims.get("exp"), "iat": claims.get("iat"),
                "token_type": "Bearer", "iss": claims.get("iss"), "aud": claims.get("aud"), "jti": claims["jti"],
            }
        family_id, dot, _ = token.partition(".")
        if not dot:
            return INACTIVE
        refresh, family = self._grants.get_refresh(hash_secret(token), family_id)
        if (refresh is None or family is None or refresh.rotated or refresh.revoked or family.revoked
                or refresh.expires_at <= now):
            return INACTIVE
        body: dict[str, Any] = {
            "active": True, "scope": " ".join(refresh.scopes), "client_id": refresh.client_id,
            "exp": refresh.expires_at, "iat": refresh.issued_at, "token_type": "refresh_token",
        }
        if refresh.user_id:
            body["sub"] = refresh.user_id
        return body
