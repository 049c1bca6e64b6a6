"""``private_key_jwt`` client assertions (``passport.core.client_assertions``): RFC 7523 2.2 and 3, RFC 7521 4.2,
OpenID Connect Core 1.0 section 9, and the registered keys of RFC 7591 2 and RFC 7517. Each rule is pinned by an
assertion signed with a real key (PyJWT signs the ordinary ones, as a client library would; ``raw`` signs whatever
bytes a test needs, so a hostile header or payload still carries a valid signature) that only that rule refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from passport.core.client_assertions import (
    ALGORITHMS,
    CLIENT_ASSERTION_TYPE,
    MAX_ASSERTION_LENGTH,
    MAX_CLIENT_KEYS,
    MAX_JTI_LENGTH,
    MAX_JWK_LENGTH,
    MAX_KEYS_TRIED,
    PRIVATE_MEMBERS,
    ClientKeys,
    InvalidClientAssertion,
    InvalidClientKeys,
    VerifiedAssertion,
    client_id_from_assertion,
    parse_client_jwks,
    spend_once,
    verify_client_assertion,
)
from passport.core.clients import InvalidClientMetadata
from passport.core.registration import refusal
from passport.keys import jwa
from passport.keys.material import generate, public_jwk_members, public_pem, thumbprint

from bench.memory import SpentOnce as MemoryReplay

#: RFC 6749's example client, and RFC 7523 2.2's example server and token endpoint.
CLIENT = "s6BhdRkqt3"
ISSUER = "https://as.example.com"
TOKEN_ENDPOINT = "https://as.example.com/token.oauth2"
AUDIENCES = (ISSUER, TOKEN_ENDPOINT)
NOW, LEEWAY, LIFETIME = 1_800_000_000, 5, 300


@pytest.fixture(params=["ES256", "RS256", "EdDSA"])
def signing(request, rsa_key, ec_key, ed_key):
    """(alg, private key) for each algorithm a client may sign with."""
    return request.param, {"RS256": rsa_key, "ES256": ec_key, "EdDSA": ed_key}[request.param]


@pytest.fixture(scope="module")
def others():
    """A second key of each kind: the attacker's."""
    return {alg: generate(alg) for alg in ("ES256", "RS256", "EdDSA")}


@pytest.fixture(scope="module")
def other_ec_key(others):
    return others["ES256"]


def jwk_of(key, **members):
    return {**public_jwk_members(key.public_key()), **members}


def keys_of(*keys, kid="k1"):
    return parse_client_jwks({"keys": [jwk_of(key, kid=kid) if kid else jwk_of(key) for key in keys]})


def claims(drop=(), **overrides):
    values = {"iss": CLIENT, "sub": CLIENT, "aud": TOKEN_ENDPOINT, "exp": NOW + 60, "iat": NOW, "jti": "j-1"}
    values.update(overrides)
    for name in drop:
        values.pop(name)
    return values


def sign(alg, key, payload=None, **headers):
    """A client assertion as a client library makes it (PyJWT: typ JWT, and the headers given)."""
    return jwt.encode(claims() if payload is None else payload, key, algorithm=alg,
                      headers={"kid": "k1", **headers})


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw(alg, key, header, payload) -> str:
    """A JWS over exactly these header and payload bytes (JSON-encoded when given as objects), validly signed by
    ``key`` under ``alg``, whatever the header says."""
    header = header if isinstance(header, bytes) else json.dumps(header).encode()
    payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(jwa.sign(alg, signing_input.encode(), key))}"


def signed(payload, key, alg="ES256"):
    """As :func:`sign`, for claims PyJWT refuses to encode (an iss that is not a string...)."""
    return raw(alg, key, {"alg": alg, "kid": "k1", "typ": "JWT"}, payload)


def verify(assertion, keys, *, client_id=CLIENT, **options):
    return verify_client_assertion(assertion, client_id=client_id, keys=keys, audiences=AUDIENCES,
                                   **{"now": NOW, "max_lifetime_seconds": LIFETIME, "leeway_seconds": LEEWAY,
                                      **options})


def refused(assertion, keys, match=None, **options):
    with pytest.raises(InvalidClientAssertion, match=match):
        verify(assertion, keys, **options)


# The constants


def test_the_assertion_type_is_rfc_7523s():
    assert CLIENT_ASSERTION_TYPE == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_the_algorithms_are_asymmetric_and_verified_by_jwa():
    assert set(ALGORITHMS) <= set(jwa.ALGORITHMS)
    assert not any(alg.lower() == "none" or alg.startswith("HS") for alg in ALGORITHMS)


# RFC 7523 3: a good assertion


def test_an_assertion_signed_by_a_registered_key_authenticates_its_client(signing):
    alg, key = signing
    verified = verify(sign(alg, key), keys_of(key))
    assert verified == VerifiedAssertion(CLIENT, "j-1", NOW + 60 + LEEWAY, "k1", alg)


