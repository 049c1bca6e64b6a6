"""What an OpenID Connect authorization request may carry, without I/O: request objects (OpenID Connect Core 1.0
6.1-6.3), the claims parameter (5.5), acr_values and the acr claim (3.1.2.1, 5.5.1.1), response_mode (OAuth 2.0
Multiple Response Type Encoding Practices 2.1, Form Post Response Mode 2), the profile claims a user may hold
(5.1, 5.4) and what the OpenID Provider metadata says of them (Discovery 1.0 3)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from passport.core.authorization import AuthorizationRequest, PageError, RedirectError, response_mode, validate
from passport.core.metadata import openid_configuration
from passport.core.models import Client, User
from passport.core.oidc.claims import PASSWORD_ACR, shared_with, user_claims
from passport.core.oidc.claims_request import ClaimsRequest, parse_claims, requested_sub, resolve_acr
from passport.core.oidc.id_token import IdTokenIssuer
from passport.core.oidc.request_object import MAX_REQUEST_OBJECT, read_request_object
from passport.core.scopes import ScopePolicy
from passport.core.users import InvalidProfile, create_user, update_profile, validate_profile
from passport.keys.keyring import JwtSigner

from tests.unit.fakes import FixedClock, MemoryClientStore

ISSUER = "https://auth.example.com"
REDIRECT = "https://app.example.com/cb"
OTHER_REDIRECT = "https://app.example.com/other"
APP = Client(client_id="app", name="App", secret_hash="sha256:x", redirect_uris=(REDIRECT, OTHER_REDIRECT),
             grant_types=("authorization_code",))
POLICY = ScopePolicy({"orders:read": "Read your orders"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict, header: dict | None = None) -> str:
    """A request object as 6.1 allows it: a JWT with alg none and an empty signature."""
    return f"{b64(json.dumps(header or {'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."


def authorize(response_types: tuple[str, ...] = ("code",), **params: str) -> AuthorizationRequest:
    base = {"response_type": "code", "client_id": "app", "redirect_uri": REDIRECT, "scope": "openid",
            "state": "outer-state"}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    return validate({k: [v] for k, v in merged.items()}, clients=MemoryClientStore(APP), scopes=POLICY,
                    response_types=response_types, issuer=ISSUER)


def refused(**params: str) -> RedirectError:
    with pytest.raises(RedirectError) as caught:
        authorize(**params)
    return caught.value


# -- request objects (Core 6.1-6.3) ------------------------------------------------------------------------------


def test_an_unsigned_request_objects_parameters_supersede_the_querys():
    """6.3.3: where both name a parameter, the request object's is used; the others stay."""
    auth = authorize(request=unsigned({"state": "inner-state", "nonce": "n-1", "scope": "openid profile",
                                       "redirect_uri": OTHER_REDIRECT, "iss": "app", "aud": ISSUER}))
    assert auth.state == "inner-state" and auth.nonce == "n-1"
    assert auth.scopes == ("openid", "profile") and auth.redirect_uri == OTHER_REDIRECT
    assert auth.client.client_id == "app" and "request" not in auth.params
    assert auth.params["state"] == "inner-state"  # what the consent form carries back


def test_a_request_object_may_be_the_only_place_a_parameter_is_sent():
    auth = authorize(state=None, request=unsigned({"state": "only-inside", "max_age": 30}))
    assert auth.state == "only-inside" and auth.max_age == 30


def test_a_request_objects_aud_may_be_a_list_naming_the_issuer():
    assert authorize(request=unsigned({"aud": ["https://other.example", ISSUER]})).state == "outer-state"


@pytest.mark.parametrize("claims, hint", [
    ({"client_id": "another"}, "client_id"),
    ({"response_type": "token"}, "response_type"),
    ({"iss": "another"}, "iss"),
    ({"aud": "https://other.example"}, "aud"),
    ({"exp": 1}, "expired"),
    ({"request_uri": "https://app.example.com/r"}, "request_uri"),
    ({"state": ["not", "a", "string"]}, "state"),
])
def test_a_request_object_that_contradicts_the_request_is_invalid_request_object(claims, hint):
    """6.1: client_id and response_type must match the OAuth 2.0 parameters; iss is the client, aud names the
    server; an expired object or one naming request_uri (RFC 9101 4) is refused. The error goes to the (trusted)
    redirect URI with the query's state (3.1.2.6)."""
    failure = refused(request=unsigned(claims))
    assert failure.error.error == "invalid_request_object" and hint in failure.error.description
    assert failure.request.redirect_uri == REDIRECT and failure.request.state == "outer-state"


