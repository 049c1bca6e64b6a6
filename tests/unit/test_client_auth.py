"""Client authentication at the token endpoint (RFC 6749 sections 2.3.1 and 3.2.1, RFC 7617), and with
``private_key_jwt`` (RFC 7521 4.2, RFC 7523 2.2 and 3, OpenID Connect Core 1.0 section 9)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

import jwt
import pytest
from passport.core import client_auth
from passport.core.client_assertions import CLIENT_ASSERTION_TYPE, parse_client_jwks
from passport.core.client_auth import (
    AUTH_METHODS,
    JWT_BEARER_ASSERTION,
    MAX_CLIENT_ID_LENGTH,
    PRIVATE_KEY_JWT,
    ClientAssertions,
    ClientCredentials,
    authenticate_client,
    extract_credentials,
    parse_basic,
)
from passport.core.client_keys import RegisteredKeys
from passport.core.clients import DEVICE_CODE
from passport.core.device import DeviceAuthorizationEndpoint
from passport.core.errors import OAuthError
from passport.core.hashing import hash_secret
from passport.core.http import Headers
from passport.core.models import Client, DeviceAuthorization
from passport.core.scopes import ScopePolicy
from passport.keys.material import PrivateKey, generate, public_jwk_members

from tests.unit.fakes import FixedClock, MemoryClientStore, SpentAssertions, basic, form_request

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


# --- private_key_jwt (RFC 7521 4.2, RFC 7523 2.2 and 3, OpenID Connect Core 1.0 section 9) -------------------

ISSUER = "https://as.example.com"
TOKEN_ENDPOINT = ISSUER + "/oauth/token"
REVOCATION_ENDPOINT = ISSUER + "/oauth/revoke"
NOW = 1_800_000_000


def jwk_set(*keys: PrivateKey, **members: str) -> str:
    """A client's registered jwks as kept: the canonical JSON registration stores (kids k1, k2... in order)."""
    jwks = [{**public_jwk_members(key.public_key()), "kid": f"k{i}", **members} for i, key in enumerate(keys, 1)]
    return parse_client_jwks({"keys": jwks}).canonical_json


@pytest.fixture(scope="module")
def other_key() -> PrivateKey:
    """A key nobody registered: the attacker's."""
    return generate("ES256")


@pytest.fixture
def key_client(ec_key) -> Client:
    return Client("44444444-4444-4444-8444-444444444444", "signs its requests", jwks=jwk_set(ec_key),
                  grant_types=("client_credentials",))


@pytest.fixture
def spent() -> SpentAssertions:
    return SpentAssertions()


@pytest.fixture
def assertions(spent) -> ClientAssertions:
    return ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(NOW),
                            audiences=(ISSUER, TOKEN_ENDPOINT))


@pytest.fixture
def key_clients(key_client) -> MemoryClientStore:
    return MemoryClientStore(CONFIDENTIAL, PUBLIC, REVOKED, key_client)


def assertion(key: PrivateKey, client_id: str, *, alg: str = "ES256", kid: str = "k1", **claims: object) -> str:
    """A client assertion as a client library signs one (PyJWT): iss and sub the client, aud the token endpoint,
    living a minute, a jti of its own."""
    body = {"iss": client_id, "sub": client_id, "aud": TOKEN_ENDPOINT, "iat": NOW, "exp": NOW + 60,
            "jti": f"jti-{client_id}-{alg}", **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg, headers={"kid": kid})


def via_assertion(signed: str, client_id: str | None = None) -> ClientCredentials:
    form = {"client_assertion_type": [CLIENT_ASSERTION_TYPE], "client_assertion": [signed]}
    if client_id is not None:
        form["client_id"] = [client_id]
    return extract_credentials(headers(), form)


def test_the_assertion_type_understood_is_rfc_7523s_jwt_bearer():
    assert JWT_BEARER_ASSERTION == CLIENT_ASSERTION_TYPE == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert PRIVATE_KEY_JWT in AUTH_METHODS


def test_an_assertion_is_the_private_key_jwt_method_and_names_the_client_by_its_sub(ec_key, key_client):
    signed = assertion(ec_key, key_client.client_id)
    assert via_assertion(signed) == ClientCredentials(key_client.client_id, None, "private_key_jwt", signed)