def test_the_rfc_7523_example_shape_is_accepted_without_client_id_in_the_form(rsa_key):
    """RFC 7523 2.2's token request: header {"alg":"RS256","kid":"22"} (no typ), iss and sub the client, aud the
    token endpoint; and no client_id in the form (RFC 7521 4.2), the client found from the assertion."""
    header = b'{"alg":"RS256","kid":"22"}'
    assertion = raw("RS256", rsa_key, header, claims())
    assert assertion.startswith("eyJhbGciOiJSUzI1NiIsImtpZCI6IjIyIn0.")  # the example's own header segment
    client_id = client_id_from_assertion(assertion)
    assert client_id == CLIENT
    verified = verify(assertion, keys_of(rsa_key, kid="22"), client_id=None)
    assert (verified.client_id, verified.kid, verified.alg) == (CLIENT, "22", "RS256")


@pytest.mark.parametrize("aud", [ISSUER, TOKEN_ENDPOINT, [TOKEN_ENDPOINT], ["https://other.example", ISSUER]])
def test_aud_may_name_the_issuer_or_the_token_endpoint_alone_or_in_an_array(ec_key, aud):
    """RFC 7523 3 point 3 (the issuer, or the token endpoint URL), OpenID Connect Core 1.0 section 9 (the token
    endpoint URL), RFC 7519 4.1.3 (a string or an array of strings)."""
    assert verify(sign("ES256", ec_key, claims(aud=aud)), keys_of(ec_key)).client_id == CLIENT


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "application/jwt", "client-authentication+jwt",
                                 "Application/Client-Authentication+JWT"])
def test_typ_may_be_absent_jwt_or_client_authentication_jwt_in_any_case(ec_key, typ):
    header = {"alg": "ES256", "kid": "k1"} | ({} if typ is None else {"typ": typ})
    assert verify(raw("ES256", ec_key, header, claims()), keys_of(ec_key)).jti == "j-1"


def test_without_iat_the_lifetime_is_counted_from_now_with_the_leeway(ec_key):
    keys = keys_of(ec_key)
    assert verify(sign("ES256", ec_key, claims(drop=("iat",), exp=NOW + LIFETIME + LEEWAY)), keys)
    refused(sign("ES256", ec_key, claims(drop=("iat",), exp=NOW + LIFETIME + LEEWAY + 1)), keys, "longer")


def test_times_at_the_edges_of_the_leeway_and_fractional_times_are_accepted(ec_key):
    keys = keys_of(ec_key)
    edge = claims(exp=NOW - LEEWAY + 1, iat=NOW - 10, nbf=NOW + LEEWAY)
    assert verify(sign("ES256", ec_key, edge), keys).expires_at == NOW + 1
    assert verify(sign("ES256", ec_key, claims(exp=NOW + 60.9, iat=NOW + 0.5)), keys).expires_at == NOW + 60 + LEEWAY
    assert verify(sign("ES256", ec_key, claims(iat=NOW + LEEWAY)), keys)


def test_claims_this_server_does_not_know_are_ignored(ec_key):
    """RFC 7523 3 point 8 lets an assertion carry other claims."""
    assert verify(sign("ES256", ec_key, claims(scope="x", azp="y", **{"https://example.com/c": [1]})),
                  keys_of(ec_key))


# RFC 7523 3 points 1 and 2, RFC 7521 4.2: who the client is


def test_iss_different_from_sub_is_refused(ec_key):
    refused(sign("ES256", ec_key, claims(iss="other-client")), keys_of(ec_key), "iss and sub differ")


def test_sub_different_from_the_client_id_of_the_form_is_refused(ec_key):
    assertion = sign("ES256", ec_key, claims(iss="other-client", sub="other-client"))
    refused(assertion, keys_of(ec_key), "not the client_id")
    assert verify(assertion, keys_of(ec_key), client_id=None).client_id == "other-client"


@pytest.mark.parametrize("overrides", [{"iss": 1}, {"sub": None}, {"iss": ""}, {"sub": ""}, {"iss": [CLIENT]}])
def test_iss_and_sub_must_be_strings(ec_key, overrides):
    refused(signed(claims(**overrides), ec_key), keys_of(ec_key))


def test_a_client_id_longer_than_any_client_has_is_refused(ec_key):
    """The bound of client_id_from_assertion too: a verified client is always one it could have found."""
    long = "c" * 513
    assertion = sign("ES256", ec_key, claims(iss=long, sub=long))
    refused(assertion, keys_of(ec_key), "longer than 512", client_id=None)
    assert client_id_from_assertion(assertion) is None


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "jti"])
def test_every_required_claim_is_required(ec_key, claim):
    """RFC 7523 3 points 1 to 4, and jti by OpenID Connect Core 1.0 section 9."""
    refused(sign("ES256", ec_key, claims(drop=(claim,))), keys_of(ec_key), claim)


