"""The token endpoint (RFC 6749 section 3.2, 4.4, 5.1 and 5.2) on core requests, in-memory stores and a real
signer: one form in, one JSON answer out, never cached."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, urlencode

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passport.core import audit as audit_module
from passport.core.grants.client_credentials import ClientCredentialsGrant
from passport.core.hashing import hash_secret
from passport.core.http import MAX_FORM_BYTES, Headers, Response, parse_form
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


def test_percent_escapes_that_are_not_utf8_are_invalid_request(endpoint):
    for body in (b"grant_type=client_credentials&scope=%FF", b"grant_type=client_credentials&%C3=x"):
        assert_error(endpoint.handle(form_request(body, headers=machine_auth())), 400, "invalid_request")


#: What form bodies are made of: separators, escapes (valid, truncated, of invalid UTF-8, of separators), plus
#: signs and characters of every UTF-8 length.
FORM_PIECES = ["a", "b", "=", "&", "+", "%", "%2", "%41", "%3a", "%3D", "%26", "%2B", "%C3", "%A9", "%C3%A9",
               "%E2%82%AC", "%F0%9F%98%80", "%FF", "%ED%A0%80", "%zz", " ", "é", "€", "\U0001f600", ";", "\x00"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FORM_PIECES), max_size=16).map("".join))
def test_a_form_parses_as_parse_qsl_parses_it(text):
    """RFC 6749 appendix B: what the standard library's parser gives, grouped by name, or a refusal where it
    refuses (invalid UTF-8 behind an escape)."""
    try:
        expected: dict[str, list[str]] | None = {}
        for name, value in parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict"):
            expected.setdefault(name, []).append(value)
    except UnicodeDecodeError:
        expected = None
    if expected is None:
        with pytest.raises(UnicodeDecodeError):
            parse_form(text)
    else:
        assert parse_form(text) == expected


def test_headers_of_repeated_fields_join_them_and_ignore_case():
    headers = Headers.of_fields({"Accept": ["a", "b"], "X-One": ["1"]})
    assert headers["accept"] == headers.get("ACCEPT") == "a,b"
    assert headers.get("x-one") == "1" and headers.get("missing") is None and headers.get("missing", "") == ""
    assert dict(headers) == {"accept": "a,b", "x-one": "1"}


def test_each_answer_leaves_one_audit_line_naming_the_audit_trail_as_its_source(endpoint, caplog):
    """The line logged as logging.info in passport.core.audit.audit would log it (its caller, not the endpoint)."""
    caplog.set_level(logging.INFO, logger="passport.audit")
    endpoint.handle(form_request({"grant_type": "client_credentials"}, headers=machine_auth()))
    endpoint.handle(form_request({"grant_type": "client_credentials"}))
    records = [r for r in caplog.records if r.name == "passport.audit"]
    assert [json.loads(r.getMessage())["audit"] for r in records] == ["token_issued", "token_refused"]
    for record in records:
        assert (record.levelno, record.funcName, record.filename, record.module) == (
            logging.INFO, "audit", "audit.py", "audit")
        assert record.pathname == audit_module.__file__ and record.lineno > 0


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