def test_a_client_id_in_the_form_names_the_client_and_must_be_the_assertions_sub(ec_key, key_client):
    """RFC 7521 4.2: client_id is optional with an assertion; sent, it is the client the assertion is for."""
    signed = assertion(ec_key, key_client.client_id)
    assert via_assertion(signed, key_client.client_id).client_id == key_client.client_id
    error = refusal(via_assertion, signed, CONFIDENTIAL.client_id)
    assert (error.error, error.status) == ("invalid_client", 401)


@pytest.mark.parametrize("other", ["basic", "client_secret"])
def test_an_assertion_with_a_secret_too_is_two_methods_and_invalid_request(ec_key, key_client, other):
    """RFC 6749 2.3: "The client MUST NOT use more than one authentication method in each request"."""
    form = {"client_assertion_type": [CLIENT_ASSERTION_TYPE], "client_assertion": [assertion(ec_key, "c")]}
    sent = headers()
    if other == "basic":
        sent = headers(Authorization=basic(key_client.client_id, SECRET))
    else:
        form["client_secret"] = [SECRET]
    error = refusal(extract_credentials, sent, form)
    assert (error.error, error.status) == ("invalid_request", 400)


@pytest.mark.parametrize("form", [
    {"client_assertion": ["a.b.c"]},
    {"client_assertion_type": [CLIENT_ASSERTION_TYPE]},
    {"client_assertion_type": [CLIENT_ASSERTION_TYPE], "client_assertion": ["a.b.c", "a.b.c"]},
    {"client_assertion_type": [CLIENT_ASSERTION_TYPE, CLIENT_ASSERTION_TYPE], "client_assertion": ["a.b.c"]},
], ids=["assertion-without-type", "type-without-assertion", "repeated-assertion", "repeated-type"])
def test_an_assertion_and_its_type_go_together_once_each_else_invalid_request(form):
    """RFC 7521 4.2: both parameters are REQUIRED; RFC 6749 3.2: none may be repeated."""
    assert refusal(extract_credentials, headers(), form).error == "invalid_request"


def test_another_assertion_type_is_an_unsupported_method_and_invalid_client():
    """RFC 6749 5.2: invalid_client covers "unsupported authentication method" (a SAML assertion, RFC 7522)."""
    form = {"client_assertion_type": ["urn:ietf:params:oauth:client-assertion-type:saml2-bearer"],
            "client_assertion": ["PHNhbWw+"], "client_id": ["id"]}
    error = refusal(extract_credentials, headers(), form)
    assert (error.error, error.status) == ("invalid_client", 401)


def test_a_client_with_keys_and_a_valid_assertion_is_authenticated_and_its_jti_spent(
        ec_key, key_client, key_clients, assertions, spent):
    signed = assertion(ec_key, key_client.client_id)
    assert authenticate_client(via_assertion(signed), key_clients, assertions) == key_client
    assert spent.spent == {(key_client.client_id, f"jti-{key_client.client_id}-ES256"): NOW + 60 + 5}


def test_a_replayed_assertion_is_invalid_client(ec_key, key_client, key_clients, assertions):
    """RFC 7523 3 point 7, OpenID Connect Core 1.0 section 9: an assertion is used once."""
    signed = assertion(ec_key, key_client.client_id)
    authenticate_client(via_assertion(signed), key_clients, assertions)
    error = refusal(authenticate_client, via_assertion(signed), key_clients, assertions)
    assert (error.error, error.status) == ("invalid_client", 401) and "already used" in error.description


@pytest.mark.parametrize("claims, reason", [
    ({"exp": NOW - 60, "iat": NOW - 120}, "expired"),
    ({"aud": "https://elsewhere.example/token"}, "aud"),
    ({"aud": REVOCATION_ENDPOINT}, "aud"),  # another endpoint's URL, at the token endpoint
    ({"exp": NOW + 3601}, "lives longer"),  # an hour at most (MAX_ASSERTION_LIFETIME_SECONDS)
    ({"jti": None}, "jti"),
    ({"iss": "someone-else"}, "iss"),
], ids=["expired", "another-server", "another-endpoint", "too-long-lived", "no-jti", "iss-not-sub"])
def test_an_assertion_failing_a_check_is_invalid_client_naming_the_check_and_spends_nothing(
        ec_key, key_client, key_clients, assertions, spent, claims, reason):
    signed = assertion(ec_key, key_client.client_id, **claims)
    error = refusal(authenticate_client, ClientCredentials(key_client.client_id, None, "private_key_jwt", signed),
                    key_clients, assertions)
    assert (error.error, error.status) == ("invalid_client", 401)
    assert reason in error.description and "WWW-Authenticate" not in error.headers
    assert spent.spent == {}


