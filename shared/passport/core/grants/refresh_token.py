"""The refresh token grant (RFC 6749 section 6) with rotation on every use and reuse detection
(RFC 9700 4.14.2): a rotated refresh token presented again revokes its whole family."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from passport.core.audit import audit
from passport.core.errors import invalid_grant, invalid_scope
from passport.core.grants.base import UserTokenGrant, token_response
from passport.core.hashing import hash_secret, same_key
from passport.core.http import single
from passport.core.models import Client, RefreshTokenRecord, TokenFamily
from passport.core.oidc.claims import wants_id_token
from passport.core.oidc.id_token import IdTokenIssuer
from passport.core.resources import token_request_resources
from passport.core.scopes import parse_scope
from passport.core.tokens import AccessTokenIssuer
from passport.ports import GrantStore, RefreshRejected

GRANT_TYPE = "refresh_token"
REUSED = "The refresh token was already used; every token of this grant is now revoked."

#: The shape of every refresh token issued here (:meth:`RefreshTokens.new`): a family id of 32 hex digits, a dot,
#: 256 random bits in base64url.
_REFRESH_TOKEN = re.compile(r"([0-9a-f]{32})\.[A-Za-z0-9_-]{43}", re.ASCII)


def family_of(token: str) -> str | None:
    """The family id of a token shaped like ours, else None: such a token was never issued here, so it is
    refused without a read (a key made of 3 KB of it would be refused by DynamoDB itself, over its 2048-byte
    key limit, and turned into a 503)."""
    shaped = _REFRESH_TOKEN.fullmatch(token)
    return shaped.group(1) if shaped else None


class RefreshTokens:
    """Minting refresh tokens: ``<family id>.<256 random bits>``, stored as a SHA-256. The family id in the
    clear lets one read fetch the token and its family together."""

    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime

    def allowed(self, client: Client) -> bool:
        return client.allows_grant(GRANT_TYPE)

    def new(self, family: TokenFamily, scopes: tuple[str, ...], now: int,
            jkt: str | None = None) -> tuple[str, RefreshTokenRecord]:
        """A new refresh token of ``family``; ``jkt``: the DPoP key it is bound to (RFC 9449 5: a public
        client's), None for an unbound one."""
        token = f"{family.family_id}.{secrets.token_urlsafe(32)}"
        record = RefreshTokenRecord(
            token_hash=hash_secret(token), family_id=family.family_id, client_id=family.client_id,
            user_id=family.user_id, scopes=scopes, issued_at=now, expires_at=now + self.lifetime, jkt=jkt,
        )
        return token, record


class RefreshTokenGrant(UserTokenGrant):
    GRANT_TYPE: ClassVar[str] = GRANT_TYPE

    def __init__(self, issuer: AccessTokenIssuer, grants: GrantStore, refresh: RefreshTokens,
                 id_tokens: IdTokenIssuer | None = None) -> None:
        super().__init__(issuer, refresh, id_tokens)
        self._grants = grants

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        presented = single(form, "refresh_token", required=True)
        family_id = family_of(presented)
        if family_id is None:
            raise invalid_grant("The refresh token is invalid.")
        old, family = self._grants.get_refresh(hash_secret(presented), family_id)
        now = self._issuer.clock.now()
        if old is None or family is None or old.expires_at <= now or old.revoked or family.revoked:
            raise invalid_grant("The refresh token is invalid, expired or revoked.")
        # 6: "the authorization server MUST ... ensure that the refresh token was issued to the authenticated
        # client". Checked before reuse, so another client cannot revoke a family it does not own.
        if old.client_id != client.client_id:
            raise invalid_grant("The refresh token was issued to another client.")
        if old.rotated:
            audit("refresh_reuse", client_id=client.client_id, family_id=family.family_id,
                  reason="a rotated refresh token was presented again: the family is revoked")
            self._grants.revoke_family(family.family_id)
            raise invalid_grant(REUSED)
        # RFC 9449 5: a refresh token bound to a DPoP key is used with a proof of that key, or not at all.
        if old.jkt is not None and not same_key(jkt, old.jkt):
            raise invalid_grant("The refresh token is bound to a DPoP key: send a DPoP proof of that key.")
        scopes = old.scopes
        requested = parse_scope(single(form, "scope"))
        if requested:
            wider = [s for s in requested if s not in old.scopes]
            if wider:
                raise invalid_scope(f"A refresh cannot widen the grant: {' '.join(wider)} was not granted.")
            scopes = requested
        # RFC 8707 2.2: a refresh may name fewer of the grant's resources, never others.
        resources = token_request_resources(form, self._issuer.resources, family.resources)
        access = self._issuer.mint(
            client_id=client.client_id, scopes=scopes, grant_type=self.GRANT_TYPE, user_id=old.user_id,
            resources=resources, userinfo_claims=family.userinfo_claims, jkt=jkt,
        )
        # 6: a new refresh token's scope "MUST be identical to that of the refresh token" presented; only the
        # access token narrows.
        token, refresh = self._refresh.new(family, old.scopes, now, old.jkt)
        try:
            self._grants.rotate_refresh(old, family, access.record, refresh)
        except RefreshRejected:
            # Lost a race with another use of the same token: that is reuse too.
            self._grants.revoke_family(family.family_id)
            raise invalid_grant(REUSED) from None
        id_token = None
        if self._id_tokens is not None and old.user_id and wants_id_token(scopes):
            # OpenID Connect Core 12.2: the original auth_time, a new iat, no nonce.
            id_token = self._id_tokens.mint(client_id=client.client_id, user_id=old.user_id,
                                            auth_time=family.auth_time, access_token=access.access_token)
        return token_response(access, token, id_token)
