"""Wiring: each function builds only what it needs, once per container (ory/fosite's ``compose()``).

Everything is built on first use, not at import, so a cold start pays only for the imports of the path the
function serves, and a failed build (keys not yet readable) is retried on the next request.

The stores behind the ports (:mod:`passport.ports`) come from one :class:`Storage`: DynamoDB's adapters
(:mod:`passport.storage`) unless :func:`use_storage` installs others (the bench's in-memory stores), so a handler
runs unchanged on either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Protocol

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
    from passport.core.introspection import IntrospectionEndpoint
    from passport.core.models import Client
    from passport.core.oidc.userinfo import UserInfoEndpoint
    from passport.core.personal_access import PersonalAccessTokens
    from passport.core.registration import RegistrationEndpoint
    from passport.core.revocation import RevocationEndpoint
    from passport.endpoints.account_api import AccountApi
    from passport.endpoints.pages import BrowserEndpoints
    from passport.guard.revocation import RevocationLookup
    from passport.ports import (
        AccessTokenStore,
        ClientStore,
        Consents,
        Devices,
        GrantStore,
        LoginThrottle,
        Sessions,
        UserStore,
    )


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class Storage(Protocol):
    """Where a function's state lives: one adapter per port, made when the wiring is built."""

    def clients(self) -> ClientStore: ...

    def users(self) -> UserStore: ...

    def access_tokens(self) -> AccessTokenStore: ...

    def grants(self) -> GrantStore: ...

    def devices(self) -> Devices: ...

    def sessions(self) -> Sessions: ...

    def consents(self) -> Consents: ...

    def login_throttle(self) -> LoginThrottle: ...

    def revocation(self) -> RevocationLookup:
        """A token's and its client's liveness in one read (introspection, userinfo)."""
        ...

    def rate_limit(self, per_hour: int) -> Callable[[str], bool]:
        """Takes one event for a key; False once the key had ``per_hour`` this hour (registration)."""
        ...


class DynamoStorage:
    """The DynamoDB tables (pynamodb models bound by :func:`bind_storage`). Each adapter's module is imported when
    first asked for, so no handler imports the AWS SDK at cold start (tests/integration/test_import_sets.py)."""

    def clients(self) -> ClientStore:
        bind_storage()
        from passport.storage.repositories import DynamoClientStore

        return DynamoClientStore()

    def users(self) -> UserStore:
        bind_storage()
        from passport.storage.repositories import DynamoUserStore

        return DynamoUserStore()

    def access_tokens(self) -> AccessTokenStore:
        bind_storage()
        from passport.storage.repositories import DynamoAccessTokenStore

        return DynamoAccessTokenStore()

    def grants(self) -> GrantStore:
        bind_storage()
        from passport.storage.grants import DynamoGrantStore

        return DynamoGrantStore()

    def devices(self) -> Devices:
        bind_storage()
        from passport.storage.devices import DynamoDevices

        return DynamoDevices()

    def sessions(self) -> Sessions:
        bind_storage()
        from passport.storage.sessions import DynamoSessions

        return DynamoSessions()

    def consents(self) -> Consents:
        bind_storage()
        from passport.storage.sessions import DynamoConsents

        return DynamoConsents()

    def login_throttle(self) -> LoginThrottle:
        bind_storage()
        from passport.storage.throttles import DynamoLoginThrottle

        return DynamoLoginThrottle()

    def revocation(self) -> RevocationLookup:
        bind_storage()
        from passport.storage.revocation import DynamoRevocationLookup

        return DynamoRevocationLookup()

    def rate_limit(self, per_hour: int) -> Callable[[str], bool]:
        bind_storage()
        from passport.storage.throttles import DynamoRateLimit

        return DynamoRateLimit(per_hour).take


_storage: Storage = DynamoStorage()


def storage() -> Storage:
    """The storage the wiring is built on."""
    return _storage


def use_storage(chosen: Storage | None) -> None:
    """Build the wiring on ``chosen`` from now on (None: DynamoDB again); what was built is forgotten, the settings
    and keys are kept."""
    global _storage
    _storage = DynamoStorage() if chosen is None else chosen
    _forget_wiring()