def test_an_assertion_signed_by_another_key_is_invalid_client(key_client, key_clients, assertions, other_key):
    signed = assertion(other_key, key_client.client_id)
    error = refusal(authenticate_client, via_assertion(signed), key_clients, assertions)
    # Which check failed, and nothing of the keys (RFC 7521 4.2.1: error_description "MAY" say why).
    assert (error.error, error.description) == ("invalid_client", "The client assertion was refused: the client "
                                                "assertion's signature does not verify with the client's keys.")


def test_the_endpoint_called_is_an_audience_where_it_names_itself(ec_key, key_client, key_clients, spent):
    """draft-ietf-oauth-rfc7523bis: the issuer; RFC 7523 3 point 3 and OpenID Connect Core 9: the token endpoint;
    and the URL of the endpoint the assertion is sent to (revocation here)."""
    at_revocation = ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(NOW),
                                     audiences=(ISSUER, TOKEN_ENDPOINT, REVOCATION_ENDPOINT))
    for number, aud in enumerate((ISSUER, TOKEN_ENDPOINT, REVOCATION_ENDPOINT, [ISSUER, "https://x.example"])):
        signed = assertion(ec_key, key_client.client_id, aud=aud, jti=f"j{number}")
        assert authenticate_client(via_assertion(signed), key_clients, at_revocation) == key_client


def test_a_client_with_keys_cannot_authenticate_with_a_secret_or_nothing(key_client, key_clients, assertions):
    """It has no secret (OpenID Connect Core 9: private_key_jwt is its registered method)."""
    for credentials in (via_basic(key_client.client_id, SECRET), via_post(key_client.client_id, SECRET),
                        ClientCredentials(key_client.client_id, None, "none")):
        error = refusal(authenticate_client, credentials, key_clients, assertions)
        assert (error.error, error.status) == ("invalid_client", 401) and "private_key_jwt" in error.description


def test_a_client_with_keys_is_refused_where_no_assertions_are_taken(ec_key, key_client, key_clients):
    signed = assertion(ec_key, key_client.client_id)
    assert refusal(authenticate_client, via_assertion(signed), key_clients).error == "invalid_client"


@pytest.mark.parametrize("client", [CONFIDENTIAL, PUBLIC], ids=["with-a-secret", "public"])
def test_a_client_without_keys_cannot_authenticate_with_an_assertion(ec_key, key_clients, assertions, spent,
                                                                     client):
    signed = assertion(ec_key, client.client_id)
    error = refusal(authenticate_client, via_assertion(signed), key_clients, assertions)
    assert (error.error, error.status) == ("invalid_client", 401) and "no keys" in error.description
    assert spent.spent == {}


@pytest.mark.parametrize("client_id", ["nobody", REVOKED.client_id], ids=["unknown", "revoked"])
def test_an_unknown_or_revoked_client_with_an_assertion_is_invalid_client_and_spends_nothing(
        ec_key, key_clients, assertions, spent, client_id):
    error = refusal(authenticate_client, via_assertion(assertion(ec_key, client_id)), key_clients, assertions)
    assert (error.error, error.description) == ("invalid_client", "Client authentication failed.")
    assert spent.spent == {}


def test_a_registered_token_endpoint_auth_signing_alg_is_the_only_one_accepted(ec_key, ed_key, spent, assertions):
    """OpenID Connect Dynamic Client Registration 1.0 section 2: with token_endpoint_auth_signing_alg, "All Token
    Endpoint authentication methods using signatures ... MUST use this algorithm"."""
    client = Client("55555555-5555-4555-8555-555555555555", "ES256 only", jwks=jwk_set(ec_key, ed_key),
                    auth_signing_alg="ES256", grant_types=("client_credentials",))
    store = MemoryClientStore(client)
    error = refusal(authenticate_client, via_assertion(assertion(ed_key, client.client_id, alg="EdDSA", kid="k2")),
                    store, assertions)
    assert error.error == "invalid_client" and "token_endpoint_auth_signing_alg" in error.description
    assert spent.spent == {}
    assert authenticate_client(via_assertion(assertion(ec_key, client.client_id)), store, assertions) == client