def test_iat_and_nbf_are_optional(ec_key):
    assert verify(sign("ES256", ec_key, claims(drop=("iat",))), keys_of(ec_key))


# RFC 7523 3 point 3: the audience


@pytest.mark.parametrize("aud", ["https://other.example", ISSUER + "/", TOKEN_ENDPOINT.upper(), "",
                                 ["https://other.example"], []])
def test_an_aud_naming_neither_the_issuer_nor_the_token_endpoint_is_refused(ec_key, aud):
    refused(sign("ES256", ec_key, claims(aud=aud)), keys_of(ec_key), "aud")


@pytest.mark.parametrize("aud", [7, {"aud": ISSUER}, [ISSUER, 1], [ISSUER, None], [[ISSUER]], None])
def test_an_aud_that_is_not_a_string_or_an_array_of_strings_is_refused(ec_key, aud):
    refused(signed(claims(aud=aud), ec_key), keys_of(ec_key), "aud")


def test_the_audiences_are_a_tuple_never_a_string_whose_substrings_would_match(ec_key):
    for audiences in (ISSUER, ()):
        with pytest.raises(ValueError):
            verify_client_assertion(sign("ES256", ec_key, claims(aud="https")), client_id=CLIENT,
                                    keys=keys_of(ec_key), audiences=audiences, now=NOW)


# RFC 7523 3 points 4 to 7: time and jti


def test_an_expired_assertion_is_refused(ec_key):
    refused(sign("ES256", ec_key, claims(exp=NOW - LEEWAY, iat=NOW - 60)), keys_of(ec_key), "expired")


def test_an_assertion_living_longer_than_the_maximum_is_refused(ec_key):
    keys = keys_of(ec_key)
    assert verify(sign("ES256", ec_key, claims(exp=NOW + LIFETIME)), keys)
    refused(sign("ES256", ec_key, claims(exp=NOW + LIFETIME + 1)), keys, "longer than 300 seconds")
    refused(sign("ES256", ec_key, claims(exp=NOW + 3600)), keys, "longer")


def test_an_assertion_made_long_ago_is_refused_even_before_its_exp(ec_key):
    """RFC 7523 3 point 6: an iat unreasonably far in the past; here, further than the lifetime from exp."""
    refused(sign("ES256", ec_key, claims(iat=NOW - 3600, exp=NOW + 60)), keys_of(ec_key), "longer")


def test_a_max_lifetime_given_by_the_caller_is_the_one_applied(ec_key):
    assertion = sign("ES256", ec_key, claims(exp=NOW + 120))
    assert verify(assertion, keys_of(ec_key))
    refused(assertion, keys_of(ec_key), "longer than 60 seconds", max_lifetime_seconds=60)


def test_an_nbf_in_the_future_is_refused(ec_key):
    refused(sign("ES256", ec_key, claims(nbf=NOW + LEEWAY + 1)), keys_of(ec_key), "nbf")


def test_an_iat_in_the_future_is_refused(ec_key):
    refused(sign("ES256", ec_key, claims(iat=NOW + LEEWAY + 1, exp=NOW + 120)), keys_of(ec_key), "iat")


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [True, "1800000060", None, [NOW], {"t": NOW}])
def test_a_date_that_is_not_a_numeric_date_is_refused(ec_key, claim, value):
    refused(signed(claims(**{claim: value}), ec_key), keys_of(ec_key), claim)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400])
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_date_of_nan_infinity_or_beyond_floats_is_refused_and_never_crashes(ec_key, claim, literal):
    """RFC 7519 2: a NumericDate is a number; JSON has no NaN or Infinity (RFC 8259 6), and an integer of 400
    digits is no float (math.isfinite would overflow on it)."""
    payload = json.dumps(claims()).replace(f'"{claim}": ', f'"{claim}": {literal}, "was": ', 1)
    if claim == "nbf":
        payload = payload.replace("{", f'{{"nbf": {literal}, ', 1)
    with pytest.raises(InvalidClientAssertion):
        verify(raw("ES256", ec_key, {"alg": "ES256", "kid": "k1"}, payload.encode()), keys_of(ec_key))


@pytest.mark.parametrize("jti", [None, 7, "", "x" * (MAX_JTI_LENGTH + 1), ["j"]])
def test_jti_must_be_a_bounded_string(ec_key, jti):
    refused(signed(claims(jti=jti), ec_key), keys_of(ec_key), "jti")
    assert verify(sign("ES256", ec_key, claims(jti="x" * MAX_JTI_LENGTH)), keys_of(ec_key))




