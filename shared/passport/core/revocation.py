"""Token revocation (RFC 7009).

Revoking a refresh token ends its whole family, the family's access tokens included (RFC 7009 2.1: "the
authorization server ... SHOULD also invalidate the access tokens based on the same authorization grant").
"""

from __future__ import annotations

from passport.core.audit import audit
from passport.core.client_auth import ClientAssertions
from passport.core.errors import OAuthError, unauthorized_client
from passport.core.grants.refresh_token import family_of
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, oauth_error_response
from passport.core.presented_tokens import PresentedTokenEndpoint
from passport.jws import TokenVerifier
from passport.ports import AccessTokenStore, ClientStore, GrantStore


class RevocationEndpoint(PresentedTokenEndpoint):
    """``POST /oauth/revoke``: a client revokes one of its own tokens (RFC 7009 2.1)."""

    def __init__(self, *, clients: ClientStore, access: AccessTokenStore, grants: GrantStore,
                 access_tokens: TokenVerifier, assertions: ClientAssertions | None = None) -> None:
        super().__init__(clients, access_tokens, assertions)
        self._access = access
        self._grants = grants

    def handle(self, request: Request) -> Response:
        try:
            client, token, hint = self.presented(request)
            looks_like_jwt = token.count(".") == 2
            if looks_like_jwt or hint == "access_token":
                # Expiry aside: an expired token may still be revoked, as 2.2 answers it 200 either way.
                claims = self.claims(token, check_expiry=False)
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
            return oauth_error_response(error)