def test_under_fapi_2_only_private_key_jwt_authenticates(ec_key, key_client, key_clients, spent):
    """FAPI 2.0 Security Profile 5.3.2.1 point 4 (passport.core.profile): on a fapi2 server, or for a client held
    to fapi2, a secret or no authentication at all is invalid_client."""
    fapi2 = ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(NOW),
                             audiences=(ISSUER, TOKEN_ENDPOINT), server_profile="fapi2")
    for credentials in (via_basic(CONFIDENTIAL.client_id, SECRET), ClientCredentials(PUBLIC.client_id, None, "none")):
        error = refusal(authenticate_client, credentials, key_clients, fapi2)
        assert error.error == "invalid_client" and "private_key_jwt" in error.description
    assert authenticate_client(via_assertion(assertion(ec_key, key_client.client_id, aud=ISSUER)), key_clients, fapi2)
    held = replace(CONFIDENTIAL, profile="fapi2")
    error = refusal(authenticate_client, via_basic(held.client_id, SECRET), MemoryClientStore(held))
    assert error.error == "invalid_client"


@pytest.mark.parametrize("aud", [TOKEN_ENDPOINT, [ISSUER], [ISSUER, TOKEN_ENDPOINT]],
                         ids=["token-endpoint", "array-of-the-issuer", "array"])
def test_a_fapi_2_clients_assertion_names_the_issuer_alone_as_a_string(ec_key, key_client, key_clients, spent, aud):
    """FAPI 2.0 Security Profile 5.3.2.1: the authorization server accepts only its issuer identifier, as a string,
    in a client assertion's aud (an assertion made for another endpoint or server cannot be replayed here: the
    audience injection attack). Baseline clients keep RFC 7523 3 point 3's wider rule."""
    fapi2 = ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(NOW),
                             audiences=(ISSUER, TOKEN_ENDPOINT), server_profile="fapi2")
    error = refusal(authenticate_client, via_assertion(assertion(ec_key, key_client.client_id, aud=aud)),
                    key_clients, fapi2)
    assert error.error == "invalid_client" and "aud" in error.description
    assert spent.spent == {}
    baseline = ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(NOW),
                                audiences=(ISSUER, TOKEN_ENDPOINT))
    assert authenticate_client(via_assertion(assertion(ec_key, key_client.client_id, aud=aud)), key_clients, baseline)


def test_the_device_authorization_endpoint_authenticates_a_client_with_keys(ec_key, spent):
    """RFC 8628 3.1: the device authorization request authenticates the client as the token endpoint does; the
    device record keeps nothing a poll could be authenticated by (its polls send an assertion each)."""
    client = Client("66666666-6666-4666-8666-666666666666", "tv", jwks=jwk_set(ec_key),
                    grant_types=(DEVICE_CODE,))
    devices = RecordingDevices()
    at_device = ClientAssertions(keys=RegisteredKeys(None), replay=spent, clock=FixedClock(int(time.time())),
                                 audiences=(ISSUER, TOKEN_ENDPOINT, ISSUER + "/oauth/device/code"))
    endpoint = DeviceAuthorizationEndpoint(MemoryClientStore(client), devices, ScopePolicy({}, ()), ISSUER, 600,
                                           at_device)
    now = int(time.time())
    signed = assertion(ec_key, client.client_id, aud=ISSUER + "/oauth/device/code", iat=now, exp=now + 60)
    answer = endpoint.handle(form_request({"client_assertion_type": CLIENT_ASSERTION_TYPE,
                                           "client_assertion": signed}))
    assert answer.status == 200, answer.body
    assert devices.made[0].client_id == client.client_id and devices.made[0].client_auth is None
    again = endpoint.handle(form_request({"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": signed}))
    assert again.status == 401 and json.loads(again.body)["error"] == "invalid_client"


class RecordingDevices:
    """passport.ports.Devices, as far as the device authorization endpoint uses it."""

    def __init__(self) -> None:
        self.made: list[DeviceAuthorization] = []

    def create(self, make):
        record = make()
        self.made.append(record)
        return record
