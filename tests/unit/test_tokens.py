"""JWT access tokens (RFC 9068): header, claims, and the record kept for revocation and introspection."""

from __future__ import annotations

import dataclasses
import inspect

import jwt
import pytest
from passport.core.models import AccessTokenRecord
from passport.core.tokens import ACCESS_TOKEN_TYP, AccessTokenIssuer
from passport.keys.keyring import JwtSigner

from tests.unit.fakes import FixedClock, MemoryAccessTokenStore

ISSUER = "https://auth.example.com"
AUDIENCE = "https://auth.example.com/api"
NOW = 1_800_000_000


@pytest.fixture
def store() -> MemoryAccessTokenStore:
    return MemoryAccessTokenStore()


@pytest.fixture
def issuer(signer: JwtSigner, store: MemoryAccessTokenStore) -> AccessTokenIssuer:
    return AccessTokenIssuer(
        signer=signer, store=store, clock=FixedClock(NOW), issuer=ISSUER, audience=AUDIENCE, lifetime=3600
    )


def verified_claims(token: str, signer: JwtSigner) -> dict:
    return jwt.decode(
        token,
        signer.verification_key.key,
        algorithms=[signer.alg],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )


def test_the_header_is_typ_at_jwt_with_alg_and_kid(issuer, signer):
    issued = issuer.issue(client_id="c1", scopes=("orders:read",), grant_type="client_credentials")
    header = jwt.get_unverified_header(issued.access_token)
    assert header == {"alg": "RS256", "kid": signer.kid, "typ": ACCESS_TOKEN_TYP}
    assert ACCESS_TOKEN_TYP == "at+jwt"


def test_the_claims_are_exactly_those_of_rfc9068_plus_scopes(issuer, signer):
    issued = issuer.issue(client_id="c1", scopes=("orders:read", "orders:write"), grant_type="client_credentials")
    claims = verified_claims(issued.access_token, signer)
    assert set(claims) == {"iss", "sub", "aud", "client_id", "jti", "iat", "nbf", "exp", "scope", "scopes"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["client_id"] == "c1"
    assert claims["iat"] == claims["nbf"] == NOW
    assert claims["exp"] == NOW + 3600
    assert claims["scope"] == "orders:read orders:write"
    assert claims["scopes"] == ["orders:read", "orders:write"]


def test_sub_is_the_client_when_there_is_no_user(issuer, signer):
    issued = issuer.issue(client_id="c1", scopes=(), grant_type="client_credentials")
    assert verified_claims(issued.access_token, signer)["sub"] == "c1"


def test_sub_is_the_user_id_when_given(issuer, signer):
    issued = issuer.issue(client_id="c1", scopes=(), grant_type="authorization_code", user_id="user-7")
    claims = verified_claims(issued.access_token, signer)
    assert claims["sub"] == "user-7"
    assert claims["client_id"] == "c1"
    assert issued.record.user_id == "user-7"


def test_the_jti_is_unique_and_at_least_128_random_bits(issuer, signer):
    jtis = {
        verified_claims(issuer.issue(client_id="c", scopes=(), grant_type="g").access_token, signer)["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20
    assert all(len(jti) >= 32 for jti in jtis)


def test_the_record_is_saved_with_the_same_jti_and_expiry(issuer, signer, store):
    issued = issuer.issue(client_id="c1", scopes=("orders:read",), grant_type="client_credentials", name="cli")
    claims = verified_claims(issued.access_token, signer)
    record = store.get(claims["jti"])
    assert record is not None and record == issued.record
    assert record.expires_at == claims["exp"]
    assert record.issued_at == claims["iat"]
    assert (record.client_id, record.scopes, record.grant_type, record.name) == (
        "c1",
        ("orders:read",),
        "client_credentials",
        "cli",
    )
    assert record.user_id is None and record.revoked is False


def test_the_token_itself_is_never_stored(issuer, store):
    issued = issuer.issue(client_id="c1", scopes=(), grant_type="client_credentials")
    (record,) = store.records.values()
    assert issued.access_token not in repr(record)


def test_a_per_token_lifetime_overrides_the_default(issuer, signer):
    issued = issuer.issue(client_id="c1", scopes=(), grant_type="personal_access", lifetime=60)
    assert issued.expires_in == 60
    assert verified_claims(issued.access_token, signer)["exp"] == NOW + 60
    assert issued.record.expires_at == NOW + 60


def test_expires_in_is_the_lifetime(issuer):
    assert issuer.issue(client_id="c1", scopes=(), grant_type="client_credentials").expires_in == 3600


def test_no_scopes_is_an_empty_scope_claim_and_list(issuer, signer):
    claims = verified_claims(issuer.issue(client_id="c1", scopes=(), grant_type="g").access_token, signer)
    assert claims["scope"] == "" and claims["scopes"] == []


def test_a_failed_record_write_issues_no_token(signer):
    class FailingStore(MemoryAccessTokenStore):
        def save(self, record):
            raise RuntimeError("storage down")

    issuer = AccessTokenIssuer(
        signer=signer, store=FailingStore(), clock=FixedClock(NOW), issuer=ISSUER, audience=AUDIENCE, lifetime=3600
    )
    with pytest.raises(RuntimeError):
        issuer.issue(client_id="c1", scopes=(), grant_type="client_credentials")


@pytest.mark.parametrize("key_fixture", ["ec_key", "ed_key"])
def test_other_algorithms_sign_with_their_own_alg(request, key_fixture, store):
    signer = JwtSigner(request.getfixturevalue(key_fixture))
    issuer = AccessTokenIssuer(
        signer=signer, store=store, clock=FixedClock(NOW), issuer=ISSUER, audience=AUDIENCE, lifetime=3600
    )
    token = issuer.issue(client_id="c1", scopes=("a",), grant_type="client_credentials").access_token
    assert jwt.get_unverified_header(token) == {"alg": signer.alg, "kid": signer.kid, "typ": "at+jwt"}
    assert verified_claims(token, signer)["scopes"] == ["a"]


def test_the_record_is_frozen_and_its_init_is_the_dataclass_one():
    """AccessTokenRecord sets its fields in one step (passport.core.models): the same parameters, order and defaults
    as the dataclass's own __init__ would take, and still frozen."""
    fields = dataclasses.fields(AccessTokenRecord)
    parameters = list(inspect.signature(AccessTokenRecord.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert parameter.default == field.default
        elif field.default_factory is not dataclasses.MISSING:
            assert parameter.default is None  # the factory's value is made when None is given
        else:
            assert parameter.default is inspect.Parameter.empty
    record = AccessTokenRecord(jti="j", client_id="c", scopes=("a",), issued_at=1, expires_at=2, grant_type="g")
    assert dataclasses.asdict(record) == {"jti": "j", "client_id": "c", "scopes": ("a",), "issued_at": 1,
                                          "expires_at": 2, "grant_type": "g", "user_id": None, "revoked": False,
                                          "name": None, "extra": {}}
    assert record.extra is not AccessTokenRecord("j", "c", ("a",), 1, 2, "g").extra
    assert dataclasses.replace(record, revoked=True).revoked and not record.revoked
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.revoked = True  # type: ignore[misc]