def test_a_jti_is_spent_once_until_the_last_second_the_assertion_would_pass(ec_key):
    """RFC 7523 3 point 7; OpenID Connect Core 1.0 section 9: "MUST only be used once"."""
    replay, keys = MemoryReplay(), keys_of(ec_key)
    assertion = sign("ES256", ec_key)
    assert spend_once(verify(assertion, keys), replay).client_id == CLIENT
    assert replay.spent == {(CLIENT, "j-1"): NOW + 60 + LEEWAY}
    with pytest.raises(InvalidClientAssertion, match="already used"):
        spend_once(verify(assertion, keys), replay)
    # acceptable until expires_at, so spent until then
    assert verify(assertion, keys, now=NOW + 60 + LEEWAY - 1)
    refused(assertion, keys, "expired", now=NOW + 60 + LEEWAY)


# The header: RFC 7515 4, RFC 8725 3.1 and 3.11


def test_alg_none_is_refused_with_or_without_a_signature(ec_key):
    keys = keys_of(ec_key)
    header = b'{"alg":"none","kid":"k1"}'
    unsigned = f"{b64(header)}.{b64(json.dumps(claims()).encode())}"
    refused(unsigned + ".", keys, "compact JWS")
    refused(raw("ES256", ec_key, {"alg": "none", "kid": "k1"}, claims()), keys, "alg")
    refused(jwt.encode(claims(), None, algorithm="none") + "AA", keys, "alg")


@pytest.mark.parametrize("secret", ["pem", "jwk", "canonical"])
def test_hs256_with_the_public_key_as_secret_is_refused(rsa_key, secret):
    """The confusion attack (RFC 8725 2.1): an attacker MACs an assertion with what anyone can read, the client's
    public key, hoping the verifier feeds that key to HMAC."""
    keys = keys_of(rsa_key)
    material = {"pem": public_pem(rsa_key.public_key()), "jwk": json.dumps(jwk_of(rsa_key, kid="k1")),
                "canonical": keys.canonical_json}[secret].encode()
    header = b'{"alg":"HS256","kid":"k1","typ":"JWT"}'
    signing_input = f"{b64(header)}.{b64(json.dumps(claims()).encode())}"
    forged = f"{signing_input}.{b64(hmac.new(material, signing_input.encode(), hashlib.sha256).digest())}"
    refused(forged, keys, "alg must be an asymmetric signature")


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS384", "RS512", "ES384", "ES256K", "PS256", "Ed25519",
                                 "es256", None, ["ES256"], 1])
def test_an_alg_outside_the_allow_list_is_refused(ec_key, alg):
    refused(raw("ES256", ec_key, {"alg": alg, "kid": "k1"}, claims()), keys_of(ec_key), "alg")


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "dpop+jwt", "JOSE", "JWT ", "", None, ["JWT"],
                                 "application/x/jwt"])
def test_a_typ_of_another_kind_of_jwt_is_refused(ec_key, typ):
    refused(raw("ES256", ec_key, {"alg": "ES256", "kid": "k1", "typ": typ}, claims()), keys_of(ec_key), "typ")


@pytest.mark.parametrize("extra", [{"crit": ["exp"]}, {"crit": []}, {"b64": False}, {"b64": True}])
def test_a_jws_extension_is_refused(ec_key, extra):
    refused(raw("ES256", ec_key, {"alg": "ES256", "kid": "k1", **extra}, claims()), keys_of(ec_key), "extension")


@pytest.mark.parametrize("kid", [None, 7, ["k1"]])
def test_a_kid_that_is_not_a_string_is_refused(ec_key, kid):
    refused(raw("ES256", ec_key, {"alg": "ES256", "kid": kid}, claims()), keys_of(ec_key), "kid")


def test_a_key_in_the_header_is_never_used(ec_key, other_ec_key):
    """Only registered keys verify: an assertion carrying its own jwk, signed by that key, proves nothing."""
    header = {"alg": "ES256", "jwk": jwk_of(other_ec_key)}
    refused(raw("ES256", other_ec_key, header, claims()), keys_of(ec_key, kid=None), "signature")


# Key selection (RFC 7517 4.5, OpenID Connect Core 1.0 section 10.1) and the signature (RFC 7523 3 point 9)


def test_an_unknown_kid_is_refused(ec_key):
    refused(sign("ES256", ec_key, kid="k2"), keys_of(ec_key), "kid names none")


def test_a_kid_naming_a_key_of_another_kty_than_the_alg_is_refused(rsa_key, ec_key):
    """The assertion says RS256 and names, by kid, the client's EC key."""
    refused(sign("RS256", rsa_key), keys_of(ec_key), "not a key for its alg")


def test_without_a_kid_a_client_with_no_key_for_the_alg_is_refused(rsa_key, ec_key):
    refused(raw("RS256", rsa_key, {"alg": "RS256"}, claims()), keys_of(ec_key, kid=None), "no key for")


def test_a_kid_picks_one_key_among_several(rsa_key, ec_key, ed_key):
    keys = parse_client_jwks({"keys": [jwk_of(rsa_key, kid="r"), jwk_of(ec_key, kid="e"), jwk_of(ed_key, kid="d")]})
    assert [verify(sign(alg, key, kid=kid), keys).kid for alg, key, kid in
            (("RS256", rsa_key, "r"), ("ES256", ec_key, "e"), ("EdDSA", ed_key, "d"))] == ["r", "e", "d"]
    refused(sign("ES256", ec_key, kid="d"), keys, "not a key for its alg")