@pytest.mark.parametrize("value", [
    "not-a-jwt", "a.b", "!!!.e30.", unsigned({}).replace(".", ".%%", 1), f"{b64(b'not json')}.e30.",
    f"{b64(b'{}')}.{b64(b'[1,2]')}.", f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(b'{')}.", "", "a.b.c.d.e",
    "e30=.e30.",
])
def test_a_malformed_request_object_is_a_clear_error_at_the_redirect_uri(value):
    """Bad base64url, not JSON, not an object, encrypted (five parts): invalid_request_object, never a crash."""
    failure = refused(request=value)
    assert failure.error.error == "invalid_request_object"


def test_a_huge_request_object_is_refused_before_it_is_decoded():
    failure = refused(request="a" * (MAX_REQUEST_OBJECT + 1))
    assert failure.error.error == "invalid_request_object" and "too long" in failure.error.description


@pytest.mark.parametrize("header", [{"alg": "RS256", "kid": "k"}, {"alg": "HS256"}, {}])
def test_a_signed_request_object_is_refused_not_read_unverified(header):
    """No client has keys here yet: a signed object cannot be checked, so it is refused (3.1.2.6), never read as
    if it were unsigned."""
    value = unsigned({"state": "inner"}, header)[:-1] + b64(b"signature")
    failure = refused(request=value)
    assert failure.error.error == "invalid_request_object" and failure.request.state == "outer-state"
    # alg none with a signature attached is not an unsigned object either
    assert refused(request=unsigned({"state": "inner"}) + "sig").error.error == "invalid_request_object"


def test_request_uri_is_refused_with_request_uri_not_supported():
    """6.2 is not built: request_uri_not_supported (3.1.2.6), not silently ignored."""
    failure = refused(request_uri="https://app.example.com/request.jwt")
    assert failure.error.error == "request_uri_not_supported" and failure.request.state == "outer-state"


def test_a_request_object_error_with_an_untrusted_redirect_uri_is_a_page():
    with pytest.raises(PageError):
        authorize(redirect_uri="https://evil.example/cb", request="garbage")


def test_a_request_objects_redirect_uri_must_be_registered_too():
    with pytest.raises(PageError):
        authorize(request=unsigned({"redirect_uri": "https://evil.example/cb"}))


def test_read_request_object_returns_parameters_only():
    params = read_request_object(unsigned({"iss": "app", "aud": ISSUER, "iat": 1, "jti": "j", "exp": 2_000_000_000,
                                           "claims": {"userinfo": {"email": None}}, "resource": ["https://a/"]}),
                                 issuer=ISSUER, client_id="app", now=int(time.time()))
    assert params == {"claims": ['{"userinfo":{"email":null}}'], "resource": ["https://a/"]}


# -- the claims parameter (Core 5.5) -----------------------------------------------------------------------------


def test_the_claims_parameter_is_parsed_for_userinfo_and_the_id_token():
    claims = parse_claims(json.dumps({"userinfo": {"given_name": {"essential": True}, "nickname": None,
                                                   "unknown_claim": None},
                                      "id_token": {"email": None, "auth_time": {"essential": True}},
                                      "other_member": 1}))
    assert claims.user_claims("userinfo") == ("given_name", "nickname")  # 5.5: not understood, ignored
    assert claims.user_claims("id_token") == ("email",)
    assert claims.names == ("email", "given_name", "nickname")


@pytest.mark.parametrize("value", ["not json", "[]", '"x"', '{"userinfo": []}', '{"id_token": {"email": 1}}',
                                   '{"id_token": {"email": {"essential": "yes"}}}',
                                   '{"userinfo": {"email": {"values": "a"}}}', "{" * 5000])
def test_a_malformed_claims_parameter_is_invalid_request_at_the_redirect_uri(value):
    failure = refused(claims=value)
    assert failure.error.error == "invalid_request" and "claims" in failure.error.description
    assert failure.request.state == "outer-state"


def test_the_request_carries_the_parsed_claims_and_the_consent_form_carries_the_text():
    text = json.dumps({"userinfo": {"given_name": None}})
    auth = authorize(claims=text)
    assert auth.claims == ClaimsRequest(userinfo={"given_name": None})
    assert auth.params["claims"] == text


ADA = User(id="user-1", email="ada@example.test", name="Ada Lovelace", created_at=1_700_000_000,
           email_verified=True, given_name="Ada", family_name="Lovelace", locale="en-GB")


def test_claims_requested_by_name_are_released_when_the_user_has_them():
    """5.5: individual claims beyond the scopes, as node-oidc-provider releases them; one the user lacks is left
    out without an error (5.5.1), as is one this server does not hold."""
    assert user_claims(ADA, ("openid",), ("given_name", "nickname", "unknown")) == {"sub": "user-1",
                                                                                   "given_name": "Ada"}


