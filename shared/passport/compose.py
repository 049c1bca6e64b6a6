"""Wiring: each function builds only what it needs, once per container (ory/fosite's ``compose()``).

Everything is built on first use, not at import, so a cold start pays only for the imports of the path the
function serves, and a failed build (keys not yet readable) is retried on the next request.
"""

from __future__ import annotations

import time
from functools import cache

from passport.config import Settings, load_settings
from passport.core.grants.client_credentials import ClientCredentialsGrant
from passport.core.scopes import ScopePolicy
from passport.core.token_endpoint import TokenEndpoint
from passport.core.tokens import AccessTokenIssuer
from passport.keys.keyring import KEYS


class SystemClock:
    def now(self) -> int:
        return int(time.time())


@cache
def settings() -> Settings:
    from passport.storage.models import bind

    loaded = load_settings()
    bind(loaded.storage)
    return loaded


def enabled_grant_types(s: Settings) -> tuple[str, ...]:
    """The grants this deployment answers at the token endpoint, in the order metadata lists them."""
    return (ClientCredentialsGrant.GRANT_TYPE,)


def access_token_issuer(s: Settings) -> AccessTokenIssuer:
    from passport.storage.repositories import DynamoAccessTokenStore

    return AccessTokenIssuer(
        signer=KEYS.get(s, need_private=True).require_signer(),
        store=DynamoAccessTokenStore(),
        clock=SystemClock(),
        issuer=s.issuer_url,
        audience=s.token_audience,
        lifetime=s.lifetimes.access,
    )


@cache
def token_endpoint() -> TokenEndpoint:
    from passport.storage.repositories import DynamoClientStore

    s = settings()
    scopes = ScopePolicy(s.scopes, s.default_scopes)
    issuer = access_token_issuer(s)
    grants = {ClientCredentialsGrant.GRANT_TYPE: ClientCredentialsGrant(issuer, scopes)}
    assert tuple(grants) == enabled_grant_types(s)
    return TokenEndpoint(DynamoClientStore(), grants)


def reset() -> None:
    """Forget everything built (tests that change settings between cases)."""
    settings.cache_clear()
    token_endpoint.cache_clear()
    KEYS.clear()