def test_a_signature_by_another_key_of_the_same_kind_is_refused(signing, others):
    alg, key = signing
    refused(sign(alg, others[alg]), keys_of(key), "signature")
    refused(raw(alg, others[alg], {"alg": alg}, claims()), keys_of(key, kid=None), "signature")


def test_a_changed_payload_breaks_the_signature(ec_key):
    header, _, signature = sign("ES256", ec_key).split(".")
    tampered = f"{header}.{b64(json.dumps(claims(sub='attacker', iss='attacker')).encode())}.{signature}"
    refused(tampered, keys_of(ec_key), "signature", client_id=None)


def test_an_es256_signature_in_der_form_is_refused(ec_key):
    from cryptography.hazmat.primitives import hashes

    assertion = raw("ES256", ec_key, {"alg": "ES256", "kid": "k1"}, claims())
    signing_input = assertion.rsplit(".", 1)[0].encode()
    der = ec_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    refused(f"{signing_input.decode()}.{b64(der)}", keys_of(ec_key), "signature")


def test_without_a_kid_each_key_for_the_alg_is_tried(ec_key, other_ec_key):
    keys = parse_client_jwks({"keys": [jwk_of(other_ec_key), jwk_of(ec_key)]})
    verified = verify(raw("ES256", ec_key, {"alg": "ES256"}, claims()), keys)
    assert (verified.kid, verified.alg) == (None, "ES256")


def test_a_kid_the_signer_chose_reaches_a_key_registered_without_one(ec_key):
    """A signing library names a key itself (here its RFC 7638 thumbprint); the client registered it bare."""
    kid = thumbprint(ec_key.public_key())
    assert verify(sign("ES256", ec_key, kid=kid), keys_of(ec_key, kid=None)).kid is None


def test_more_keys_to_try_than_the_bound_need_a_kid(ec_key):
    others = [generate("ES256") for _ in range(MAX_KEYS_TRIED)]
    keys = parse_client_jwks({"keys": [jwk_of(key) for key in (*others, ec_key)]})
    refused(raw("ES256", ec_key, {"alg": "ES256"}, claims()), keys, "must name its key with kid")
    named = parse_client_jwks({"keys": [*(jwk_of(key) for key in others), jwk_of(ec_key, kid="mine")]})
    assert verify(sign("ES256", ec_key, kid="mine"), named).kid == "mine"


# The compact serialization: RFC 7515 7.1, RFC 4648 3.5


def test_an_oversized_assertion_is_refused_though_validly_signed(ec_key):
    big = sign("ES256", ec_key, claims(padding="x" * MAX_ASSERTION_LENGTH))
    assert len(big) > MAX_ASSERTION_LENGTH
    refused(big, keys_of(ec_key), "compact JWS")
    assert verify(sign("ES256", ec_key, claims(padding="x" * 5000)), keys_of(ec_key))


def test_a_non_canonical_base64url_spelling_is_refused_though_it_decodes_to_the_signed_bytes(ec_key):
    """ES256's 64-octet signature is 86 characters, 2 modulo 4: the last character has 4 unused bits, so 'A'
    and 'B' can spell the same octets."""
    assertion = sign("ES256", ec_key)
    head, signature = assertion.rsplit(".", 1)
    last = signature[-1]
    alias = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alias[alias.index(last) + 1]
    assert base64.urlsafe_b64decode(signature[:-1] + sibling + "==") == base64.urlsafe_b64decode(signature + "==")
    refused(f"{head}.{signature[:-1]}{sibling}", keys_of(ec_key), "canonical")


@pytest.mark.parametrize("mangle", [
    lambda t: t + "=", lambda t: t.replace(".", "..", 1), lambda t: t + ".x", lambda t: t.rsplit(".", 1)[0],
    lambda t: " " + t, lambda t: t + "\n", lambda t: t.replace("-", "+").replace("_", "/") + "+/",
    lambda t: t.encode(), lambda t: None, lambda t: 7, lambda t: "", lambda t: "..", lambda t: "a.b.c",
])
def test_anything_but_three_base64url_segments_is_refused(ec_key, mangle):
    refused(mangle(sign("ES256", ec_key)), keys_of(ec_key))


@pytest.mark.parametrize("header", [b"[]", b'"ES256"', b"null", b"\xff\xfe", b"{", b'{"alg":"ES256","alg":"none"}',
                                    b'{"alg":"ES256","kid":"k1"}{}'])
def test_a_header_that_is_not_one_json_object_is_refused(ec_key, header):
    refused(raw("ES256", ec_key, header, claims()), keys_of(ec_key), "header")


