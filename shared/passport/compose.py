"""Wiring: each function builds only what it needs, once per container (ory/fosite's ``compose()``).

Everything is built on first use, not at import, so a cold start pays only for the imports of the path the
function serves, and a failed build (keys not yet readable) is retried on the next request.
"""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

from passport.config import USERINFO_PATH, Settings, load_settings
from passport.core.grants.authorization_code import AuthorizationCodeGrant
from passport.core.grants.base import Grant
from passport.core.grants.client_credentials import ClientCredentialsGrant
from passport.core.grants.device_code import DeviceCodeGrant
from passport.core.grants.password import PasswordGrant
from passport.core.grants.refresh_token import RefreshTokenGrant, RefreshTokens
from passport.core.oidc.id_token import IdTokenIssuer
from passport.core.scopes import ScopePolicy
from passport.core.token_endpoint import TokenEndpoint
from passport.core.tokens import AccessTokenIssuer
from passport.core.users import StoredUsers, UserProvider
from passport.jws import ID_TOKEN, TokenVerifier
from passport.keys.keyring import KEYS, PublishedKeys

if TYPE_CHECKING:
    from passport.core.device import DeviceAuthorizationEndpoint
    from passport.core.lifecycle import TokenLifecycle
    from passport.core.models import Client
    from passport.core.oidc.userinfo import UserInfoEndpoint
    from passport.core.personal_access import PersonalAccessTokens
    from passport.core.registration import RegistrationEndpoint
    from passport.endpoints.account_api import AccountApi
    from passport.endpoints.authorize import BrowserEndpoints


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
    grants = [
        AuthorizationCodeGrant.GRANT_TYPE, RefreshTokenGrant.GRANT_TYPE, ClientCredentialsGrant.GRANT_TYPE,
        DeviceCodeGrant.GRANT_TYPE,
    ]
    if s.grants.password:
        grants.append(PasswordGrant.GRANT_TYPE)
    return tuple(grants)


def response_types(s: Settings) -> tuple[str, ...]:
    """What the authorization endpoint answers: codes, and tokens in the fragment when implicit is on."""
    return ("code", "token") if s.grants.implicit else ("code",)


def advertised_grant_types(s: Settings) -> tuple[str, ...]:
    """grant_types_supported (RFC 8414): the token endpoint's grants plus implicit, when it is on."""
    return enabled_grant_types(s) + (("implicit",) if s.grants.implicit else ())


def access_token_verifier(s: Settings, audiences: tuple[str, ...]) -> TokenVerifier:
    """Our access tokens for ``audiences`` (RFC 8707: the resources the caller serves), checked by the one verifier
    every endpoint uses, with the guard's leeway and the published keys (read again for a kid not yet seen)."""
    return TokenVerifier(PublishedKeys.of(s), issuer=s.issuer_url, audiences=audiences,
                         leeway=s.guard.leeway_seconds)


def access_token_issuer(s: Settings) -> AccessTokenIssuer:
    from passport.storage.repositories import DynamoAccessTokenStore

    return AccessTokenIssuer(
        signer=KEYS.get(s, need_private=True).require_signer(),
        store=DynamoAccessTokenStore(),
        clock=SystemClock(),
        issuer=s.issuer_url,
        audience=s.token_audience,
        lifetime=s.lifetimes.access,
        resources=s.registered_resources,
    )


@cache
def token_endpoint() -> TokenEndpoint:
    from passport.storage.devices import DynamoDevices
    from passport.storage.grants import DynamoGrants
    from passport.storage.repositories import DynamoClientStore

    s = settings()
    scopes = ScopePolicy(s.scopes, s.default_scopes)
    issuer = access_token_issuer(s)
    id_tokens = IdTokenIssuer(signer=KEYS.get(s, need_private=True).require_signer(), clock=issuer.clock,
                              issuer=s.issuer_url, lifetime=s.lifetimes.id_token)
    store = DynamoGrants()
    refresh = RefreshTokens(s.lifetimes.refresh)
    grants: dict[str, Grant] = {
        AuthorizationCodeGrant.GRANT_TYPE: AuthorizationCodeGrant(issuer, store, refresh, id_tokens),
        RefreshTokenGrant.GRANT_TYPE: RefreshTokenGrant(issuer, store, refresh, id_tokens),
        ClientCredentialsGrant.GRANT_TYPE: ClientCredentialsGrant(issuer, scopes),
        DeviceCodeGrant.GRANT_TYPE: DeviceCodeGrant(issuer, DynamoDevices(), refresh, id_tokens),
    }
    if s.grants.password:
        from passport.storage.browser import DynamoLoginThrottle

        grants[PasswordGrant.GRANT_TYPE] = PasswordGrant(
            issuer, store, refresh, user_provider(s), DynamoLoginThrottle(), scopes
        )
    assert tuple(grants) == enabled_grant_types(s)
    return TokenEndpoint(DynamoClientStore(), grants)


@cache
def personal_access_tokens() -> PersonalAccessTokens:
    from passport.core.personal_access import PersonalAccessTokens, find_personal_access_client
    from passport.storage.repositories import DynamoAccessTokenStore, DynamoClientStore

    s = settings()
    found: list[Client] = []

    def client() -> Client | None:
        # Looked up once per container (a scan of the clients table), then kept.
        if not found:
            match = find_personal_access_client(DynamoClientStore().all(), s.personal_access_client)
            if match is None:
                return None
            found.append(match)
        return found[0]

    return PersonalAccessTokens(
        issuer=access_token_issuer(s), store=DynamoAccessTokenStore(), client=client,
        scopes=ScopePolicy(s.scopes, s.default_scopes), lifetime=s.lifetimes.personal_access,
    )


