"""pynamodb models (SPEC section 7).

Three tables: clients (key ``client_id``), users (key ``pk``: ``user#<id>`` and ``email#<address>``, the second
making emails unique) and tokens (key ``pk``: ``access#<jti>`` and, as later grants arrive, hashed refresh
tokens, codes and device codes). Every token item carries ``ttl`` (epoch seconds), DynamoDB's TTL attribute;
TTL deletes lag, so every read checks expiry too.

Table names come from settings: :func:`bind` sets them before first use.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.models import Model

from passport.storage.connection import CONNECT_TIMEOUT, READ_TIMEOUT, RETRIES, dynamodb_client, share_client

TTL_ATTRIBUTE = "ttl"

class _Base(Model):
    class Meta:
        table_name: str = ""
        # Lambda answers within API Gateway's 29 s; a stuck DynamoDB call must fail fast and become a 503.
        connect_timeout_seconds = CONNECT_TIMEOUT
        read_timeout_seconds = READ_TIMEOUT
        max_retry_attempts = RETRIES

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if table.connection._client is not dynamodb_client(cls.Meta.region):
            share_client(table.connection, cls.Meta.region)
        return table


class ClientModel(_Base):
    class Meta(_Base.Meta):
        table_name = "passport-clients"

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


class UserModel(_Base):
    class Meta(_Base.Meta):
        table_name = "passport-users"

    pk = UnicodeAttribute(hash_key=True)  # user#<id>
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    created_at = NumberAttribute(default=0)


class UserEmailModel(_Base):
    """``email#<lowercased address>`` -> user id: the uniqueness guard for emails, and the login lookup."""

    class Meta(_Base.Meta):
        table_name = "passport-users"

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class TokenModel(_Base):
    """The tokens table's key schema; each kind of token is a model over it."""

    class Meta(_Base.Meta):
        table_name = "passport-tokens"

    pk = UnicodeAttribute(hash_key=True)
    ttl = NumberAttribute()


class AccessTokenModel(TokenModel):
    """``access#<jti>``: the record of a JWT access token (never the JWT itself)."""

    client_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    issued_at = NumberAttribute()
    grant_type = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    name = UnicodeAttribute(null=True)


#: table setting name -> the model whose schema creates that table
TABLES: dict[str, type[Model]] = {
    "clients_table": ClientModel,
    "users_table": UserModel,
    "tokens_table": TokenModel,
}

_MODELS_BY_TABLE: dict[str, tuple[type[Model], ...]] = {
    "clients_table": (ClientModel,),
    "users_table": (UserModel, UserEmailModel),
    "tokens_table": (TokenModel, AccessTokenModel),
}


def bind(storage: Any) -> None:
    """Point every model at the configured tables (and region); safe to call again with new settings."""
    for setting, models in _MODELS_BY_TABLE.items():
        for model in models:
            model.Meta.table_name = getattr(storage, setting)
            if storage.region:
                model.Meta.region = storage.region
            model._connection = None


def access_key(jti: str) -> str:
    return f"access#{jti}"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


def email_key(email: str) -> str:
    return f"email#{email.strip().lower()}"