@pytest.mark.parametrize("payload", [b"[]", b"null", b"\xff", b"[" * 3000, b'{"sub":"x","sub":"' + CLIENT.encode()
                                     + b'","iss":"' + CLIENT.encode() + b'"}'])
def test_a_payload_that_is_not_one_json_object_is_refused(ec_key, payload):
    """Repeated members (RFC 7519 4) and nesting deeper than the parser's recursion included."""
    refused(raw("ES256", ec_key, {"alg": "ES256", "kid": "k1"}, payload), keys_of(ec_key), "payload")


# RFC 7521 4.2: finding the client from the assertion


def test_client_id_from_assertion_is_the_sub_when_iss_is_the_same(ec_key):
    assert client_id_from_assertion(sign("ES256", ec_key)) == CLIENT
    assert client_id_from_assertion(sign("ES256", ec_key, claims(iss="other"))) is None
    assert client_id_from_assertion(sign("ES256", ec_key, claims(drop=("iss",)))) is None


def test_client_id_from_assertion_reads_without_verifying(ec_key):
    """It only says where to look: a forged signature still names a client, which verification then refuses."""
    header, payload, _ = sign("ES256", ec_key).split(".")
    assert client_id_from_assertion(f"{header}.{payload}.AAAA") == CLIENT


@pytest.mark.parametrize("value", [None, 7, b"a.b.c", "", "a.b", "x" * (MAX_ASSERTION_LENGTH + 1),
                                   "eyJ9.eyJ9.AA", f"e30.{b64(json.dumps({'iss': 1, 'sub': 1}).encode())}.AA",
                                   f"e30.{b64(json.dumps({'iss': 'c' * 513, 'sub': 'c' * 513}).encode())}.AA",
                                   f"e30.{b64(json.dumps({'iss': '', 'sub': ''}).encode())}.AA"])
def test_client_id_from_assertion_is_none_for_anything_else(value):
    assert client_id_from_assertion(value) is None


# Hypothesis: nothing a client sends raises anything but the module's errors

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4), max_leaves=12)


def _headers():
    return st.fixed_dictionaries({"alg": st.sampled_from(["ES256", "RS256", "EdDSA", "none", "HS256"]) | JSON},
                                 optional={"kid": st.sampled_from(["k1", "k2"]) | JSON,
                                           "typ": st.sampled_from(["JWT", "at+jwt"]) | JSON, "crit": JSON})


def _payloads():
    return st.fixed_dictionaries({}, optional={
        "iss": st.just(CLIENT) | JSON, "sub": st.just(CLIENT) | JSON, "aud": st.sampled_from(AUDIENCES) | JSON,
        "exp": st.integers(NOW - 100, NOW + 1000) | JSON, "iat": st.integers(NOW - 100, NOW + 100) | JSON,
        "nbf": st.integers(NOW - 100, NOW + 100) | JSON, "jti": st.text(max_size=5) | JSON}) | JSON


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_assertion_raises_anything_but_invalid_client_assertion(ec_key, data):
    keys = keys_of(ec_key)
    assertion = data.draw(st.one_of(
        st.text(max_size=200),
        st.from_regex(r"[A-Za-z0-9_=+/.-]{0,120}", fullmatch=True),
        st.builds(lambda h, p: raw("ES256", ec_key, h, p), _headers(), _payloads()),
        st.builds(lambda h, p, s: f"{b64(json.dumps(h).encode())}.{b64(json.dumps(p).encode())}.{b64(s)}",
                  _headers(), _payloads(), st.binary(min_size=1, max_size=80)),
    ))
    client_id = data.draw(st.none() | st.just(CLIENT))
    found = client_id_from_assertion(assertion)
    assert found is None or isinstance(found, str)
    try:
        result = verify(assertion, keys, client_id=client_id)
    except InvalidClientAssertion:
        return
    # what verifies is the client the caller looked up by the unverified reading
    assert result.client_id == found == (client_id or found)


# RFC 7591 2 jwks, RFC 7517: the registered keys


def test_a_jwks_of_each_supported_key_type_parses_to_its_keys_and_canonical_json(rsa_key, ec_key, ed_key):
    jwks = {"keys": [jwk_of(rsa_key, kid="r", use="sig", alg="RS256"), jwk_of(ec_key, kid="e", key_ops=["verify"]),
                     jwk_of(ed_key, x5t="AAAA", ext=True)], "extra": "ignored"}
    keys = parse_client_jwks(jwks)
    assert [(k.kid, k.algorithms) for k in keys.keys] == [("r", ("RS256",)), ("e", ("ES256",)), (None, ("EdDSA",))]
    assert [public_jwk_members(k.key) for k in keys.keys] == [public_jwk_members(k.public_key())
                                                              for k in (rsa_key, ec_key, ed_key)]
    stored = json.loads(keys.canonical_json)
    assert stored == {"keys": [jwk_of(rsa_key, kid="r", use="sig", alg="RS256"), jwk_of(ec_key, kid="e"),
                               jwk_of(ed_key)]}  # members not understood are left out (RFC 7517 4)
    assert keys.canonical_json == json.dumps(stored, sort_keys=True, separators=(",", ":"))
    assert keys.document() == stored
    assert ClientKeys.from_json(keys.canonical_json) == keys


