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
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from passport.config import MCP_PATH, PAR_PATH, TOKEN_PATH, USERINFO_PATH, Settings, load_settings
from passport.jws import ID_TOKEN, TokenVerifier
from passport.keys.keyring import KEYS, PublishedKeys

if TYPE_CHECKING:
    from passport.core.client_assertions import AssertionReplay
    from passport.core.client_auth import ClientAssertions, ClientKeySource
    from passport.core.device import DeviceAuthorizationEndpoint
    from passport.core.dpop import ProofChecker, ProofReplay
    from passport.core.introspection import IntrospectionEndpoint
    from passport.core.models import Client
    from passport.core.oidc.userinfo import UserInfoEndpoint
    from passport.core.par import PushedAuthorizationEndpoint, PushedAuthorizations
    from passport.core.personal_access import PersonalAccessTokens
    from passport.core.profile import ClientPolicy
    from passport.core.registration import RegistrationEndpoint
    from passport.core.revocation import RevocationEndpoint
    from passport.core.scopes import ScopePolicy
    from passport.core.token_endpoint import TokenEndpoint
    from passport.core.tokens import AccessTokenIssuer
    from passport.core.users import UserProvider
    from passport.cors import ClientCors, PublicCors
    from passport.endpoints.account_api import AccountApi
    from passport.endpoints.demo_api import DemoApi
    from passport.endpoints.discovery import Discovery
    from passport.endpoints.pages import BrowserEndpoints
    from passport.guard.decision import Guard
    from passport.guard.resource import ProtectedResource
    from passport.guard.revocation import RevocationLookup
    from passport.ports import (
        AccessTokenStore,
        ClientStore,
        Consents,
        Devices,
        GrantStore,
        LoginThrottle,
        PushedRequests,
        Sessions,
        UserStore,
    )


T = TypeVar("T")


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

    def pushed_requests(self) -> PushedRequests:
        """Pushed authorization requests (RFC 9126): saved by the par function, taken and spent by the pages."""
        ...

    def rate_limit(self, per_hour: int) -> Callable[[str], bool]:
        """Takes one event for a key; False once the key had ``per_hour`` this hour (registration)."""
        ...

    def proof_replay(self) -> ProofReplay:
        """DPoP proofs spent once, deployment-wide (RFC 9449 11.1)."""
        ...

    def assertion_replay(self) -> AssertionReplay:
        """Client assertions spent once, deployment-wide (RFC 7523 3 point 7)."""
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

    def pushed_requests(self) -> PushedRequests:
        bind_storage()
        from passport.storage.pushed import DynamoPushedRequests

        return DynamoPushedRequests()

    def proof_replay(self) -> ProofReplay:
        bind_storage()
        from passport.storage.ledger import ProofLedger, models_call, tokens_table

        return ProofLedger(models_call(), tokens_table)

    def assertion_replay(self) -> AssertionReplay:
        bind_storage()
        from passport.storage.ledger import AssertionLedger, models_call, tokens_table

        return AssertionLedger(models_call(), tokens_table)

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


#: ``cache_clear`` of every builder below, so :func:`reset` forgets all of them (none is listed by hand).
_BUILDERS: dict[str, Callable[[], None]] = {}


def wiring(build: Callable[..., T]) -> Callable[..., T]:
    """A builder: built on first use, kept for the container, registered so :func:`reset` forgets it."""
    cached = cache(build)
    _BUILDERS[build.__name__] = cached.cache_clear
    return cached  # type: ignore[return-value]


def builders() -> tuple[str, ...]:
    """The names of everything this module builds for a function."""
    return tuple(_BUILDERS)


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


# -- what the settings decide ------------------------------------------------------------------------------------


def enabled_grant_types(s: Settings) -> tuple[str, ...]:
    """The grants this deployment answers at the token endpoint, in the order metadata lists them."""
    from passport.core.grants.authorization_code import AuthorizationCodeGrant
    from passport.core.grants.client_credentials import ClientCredentialsGrant
    from passport.core.grants.device_code import DeviceCodeGrant
    from passport.core.grants.password import PasswordGrant
    from passport.core.grants.refresh_token import RefreshTokenGrant

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


# -- shared pieces ------------------------------------------------------------------------------------------------


def access_token_verifier(s: Settings, audiences: tuple[str, ...]) -> TokenVerifier:
    """Our access tokens for ``audiences`` (RFC 8707: the resources the caller serves), checked by the one verifier
    every endpoint uses, with the guard's leeway and the published keys (read again for a kid not yet seen)."""
    return TokenVerifier(PublishedKeys.of(s), issuer=s.issuer_url, audiences=audiences,
                         leeway=s.guard.leeway_seconds)