@cache
def token_lifecycle() -> TokenLifecycle:
    from passport.core.lifecycle import TokenLifecycle
    from passport.storage.grants import DynamoGrants
    from passport.storage.repositories import DynamoAccessTokenStore, DynamoClientStore
    from passport.storage.revocation import DynamoRevocationLookup

    s = settings()
    return TokenLifecycle(
        clients=DynamoClientStore(), access=DynamoAccessTokenStore(), grants=DynamoGrants(), clock=SystemClock(),
        # Introspection and revocation answer for every resource this server issues tokens for.
        access_tokens=access_token_verifier(s, (s.token_audience, *s.registered_resources)),
        liveness=DynamoRevocationLookup().lookup,
    )


@cache
def registration_endpoint() -> RegistrationEndpoint:
    from passport.core.registration import RegistrationEndpoint
    from passport.storage.browser import DynamoRateLimit
    from passport.storage.repositories import DynamoClientStore

    s = settings()
    return RegistrationEndpoint(
        issuer=s.issuer_url, policy=s.registration.policy,
        initial_token_sha256=s.registration.initial_access_token_sha256, clients=DynamoClientStore(),
        defined_scopes=s.scopes, rate_limit=DynamoRateLimit(s.registration.per_hour).take,
    )


@cache
def userinfo_endpoint() -> UserInfoEndpoint:
    from passport.core.oidc.userinfo import UserInfoEndpoint
    from passport.storage.revocation import DynamoRevocationLookup

    s = settings()
    # OpenID Connect Core 5.3: userinfo is a resource of this server: tokens for its own API or for userinfo.
    audiences = (s.token_audience, s.issuer_url + USERINFO_PATH)
    return UserInfoEndpoint(issuer=s.issuer_url, users=user_provider(s).get,
                            access_tokens=access_token_verifier(s, audiences), liveness=DynamoRevocationLookup().lookup)


@cache
def account_api() -> AccountApi:
    from passport.endpoints.account_api import AccountApi
    from passport.storage.browser import DynamoConsents
    from passport.storage.grants import DynamoGrants
    from passport.storage.repositories import DynamoClientStore

    return AccountApi(current=browser_endpoints().current, scopes=dict(settings().scopes),
                      personal=personal_access_tokens, clients=DynamoClientStore(), grants=DynamoGrants(),
                      consents=DynamoConsents(), app_name=settings().app_name,
                      base_path=browser_endpoints().ctx.base_path)


def user_provider(s: Settings) -> UserProvider:
    """The users table, or the class named by ``user_provider`` (Passport's findForPassport hook)."""
    if s.user_provider:
        import importlib

        module, _, name = s.user_provider.partition(":")
        return getattr(importlib.import_module(module), name)()
    from passport.storage.repositories import DynamoUserStore

    return StoredUsers(DynamoUserStore())


@cache
def device_endpoint() -> DeviceAuthorizationEndpoint:
    from passport.core.device import DeviceAuthorizationEndpoint
    from passport.storage.devices import DynamoDevices
    from passport.storage.repositories import DynamoClientStore

    s = settings()
    return DeviceAuthorizationEndpoint(
        DynamoClientStore(), DynamoDevices(), ScopePolicy(s.scopes, s.default_scopes), s.issuer_url, s.lifetimes.device
    )


@cache
def browser_endpoints() -> BrowserEndpoints:
    from passport.endpoints.authorize import BrowserContext, BrowserEndpoints
    from passport.storage.browser import DynamoConsents, DynamoLoginThrottle, DynamoSessions
    from passport.storage.devices import DynamoDevices
    from passport.storage.grants import DynamoGrants
    from passport.storage.repositories import DynamoClientStore

    s = settings()
    return BrowserEndpoints(BrowserContext(
        issuer=s.issuer_url, app_name=s.app_name, clients=DynamoClientStore(), users=user_provider(s),
        sessions=DynamoSessions(), consents=DynamoConsents(), grants=DynamoGrants(),
        throttle=DynamoLoginThrottle(), scopes=dict(s.scopes), scope_policy=ScopePolicy(s.scopes, s.default_scopes),
        response_types=response_types(s), code_lifetime=s.lifetimes.code, session_lifetime=s.lifetimes.session,
        inherit=s.inherited_scopes, implicit_issuer=access_token_issuer(s) if s.grants.implicit else None,
        devices=DynamoDevices(),
        # RP-initiated logout's id_token_hint: any client's ID token (the hint's aud is checked against the client)
        id_tokens=TokenVerifier(PublishedKeys.of(s), issuer=s.issuer_url, audiences=None, kind=ID_TOKEN,
                                leeway=s.guard.leeway_seconds),
        resources=s.registered_resources,
    ))


def reset() -> None:
    """Forget everything built (tests that change settings between cases)."""
    from passport.apigw import strict_transport_security

    settings.cache_clear()
    strict_transport_security.cache_clear()
    token_endpoint.cache_clear()
    browser_endpoints.cache_clear()
    device_endpoint.cache_clear()
    personal_access_tokens.cache_clear()
    account_api.cache_clear()
    token_lifecycle.cache_clear()
    userinfo_endpoint.cache_clear()
    registration_endpoint.cache_clear()
    KEYS.clear()