def test_the_profile_scope_releases_every_profile_claim_the_user_has():
    """5.4: profile asks for name, family_name, given_name, middle_name, nickname, preferred_username, profile,
    picture, website, gender, birthdate, zoneinfo, locale and updated_at."""
    assert user_claims(ADA, ("openid", "profile")) == {
        "sub": "user-1", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "locale": "en-GB",
        "updated_at": 1_700_000_000}


def test_the_consent_rows_list_claims_asked_by_name_that_no_scope_covers():
    rows = shared_with(ADA, ("openid",), ("given_name", "nickname"))
    assert [row["name"] for row in rows] == ["openid", "given_name"]
    assert rows[1]["value"] == "Ada"
    covered = shared_with(ADA, ("openid", "profile"), ("given_name",))
    assert [row["name"] for row in covered] == ["openid", "profile"]


def test_a_sub_asked_with_a_value_names_the_user_the_answer_must_be_about():
    assert requested_sub(parse_claims('{"id_token": {"sub": {"value": "user-1"}}}')) == "user-1"
    assert requested_sub(parse_claims('{"id_token": {"sub": null}}')) is None


def test_the_id_token_carries_the_claims_asked_of_it_but_never_over_its_own(signer: JwtSigner):
    import jwt

    token = IdTokenIssuer(signer=signer, clock=FixedClock(int(time.time())), issuer=ISSUER, lifetime=300).mint(
        client_id="app", user_id="user-1", auth_time=1, access_token="at", acr=PASSWORD_ACR,
        user_claims={"given_name": "Ada", "sub": "someone-else"})
    claims = jwt.decode(token, signer.verification_key.key, algorithms=[signer.alg], audience="app")
    assert claims["given_name"] == "Ada" and claims["sub"] == "user-1" and claims["acr"] == PASSWORD_ACR


# -- acr (Core 3.1.2.1, 5.5.1.1) ---------------------------------------------------------------------------------


def test_acr_values_are_answered_with_the_class_the_sign_in_met():
    """3.1.2.1: acr_values are voluntary, in order of preference: the ID token says what was actually met."""
    assert authorize(acr_values="urn:example:loa:3 " + PASSWORD_ACR).acr == PASSWORD_ACR
    assert authorize(acr_values="urn:example:loa:3").acr == PASSWORD_ACR
    assert authorize().acr is None


def test_an_acr_claim_request_asks_for_acr_too():
    assert resolve_acr(None, parse_claims('{"id_token": {"acr": null}}')) == PASSWORD_ACR
    assert resolve_acr(None, parse_claims('{"id_token": {"acr": {"essential": true}}}')) == PASSWORD_ACR
    voluntary = parse_claims('{"id_token": {"acr": {"values": ["urn:example:loa:3"]}}}')
    assert resolve_acr(None, voluntary) == PASSWORD_ACR
    assert resolve_acr(None, parse_claims('{"userinfo": {"given_name": null}}')) is None


def test_an_essential_acr_the_server_cannot_satisfy_fails_the_authentication():
    """5.5.1.1: "MUST treat that outcome as a failed authentication attempt": unmet_authentication_requirements at
    the redirect URI; an essential acr that lists ours is met."""
    essential = json.dumps({"id_token": {"acr": {"essential": True, "values": ["urn:example:loa:3"]}}})
    failure = refused(claims=essential)
    assert failure.error.error == "unmet_authentication_requirements"
    met = json.dumps({"id_token": {"acr": {"essential": True, "value": PASSWORD_ACR}}})
    assert authorize(claims=met).acr == PASSWORD_ACR


def test_acr_is_only_for_openid_requests():
    assert authorize(scope="orders:read", acr_values=PASSWORD_ACR).acr is None


# -- response_mode (Multiple Response Type Encoding Practices 2.1, Form Post Response Mode 2) --------------------


@pytest.mark.parametrize("asked, response_type, implicit, expected", [
    (None, "code", False, ("query", True)),
    ("query", "code", False, ("query", True)),
    ("form_post", "code", False, ("form_post", True)),
    ("fragment", "code", False, ("query", False)),
    ("fragment", "code", True, ("fragment", True)),
    (None, "token", True, ("fragment", True)),
    ("query", "token", True, ("fragment", False)),
    ("form_post", "token", True, ("form_post", True)),
    ("jwt", "code", True, ("query", False)),
    ("", "code", False, ("query", False)),
])
def test_the_response_mode_is_one_this_server_answers_in(asked, response_type, implicit, expected):
    assert response_mode(asked, response_type, ("code", "token") if implicit else ("code",)) == expected


def test_form_post_is_carried_with_the_request():
    auth = authorize(response_mode="form_post")
    assert auth.response_mode == "form_post" and auth.params["response_mode"] == "form_post"


