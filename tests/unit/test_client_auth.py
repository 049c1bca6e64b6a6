"""Client authentication at the token endpoint (RFC 6749 sections 2.3.1 and 3.2.1, RFC 7617)."""

from __future__ import annotations

import base64

import pytest
from passport.core import client_auth
from passport.core.client_auth import (
    MAX_CLIENT_ID_LENGTH,
    ClientCredentials,
    authenticate_client,
    extract_credentials,
    parse_basic,
)
from passport.core.errors import OAuthError
from passport.core.hashing import hash_secret
from passport.core.http import Headers
from passport.core.models import Client

from tests.unit.fakes import MemoryClientStore, basic

SECRET = "s3cr3t:with+plus%percent and space/slash=eq&amp"
CONFIDENTIAL = Client(
    "11111111-1111-4111-8111-111111111111",
    "confidential",
    secret_hash=hash_secret(SECRET),
    grant_types=("client_credentials",),
)
PUBLIC = Client(
    "22222222-2222-4222-8222-222222222222",
    "public app",
    secret_hash=None,
    grant_types=("authorization_code",),
    redirect_uris=("https://app.example/cb",),
)
REVOKED = Client(
    "33333333-3333-4333-8333-333333333333",
    "revoked",
    secret_hash=hash_secret(SECRET),
    grant_types=("client_credentials",),
    revoked=True,
)


def b64(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode("ascii")


def refusal(call, *args) -> OAuthError:
    with pytest.raises(OAuthError) as raised:
        call(*args)
    return raised.value


def assert_basic_challenge(error: OAuthError) -> None:
    assert error.error == "invalid_client"
    assert error.status == 401
    assert error.headers["WWW-Authenticate"].startswith("Basic")


# --- parse_basic ---------------------------------------------------------------------------------------------


def test_basic_credentials_are_form_urlencoded_inside():
    assert parse_basic(basic("my client:id", SECRET)) == ("my client:id", SECRET)


def test_a_percent_encoded_colon_in_the_client_id_does_not_split_it():
    assert parse_basic(b64(b"a%3Ab:secret")) == ("a:b", "secret")


def test_the_secret_may_contain_raw_colons():
    assert parse_basic(b64(b"id:se:cr:et")) == ("id", "se:cr:et")


def test_a_plus_inside_basic_credentials_decodes_as_a_space():
    assert parse_basic(b64(b"id:a+b%2Bc")) == ("id", "a b+c")


def test_non_ascii_credentials_are_utf8_then_percent_encoded():
    assert parse_basic(basic("client-\u00e9", "p\u00e4ss")) == ("client-\u00e9", "p\u00e4ss")


def test_an_empty_secret_is_an_empty_string():
    assert parse_basic(b64(b"id:")) == ("id", "")


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic abc",  # bad padding
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),  # not UTF-8
        "Basic ",
        "Basic \u00e9\u00e9\u00e9\u00e9",
    ],
    ids=["not-base64", "bad-padding", "missing-colon", "empty-id", "not-utf8", "empty", "non-ascii"],
)
def test_malformed_basic_credentials_are_invalid_client_with_a_basic_challenge(header):
    assert_basic_challenge(refusal(parse_basic, header))


# --- extract_credentials -------------------------------------------------------------------------------------


def headers(**items: str) -> Headers:
    return Headers(items)


def test_basic_auth_is_client_secret_basic():
    creds = extract_credentials(headers(Authorization=basic("id", "pw")), {})
    assert creds == ClientCredentials("id", "pw", "client_secret_basic")


def test_the_basic_scheme_name_is_case_insensitive():
    for scheme in ("basic", "BASIC", "bAsIc"):
        value = basic("id", "pw").replace("Basic", scheme, 1)
        assert extract_credentials(headers(authorization=value), {}).method == "client_secret_basic"


def test_id_and_secret_in_the_body_are_client_secret_post():
    creds = extract_credentials(headers(), {"client_id": ["id"], "client_secret": ["pw"]})
    assert creds == ClientCredentials("id", "pw", "client_secret_post")


def test_client_id_alone_is_the_none_method():
    assert extract_credentials(headers(), {"client_id": ["id"]}) == ClientCredentials("id", None, "none")


def test_no_credentials_at_all_is_the_none_method_without_an_id():
    assert extract_credentials(headers(), {}) == ClientCredentials(None, None, "none")


def test_basic_and_a_body_secret_together_are_invalid_request():
    form = {"client_secret": ["pw"]}
    error = refusal(extract_credentials, headers(Authorization=basic("id", "pw")), form)
    assert error.error == "invalid_request" and error.status == 400


def test_a_body_client_id_differing_from_basic_is_invalid_request():
    error = refusal(extract_credentials, headers(Authorization=basic("id", "pw")), {"client_id": ["other"]})
    assert error.error == "invalid_request"