@contextmanager
def using_storage(chosen: Storage) -> Iterator[Storage]:
    """:func:`use_storage` for the length of a block, then the storage that was in use before."""
    previous = _storage
    use_storage(chosen)
    try:
        yield chosen
    finally:
        use_storage(previous)


@cache
def settings() -> Settings:
    """This deployment's settings, read once per container."""
    return load_settings()


@cache
def bind_storage() -> Settings:
    """Point the DynamoDB models at this deployment's tables, region and call limits, once. Done by
    :class:`DynamoStorage` as it makes its first adapter, so only a request that reaches DynamoDB pays for
    pynamodb and botocore: discovery and the JWKS never import them."""
    from passport.storage.models import bind

    loaded = settings()
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
    return AccessTokenIssuer(
        signer=KEYS.get(s, need_private=True).require_signer(),
        store=storage().access_tokens(),
        clock=SystemClock(),
        issuer=s.issuer_url,
        audience=s.token_audience,
        lifetime=s.lifetimes.access,
        resources=s.registered_resources,
    )


@cache
def token_endpoint() -> TokenEndpoint:
    s = settings()
    scopes = ScopePolicy(s.scopes, s.default_scopes)
    issuer = access_token_issuer(s)
    id_tokens = IdTokenIssuer(signer=KEYS.get(s, need_private=True).require_signer(), clock=issuer.clock,
                              issuer=s.issuer_url, lifetime=s.lifetimes.id_token)
    store = storage().grants()
    refresh = RefreshTokens(s.lifetimes.refresh)
    grants: dict[str, Grant] = {
        AuthorizationCodeGrant.GRANT_TYPE: AuthorizationCodeGrant(issuer, store, refresh, id_tokens),
        RefreshTokenGrant.GRANT_TYPE: RefreshTokenGrant(issuer, store, refresh, id_tokens),
        ClientCredentialsGrant.GRANT_TYPE: ClientCredentialsGrant(issuer, scopes),
        DeviceCodeGrant.GRANT_TYPE: DeviceCodeGrant(issuer, storage().devices(), refresh, id_tokens),
    }
    if s.grants.password:
        grants[PasswordGrant.GRANT_TYPE] = PasswordGrant(
            issuer, store, refresh, user_provider(s), storage().login_throttle(), scopes
        )
    assert tuple(grants) == enabled_grant_types(s)
    return TokenEndpoint(storage().clients(), grants)


@cache
def personal_access_tokens() -> PersonalAccessTokens:
    from passport.core.personal_access import PersonalAccessTokens, find_personal_access_client

    s = settings()
    clients = storage().clients()
    found: list[Client] = []

    def client() -> Client | None:
        # Looked up once per container (a scan of the clients table), then kept.
        if not found:
            match = find_personal_access_client(clients.all(), s.personal_access_client)
            if match is None:
                return None
            found.append(match)
        return found[0]

    return PersonalAccessTokens(
        issuer=access_token_issuer(s), store=storage().access_tokens(), client=client,
        scopes=ScopePolicy(s.scopes, s.default_scopes), lifetime=s.lifetimes.personal_access,
    )


def _presented_token_verifier(s: Settings) -> TokenVerifier:
    """Introspection and revocation answer for every resource this server issues tokens for."""
    return access_token_verifier(s, (s.token_audience, *s.registered_resources))


@cache
def revocation_endpoint() -> RevocationEndpoint:
    from passport.core.revocation import RevocationEndpoint

    s = settings()
    stored = storage()
    return RevocationEndpoint(clients=stored.clients(), access=stored.access_tokens(), grants=stored.grants(),
                              access_tokens=_presented_token_verifier(s))


@cache
def introspection_endpoint() -> IntrospectionEndpoint:
    from passport.core.introspection import IntrospectionEndpoint

    s = settings()
    stored = storage()
    return IntrospectionEndpoint(clients=stored.clients(), grants=stored.grants(), clock=SystemClock(),
                                 access_tokens=_presented_token_verifier(s), liveness=stored.revocation().lookup)