def test_a_private_key_refusal_is_an_invalid_client_metadata_for_registration(ec_key):
    with pytest.raises(InvalidClientKeys) as caught:
        parse_client_jwks({"keys": []})
    assert isinstance(caught.value, InvalidClientMetadata)
    assert refusal(caught.value).body() == {"error": "invalid_client_metadata",
                                            "error_description": "The jwks must hold a non-empty keys array."}


@pytest.mark.parametrize("member", PRIVATE_MEMBERS)
def test_a_private_key_in_the_jwks_is_refused_without_echoing_it(rsa_key, member):
    private = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key, as_dict=True)
    value = private.get(member, "c2VjcmV0LXZhbHVlLW5vdC10by1lY2hv")
    jwk = {**jwk_of(rsa_key), member: value}
    with pytest.raises(InvalidClientKeys, match=r"private key material|symmetric") as caught:
        parse_client_jwks({"keys": [jwk]})
    assert value not in str(caught.value)


@pytest.mark.parametrize("which", ["RS256", "ES256", "EdDSA"])
def test_a_whole_private_jwk_as_a_library_writes_it_is_refused(rsa_key, ec_key, ed_key, which):
    algorithm = {"RS256": jwt.algorithms.RSAAlgorithm, "ES256": jwt.algorithms.ECAlgorithm,
                 "EdDSA": jwt.algorithms.OKPAlgorithm}[which]
    key = {"RS256": rsa_key, "ES256": ec_key, "EdDSA": ed_key}[which]
    private = algorithm.to_jwk(key, as_dict=True)
    with pytest.raises(InvalidClientKeys, match="private key material") as caught:
        parse_client_jwks({"keys": [private]})
    assert private["d"] not in str(caught.value)


def test_a_symmetric_key_is_refused():
    with pytest.raises(InvalidClientKeys, match="symmetric"):
        parse_client_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]})


@pytest.mark.parametrize("value", [None, [], "{}", {"keys": None}, {"keys": {}}, {"keys": []}, {"key": []},
                                   {"keys": [None]}, {"keys": ["x"]}, {"keys": [[]]}])
def test_a_jwks_that_is_not_a_non_empty_key_set_is_refused(value):
    with pytest.raises(InvalidClientKeys):
        parse_client_jwks(value)


def test_the_number_of_keys_is_bounded():
    many = [jwk_of(generate("EdDSA"), kid=str(n)) for n in range(MAX_CLIENT_KEYS + 1)]
    assert len(parse_client_jwks({"keys": many[:MAX_CLIENT_KEYS]}).keys) == MAX_CLIENT_KEYS
    with pytest.raises(InvalidClientKeys, match=f"at most {MAX_CLIENT_KEYS}"):
        parse_client_jwks({"keys": many})


def test_the_size_of_a_key_is_bounded(ec_key):
    assert parse_client_jwks({"keys": [jwk_of(ec_key, x5c=["A" * (MAX_JWK_LENGTH - 300)])]})
    with pytest.raises(InvalidClientKeys, match="longer than"):
        parse_client_jwks({"keys": [jwk_of(ec_key, x5c=["A" * MAX_JWK_LENGTH])]})


def test_duplicate_kids_are_refused(ec_key, ed_key):
    with pytest.raises(InvalidClientKeys, match="kid of an earlier key"):
        parse_client_jwks({"keys": [jwk_of(ec_key, kid="same"), jwk_of(ed_key, kid="same")]})


@pytest.mark.parametrize("members", [
    {"kty": "EC2"}, {"kty": None}, {"kty": 5}, {"kty": "ec"}, {"use": "enc"}, {"use": None},
    {"key_ops": ["sign"]}, {"key_ops": "verify"}, {"key_ops": [1]}, {"alg": "RS256"}, {"kid": ""}, {"kid": 1},
    {"kid": "k" * 257}, {"crv": "P-384"}, {"crv": "secp256k1"}, {"crv": None}, {"x": None},
])
def test_an_ec_key_with_a_member_out_of_the_rules_is_refused(ec_key, members):
    with pytest.raises(InvalidClientKeys):
        parse_client_jwks({"keys": [jwk_of(ec_key, **members)]})


@pytest.mark.parametrize("alg", ["HS256", "none", "ES384", "PS256", None, ["ES256"], {"alg": "ES256"}])
def test_a_registered_alg_outside_the_allow_list_is_refused_by_name(ec_key, alg):
    with pytest.raises(InvalidClientKeys, match="an alg this server does not accept: use ES256, RS256, EdDSA"):
        parse_client_jwks({"keys": [jwk_of(ec_key, alg=alg)]})


