"""The hot items written and read without building a pynamodb model (passport.storage.items and the client and
access-token codecs of passport.storage.repositories) are exactly what the models write and read: no I/O, the
models' own serialization is the reference."""

from __future__ import annotations

import dataclasses

import pytest
from passport.core.clients import PERSONAL_ACCESS
from passport.core.models import AccessTokenRecord, Client
from passport.storage.items import flag, number, text, texts
from passport.storage.models import AccessTokenModel, ClientModel, access_key, pat_owner
from passport.storage.repositories import access_attributes, access_item, client_from_item, client_from_model


def model_of(record: AccessTokenRecord) -> AccessTokenModel:
    """The record as the model was built before the codec: attribute by attribute."""
    owner = pat_owner(record.user_id) if record.grant_type == PERSONAL_ACCESS and record.user_id else None
    return AccessTokenModel(
        access_key(record.jti), ttl=record.expires_at, client_id=record.client_id, user_id=record.user_id,
        scopes=list(record.scopes), issued_at=record.issued_at, grant_type=record.grant_type,
        revoked=record.revoked, name=record.name, owner=owner,
    )


RECORDS = [
    AccessTokenRecord(jti="a" * 32, client_id="c1", scopes=("orders:read",), issued_at=1_796_000_000,
                      expires_at=1_796_003_600, grant_type="client_credentials"),
    AccessTokenRecord(jti="b" * 32, client_id="c2", scopes=(), issued_at=1, expires_at=2,
                      grant_type="authorization_code", user_id="u1", revoked=True),
    AccessTokenRecord(jti="c" * 32, client_id="c3", scopes=("a", "b"), issued_at=10, expires_at=20,
                      grant_type=PERSONAL_ACCESS, user_id="u2", name="laptop"),
]


@pytest.mark.parametrize("record", RECORDS, ids=["client_credentials", "user_revoked", "personal"])
def test_an_access_token_item_is_what_the_model_serializes(record):
    assert access_attributes(record) == model_of(record).serialize()


@pytest.mark.parametrize("record", RECORDS, ids=["client_credentials", "user_revoked", "personal"])
def test_the_model_built_from_the_item_serializes_to_the_same_item(record):
    assert access_item(record).serialize() == model_of(record).serialize()


def every_field_set() -> Client:
    """A client whose every field differs from its default, so a field the codec forgets fails the test."""
    client = Client(
        client_id="cid", name="App", secret_hash="sha256:00", redirect_uris=("https://app.example/cb",),
        grant_types=("authorization_code", "refresh_token"), scopes=("orders:read", "openid"), first_party=True,
        revoked=True, user_id="u1", created_at=1_796_000_000, post_logout_redirect_uris=("https://app.example/",),
        client_uri="https://app.example", logo_uri="https://app.example/logo.png", registration_token_hash="h",
        auth_method="private_key_jwt", introspection=True, application_type="native",
        document_expires_at=1_796_000_300, jwks='{"keys":[]}', jwks_uri="https://app.example/jwks",
        auth_signing_alg="ES256", require_par=True, dpop_bound=True, profile="fapi2",
    )
    defaults = Client(client_id="", name="")
    same = [f.name for f in dataclasses.fields(Client)
            if f.name not in ("client_id", "name") and getattr(client, f.name) == getattr(defaults, f.name)]
    assert not same, f"set these too: {same}"
    return client


def model_of_client(client: Client) -> ClientModel:
    return ClientModel(
        client.client_id, name=client.name, secret_hash=client.secret_hash,
        redirect_uris=list(client.redirect_uris), grant_types=list(client.grant_types), scopes=list(client.scopes),
        first_party=client.first_party, revoked=client.revoked, user_id=client.user_id,
        created_at=client.created_at, updated_at=client.created_at,
        post_logout_redirect_uris=list(client.post_logout_redirect_uris) or None, client_uri=client.client_uri,
        logo_uri=client.logo_uri, registration_token_hash=client.registration_token_hash,
        auth_method=client.auth_method or None, introspection=client.introspection or None,
        application_type=client.application_type, document_expires_at=client.document_expires_at or None,
        jwks=client.jwks, jwks_uri=client.jwks_uri, auth_signing_alg=client.auth_signing_alg or None,
        require_par=client.require_par or None, dpop_bound=client.dpop_bound or None, profile=client.profile or None,
    )


def test_a_client_reads_back_from_its_item_with_every_field():
    client = every_field_set()
    assert client_from_item(model_of_client(client).serialize()) == client
    assert client_from_model(model_of_client(client)) == client


def test_a_client_item_with_only_the_required_attributes_reads_as_the_defaults():
    item = {"client_id": {"S": "cid"}, "name": {"S": "App"}, "redirect_uris": {"L": []},
            "jwks": {"NULL": True}, "created_at": {"N": "0"}}
    assert client_from_item(item) == Client(client_id="cid", name="App")


def test_a_client_kept_before_its_application_type_was_is_native_with_a_private_use_redirect():
    item = {"client_id": {"S": "cid"}, "name": {"S": "App"}, "redirect_uris": {"L": [{"S": "com.example.app:/cb"}]}}
    assert client_from_item(item).application_type == "native"


def test_attribute_readers_take_absent_and_null_as_the_default():
    item = {"n": {"NULL": True}}
    for name in ("n", "missing"):
        assert (text(item, name), texts(item, name), flag(item, name), number(item, name)) == (None, (), False, 0)


@pytest.mark.parametrize(("digits", "value"), [("0", 0), ("1796000000", 1_796_000_000), ("-1", -1), ("1e3", 1000),
                                               ("12.0", 12)])
def test_a_number_reads_in_each_form_dynamodb_gives_it(digits, value):
    assert number({"n": {"N": digits}}, "n") == value