@cache
def registration_endpoint() -> RegistrationEndpoint:
    from passport.core.registration import RegistrationEndpoint

    s = settings()
    return RegistrationEndpoint(
        issuer=s.issuer_url, policy=s.registration.policy,
        initial_token_sha256=s.registration.initial_access_token_sha256, clients=storage().clients(),
        defined_scopes=s.scopes, rate_limit=storage().rate_limit(s.registration.per_hour),
    )


@cache
def userinfo_endpoint() -> UserInfoEndpoint:
    from passport.core.oidc.userinfo import UserInfoEndpoint

    s = settings()
    # OpenID Connect Core 5.3: userinfo is a resource of this server: tokens for its own API or for userinfo.
    audiences = (s.token_audience, s.issuer_url + USERINFO_PATH)
    return UserInfoEndpoint(issuer=s.issuer_url, users=user_provider(s).get,
                            access_tokens=access_token_verifier(s, audiences), liveness=storage().revocation().lookup)


@cache
def account_api() -> AccountApi:
    from passport.endpoints.account_api import AccountApi

    stored = storage()
    return AccountApi(current=browser_endpoints().current, scopes=dict(settings().scopes),
                      personal=personal_access_tokens, clients=stored.clients(), grants=stored.grants(),
                      consents=stored.consents(), app_name=settings().app_name,
                      base_path=browser_endpoints().ctx.base_path)


def user_provider(s: Settings) -> UserProvider:
    """The users table, or the class named by ``user_provider`` (Passport's findForPassport hook)."""
    if s.user_provider:
        import importlib

        module, _, name = s.user_provider.partition(":")
        return getattr(importlib.import_module(module), name)()
    return StoredUsers(storage().users())


@cache
def device_endpoint() -> DeviceAuthorizationEndpoint:
    from passport.core.device import DeviceAuthorizationEndpoint

    s = settings()
    stored = storage()
    return DeviceAuthorizationEndpoint(
        stored.clients(), stored.devices(), ScopePolicy(s.scopes, s.default_scopes), s.issuer_url, s.lifetimes.device
    )


@cache
def browser_endpoints() -> BrowserEndpoints:
    from passport.endpoints.browser import BrowserContext
    from passport.endpoints.pages import BrowserEndpoints

    s = settings()
    stored = storage()
    return BrowserEndpoints(BrowserContext(
        issuer=s.issuer_url, app_name=s.app_name, clients=stored.clients(), users=user_provider(s),
        sessions=stored.sessions(), consents=stored.consents(), grants=stored.grants(),
        throttle=stored.login_throttle(), scopes=dict(s.scopes), scope_policy=ScopePolicy(s.scopes, s.default_scopes),
        response_types=response_types(s), code_lifetime=s.lifetimes.code, session_lifetime=s.lifetimes.session,
        inherit=s.inherited_scopes, implicit_issuer=access_token_issuer(s) if s.grants.implicit else None,
        devices=stored.devices(),
        # RP-initiated logout's id_token_hint: any client's ID token (the hint's aud is checked against the client)
        id_tokens=TokenVerifier(PublishedKeys.of(s), issuer=s.issuer_url, audiences=None, kind=ID_TOKEN,
                                leeway=s.guard.leeway_seconds),
        resources=s.registered_resources,
    ))


def _forget_wiring() -> None:
    token_endpoint.cache_clear()
    browser_endpoints.cache_clear()
    device_endpoint.cache_clear()
    personal_access_tokens.cache_clear()
    account_api.cache_clear()
    revocation_endpoint.cache_clear()
    introspection_endpoint.cache_clear()
    userinfo_endpoint.cache_clear()
    registration_endpoint.cache_clear()


def reset() -> None:
    """Forget everything built, and go back to DynamoDB (tests that change settings between cases)."""
    global _storage
    from passport.apigw import strict_transport_security

    _storage = DynamoStorage()
    settings.cache_clear()
    bind_storage.cache_clear()
    strict_transport_security.cache_clear()
    _forget_wiring()
    KEYS.clear()