def _b64int(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def test_ec_coordinates_must_be_full_length_canonical_and_on_the_curve(ec_key):
    jwk = jwk_of(ec_key)
    x = base64.urlsafe_b64decode(jwk["x"] + "=")
    for bad in ({"x": b64(x[1:])}, {"x": b64(b"\x00" + x)}, {"y": b64(x[:31])}):
        with pytest.raises(InvalidClientKeys, match="of 32 octets"):
            parse_client_jwks({"keys": [{**jwk, **bad}]})
    for bad in ({"x": jwk["x"] + "="}, {"x": jwk["x"].replace("-", "+").replace("_", "/") + "+"}):
        with pytest.raises(InvalidClientKeys, match="base64url"):
            parse_client_jwks({"keys": [{**jwk, **bad}]})
    with pytest.raises(InvalidClientKeys, match="not a valid EC public key"):
        parse_client_jwks({"keys": [{**jwk, "y": b64(b"\x01" * 32)}]})
    # a last character with unused bits set spells the same octets a second way (RFC 4648 3.5)
    alias = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = jwk["x"][:-1] + alias[alias.index(jwk["x"][-1]) + 1]
    with pytest.raises(InvalidClientKeys, match="base64url"):
        parse_client_jwks({"keys": [{**jwk, "x": sibling}]})


def test_okp_keys_are_ed25519_of_32_octets(ed_key):
    jwk = jwk_of(ed_key)
    for bad in ({"crv": "Ed448"}, {"crv": "X25519"}, {"crv": "P-256"}):
        with pytest.raises(InvalidClientKeys, match="crv Ed25519"):
            parse_client_jwks({"keys": [{**jwk, **bad}]})
    for x in (b"\x01" * 31, b"\x01" * 57):
        with pytest.raises(InvalidClientKeys, match="of 32 octets"):
            parse_client_jwks({"keys": [{**jwk, "x": b64(x)}]})


def test_rsa_keys_are_2048_to_4096_bits():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidClientKeys, match="2048 to 4096 bits"):
        parse_client_jwks({"keys": [jwk_of(small)]})
    huge = {"kty": "RSA", "n": _b64int((1 << 4103) | 1), "e": "AQAB"}  # no need for a real one to be too big
    with pytest.raises(InvalidClientKeys, match="2048 to 4096 bits"):
        parse_client_jwks({"keys": [huge]})


@pytest.mark.parametrize("e", [1, 2, 65536, 2**32 + 1])
def test_an_rsa_exponent_that_is_not_an_odd_number_from_3_to_2_to_the_32_is_refused(rsa_key, e):
    with pytest.raises(InvalidClientKeys, match="exponent"):
        parse_client_jwks({"keys": [{**jwk_of(rsa_key), "e": _b64int(e)}]})


def test_rsa_numbers_are_in_the_fewest_octets(rsa_key):
    """RFC 7518 6.3.1.1 and 6.3.1.2: n and e "MUST utilize the minimum number of octets"."""
    jwk = jwk_of(rsa_key)
    n = base64.urlsafe_b64decode(jwk["n"] + "==")
    for bad in ({"n": b64(b"\x00" + n)}, {"e": b64(b"\x00\x01\x00\x01")}):
        with pytest.raises(InvalidClientKeys, match="leading zero octets"):
            parse_client_jwks({"keys": [{**jwk, **bad}]})
    with pytest.raises(InvalidClientKeys, match="2048 to 4096 bits"):  # an even modulus is no RSA modulus
        parse_client_jwks({"keys": [{**jwk, "n": b64(n[:-1] + bytes([n[-1] & 0xFE]))}]})


def test_an_rsa_key_with_exponent_3_is_accepted(rsa_key):
    three = rsa.generate_private_key(public_exponent=3, key_size=2048)
    assert parse_client_jwks({"keys": [jwk_of(three)]}).keys[0].algorithms == ("RS256",)


def test_stored_keys_are_checked_again_when_read(ec_key):
    tampered = json.dumps({"keys": [{**jwk_of(ec_key), "d": "AAAA"}]})
    for text in (tampered, "not json", "[1]", '{"keys": [NaN]}'):
        with pytest.raises(InvalidClientKeys):
            ClientKeys.from_json(text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_jwks_raises_anything_but_invalid_client_keys(ec_key, rsa_key, data):
    """Arbitrary JSON, and real keys with one member replaced by arbitrary JSON."""
    real = data.draw(st.sampled_from([jwk_of(ec_key, kid="k"), jwk_of(rsa_key, use="sig")]))
    mutated = {**real, data.draw(st.sampled_from([*real, "alg", "d", "key_ops"])): data.draw(JSON)}
    value = data.draw(st.one_of(JSON, st.builds(lambda k: {"keys": k}, st.lists(JSON, max_size=3)),
                                st.just({"keys": [mutated]}), st.just({"keys": [real, mutated]})))
    try:
        parse_client_jwks(value)
    except InvalidClientKeys:
        pass