def client_policies(s: Settings) -> Callable[[Client], ClientPolicy]:
    """Each client's security profile on this server (passport.core.profile)."""
    from passport.core.profile import client_policy

    return lambda client: client_policy(client, server_profile=s.security_profile, par_required=s.par.required)


class _FirstUse:
    """An object built at its first use: a function that may take DPoP proofs pays for their modules (the proof
    check, the replay ledger) at its first proof, not at its cold start."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


def endpoint_proofs(s: Settings) -> ProofChecker | None:
    """An authorization server endpoint's DPoP proofs (the token endpoint, the pushed authorization request
    endpoint), built at the first proof; None where ``[dpop]`` is off."""
    return _FirstUse(lambda: proof_checker(s, nonces=True)) if s.dpop.enabled else None  # type: ignore[return-value]


def proof_checker(s: Settings, *, nonces: bool = False) -> ProofChecker | None:
    """DPoP proofs checked and spent (RFC 9449), or None where ``[dpop]`` is off. ``nonces``: this surface asks
    for the server's nonce when ``dpop.require_nonce`` is on (RFC 9449 8; the token endpoint): a secret derived
    from the signing key, so every container makes and checks the same nonces."""
    if not s.dpop.enabled:
        return None
    from passport.core.dpop import DpopNonces, ProofChecker

    nonce_source = None
    if nonces and s.dpop.require_nonce:
        signer = KEYS.get(s, need_private=True).require_signer()
        nonce_source = DpopNonces(signer.derived_secret(b"passport DPoP nonces"))
    return ProofChecker(storage().proof_replay(), SystemClock(), max_age_seconds=s.dpop.max_age_seconds,
                        nonces=nonce_source)


def access_token_issuer(s: Settings) -> AccessTokenIssuer:
    from passport.core.tokens import AccessTokenIssuer

    return AccessTokenIssuer(
        signer=KEYS.get(s, need_private=True).require_signer(),
        store=storage().access_tokens(),
        clock=SystemClock(),
        issuer=s.issuer_url,
        audience=s.token_audience,
        lifetime=s.lifetimes.access,
        resources=s.registered_resources,
    )


def scope_policy(s: Settings) -> ScopePolicy:
    from passport.core.scopes import ScopePolicy

    return ScopePolicy(s.scopes, s.default_scopes)


def meeting_clients(s: Settings) -> ClientStore:
    """The client store of the functions where a client ID is first met (authorize, token, revoke): with
    ``[client_documents]`` on, an https client ID is its metadata document's client, fetched when not kept
    (passport.core.client_documents). The fetch's module is imported only when a document is fetched."""
    clients = storage().clients()
    if not s.client_documents.enabled:
        return clients
    from passport.core.client_documents import DocumentClients

    return DocumentClients(clients, _DocumentFetch(s.client_documents.allow_loopback),  # type: ignore[arg-type]
                           defined_scopes=s.scopes, allowed_hosts=s.client_documents.allowed_hosts,
                           rate_limit=_FetchLimit(s.client_documents.fetches_per_hour))


class _FetchLimit:
    """storage().rate_limit(per_hour), built at the first fetch (its module is not loaded at cold start)."""

    def __init__(self, per_hour: int) -> None:
        self._per_hour = per_hour
        self._take: Callable[[str], bool] | None = None

    def __call__(self, key: str) -> bool:
        if self._take is None:
            self._take = storage().rate_limit(self._per_hour)
        return self._take(key)