@pytest.mark.parametrize("mode", ["fragment", "query.jwt", "FORM_POST"])
def test_an_unsupported_response_mode_is_invalid_request_in_the_default_mode(mode):
    failure = refused(response_mode=mode)
    assert failure.error.error == "invalid_request" and failure.request.response_mode == "query"
    assert failure.request.state == "outer-state"


def test_errors_go_back_in_the_requested_mode():
    failure = refused(response_mode="form_post", prompt="bogus")
    assert failure.request.response_mode == "form_post"
    early = refused(response_mode="form_post", request_uri="https://app.example.com/r")
    assert early.request.response_mode == "form_post"


# -- the profile claims a user holds (Core 5.1) ------------------------------------------------------------------


def test_valid_profile_claims_are_kept_and_empty_ones_removed():
    assert validate_profile({"given_name": " Ada ", "website": "https://ada.example/", "birthdate": "1815-12-10",
                             "zoneinfo": "Europe/London", "locale": "en-GB", "nickname": ""}) == {
        "given_name": "Ada", "website": "https://ada.example/", "birthdate": "1815-12-10",
        "zoneinfo": "Europe/London", "locale": "en-GB", "nickname": None}
    assert validate_profile({"birthdate": "1815", "locale": "en_US", "zoneinfo": "UTC"})["birthdate"] == "1815"
    assert validate_profile({"birthdate": "0000-02-29"})["birthdate"] == "0000-02-29"  # 5.1: year omitted


@pytest.mark.parametrize("claims", [
    {"website": "http://ada.example/"}, {"picture": "javascript:alert(1)"}, {"profile": "https://"},
    {"birthdate": "1815-13-10"}, {"birthdate": "1815-02-29"}, {"birthdate": "10/12/1815"}, {"birthdate": "181"},
    {"zoneinfo": "../../etc/passwd"}, {"zoneinfo": "Europe London"}, {"locale": "e"}, {"locale": "en US"},
    {"given_name": "A" * 256}, {"website": "https://a.example/" + "a" * 2048}, {"nickname": "a\x00b"},
    {"family_name": "a\x85b"}, {"family_name": "evil\u202egnp.exe"}, {"middle_name": "line\nbreak"},
    {"phone_number": "+1"}, {"name": "  "},
])
def test_profile_claims_that_are_not_what_core_5_1_says_are_refused(claims):
    with pytest.raises(InvalidProfile):
        validate_profile(claims)


class Users:
    def __init__(self) -> None:
        self.stored: dict[str, User] = {}
        self.updates: list[tuple[str, dict, int]] = []

    def create(self, user: User) -> None:
        self.stored[user.id] = user

    def update_profile(self, user_id: str, changes: dict, updated_at: int) -> bool:
        self.updates.append((user_id, dict(changes), updated_at))
        return user_id in self.stored


def test_a_user_is_created_and_updated_with_profile_claims_and_updated_at_moves():
    users = Users()
    user = create_user(users, email="ada@example.test", name="Ada Lovelace", password=None,  # type: ignore[arg-type]
                       profile={"given_name": "Ada", "locale": "en-GB"})
    assert users.stored[user.id].given_name == "Ada" and user.locale == "en-GB" and user.picture is None
    changed = update_profile(users, user, {"nickname": "Enchantress", "locale": ""})  # type: ignore[arg-type]
    assert changed.nickname == "Enchantress" and changed.locale is None and changed.updated_at > 0
    assert users.updates[-1][1] == {"nickname": "Enchantress", "locale": None}
    with pytest.raises(InvalidProfile):
        create_user(users, email="b@example.test", name="B", password=None,  # type: ignore[arg-type]
                    profile={"website": "http://b.example"})


# -- what discovery says (Discovery 1.0 3) -----------------------------------------------------------------------


def test_the_openid_configuration_advertises_what_is_built_and_nothing_more():
    document = openid_configuration(issuer=ISSUER, scopes={}, grant_types=("authorization_code",),
                                    signing_algorithms=("RS256",))
    assert document["claims_parameter_supported"] is True
    assert document["request_parameter_supported"] is True
    assert document["request_object_signing_alg_values_supported"] == ["none"]
    assert document["request_uri_parameter_supported"] is False
    assert document["acr_values_supported"] == [PASSWORD_ACR]
    assert document["response_modes_supported"] == ["query", "form_post"]
    assert {"acr", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
            "picture", "website", "gender", "birthdate", "zoneinfo", "locale"} <= set(document["claims_supported"])
    implicit = openid_configuration(issuer=ISSUER, scopes={}, grant_types=("authorization_code", "implicit"),
                                    signing_algorithms=("RS256",))
    assert implicit["response_modes_supported"] == ["query", "fragment", "form_post"]
