"""The resource owner password credentials grant (RFC 6749 4.3): off unless configured (Laravel Passport's
``enablePasswordGrant``). RFC 9700 2.4 says it MUST NOT be used: the client sees the user's password. It is
here for first-party apps migrating from Passport, throttled exactly as the sign-in page is."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from passport.core.errors import OAuthError, invalid_grant
from passport.core.grants.base import refresh_binding, token_response
from passport.core.grants.refresh_token import RefreshTokens
from passport.core.http import single
from passport.core.models import Client, TokenFamily
from passport.core.scopes import ScopePolicy
from passport.core.tokens import AccessTokenIssuer
from passport.core.users import UserProvider, check_credentials
from passport.ports import GrantStore, LoginThrottle


class PasswordGrant:
    GRANT_TYPE: ClassVar[str] = "password"

    def __init__(
        self, issuer: AccessTokenIssuer, grants: GrantStore, refresh: RefreshTokens, users: UserProvider,
        throttle: LoginThrottle, scopes: ScopePolicy,
    ) -> None:
        self._issuer = issuer
        self._grants = grants
        self._refresh = refresh
        self._users = users
        self._throttle = throttle
        self._scopes = scopes

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        username = single(form, "username", required=True)
        password = single(form, "password", required=True)
        # Passport allows "*" here: a first-party app acting fully for its user.
        scopes = self._scopes.resolve(single(form, "scope"), client.scopes, wildcard=True)
        keys = (f"account:{username.strip().lower()}", f"address:{source_ip}")
        wait, recorded = self._throttle.check(keys)
        if wait > 0:
            raise OAuthError("invalid_grant", f"Too many failed attempts; try again in {wait} seconds.",
                             headers={"Retry-After": str(wait)})
        user = check_credentials(self._users, username.strip(), password)
        if user is None:
            self._throttle.failed(keys)
            raise invalid_grant("The user credentials were incorrect.")
        if keys[0] in recorded:
            self._throttle.succeeded(keys[:1])
        now = self._issuer.clock.now()
        access = self._issuer.mint(client_id=client.client_id, scopes=scopes, grant_type=self.GRANT_TYPE,
                                   user_id=user.id, jkt=jkt)
        family = TokenFamily(
            family_id=secrets.token_hex(16), client_id=client.client_id, user_id=user.id, auth_time=now,
            expires_at=now + self._refresh.lifetime, live_access=((access.record.jti, access.record.expires_at),),
            scopes=scopes,
        )
        refresh_token, refresh = (None, None)
        if self._refresh.allowed(client):
            refresh_token, refresh = self._refresh.new(family, scopes, now, refresh_binding(client, jkt))
        self._grants.start_family(family, access.record, refresh)
        return token_response(access, refresh_token)