class _DocumentFetch:
    """passport.client_documents_fetch.SafeFetcher, imported (with ssl and http.client) at the first fetch."""

    def __init__(self, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback

    def fetch(self, url: Any) -> Any:
        from passport.client_documents_fetch import SafeFetcher

        return SafeFetcher(allow_loopback=self._allow_loopback).fetch(url)


class _JwksFetch:
    """SafeFetcher for a private_key_jwt client's ``jwks_uri``: the protections of a metadata document's fetch,
    with a JWK Set's size cap (passport.core.client_keys.MAX_JWKS_BYTES); imported at the first fetch."""

    def __init__(self, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback

    def fetch(self, url: Any) -> Any:
        from passport.client_documents_fetch import SafeFetcher
        from passport.core.client_keys import MAX_JWKS_BYTES

        return SafeFetcher(allow_loopback=self._allow_loopback, max_bytes=MAX_JWKS_BYTES, what="JWK Set").fetch(url)


@wiring
def client_keys() -> ClientKeySource:
    """private_key_jwt clients' keys (passport.core.client_keys): their registered ``jwks``, or their ``jwks_uri``
    fetched and kept per container, shared by every endpoint of the container. Loopback ``jwks_uri`` only where
    ``[client_documents] allow_loopback`` allows a loopback fetch (``passport serve``)."""
    from passport.core.client_keys import RegisteredKeys

    return RegisteredKeys(_JwksFetch(settings().client_documents.allow_loopback))


@wiring
def client_assertions(endpoint_url: str) -> ClientAssertions:
    """How the endpoint at ``endpoint_url`` verifies ``private_key_jwt`` assertions (RFC 7523 3): an ``aud`` of this
    server's issuer identifier, its token endpoint, or ``endpoint_url``; the ``jti`` spent in the tokens table;
    the server's ``security_profile``; the guard's clock skew (``[guard] leeway_seconds``)."""
    from passport.core.client_auth import ClientAssertions

    s = settings()
    audiences = tuple(dict.fromkeys((s.issuer_url, s.issuer_url + TOKEN_PATH, endpoint_url)))
    return ClientAssertions(keys=client_keys(), replay=storage().assertion_replay(), clock=SystemClock(),
                            audiences=audiences, leeway_seconds=s.guard.leeway_seconds,
                            server_profile=s.security_profile)


def user_provider(s: Settings) -> UserProvider:
    """The users table, or the class named by ``user_provider`` (Passport's findForPassport hook)."""
    if s.user_provider:
        import importlib

        module, _, name = s.user_provider.partition(":")
        return getattr(importlib.import_module(module), name)()
    from passport.core.users import StoredUsers

    return StoredUsers(storage().users())


# -- each function's objects --------------------------------------------------------------------------------------


@wiring
def token_endpoint() -> TokenEndpoint:
    from passport.core.grants.authorization_code import AuthorizationCodeGrant
    from passport.core.grants.base import Grant
    from passport.core.grants.client_credentials import ClientCredentialsGrant
    from passport.core.grants.device_code import DeviceCodeGrant
    from passport.core.grants.password import PasswordGrant
    from passport.core.grants.refresh_token import RefreshTokenGrant, RefreshTokens
    from passport.core.oidc.id_token import IdTokenIssuer
    from passport.core.token_endpoint import TokenEndpoint

    s = settings()
    scopes = scope_policy(s)
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
    if tuple(grants) != enabled_grant_types(s):  # metadata advertises enabled_grant_types: they must agree
        raise RuntimeError(f"the token endpoint's grants {tuple(grants)} differ from what metadata advertises")
    return TokenEndpoint(meeting_clients(s), grants, dpop=endpoint_proofs(s), nonces=s.dpop.require_nonce,
                         url=s.issuer_url + TOKEN_PATH, policy=client_policies(s),
                         assertions=client_assertions(s.issuer_url + TOKEN_PATH))


@wiring
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
        scopes=scope_policy(s), lifetime=s.lifetimes.personal_access,
    )


def _presented_token_verifier(s: Settings) -> TokenVerifier:
    """Introspection and revocation answer for every resource this server issues tokens for."""
    return access_token_verifier(s, (s.token_audience, *s.registered_resources))


@wiring
def revocation_endpoint() -> RevocationEndpoint:
    from passport.core.revocation import RevocationEndpoint

    s = settings()
    stored = storage()
    return RevocationEndpoint(clients=meeting_clients(s), access=stored.access_tokens(), grants=stored.grants(),
                              access_tokens=_presented_token_verifier(s),
                              assertions=client_assertions(s.issuer_url + "/oauth/revoke"))


@wiring
def introspection_endpoint() -> IntrospectionEndpoint:
    from passport.core.introspection import IntrospectionEndpoint

    s = settings()
    stored = storage()
    return IntrospectionEndpoint(clients=stored.clients(), grants=stored.grants(), clock=SystemClock(),
                                 access_tokens=_presented_token_verifier(s), liveness=stored.revocation().lookup,
                                 assertions=client_assertions(s.issuer_url + "/oauth/introspect"))


@wiring
def registration_endpoint() -> RegistrationEndpoint:
    from passport.core.registration import RegistrationEndpoint

    s = settings()
    return RegistrationEndpoint(
        issuer=s.issuer_url, policy=s.registration.policy,
        initial_token_sha256=s.registration.initial_access_token_sha256, clients=storage().clients(),
        defined_scopes=s.scopes, rate_limit=storage().rate_limit(s.registration.per_hour),
    )


@wiring
def userinfo_endpoint() -> UserInfoEndpoint:
    from passport.core.oidc.userinfo import UserInfoEndpoint

    s = settings()
    # OpenID Connect Core 5.3: userinfo is a resource of this server: tokens for its own API or for userinfo.
    audiences = (s.token_audience, s.issuer_url + USERINFO_PATH)
    return UserInfoEndpoint(issuer=s.issuer_url, users=user_provider(s).get,
                            access_tokens=access_token_verifier(s, audiences), liveness=storage().revocation().lookup,
                            proofs=proof_checker(s))


@wiring
def account_api() -> AccountApi:
    from passport.endpoints.account_api import AccountApi

    stored = storage()
    return AccountApi(current=browser_endpoints().current, scopes=dict(settings().scopes),
                      personal=personal_access_tokens, clients=stored.clients(), grants=stored.grants(),
                      consents=stored.consents(), app_name=settings().app_name,
                      base_path=browser_endpoints().ctx.base_path)


@wiring
def device_endpoint() -> DeviceAuthorizationEndpoint:
    from passport.core.device import DeviceAuthorizationEndpoint

    s = settings()
    stored = storage()
    return DeviceAuthorizationEndpoint(stored.clients(), stored.devices(), scope_policy(s), s.issuer_url,
                                       s.lifetimes.device, client_assertions(s.issuer_url + "/oauth/device/code"))


@wiring
def par_endpoint() -> PushedAuthorizationEndpoint:
    """The par function's endpoint (RFC 9126 2): clients met as the token endpoint meets them, the pushed request
    checked by the authorization endpoint's rules, then stored."""
    from passport.core.par import PushedAuthorizationEndpoint

    s = settings()
    return PushedAuthorizationEndpoint(
        clients=meeting_clients(s), requests=storage().pushed_requests(), clock=SystemClock(),
        scopes=scope_policy(s), response_types=response_types(s), resources=s.registered_resources,
        issuer=s.issuer_url, lifetime=s.par.lifetime_seconds,
        # RFC 9126 2: private_key_jwt as at the token endpoint; the aud may be the issuer, the token endpoint or
        # this endpoint's URL.
        assertions=client_assertions(s.issuer_url + PAR_PATH),
        # RFC 9449 10.1: a proof here binds the code to its key
        dpop=endpoint_proofs(s), nonces=s.dpop.require_nonce, url=s.issuer_url + PAR_PATH,
        server_profile=s.security_profile,
    )


def pushed_authorizations(s: Settings) -> PushedAuthorizations:
    """The authorization endpoint's side of RFC 9126 (4): pushed requests taken and spent, and who must push."""
    from passport.core.par import PushedAuthorizations

    return PushedAuthorizations(storage().pushed_requests(), SystemClock(), required=s.par.required,
                                server_profile=s.security_profile)


@wiring
def browser_endpoints() -> BrowserEndpoints:
    from passport.endpoints.browser import BrowserContext
    from passport.endpoints.pages import BrowserEndpoints

    s = settings()
    stored = storage()
    return BrowserEndpoints(BrowserContext(
        issuer=s.issuer_url, app_name=s.app_name, clients=meeting_clients(s), users=user_provider(s),
        sessions=stored.sessions(), consents=stored.consents(), grants=stored.grants(),
        throttle=stored.login_throttle(), scopes=dict(s.scopes), scope_policy=scope_policy(s),
        response_types=response_types(s), code_lifetime=s.lifetimes.code, session_lifetime=s.lifetimes.session,
        inherit=s.inherited_scopes, implicit_issuer=access_token_issuer(s) if s.grants.implicit else None,
        devices=stored.devices(),
        # RP-initiated logout's id_token_hint: any client's ID token (the hint's aud is checked against the client)
        id_tokens=TokenVerifier(PublishedKeys.of(s), issuer=s.issuer_url, audiences=None, kind=ID_TOKEN,
                                leeway=s.guard.leeway_seconds),
        resources=s.registered_resources, pushed=pushed_authorizations(s), security_profile=s.security_profile,
    ))


@wiring
def discovery() -> Discovery:
    """The metadata function's documents: discovery (RFC 8414, OpenID Connect Discovery), the JWKS, the protected
    resource metadata (RFC 9728) and the OpenAPI document."""
    from passport.endpoints.discovery import Discovery

    s = settings()
    return Discovery(s, advertised_grant_types(s))


@wiring
def public_cors() -> PublicCors:
    """Cross-origin reads of the metadata function's documents: any origin (Fetch standard, CORS protocol)."""
    from passport.cors import PublicCors
    from passport.routes import PUBLIC, preflight_methods, route_table

    return PublicCors(preflight_methods(route_table(settings()), PUBLIC))


@wiring
def client_cors() -> ClientCors:
    """Cross-origin reads of the token, revocation, registration and UserInfo answers: the calling client's redirect
    URI origins and ``[cors] allowed_origins`` (``passport.cors``)."""
    from passport.cors import ClientCors
    from passport.routes import CLIENT, preflight_methods, route_table

    s = settings()
    return ClientCors(storage().clients(), s.cors.allowed_origins, preflight_methods(route_table(s), CLIENT))


@wiring
def demo_api() -> DemoApi:
    from passport.endpoints.demo_api import DemoApi

    return DemoApi(users=lambda: user_provider(settings()))


# -- the guard, and the resources that run it in process --------------------------------------------------------


def dynamo_lookup(s: Settings) -> RevocationLookup:
    """The guard's revocation lookup, made on its first uncached decision: over the signed standard-library client
    (passport.aws_json) wherever it serves as botocore would, as on Lambda; else over botocore, the guard's
    heaviest import by far, paid only then."""
    from passport.storage.revocation import SignedRevocationLookup

    signed = SignedRevocationLookup.configured(s.storage)
    if signed is not None:
        return signed
    from passport.storage.models import bind
    from passport.storage.revocation import DynamoRevocationLookup

    bind(s.storage)
    return DynamoRevocationLookup()


@wiring
def guard(audience: str | None = None) -> Guard:
    """The container's guard for tokens of ``audience`` (RFC 8707; None: this deployment's API). Its rules are
    the route table's, or ``PASSPORT_GUARD_RULES`` (what PassportGuard gives a guard on a user's API)."""
    import os

    from passport.guard.decision import Guard
    from passport.guard.revocation import RevocationCache
    from passport.guard.rules import RuleTable
    from passport.routes import route_table

    s = settings()
    verifier = TokenVerifier(
        PublishedKeys.of(s),  # a kid not yet seen makes it read the keys again (a rotation), boundedly
        issuer=s.issuer_url,
        audiences=(audience or s.token_audience,),
        leeway=s.guard.leeway_seconds,
    )
    rules_json = os.environ.get("PASSPORT_GUARD_RULES")
    rules = RuleTable.from_json(rules_json) if rules_json else RuleTable.from_routes(route_table(s))
    revocations = RevocationCache(lambda: dynamo_lookup(s), s.guard.revocation_cache_seconds)
    return Guard(verifier, revocations, rules, inherit=s.inherited_scopes, proofs=guard_proofs(s),
                 url_scheme="http" if s.issuer_url.startswith("http://") else "https")


def guard_ledger(s: Settings) -> ProofReplay:
    """The guard's spent DPoP proofs, over the signed standard-library client wherever it serves (as its revocation
    lookup is, :func:`dynamo_lookup`), else over the models' botocore client."""
    from passport.aws_json import DYNAMODB, SignedClient
    from passport.storage.ledger import ProofLedger, models_call, tokens_table

    signed = SignedClient.configured(DYNAMODB, s.storage)
    if signed is not None:
        return ProofLedger(signed.call, s.storage.tokens_table)
    bind_storage()
    return ProofLedger(models_call(), tokens_table)


def guard_proofs(s: Settings) -> ProofChecker | None:
    """The guard's DPoP proof checks (RFC 9449 7), or None where ``[dpop]`` is off."""
    if not s.dpop.enabled:
        return None
    from passport.core.dpop import ProofChecker

    # The ledger's transport is made at the first proof spent, not at the guard's cold start.
    return ProofChecker(_FirstUse(lambda: guard_ledger(s)), SystemClock(),  # type: ignore[arg-type]
                        max_age_seconds=s.dpop.max_age_seconds)


@wiring
def mcp_resource() -> tuple[ProtectedResource, bool]:
    """The demo MCP server's guard (a protected resource of its own, ``<issuer>/mcp``: its 401 names this resource's
    metadata, RFC 9728 5.1, and the scopes its tools need, RFC 6750 3) and whether scopes are inherited."""
    from passport.endpoints.mcp_server import required_scopes
    from passport.gateway_responses import PROTECTED_RESOURCE_PATH
    from passport.guard.resource import ProtectedResource

    s = settings()
    metadata = s.issuer_url + PROTECTED_RESOURCE_PATH + MCP_PATH
    resource = ProtectedResource(guard(audience=s.mcp_resource), metadata, required_scopes(),
                                 inherit=s.inherited_scopes, base_url=s.issuer_url)
    return resource, s.inherited_scopes


def _forget_wiring() -> None:
    for forget in _BUILDERS.values():
        forget()


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
