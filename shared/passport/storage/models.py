"""pynamodb models (docs/concepts.md).

Three tables: clients (key ``client_id``), users (key ``pk``: ``user#<id>`` and ``email#<address>``, the second
making emails unique) and tokens (key ``pk``: ``access#<jti>`` and, as later grants arrive, hashed refresh
tokens, codes and device codes). Every token item carries ``ttl`` (epoch seconds), DynamoDB's TTL attribute;
TTL deletes lag, so every read checks expiry too.

Table names come from settings: :func:`bind` sets them before first use.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from passport.storage.connection import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    RETRIES,
    SharedClientModel,
    configure,
    forget_connection,
)
from passport.storage.items import TTL_ATTRIBUTE as TTL_ATTRIBUTE  # re-exported: the definitions live there
from passport.storage.items import access_key as access_key


class _Base(SharedClientModel):
    class Meta:
        table_name: str = ""
        # Lambda answers within API Gateway's 29 s; a stuck DynamoDB call must fail fast and become a 503.
        connect_timeout_seconds = CONNECT_TIMEOUT
        read_timeout_seconds = READ_TIMEOUT
        max_retry_attempts = RETRIES


class UserClientsIndex(GlobalSecondaryIndex):
    """The clients a user made (Passport's "my clients"). Sparse: clients without an owner are not in it."""

    class Meta:
        index_name = "user-index"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ClientModel(_Base):
    class Meta(_Base.Meta):
        table_name = "passport-clients"

    user_index = UserClientsIndex()

    client_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute(null=True)
    redirect_uris = ListAttribute(of=UnicodeAttribute, default=list)
    grant_types = ListAttribute(of=UnicodeAttribute, default=list)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    first_party = BooleanAttribute(default=False)
    revoked = BooleanAttribute(default=False)
    user_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)
    post_logout_redirect_uris = ListAttribute(of=UnicodeAttribute, null=True)
    client_uri = UnicodeAttribute(null=True)
    logo_uri = UnicodeAttribute(null=True)
    registration_token_hash = UnicodeAttribute(null=True)
    auth_method = UnicodeAttribute(null=True)
    introspection = BooleanAttribute(null=True)
    #: "web" or "native"; absent on clients made before it was kept (see repositories._client).
    application_type = UnicodeAttribute(null=True)
    #: A client ID metadata document's client: until when its kept copy is fresh (passport.core.client_documents).
    document_expires_at = NumberAttribute(null=True)
    #: private_key_jwt: the registered JWK Set (canonical JSON) or where to fetch it; absent for other clients.
    jwks = UnicodeAttribute(null=True)
    jwks_uri = UnicodeAttribute(null=True)
    #: token_endpoint_auth_signing_alg (OpenID Connect Dynamic Client Registration 1.0 section 2); absent: any.
    auth_signing_alg = UnicodeAttribute(null=True)
    #: RFC 9126 6, RFC 9449 5.2 and the client's security profile (passport.core.profile); absent: off, "".
    require_par = BooleanAttribute(null=True)
    dpop_bound = BooleanAttribute(null=True)
    profile = UnicodeAttribute(null=True)


class UserModel(_Base):
    class Meta(_Base.Meta):
        table_name = "passport-users"

    pk = UnicodeAttribute(hash_key=True)  # user#<id>
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    created_at = NumberAttribute(default=0)
    email_verified = BooleanAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    #: The optional profile claims of OpenID Connect Core 1.0 5.1 (core.oidc.claims.PROFILE_FIELDS); absent when
    #: unset, so users stored before them read as having none.
    given_name = UnicodeAttribute(null=True)
    family_name = UnicodeAttribute(null=True)
    middle_name = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)
    preferred_username = UnicodeAttribute(null=True)
    profile = UnicodeAttribute(null=True)
    picture = UnicodeAttribute(null=True)
    website = UnicodeAttribute(null=True)
    gender = UnicodeAttribute(null=True)
    birthdate = UnicodeAttribute(null=True)
    zoneinfo = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)


class UserEmailModel(_Base):
    """``email#<lowercased address>`` -> user id: the uniqueness guard for emails, and the login lookup."""

    class Meta(_Base.Meta):
        table_name = "passport-users"

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class OwnerIndex(GlobalSecondaryIndex):
    """What a user owns, newest last: ``pat#<user id>`` (personal access tokens) and ``app#<user id>`` (the
    authorizations the user gave apps). Sparse: only items with an ``owner`` are in it."""

    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    issued_at = NumberAttribute(range_key=True)


class TokenModel(_Base):
    """The tokens table's key schema; each kind of token is a model over it."""

    class Meta(_Base.Meta):
        table_name = "passport-tokens"

    pk = UnicodeAttribute(hash_key=True)
    ttl = NumberAttribute()
    owner = UnicodeAttribute(null=True)
    issued_at = NumberAttribute(null=True)
    owner_index = OwnerIndex()


class AccessTokenModel(TokenModel):
    """``access#<jti>``: the record of a JWT access token (never the JWT itself)."""

    client_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    grant_type = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    name = UnicodeAttribute(null=True)