def test_a_body_client_id_equal_to_basic_is_accepted():
    creds = extract_credentials(headers(Authorization=basic("id", "pw")), {"client_id": ["id"]})
    assert creds.method == "client_secret_basic" and creds.client_id == "id"


@pytest.mark.parametrize("name", ["client_id", "client_secret"])
def test_a_repeated_credential_parameter_is_invalid_request(name):
    form = {"client_id": ["id"], "client_secret": ["pw"]}
    form[name] = ["a", "b"]
    assert refusal(extract_credentials, headers(), form).error == "invalid_request"


def test_another_authorization_scheme_is_not_client_authentication():
    creds = extract_credentials(headers(Authorization="Bearer abc"), {"client_id": ["id"]})
    assert creds == ClientCredentials("id", None, "none")


# --- authenticate_client -------------------------------------------------------------------------------------


@pytest.fixture
def clients() -> MemoryClientStore:
    return MemoryClientStore(CONFIDENTIAL, PUBLIC, REVOKED)


def via_basic(client_id: str, secret: str) -> ClientCredentials:
    return ClientCredentials(client_id, secret, "client_secret_basic")


def via_post(client_id: str, secret: str) -> ClientCredentials:
    return ClientCredentials(client_id, secret, "client_secret_post")


def test_a_confidential_client_with_its_secret_via_basic_is_authenticated(clients):
    assert authenticate_client(via_basic(CONFIDENTIAL.client_id, SECRET), clients) == CONFIDENTIAL


def test_a_confidential_client_with_its_secret_in_the_body_is_authenticated(clients):
    assert authenticate_client(via_post(CONFIDENTIAL.client_id, SECRET), clients) == CONFIDENTIAL


def test_end_to_end_basic_header_with_reserved_characters_authenticates(clients):
    creds = extract_credentials(headers(Authorization=basic(CONFIDENTIAL.client_id, SECRET)), {})
    assert authenticate_client(creds, clients) == CONFIDENTIAL


def test_an_unknown_client_via_basic_is_401_with_a_basic_challenge(clients):
    assert_basic_challenge(refusal(authenticate_client, via_basic("nobody", SECRET), clients))


def test_an_unknown_client_via_the_body_is_401_without_a_challenge(clients):
    error = refusal(authenticate_client, via_post("nobody", SECRET), clients)
    assert (error.error, error.status) == ("invalid_client", 401)
    assert "WWW-Authenticate" not in error.headers


def test_an_unknown_client_costs_a_secret_comparison_too(clients, monkeypatch):
    calls = []
    real = client_auth.verify_secret
    monkeypatch.setattr(client_auth, "verify_secret", lambda s, h: calls.append(h) or real(s, h))
    refusal(authenticate_client, via_basic("nobody", SECRET), clients)
    assert calls == [None]


def test_a_revoked_client_is_invalid_client_even_with_the_right_secret(clients):
    assert_basic_challenge(refusal(authenticate_client, via_basic(REVOKED.client_id, SECRET), clients))


@pytest.mark.parametrize("secret", ["wrong", "", SECRET + "x", SECRET[:-1], SECRET.upper()])
def test_a_wrong_secret_is_invalid_client(clients, secret):
    assert_basic_challenge(refusal(authenticate_client, via_basic(CONFIDENTIAL.client_id, secret), clients))


def test_a_confidential_client_sending_no_secret_is_invalid_client(clients):
    error = refusal(authenticate_client, ClientCredentials(CONFIDENTIAL.client_id, None, "none"), clients)
    assert (error.error, error.status) == ("invalid_client", 401)


@pytest.mark.parametrize("credentials", [via_post, via_basic])
def test_a_public_client_sending_a_secret_is_invalid_client(clients, credentials):
    error = refusal(authenticate_client, credentials(PUBLIC.client_id, "anything"), clients)
    assert (error.error, error.status) == ("invalid_client", 401)


def test_a_public_client_sending_its_id_only_is_authenticated(clients):
    assert authenticate_client(ClientCredentials(PUBLIC.client_id, None, "none"), clients) == PUBLIC


def test_no_client_id_is_invalid_client(clients):
    error = refusal(authenticate_client, ClientCredentials(None, None, "none"), clients)
    assert (error.error, error.status) == ("invalid_client", 401)
    assert clients.lookups == []


def test_an_over_long_client_id_is_refused_before_storage(clients):
    error = refusal(authenticate_client, via_post("x" * (MAX_CLIENT_ID_LENGTH + 1), SECRET), clients)
    assert (error.error, error.status) == ("invalid_client", 401)
    assert clients.lookups == []


def test_a_client_id_of_the_maximum_length_reaches_storage(clients):
    refusal(authenticate_client, via_post("x" * MAX_CLIENT_ID_LENGTH, SECRET), clients)
    assert clients.lookups == ["x" * MAX_CLIENT_ID_LENGTH]
