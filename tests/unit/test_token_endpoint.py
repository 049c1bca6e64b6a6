"""The token endpoint (RFC 6749 section 3.2, 4.4, 5.1 and 5.2) on core requests, in-memory stores and a real
signer: one form in, one JSON answer out, never cached."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import jwt
import pytest
from passport.core.grants.client_credentials import ClientCredentialsGrant
from passport.core.hashing import hash_secret
from passport.core.http import MAX_FORM_BYTES, Response
from passport.core.models import Client
from passport.core.scopes import ScopePolicy
from passport.core.token_endpoint import TokenEndpoint
from passport.core.tokens import AccessTokenIssuer
from passport.keys.keyring import JwtSigner

from tests.unit.fakes import FixedClock, MemoryAccessTokenStore, MemoryClientStore, basic, form_request

ISSUER = "https://auth.example.com"
AUDIENCE = ISSUER + "/api"
NOW = 1_800_000_000
SECRET = "the-secret:+%"
DEFINED = {"orders:read": "Read your orders", "orders:write": "Change your orders"}

MACHINE = Client(
    "aaaaaaaa-0000-4000-8000-000000000001",
    "machine",
    secret_hash=hash_secret(SECRET),
    grant_types=("client_credentials",),
    scopes=("orders:read",),
)
WEB_APP = Client(
    "aaaaaaaa-0000-4000-8000-000000000002",
    "web app",
    secret_hash=hash_secret(SECRET),
    grant_types=("authorization_code",),
    redirect_uris=("https://app.example/cb",),
)
PUBLIC_WITH_CC = Client(
    "aaaaaaaa-0000-4000-8000-000000000003", "public", secret_hash=None, grant_types=("client_credentials",)
)


@pytest.fixture
def tokens() -> MemoryAccessTokenStore:
    return MemoryAccessTokenStore()


@pytest.fixture
def endpoint(signer: JwtSigner, tokens: MemoryAccessTokenStore) -> TokenEndpoint:
    issuer = AccessTokenIssuer(
        signer=signer, store=tokens, clock=FixedClock(NOW), issuer=ISSUER, audience=AUDIENCE, lifetime=3600
    )
    grant = ClientCredentialsGrant(issuer, ScopePolicy(DEFINED, ("orders:read",)))
    return TokenEndpoint(MemoryClientStore(MACHINE, WEB_APP, PUBLIC_WITH_CC), {grant.GRANT_TYPE: grant})


def machine_auth() -> dict[str, str]:
    return {"Authorization": basic(MACHINE.client_id, SECRET)}


def assert_no_store(response: Response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def assert_error(response: Response, status: int, error: str) -> dict:
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert set(body) <= {"error", "error_description", "hint"}
    assert_no_store(response)
    return body


# --- success -------------------------------------------------------------------------------------------------


def test_client_credentials_success_body_is_rfc6749_5_1(endpoint, signer):
    response = endpoint.handle(form_request({"grant_type": "client_credentials"}, headers=machine_auth()))
    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert_no_store(response)
    body = json.loads(response.body)
    assert set(body) == {"token_type", "expires_in", "access_token", "scope"}  # no refresh token (4.4.3)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "orders:read"
    claims = jwt.decode(
        body["access_token"],
        signer.verification_key.key,
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims["sub"] == claims["client_id"] == MACHINE.client_id


def test_the_issued_token_is_recorded(endpoint, tokens):
    response = endpoint.handle(form_request({"grant_type": "client_credentials"}, headers=machine_auth()))
    token = json.loads(response.body)["access_token"]
    (record,) = tokens.records.values()
    assert record.jti == jwt.decode(token, options={"verify_signature": False})["jti"]
    assert record.client_id == MACHINE.client_id


def test_client_secret_post_succeeds(endpoint):
    form = {"grant_type": "client_credentials", "client_id": MACHINE.client_id, "client_secret": SECRET}
    assert endpoint.handle(form_request(form)).status == 200


def test_a_media_type_with_a_charset_parameter_is_accepted(endpoint):
    request = form_request(
        {"grant_type": "client_credentials"},
        headers=machine_auth(),
        content_type="Application/X-WWW-Form-Urlencoded; charset=UTF-8",
    )
    assert endpoint.handle(request).status == 200


def test_a_requested_scope_in_the_clients_list_is_granted(endpoint):
    response = endpoint.handle(
        form_request({"grant_type": "client_credentials", "scope": "orders:read"}, headers=machine_auth())
    )
    assert json.loads(response.body)["scope"] == "orders:read"


def test_a_body_of_exactly_64_kib_is_accepted(endpoint):
    prefix = urlencode({"grant_type": "client_credentials", "pad": ""})
    body = (prefix + "x" * (MAX_FORM_BYTES - len(prefix))).encode()
    assert len(body) == MAX_FORM_BYTES == 64 * 1024
    assert endpoint.handle(form_request(body, headers=machine_auth())).status == 200


def test_the_endpoint_lists_its_grant_types(endpoint):
    assert endpoint.grant_types == ("client_credentials",)


# --- errors --------------------------------------------------------------------------------------------------


def test_missing_grant_type_is_invalid_request(endpoint):
    assert_error(endpoint.handle(form_request({}, headers=machine_auth())), 400, "invalid_request")


def test_repeated_grant_type_is_invalid_request(endpoint):
    form = [("grant_type", "client_credentials"), ("grant_type", "client_credentials")]
    assert_error(endpoint.handle(form_request(form, headers=machine_auth())), 400, "invalid_request")


def test_empty_grant_type_is_invalid_request(endpoint):
    assert_error(endpoint.handle(form_request({"grant_type": ""}, headers=machine_auth())), 400, "invalid_request")


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:example:custom", "CLIENT_CREDENTIALS"])
def test_an_unsupported_grant_is_unsupported_grant_type(endpoint, grant_type):
    response = endpoint.handle(form_request({"grant_type": grant_type}, headers=machine_auth()))
    assert_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data", None])
def test_a_body_that_is_not_a_form_is_invalid_request(endpoint, content_type):
    request = form_request(b'{"grant_type": "client_credentials"}', headers=machine_auth(), content_type=content_type)
    assert_error(endpoint.handle(request), 400, "invalid_request")


def test_a_body_over_64_kib_is_invalid_request(endpoint):
    body = b"grant_type=client_credentials&pad=" + b"x" * MAX_FORM_BYTES
    assert_error(endpoint.handle(form_request(body, headers=machine_auth())), 400, "invalid_request")


def test_a_body_that_is_not_utf8_is_invalid_request(endpoint):
    body = b"grant_type=client_credentials&scope=\xff\xfe"
    assert_error(endpoint.handle(form_request(body, headers=machine_auth())), 400, "invalid_request")


def test_percent_encoded_bytes_that_are_not_utf8_are_invalid_request(endpoint):
    body = b"grant_type=client_credentials&scope=%FF%FE"
    assert_error(endpoint.handle(form_request(body, headers=machine_auth())), 400, "invalid_request")


def test_a_client_without_the_grant_is_unauthorized_client(endpoint):
    response = endpoint.handle(
        form_request({"grant_type": "client_credentials"}, headers={"Authorization": basic(WEB_APP.client_id, SECRET)})
    )
    assert_error(response, 400, "unauthorized_client")


def test_a_public_client_cannot_use_client_credentials(endpoint):
    response = endpoint.handle(
        form_request({"grant_type": "client_credentials", "client_id": PUBLIC_WITH_CC.client_id})
    )
    assert_error(response, 400, "unauthorized_client")


def test_a_wrong_secret_via_basic_is_401_with_www_authenticate_basic(endpoint):
    response = endpoint.handle(
        form_request({"grant_type": "client_credentials"}, headers={"Authorization": basic(MACHINE.client_id, "nope")})
    )
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_wrong_secret_in_the_body_is_401(endpoint):
    form = {"grant_type": "client_credentials", "client_id": MACHINE.client_id, "client_secret": "nope"}
    assert_error(endpoint.handle(form_request(form)), 401, "invalid_client")


def test_a_scope_outside_the_clients_list_is_invalid_scope(endpoint, tokens):
    response = endpoint.handle(
        form_request({"grant_type": "client_credentials", "scope": "orders:write"}, headers=machine_auth())
    )
    assert_error(response, 400, "invalid_scope")
    assert tokens.records == {}


def test_two_authentication_methods_are_invalid_request(endpoint):
    form = {"grant_type": "client_credentials", "client_secret": SECRET}
    assert_error(endpoint.handle(form_request(form, headers=machine_auth())), 400, "invalid_request")


ERROR_CASES = {
    "missing grant_type": (form_request({}, headers=machine_auth()), 400),
    "repeated grant_type": (form_request([("grant_type", "a"), ("grant_type", "b")], headers=machine_auth()), 400),
    "empty grant_type": (form_request({"grant_type": ""}, headers=machine_auth()), 400),
    "unsupported grant": (form_request({"grant_type": "password"}, headers=machine_auth()), 400),
    "json body": (form_request(b"{}", headers=machine_auth(), content_type="application/json"), 400),
    "no content type": (form_request(b"grant_type=client_credentials", headers=machine_auth(), content_type=None), 400),
    "body too large": (
        form_request(b"grant_type=client_credentials&p=" + b"x" * MAX_FORM_BYTES, headers=machine_auth()),
        400,
    ),
    "not utf-8": (form_request(b"grant_type=\xff", headers=machine_auth()), 400),
    "malformed basic": (form_request({"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!"}), 401),
    "unknown client": (
        form_request({"grant_type": "client_credentials"}, headers={"Authorization": basic("nobody", "x")}),
        401,
    ),
    "no client": (form_request({"grant_type": "client_credentials"}), 401),
    "grant not allowed": (
        form_request({"grant_type": "client_credentials"}, headers={"Authorization": basic(WEB_APP.client_id, SECRET)}),
        400,
    ),
    "invalid scope": (form_request({"grant_type": "client_credentials", "scope": "nope"}, headers=machine_auth()), 400),
    "malformed scope": (
        form_request({"grant_type": "client_credentials", "scope": 'a"b'}, headers=machine_auth()),
        400,
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_every_error_is_json_and_never_cached(endpoint, case):
    request, status = ERROR_CASES[case]
    response = endpoint.handle(request)
    assert response.status == status, response.body
    assert_error(response, status, json.loads(response.body)["error"])