class CodeModel(TokenModel):
    """``code#<sha256(code)>``: an authorization code, spent by a conditional write."""

    client_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    redirect_uri_sent = BooleanAttribute(default=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    challenge = UnicodeAttribute(null=True)
    nonce = UnicodeAttribute(null=True)
    auth_time = NumberAttribute()
    used = BooleanAttribute(default=False)
    family_id = UnicodeAttribute(null=True)
    resources = ListAttribute(of=UnicodeAttribute, null=True)
    #: OpenID Connect Core 1.0 5.5: the claims asked of userinfo, and those asked of the ID token with their values
    #: (JSON), read at approval; 3.1.2.1: the acr asked for. Absent on codes without a claims request.
    userinfo_claims = ListAttribute(of=UnicodeAttribute, null=True)
    id_token_claims = UnicodeAttribute(null=True)
    acr = UnicodeAttribute(null=True)
    #: RFC 9449 10: the DPoP key the code is bound to; absent when not bound.
    dpop_jkt = UnicodeAttribute(null=True)


class RefreshTokenModel(TokenModel):
    """``refresh#<sha256(token)>``."""

    family_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    rotated = BooleanAttribute(default=False)
    revoked = BooleanAttribute(default=False)
    #: RFC 9449 5: the DPoP key a public client's refresh token is bound to; absent when not bound.
    jkt = UnicodeAttribute(null=True)


class FamilyModel(TokenModel):
    """``family#<id>``: one authorization's tokens; ``live_access`` lists ``jti:exp`` of access tokens that
    may still be alive, so revoking the family can revoke them in the same transaction."""

    client_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    auth_time = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    live_access = ListAttribute(of=UnicodeAttribute, default=list)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    resources = ListAttribute(of=UnicodeAttribute, null=True)
    userinfo_claims = ListAttribute(of=UnicodeAttribute, null=True)


class SessionModel(TokenModel):
    """``session#<sha256(cookie)>``: a browser session."""

    user_id = UnicodeAttribute()
    auth_time = NumberAttribute()
    csrf = UnicodeAttribute()


class ConsentModel(TokenModel):
    """``consent#<user id>#<client id>``: the scopes a user granted a client."""

    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = NumberAttribute()


class ThrottleModel(TokenModel):
    """``throttle#<account or address>``: recent failed logins and until when the next must wait."""

    failures = NumberAttribute(default=0)
    blocked_until = NumberAttribute(default=0)


class DeviceModel(TokenModel):
    """``device#<sha256(device code)>``: a device authorization (RFC 8628)."""

    user_code = UnicodeAttribute()
    client_id = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    interval = NumberAttribute()
    status = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    auth_time = NumberAttribute(default=0)
    last_poll = NumberAttribute(default=0)
    previous_poll = NumberAttribute(default=0)
    family_id = UnicodeAttribute(null=True)
    client_auth = UnicodeAttribute(null=True)


class UserCodeModel(TokenModel):
    """``usercode#<sha256(user code)>`` -> the device authorization: makes user codes unique among live ones."""

    device_hash = UnicodeAttribute()


class PushedRequestModel(TokenModel):
    """``par#<sha256(request_uri)>``: a pushed authorization request (RFC 9126 2), spent once by a conditional
    write (4). ``ttl`` is until when it can be used; ``issued_at`` when it was pushed."""

    client_id = UnicodeAttribute()
    #: The pushed parameters, name -> values, as JSON.
    params = UnicodeAttribute()
    started_at = NumberAttribute(null=True)
    used = BooleanAttribute(default=False)


#: table setting name -> the model whose schema creates that table
TABLES: dict[str, type[Model]] = {
    "clients_table": ClientModel,
    "users_table": UserModel,
    "tokens_table": TokenModel,
}

_MODELS_BY_TABLE: dict[str, tuple[type[Model], ...]] = {
    "clients_table": (ClientModel,),
    "users_table": (UserModel, UserEmailModel),
    "tokens_table": (
        TokenModel, AccessTokenModel, CodeModel, RefreshTokenModel, FamilyModel, SessionModel, ConsentModel,
        ThrottleModel, DeviceModel, UserCodeModel, PushedRequestModel,
    ),
}


def bind(storage: Any) -> None:
    """Point every model at the configured tables (and region), with the configured call limits; safe to call
    again with new settings."""
    configure(storage)
    for setting, models in _MODELS_BY_TABLE.items():
        for model in models:
            model.Meta.table_name = getattr(storage, setting)
            if storage.region:
                model.Meta.region = storage.region
            forget_connection(model)


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


def email_key(email: str) -> str:
    return f"email#{email.strip().lower()}"


def code_key(code_hash: str) -> str:
    return f"code#{code_hash}"


def refresh_key(token_hash: str) -> str:
    return f"refresh#{token_hash}"


def family_key(family_id: str) -> str:
    return f"family#{family_id}"


def session_key(session_hash: str) -> str:
    return f"session#{session_hash}"


def consent_key(user_id: str, client_id: str) -> str:
    return f"consent#{user_id}#{client_id}"


def throttle_key(key: str) -> str:
    return f"throttle#{key}"


def device_key(device_hash: str) -> str:
    return f"device#{device_hash}"


def user_code_key(user_code: str) -> str:
    return f"usercode#{user_code}"


def par_key(uri_hash: str) -> str:
    return f"par#{uri_hash}"


def pat_owner(user_id: str) -> str:
    return f"pat#{user_id}"


def app_owner(user_id: str) -> str:
    """The owner index key of the authorizations a user gave apps."""
    return f"app#{user_id}"
