"""The authorization code grant at the token endpoint (RFC 6749 4.1.3), with PKCE (RFC 7636 4.5) and the
replay rule (RFC 6749 4.1.2: a code used twice revokes what it issued)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from passport.core.audit import audit
from passport.core.errors import invalid_grant, invalid_request
from passport.core.grants.base import UserTokenGrant, refresh_binding, token_response
from passport.core.grants.refresh_token import RefreshTokens
from passport.core.hashing import hash_secret, same_key
from passport.core.http import single
from passport.core.models import Client, TokenFamily
from passport.core.oidc.claims import offline_allowed, wants_id_token
from passport.core.oidc.id_token import IdTokenIssuer
from passport.core.pkce import verify
from passport.core.resources import token_request_resources
from passport.core.tokens import AccessTokenIssuer
from passport.ports import CodeAlreadyUsed, GrantStore


class AuthorizationCodeGrant(UserTokenGrant):
    GRANT_TYPE: ClassVar[str] = "authorization_code"

    def __init__(self, issuer: AccessTokenIssuer, grants: GrantStore, refresh: RefreshTokens,
                 id_tokens: IdTokenIssuer | None = None) -> None:
        super().__init__(issuer, refresh, id_tokens)
        self._grants = grants

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        code_value = single(form, "code", required=True)
        redirect_uri = single(form, "redirect_uri")
        verifier = single(form, "code_verifier")
        code = self._grants.get_code(hash_secret(code_value))
        now = self._issuer.clock.now()
        if code is None or code.expires_at <= now:
            raise invalid_grant("The authorization code is invalid or expired.")
        # 4.1.3: "ensure that the authorization code was issued to the authenticated confidential client, or if
        # the client is public, ensure that the code was issued to client_id". Checked first, as the refresh
        # grant checks its token's client first: a spent code in another client's hands is only an invalid grant,
        # never a way to make the server revoke what the victim's code issued.
        if code.client_id != client.client_id:
            raise invalid_grant("The authorization code was issued to another client.")
        if code.used:
            # 4.1.2: "If an authorization code is used more than once, the authorization server MUST deny the
            # request and SHOULD revoke (when possible) all tokens previously issued based on that code."
            if code.family_id:
                audit("code_replay", client_id=client.client_id, family_id=code.family_id,
                      reason="a spent authorization code was presented again: its tokens are revoked")
                self._grants.revoke_family(code.family_id)
            raise invalid_grant("The authorization code was already used; the tokens it gave are revoked.")
        # 4.1.3: redirect_uri is REQUIRED if it was in the authorization request, and must be identical.
        if code.redirect_uri_sent and redirect_uri != code.redirect_uri:
            raise invalid_grant("The redirect_uri does not match the authorization request.")
        if redirect_uri is not None and redirect_uri != code.redirect_uri:
            raise invalid_grant("The redirect_uri does not match the authorization request.")
        if client.public and code.challenge is None:
            raise invalid_request("A public client must use PKCE.")
        verify(verifier, code.challenge)
        # RFC 9449 10: a code bound to a DPoP key (dpop_jkt) is exchanged with a proof of that key.
        if code.dpop_jkt is not None and not same_key(jkt, code.dpop_jkt):
            raise invalid_grant("The authorization code is bound to another DPoP key, or no DPoP proof was sent.")
        resources = token_request_resources(form, self._issuer.resources, code.resources)

        family = TokenFamily(
            family_id=secrets.token_hex(16), client_id=client.client_id, user_id=code.user_id,
            auth_time=code.auth_time, expires_at=now + self._refresh.lifetime, scopes=code.scopes,
            resources=code.resources, userinfo_claims=code.userinfo_claims,
        )
        access = self._issuer.mint(
            client_id=client.client_id, scopes=code.scopes, grant_type=self.GRANT_TYPE, user_id=code.user_id,
            resources=resources, userinfo_claims=code.userinfo_claims, jkt=jkt,
        )
        refresh_token, refresh = (None, None)
        if self._refresh.allowed(client) and offline_allowed(code.scopes):
            refresh_token, refresh = self._refresh.new(family, code.scopes, now, refresh_binding(client, jkt))
        id_token = None
        if self._id_tokens is not None and wants_id_token(code.scopes):
            id_token = self._id_tokens.mint(client_id=client.client_id, user_id=code.user_id,
                                            auth_time=code.auth_time, access_token=access.access_token,
                                            nonce=code.nonce, acr=code.acr, user_claims=code.id_token_claims)
        family = replace(family, live_access=((access.record.jti, access.record.expires_at),))
        try:
            self._grants.redeem_code(code, family, access.record, refresh)
        except CodeAlreadyUsed:
            # Spent concurrently: the winner's family exists now; a replay revokes it.
            spent = self._grants.get_code(code.code_hash)
            if spent is not None and spent.family_id:
                self._grants.revoke_family(spent.family_id)
            raise invalid_grant("The authorization code was already used; the tokens it gave are revoked.") from None
        return token_response(access, refresh_token, id_token)
