"""DPoP proofs (``passport.core.dpop``, RFC 9449): every check of RFC 9449 4.3 pinned by a proof that fails that
check alone, signed with a real key (``cryptography`` keys; PyJWT's own algorithms sign, so the signatures do not
come from the code under test); RFC 9449's and RFC 7638's published examples; ``htu`` normalization (RFC 3986
6.2.2, 6.2.3); server nonces (RFC 9449 8, 9); the replay port (RFC 9449 11.1); and, with Hypothesis, that nothing
a client sends makes :func:`verify_proof` raise anything but ``InvalidDpopProof``."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import FrozenInstanceError

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from passport.core.dpop import (
    DPOP_ALGORITHMS,
    MAX_JTI_LENGTH,
    MAX_PROOF_LENGTH,
    DpopNonces,
    DpopProof,
    InvalidDpopProof,
    UseDpopNonce,
    access_token_hash,
    invalid_dpop_proof,
    jwk_thumbprint,
    normalized_htu,
    replay_key,
    spend_once,
    use_dpop_nonce,
    verify_proof,
)
from passport.core.errors import OAuthError, PassportError
from passport.keys import jwa
from passport.keys.material import algorithm_for, generate, public_jwk_members, thumbprint

from bench.memory import SpentOnce as MemoryReplay

# RFC 9449 5 (Figure 6's request) and 7.1 (the resource request): the RFC's own proofs, by the key of Figure 2;
# RFC 7638 3.1: the example RSA key and its thumbprint.
from tests.rfc_examples import RFC7638_KEY, RFC7638_THUMBPRINT
from tests.rfc_examples import RFC9449_ACCESS_TOKEN as RFC_ACCESS_TOKEN
from tests.rfc_examples import RFC9449_ATH as RFC_ATH
from tests.rfc_examples import RFC9449_JKT as RFC_JKT
from tests.rfc_examples import RFC9449_KEY as RFC_KEY
from tests.rfc_examples import RFC9449_RESOURCE_PROOF as RFC_RESOURCE_PROOF
from tests.rfc_examples import RFC9449_TOKEN_PROOF as RFC_TOKEN_PROOF

NOW = 1_700_000_000
METHOD, URL = "POST", "https://as.example/oauth/token"


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def noncanonical(segment: str) -> str:
    """The same octets spelt a second way: the last character with an unused low bit set (RFC 4648 3.5)."""
    assert len(segment) % 4 in (2, 3)
    return segment[:-1] + ALPHABET[ALPHABET.index(segment[-1]) + 1]


def encoded(value: dict | bytes | str) -> str:
    if isinstance(value, str):
        return value
    return b64(value if isinstance(value, bytes) else json.dumps(value).encode())


def signed(key, alg: str, header: dict | bytes | str, payload: dict | bytes | str) -> str:
    """A JWS over exactly these segments, validly signed by ``key`` under ``alg`` with PyJWT's implementation."""
    signing_input = f"{encoded(header)}.{encoded(payload)}"
    return f"{signing_input}.{b64(jwt.get_algorithm_by_name(alg).sign(signing_input.encode(), key))}"


def claims(**overrides) -> dict:
    """RFC 9449 4.2's claims for ``METHOD`` ``URL`` at ``NOW``; an override of None drops the claim."""
    base = {"jti": "e1j3V_bKic8-LAEB", "htm": METHOD, "htu": URL, "iat": NOW}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def header_for(key, **overrides) -> dict:
    """RFC 9449 4.2's header for ``key``; an override of None drops the member."""
    public = key.public_key()
    base = {"typ": "dpop+jwt", "alg": algorithm_for(public), "jwk": public_jwk_members(public)}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def proof(key, header: dict | None = None, payload: dict | None = None, **claim_overrides) -> str:
    header = header if header is not None else header_for(key)
    return signed(key, header["alg"], header, payload if payload is not None else claims(**claim_overrides))


def check(token, **kwargs) -> DpopProof:
    kwargs = {"method": METHOD, "url": URL, "now": NOW, **kwargs}
    return verify_proof(token, **kwargs)


def refused(token, match: str, **kwargs) -> InvalidDpopProof:
    with pytest.raises(InvalidDpopProof, match=match) as caught:
        check(token, **kwargs)
    assert type(caught.value) is InvalidDpopProof  # not a nonce request
    return caught.value


@pytest.fixture(params=["ES256", "RS256", "EdDSA"])
def key(request, ec_key, rsa_key, ed_key):
    return {"ES256": ec_key, "RS256": rsa_key, "EdDSA": ed_key}[request.param]


# What a good proof gives.


def test_a_proof_signed_with_each_supported_key_verifies_and_names_its_key(key):
    verified = check(proof(key))
    assert verified == DpopProof(jkt=thumbprint(key.public_key()), jti="e1j3V_bKic8-LAEB", iat=NOW, htm="POST",
                                 htu=URL, alg=algorithm_for(key.public_key()), expires_at=NOW + 301)


def test_a_proof_made_by_pyjwt_verifies(key):
    alg = algorithm_for(key.public_key())
    token = jwt.encode(claims(), key, algorithm=alg,
                       headers={"typ": "dpop+jwt", "jwk": public_jwk_members(key.public_key())})
    assert check(token).jkt == thumbprint(key.public_key())


def test_the_verified_proof_is_frozen(ec_key):
    verified = check(proof(ec_key))
    with pytest.raises(FrozenInstanceError):
        verified.jti = "other"  # type: ignore[misc]


def test_the_rfc_9449_token_request_example_verifies_at_its_own_iat():
    verified = verify_proof(RFC_TOKEN_PROOF, method="POST", url="https://server.example.com/token", now=1562262616)
    assert verified == DpopProof(jkt=RFC_JKT, jti="-BwC3ESc6acc2lTc", iat=1562262616, htm="POST",
                                 htu="https://server.example.com/token", alg="ES256", expires_at=1562262616 + 301)


def test_the_rfc_9449_resource_request_example_verifies_with_its_access_token():
    verified = verify_proof(RFC_RESOURCE_PROOF, method="GET", url="https://resource.example.org/protectedresource",
                            now=1562262618, access_token=RFC_ACCESS_TOKEN, bound_jkt=RFC_JKT)
    assert (verified.jkt, verified.jti, verified.htm) == (RFC_JKT, "e1j3V_bKic8-LAEB", "GET")


def test_the_rfc_9449_example_is_refused_once_its_window_has_passed():
    with pytest.raises(InvalidDpopProof, match="too old"):
        verify_proof(RFC_TOKEN_PROOF, method="POST", url="https://server.example.com/token",
                     now=1562262616 + 301)


def test_the_rfc_9449_example_is_refused_for_another_uri_or_method():
    with pytest.raises(InvalidDpopProof, match="htu"):
        verify_proof(RFC_TOKEN_PROOF, method="POST", url="https://server.example.com/par", now=1562262616)
    with pytest.raises(InvalidDpopProof, match="htm"):
        verify_proof(RFC_TOKEN_PROOF, method="GET", url="https://server.example.com/token", now=1562262616)


# RFC 7638 thumbprints and RFC 9449 4.2's ath.


def test_the_thumbprint_of_rfc_7638s_example_key_is_the_one_it_gives():
    assert jwk_thumbprint(RFC7638_KEY) == RFC7638_THUMBPRINT


def test_the_thumbprint_of_rfc_9449s_example_key_is_its_cnf_jkt():
    assert jwk_thumbprint(RFC_KEY) == RFC_JKT


def test_the_thumbprint_hashes_only_the_required_members_whatever_their_order():
    reordered = dict(reversed(list(RFC_KEY.items())))
    assert jwk_thumbprint({**reordered, "kid": "k1", "use": "sig", "alg": "ES256"}) == RFC_JKT


def test_the_thumbprint_agrees_with_the_key_rings_own(key):
    assert jwk_thumbprint(public_jwk_members(key.public_key())) == thumbprint(key.public_key())


@pytest.mark.parametrize("jwk", [{"kty": "oct", "k": "AA"}, {"kty": ["EC"]}, {}, {"kty": "EC", "crv": "P-256"},
                                 {"kty": "RSA", "n": 5, "e": "AQAB"}])
def test_a_thumbprint_of_an_unknown_key_type_or_a_missing_member_is_a_value_error(jwk):
    with pytest.raises(ValueError):
        jwk_thumbprint(jwk)


def test_ath_is_the_unpadded_base64url_sha256_of_the_token_as_rfc_9449_gives_it():
    assert access_token_hash(RFC_ACCESS_TOKEN) == RFC_ATH
    assert access_token_hash("x") == b64(hashlib.sha256(b"x").digest())


# RFC 9449 4.3 points 1 and 2: one well-formed compact JWS.


def test_two_proofs_joined_as_repeated_header_fields_are_refused(ec_key):
    one = proof(ec_key)
    refused(f"{one},{one}", "not one compact JWS")
    refused(f"{one}, {one}", "not one compact JWS")


@pytest.mark.parametrize("value", ["", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "a..c", ".b.c", "a.b.", None, b"a.b.c", 7,
                                   ["a.b.c"]])
def test_a_value_that_is_not_three_base64url_segments_is_refused(value):
    refused(value, "not one compact JWS")


@pytest.mark.parametrize("spoil", [lambda t: t + "=", lambda t: " " + t, lambda t: t + "\n", lambda t: t + " ",
                                   lambda t: t.replace("-", "+").replace("_", "/") + "+/",
                                   lambda t: "Bearer " + t, lambda t: "DPoP " + t])
def test_a_proof_with_padding_whitespace_or_another_alphabet_is_refused(ec_key, spoil):
    refused(spoil(proof(ec_key)), "not one compact JWS")


def test_a_signature_in_non_canonical_base64url_is_refused(ec_key):
    header_segment, payload_segment, signature = proof(ec_key).split(".")
    refused(f"{header_segment}.{payload_segment}.{noncanonical(signature)}", "signature is not canonical")


def test_a_header_in_non_canonical_base64url_is_refused(ec_key):
    header = next(h for h in (encoded(header_for(ec_key, pad="x" * n)) for n in range(4)) if len(h) % 4 in (2, 3))
    refused(signed(ec_key, "ES256", noncanonical(header), claims()), "header is not a JSON object")


def test_a_proof_longer_than_the_bound_is_refused_and_one_within_it_verifies(ec_key):
    def padded(size: int) -> str:
        return proof(ec_key, padding="x" * size)
    size = (MAX_PROOF_LENGTH - len(padded(0))) * 3 // 4 + 3
    while len(padded(size)) > MAX_PROOF_LENGTH:
        size -= 1
    assert len(padded(size)) > MAX_PROOF_LENGTH - 4
    assert check(padded(size)).jti == "e1j3V_bKic8-LAEB"
    refused(padded(size + 3), "not one compact JWS")


@pytest.mark.parametrize("header", [b"not json", b"[]", b'"dpop+jwt"', b"null", b"\xff\xfe{}", b'{"alg": NaN}',
                                    b'{"typ": "dpop+jwt"', b"[" * 2500 + b"]" * 2500])
def test_a_header_that_is_not_a_json_object_is_refused(ec_key, header):
    refused(signed(ec_key, "ES256", header, claims()), "header is not a JSON object")


@pytest.mark.parametrize("payload", [b"not json", b"[]", b"1", b"\xc3\x28", b'{"iat": Infinity}', b"{"])
def test_a_payload_that_is_not_a_json_object_is_refused(ec_key, payload):
    refused(signed(ec_key, "ES256", header_for(ec_key), payload), "payload is not a JSON object")


def test_a_header_repeating_a_member_is_refused(ec_key):
    # Read last-wins, this header is a DPoP header; read first-wins, an ID token's: refused either way.
    spelt = json.dumps(header_for(ec_key))[:-1] + ', "typ": "JWT"}'
    flipped = '{"typ": "JWT", ' + json.dumps(header_for(ec_key))[1:]
    refused(signed(ec_key, "ES256", spelt.encode(), claims()), "header repeats a member")
    refused(signed(ec_key, "ES256", flipped.encode(), claims()), "header repeats a member")


def test_a_jwk_repeating_a_member_is_refused(ec_key):
    jwk = json.dumps(public_jwk_members(ec_key.public_key()))
    header = '{"typ": "dpop+jwt", "alg": "ES256", "jwk": ' + jwk[:-1] + ', "crv": "P-384"}}'
    refused(signed(ec_key, "ES256", header.encode(), claims()), "header repeats a member")


def test_a_payload_repeating_a_claim_is_refused(ec_key):
    payload = json.dumps(claims())[:-1] + ', "htu": "https://elsewhere.example/"}'
    refused(signed(ec_key, "ES256", header_for(ec_key), payload.encode()), "payload repeats a member")


# RFC 9449 4.3 point 3: the required claims, of their types.


@pytest.mark.parametrize("name", ["jti", "htm", "htu", "iat"])
def test_a_proof_missing_a_required_claim_is_refused(ec_key, name):
    refused(proof(ec_key, **{name: None}), f"no {name} claim")


@pytest.mark.parametrize(("name", "value"), [("jti", 1), ("jti", ["j"]), ("htm", ["POST"]), ("htm", True),
                                              ("htu", {"href": URL}), ("htu", 5)])
def test_a_string_claim_of_another_type_is_refused(ec_key, name, value):
    refused(proof(ec_key, **{name: value}), f"{name} claim is not a string")


@pytest.mark.parametrize("iat", [str(NOW), True, [NOW], {"t": NOW}])
def test_an_iat_that_is_not_a_numericdate_is_refused(ec_key, iat):
    refused(proof(ec_key, iat=iat), "iat claim is not a NumericDate")


def test_an_iat_overflowing_to_infinity_is_refused(ec_key):
    payload = json.dumps(claims(iat=None))[:-1] + ', "iat": 1e400}'
    refused(signed(ec_key, "ES256", header_for(ec_key), payload.encode()), "iat claim is not a NumericDate")


def test_an_iat_with_a_fraction_is_a_numericdate_checked_exactly(ec_key):
    verified = check(proof(ec_key, iat=NOW - 0.5))
    assert (verified.iat, verified.expires_at) == (NOW - 1, NOW - 1 + 301)
    refused(proof(ec_key, iat=NOW + 5.5), "in the future")


def test_an_empty_or_oversized_jti_is_refused_and_one_at_the_bound_verifies(ec_key):
    assert check(proof(ec_key, jti="j" * MAX_JTI_LENGTH)).jti == "j" * MAX_JTI_LENGTH
    refused(proof(ec_key, jti=""), "jti is empty or longer")
    refused(proof(ec_key, jti="j" * (MAX_JTI_LENGTH + 1)), "jti is empty or longer")


# RFC 9449 4.3 point 4: typ.


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "DPOP+JWT", "dpop+JWT", "application/dpop+jwt",
                                 "dpop+jwt ", 1, ["dpop+jwt"]])
def test_a_proof_whose_typ_is_not_dpop_jwt_is_refused(ec_key, typ):
    refused(proof(ec_key, header_for(ec_key, typ=typ)), "typ is not dpop\\+jwt")


# RFC 9449 4.3 point 5: alg, asymmetric, allowed, supported.


def test_alg_none_is_refused(ec_key):
    unsigned = f"{encoded(header_for(ec_key, alg='none'))}.{encoded(claims())}"
    refused(unsigned + ".", "not one compact JWS")
    refused(unsigned + "." + b64(b"\0" * 64), "alg is not an accepted")


def test_an_hmac_proof_is_refused_even_with_a_symmetric_jwk():
    secret = secrets.token_bytes(32)
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(secret)}}
    refused(signed(secret, "HS256", header, claims()), "alg is not an accepted")


@pytest.mark.parametrize("alg", [None, "", "es256", "ES256 ", 256, ["ES256"], {"alg": "ES256"}])
def test_a_missing_or_misspelt_alg_is_refused(ec_key, alg):
    header = header_for(ec_key, alg=alg)
    refused(signed(ec_key, "ES256", header, claims()), "alg is not an accepted")


def test_an_asymmetric_alg_this_server_does_not_verify_is_refused(rsa_key):
    p384 = ec.generate_private_key(ec.SECP384R1())
    es384 = {"typ": "dpop+jwt", "alg": "ES384", "jwk": json.loads(ECAlgorithm.to_jwk(p384.public_key()))}
    ps256 = header_for(rsa_key, alg="PS256")
    refused(signed(p384, "ES384", es384, claims()), "alg is not an accepted")
    refused(signed(rsa_key, "PS256", ps256, claims()), "alg is not an accepted")


def test_an_alg_outside_the_callers_allow_list_is_refused(ec_key, rsa_key):
    refused(proof(ec_key), "alg is not an accepted", algorithms=("RS256",))
    assert check(proof(rsa_key), algorithms=("RS256",)).alg == "RS256"


@pytest.mark.parametrize("algorithms", [("PS256",), ("ES256", "HS256"), ("none",)])
def test_an_allow_list_naming_an_algorithm_not_verified_here_is_a_value_error(ec_key, algorithms):
    with pytest.raises(ValueError, match="not an algorithm"):
        check(proof(ec_key), algorithms=algorithms)


def test_the_allow_list_is_asymmetric_and_what_the_jws_algorithms_verify():
    assert set(DPOP_ALGORITHMS) == set(jwa.ALGORITHMS)
    assert not any(alg.startswith("HS") or alg == "none" for alg in DPOP_ALGORITHMS)


# The header names its key only as jwk.


@pytest.mark.parametrize("name", ["kid", "jku", "x5u", "x5c", "x5t", "x5t#S256"])
def test_a_header_naming_a_key_by_reference_is_refused(ec_key, name):
    refused(proof(ec_key, header_for(ec_key, **{name: "https://attacker.example/key"})), "names a key by reference")


@pytest.mark.parametrize("extension", [{"crit": ["exp"]}, {"b64": False}, {"crit": []}])
def test_a_header_with_an_extension_is_refused(ec_key, extension):
    refused(proof(ec_key, header_for(ec_key, **extension)), "extension")


@pytest.mark.parametrize("jwk", [None, "eyJrdHkiOiJFQyJ9", ["EC"], 1])
def test_a_header_without_a_jwk_object_is_refused(ec_key, jwk):
    refused(proof(ec_key, header_for(ec_key, jwk=jwk)), "no jwk object")


# RFC 9449 4.3 point 6: the signature, by the jwk.


def test_a_proof_whose_payload_was_changed_after_signing_is_refused(ec_key):
    header_segment, _, signature = proof(ec_key).split(".")
    refused(f"{header_segment}.{encoded(claims(htm='GET'))}.{signature}", "signature does not verify")


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(key):
    alg = algorithm_for(key.public_key())
    other = generate(alg)
    refused(signed(other, alg, header_for(key), claims()), "signature does not verify")


@pytest.mark.parametrize("spoil", [lambda s: s[:-4], lambda s: s + "AAAA", lambda s: "A" * len(s)])
def test_a_truncated_extended_or_forged_signature_is_refused(key, spoil):
    header_segment, payload_segment, signature = proof(key).split(".")
    refused(f"{header_segment}.{payload_segment}.{spoil(signature)}", "signature")


def test_an_es256_signature_in_der_is_refused(ec_key):
    from cryptography.hazmat.primitives import hashes
    header_segment, payload_segment, _ = proof(ec_key).split(".")
    der = ec_key.sign(f"{header_segment}.{payload_segment}".encode(), ec.ECDSA(hashes.SHA256()))
    refused(f"{header_segment}.{payload_segment}.{b64(der)}", "signature does not verify")


# RFC 9449 4.3 point 7: no private key; and the key alg needs.


def test_a_jwk_that_is_a_whole_private_key_is_refused(key):
    private = {"ES256": ECAlgorithm, "RS256": RSAAlgorithm, "EdDSA": OKPAlgorithm}[algorithm_for(key.public_key())]
    jwk = json.loads(private.to_jwk(key))
    assert "d" in jwk
    refused(proof(key, header_for(key, jwk=jwk)), "holds private key material")


@pytest.mark.parametrize("name", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_a_jwk_holding_any_private_member_is_refused(ec_key, rsa_key, name):
    for signer in (ec_key, rsa_key):
        jwk = {**public_jwk_members(signer.public_key()), name: "AQAB" if name != "oth" else [{"r": "AQAB"}]}
        refused(proof(signer, header_for(signer, jwk=jwk)), "holds private key material")


def test_a_symmetric_jwk_is_refused_under_an_asymmetric_alg(ec_key):
    refused(proof(ec_key, header_for(ec_key, jwk={"kty": "oct"})), "not a key of the type its alg needs")


@pytest.mark.parametrize(("signer", "alg"), [("ec_key", "RS256"), ("ec_key", "EdDSA"), ("rsa_key", "ES256"),
                                             ("rsa_key", "EdDSA"), ("ed_key", "ES256"), ("ed_key", "RS256")])
def test_a_jwk_whose_key_type_does_not_suit_alg_is_refused(request, signer, alg):
    signing_key = request.getfixturevalue(signer)
    header = header_for(signing_key, alg=alg)
    token = f"{encoded(header)}.{encoded(claims())}.{b64(b'x' * 64)}"
    refused(token, "not a key of the type its alg needs")


def test_an_ec_jwk_on_another_curve_is_refused():
    p384 = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(p384.public_key()))
    token = f"{encoded({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': jwk})}.{encoded(claims())}.{b64(b'x' * 64)}"
    refused(token, "not on the curve")
    # The same coordinates claiming P-256: not its coordinates' size.
    token = f"{encoded({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': {**jwk, 'crv': 'P-256'}})}.{encoded(claims())}.x"
    refused(token, "not P-256 coordinates")


def test_an_ec_point_off_the_curve_is_refused(ec_key):
    jwk = {**public_jwk_members(ec_key.public_key()), "y": b64((1).to_bytes(32, "big"))}
    refused(proof(ec_key, header_for(ec_key, jwk=jwk)), "not a valid public key")


def test_an_ec_coordinate_in_short_or_non_canonical_form_is_refused(ec_key):
    members = public_jwk_members(ec_key.public_key())
    short = {**members, "x": b64(unb64(members["x"])[1:])}
    refused(proof(ec_key, header_for(ec_key, jwk=short)), "not P-256 coordinates")
    spelt = {**members, "x": noncanonical(members["x"])}
    refused(proof(ec_key, header_for(ec_key, jwk=spelt)), "member x is not canonical")
    for value in (None, 5, "x+y/", members["x"] + "="):
        refused(proof(ec_key, header_for(ec_key, jwk={**members, "x": value})), "member x is not canonical")


def test_an_rsa_key_shorter_than_2048_or_longer_than_4096_bits_is_refused():
    short = rsa.generate_private_key(65537, 1024)  # a real key: its proof would verify but for the check
    header = {"typ": "dpop+jwt", "alg": "RS256", "jwk": public_jwk_members(short.public_key())}
    refused(proof(short, header), "not 2048 to 4096 bits")
    for bits in (2047, 4097):
        n = (1 << (bits - 1)) | 1
        jwk = {"kty": "RSA", "n": b64(n.to_bytes((bits + 7) // 8, "big")), "e": "AQAB"}
        token = f"{encoded({'typ': 'dpop+jwt', 'alg': 'RS256', 'jwk': jwk})}.{encoded(claims())}.AAAA"
        refused(token, "not 2048 to 4096 bits")


def test_an_rsa_member_with_a_leading_zero_octet_is_refused(rsa_key):
    # The same key, spelt with one more octet: it would verify, under a second thumbprint.
    members = public_jwk_members(rsa_key.public_key())
    for name in ("n", "e"):
        jwk = {**members, name: b64(b"\0" + unb64(members[name]))}
        refused(proof(rsa_key, header_for(rsa_key, jwk=jwk)), f"member {name} is not a minimal unsigned integer")


@pytest.mark.parametrize("e", [b"\x02", b"\x01", b"\x01\x00\x00", (2**256 + 1).to_bytes(33, "big")])
def test_an_rsa_exponent_that_is_even_tiny_or_huge_is_refused(rsa_key, e):
    jwk = {**public_jwk_members(rsa_key.public_key()), "e": b64(e)}
    refused(proof(rsa_key, header_for(rsa_key, jwk=jwk)), "RSA exponent is too large|not a valid public key")


def test_an_okp_jwk_of_another_curve_or_size_is_refused(ed_key):
    ed448_key = ed448.Ed448PrivateKey.generate()
    token = signed(ed448_key, "EdDSA", {"typ": "dpop+jwt", "alg": "EdDSA",
                                        "jwk": json.loads(OKPAlgorithm.to_jwk(ed448_key.public_key()))}, claims())
    refused(token, "not on the curve")
    members = public_jwk_members(ed_key.public_key())
    refused(proof(ed_key, header_for(ed_key, jwk={**members, "x": members["x"][:-3]})), "not an Ed25519 public key")
    refused(proof(ed_key, header_for(ed_key, jwk={**members, "crv": "X25519"})), "not on the curve")


@pytest.mark.parametrize(("member", "value", "match"), [
    ("alg", "RS256", "meant for another algorithm"), ("alg", "none", "meant for another algorithm"),
    ("use", "enc", "not a signature key"), ("key_ops", ["encrypt"], "may not verify"),
    ("key_ops", "verify", "may not verify"),
])
def test_a_jwk_whose_own_members_contradict_the_header_is_refused(ec_key, member, value, match):
    jwk = {**public_jwk_members(ec_key.public_key()), member: value}
    refused(proof(ec_key, header_for(ec_key, jwk=jwk)), match)


def test_a_jwk_whose_own_members_agree_with_the_header_verifies_under_the_same_thumbprint(ec_key):
    jwk = {**public_jwk_members(ec_key.public_key()), "alg": "ES256", "use": "sig", "key_ops": ["verify"]}
    assert check(proof(ec_key, header_for(ec_key, jwk=jwk))).jkt == thumbprint(ec_key.public_key())


# RFC 9449 4.3 point 8: htm.


@pytest.mark.parametrize("htm", ["GET", "post", "Post", "POST ", "PUT"])
def test_a_proof_for_another_method_is_refused(ec_key, htm):
    refused(proof(ec_key, htm=htm), "htm is not this request's method")


# RFC 9449 4.3 point 9: htu, compared normalized.


@pytest.mark.parametrize("htu", [
    "https://AS.EXAMPLE/oauth/token",
    "HTTPS://as.example:443/oauth/token",
    "https://as.example:/oauth/token",
    "https://as.example/oauth/token?client=1",
    "https://as.example/oauth/token#frag",
    "https://as.example/oauth/%74oken",
    "https://as.example/oauth/./token",
    "https://as.example/x/../oauth/token",
])
def test_an_htu_that_normalizes_to_the_request_uri_verifies(ec_key, htu):
    assert check(proof(ec_key, htu=htu)).htu == URL


@pytest.mark.parametrize("htu", [
    "http://as.example/oauth/token",
    "https://as.example:8443/oauth/token",
    "https://other.example/oauth/token",
    "https://as.example/oauth/Token",
    "https://as.example/oauth/token/",
    "https://as.example/oauth",
    "https://as.example/oauth/token/..",
    "https://as.example./oauth/token",
])
def test_a_proof_for_another_uri_is_refused(ec_key, htu):
    refused(proof(ec_key, htu=htu), "htu is not this request's URI")


@pytest.mark.parametrize("htu", ["/oauth/token", "as.example/oauth/token", "ftp://as.example/oauth/token",
                                 "https://user:pw@as.example/oauth/token", "https:///oauth/token", ""])
def test_an_htu_that_is_not_an_absolute_http_uri_is_refused(ec_key, htu):
    refused(proof(ec_key, htu=htu), "htu is not an absolute http or https URI")


def test_the_request_uri_is_normalized_too(ec_key):
    assert check(proof(ec_key), url="HTTPS://As.Example:443/oauth/token?x=1").htu == URL


def test_a_malformed_request_uri_is_the_callers_error(ec_key):
    with pytest.raises(ValueError):
        check(proof(ec_key), url="/oauth/token")


@pytest.mark.parametrize(("uri", "normalized"), [
    ("https://as.example/oauth/token", "https://as.example/oauth/token"),
    ("HTTPS://AS.Example/oauth/token", "https://as.example/oauth/token"),
    ("https://as.example:443/a", "https://as.example/a"),
    ("http://as.example:80/a", "http://as.example/a"),
    ("http://as.example:443/a", "http://as.example:443/a"),
    ("https://as.example:80/a", "https://as.example:80/a"),
    ("https://as.example:08443/a", "https://as.example:8443/a"),
    ("https://as.example:/a", "https://as.example/a"),
    ("https://as.example", "https://as.example/"),
    ("https://as.example?q=1", "https://as.example/"),
    ("https://as.example#f", "https://as.example/"),
    ("https://as.example/a?q=%zz#f", "https://as.example/a"),
    ("https://as.example/a%2fb", "https://as.example/a%2Fb"),
    ("https://as.example/a%2Fb", "https://as.example/a%2Fb"),
    ("https://as.example/%7euser/%41%62%2D%5f%2e", "https://as.example/~user/Ab-_."),
    ("https://as.example/caf%c3%a9", "https://as.example/caf%C3%A9"),
    ("https://as.example/a/./b/../c", "https://as.example/a/c"),
    ("https://as.example/a/b/c/./../../g", "https://as.example/a/g"),
    ("https://as.example/a/..", "https://as.example/"),
    ("https://as.example/a/.", "https://as.example/a/"),
    ("https://as.example/../a", "https://as.example/a"),
    ("https://as.example/a/%2E%2E/c", "https://as.example/c"),
    ("https://as.example/a/.b/..c", "https://as.example/a/.b/..c"),
    ("https://as.example//a//", "https://as.example//a//"),
    ("https://as.example/Path/", "https://as.example/Path/"),
    ("https://EX%41MPLE.com/", "https://example.com/"),
    ("https://ex%c3%a9.example/", "https://ex%C3%A9.example/"),
    ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ("https://127.0.0.1:443/x", "https://127.0.0.1/x"),
    ("https://as.example/a:b@c!$&'()*+,;=", "https://as.example/a:b@c!$&'()*+,;="),
])
def test_normalized_htu_applies_rfc_3986_syntax_and_scheme_based_normalization(uri, normalized):
    assert normalized_htu(uri) == normalized
    assert normalized_htu(normalized) == normalized


@pytest.mark.parametrize("uri", [
    "", "/oauth/token", "as.example/token", "https:as.example/token", "//as.example/token", "ftp://as.example/",
    "urn:ietf:params:oauth", "https://user@as.example/", "https://user:pw@as.example/", "https:///token",
    "https://:443/token", "https://as.example:99999/", "https://as.example:443x/", "https://as.example:-1/",
    "https://as .example/", "https://as.example/a b", "https://as.example/caf\u00e9", "https://as.example/%zz",
    "https://as.example/%4", "https://as.example/a%", "https://[::1/", "https://[::1]x/", "https://[v1.x]/",
    "https://as.example\t/", "https://as.example/a\x7f", "https://as.example/a|b", "https://as.example/a\\b",
    "https://as.example/a\"b", "https://as.example/<script>", "https://a[b/", "https://as.example/\u0661",
    "https://as.example/a?q=\u00e9", "https://as.example/a?q=a b", "https://as.example/a#\x00", None, 5,
])
def test_normalized_htu_refuses_what_is_not_an_absolute_http_uri(uri):
    with pytest.raises(ValueError):
        normalized_htu(uri)


@pytest.mark.parametrize("uri", ["https://user@as.example/", "https://user:pw@as.example/", "https://@as.example/"])
def test_normalized_htu_refuses_userinfo_as_rfc_9110_asks(uri):
    with pytest.raises(ValueError, match="userinfo"):
        normalized_htu(uri)


# RFC 9449 4.3 point 10 and 8: the server's nonce.


def test_a_proof_without_the_expected_nonce_asks_for_it(ec_key):
    with pytest.raises(UseDpopNonce, match="no nonce") as caught:
        check(proof(ec_key), nonce="n-1")
    assert (caught.value.error, caught.value.nonce) == ("use_dpop_nonce", "n-1")


@pytest.mark.parametrize("sent", ["n-2", "N-1", "n-1 ", "", 1, ["n-1"], "n\u00e9"])
def test_a_proof_with_another_nonce_asks_for_the_expected_one(ec_key, sent):
    with pytest.raises(UseDpopNonce) as caught:
        check(proof(ec_key, nonce=sent), nonce="n-1")
    assert caught.value.nonce == "n-1"


def test_a_proof_with_the_expected_nonce_verifies(ec_key):
    assert check(proof(ec_key, nonce="n-1"), nonce="n-1").jti == "e1j3V_bKic8-LAEB"


def test_a_nonce_is_not_looked_at_when_none_is_expected(ec_key):
    assert check(proof(ec_key, nonce=["anything"])).jti == "e1j3V_bKic8-LAEB"


def test_with_server_nonces_the_current_or_previous_windows_nonce_verifies(ec_key):
    nonces = DpopNonces(secrets.token_bytes(32), window_seconds=300)
    for issued in (NOW, NOW - 300):
        assert check(proof(ec_key, nonce=nonces.current(issued)), nonces=nonces).jti == "e1j3V_bKic8-LAEB"


def test_with_server_nonces_a_stale_or_missing_nonce_asks_for_the_current_one(ec_key):
    nonces = DpopNonces(secrets.token_bytes(32), window_seconds=300)
    for token in (proof(ec_key, nonce=nonces.current(NOW - 600)), proof(ec_key)):
        with pytest.raises(UseDpopNonce) as caught:
            check(token, nonces=nonces)
        assert caught.value.nonce == nonces.current(NOW)
        assert nonces.valid(caught.value.nonce, NOW)


def test_a_nonce_is_asked_for_only_once_everything_else_holds(ec_key):
    # So a client that retries with the nonce is not refused for something else next.
    refused(proof(ec_key, htm="GET"), "htm", nonce="n-1")
    refused(proof(ec_key, iat=NOW - 1000), "too old", nonce="n-1")
    refused(proof(ec_key), "no ath", nonce="n-1", access_token="t")


def test_giving_both_a_nonce_and_server_nonces_is_a_value_error(ec_key):
    with pytest.raises(ValueError):
        check(proof(ec_key, nonce="n"), nonce="n", nonces=DpopNonces(secrets.token_bytes(32)))


# RFC 9449 4.3 point 11: iat within the window.


def test_a_proof_exactly_max_age_old_verifies_and_a_second_older_is_refused(ec_key):
    assert check(proof(ec_key, iat=NOW - 300)).iat == NOW - 300
    refused(proof(ec_key, iat=NOW - 301), "too old")


def test_a_proof_within_the_leeway_of_the_future_verifies_and_beyond_it_is_refused(ec_key):
    assert check(proof(ec_key, iat=NOW + 5)).iat == NOW + 5
    refused(proof(ec_key, iat=NOW + 6), "iat is in the future")


def test_the_age_and_the_leeway_are_the_callers(ec_key):
    refused(proof(ec_key, iat=NOW - 61), "too old", max_age_seconds=60)
    assert check(proof(ec_key, iat=NOW + 30), leeway_seconds=30).iat == NOW + 30
    refused(proof(ec_key, iat=NOW + 1), "in the future", leeway_seconds=0)


def test_a_proof_remembers_its_replay_expiry_past_its_last_acceptable_second(ec_key):
    verified = check(proof(ec_key, iat=NOW + 5), max_age_seconds=60)
    assert verified.expires_at == NOW + 5 + 60 + 1
    refused(proof(ec_key, iat=NOW + 5), "too old", now=verified.expires_at, max_age_seconds=60)


# RFC 9449 4.3 point 12: ath, and the key the token is bound to.


def test_a_proof_without_ath_is_refused_when_an_access_token_is_presented(ec_key):
    refused(proof(ec_key), "no ath claim", access_token="token-1")


@pytest.mark.parametrize("ath", [access_token_hash("token-2"), access_token_hash("token-1") + "=",
                                 hashlib.sha256(b"token-1").hexdigest(), 1, [access_token_hash("token-1")]])
def test_a_proof_whose_ath_is_not_the_tokens_hash_is_refused(ec_key, ath):
    refused(proof(ec_key, ath=ath), "ath is not the hash", access_token="token-1")


def test_a_proof_whose_ath_is_the_tokens_hash_verifies(ec_key):
    assert check(proof(ec_key, ath=access_token_hash("token-1")), access_token="token-1").jti


def test_a_non_ascii_access_token_is_refused_not_raised(ec_key):
    refused(proof(ec_key, ath="x"), "not ASCII", access_token="t\u00e9")


def test_a_proof_by_another_key_than_the_token_is_bound_to_is_refused(ec_key, ed_key):
    bound = thumbprint(ec_key.public_key())
    assert check(proof(ec_key), bound_jkt=bound).jkt == bound
    refused(proof(ed_key), "not the key the access token is bound to", bound_jkt=bound)


# How each surface answers a refusal (RFC 9449 5, 7.1 and 8).


def test_a_refusal_answers_400_invalid_dpop_proof_at_the_token_endpoint(ec_key):
    error = refused(proof(ec_key, htm="GET"), "htm").oauth_error()
    assert isinstance(error, OAuthError)
    assert (error.error, error.status, error.headers) == ("invalid_dpop_proof", 400, {})
    assert error.body()["error_description"] == "The DPoP proof's htm is not this request's method."
    factory = invalid_dpop_proof("The DPoP proof is too old.")
    assert (factory.error, factory.status, factory.description) == ("invalid_dpop_proof", 400,
                                                                    "The DPoP proof is too old.")


def test_a_nonce_request_answers_400_use_dpop_nonce_with_the_nonce_at_the_token_endpoint(ec_key):
    with pytest.raises(UseDpopNonce) as caught:
        check(proof(ec_key), nonce="n-1")
    error = caught.value.oauth_error()
    assert (error.error, error.status, error.headers) == ("use_dpop_nonce", 400, {"DPoP-Nonce": "n-1"})
    factory = use_dpop_nonce("n-2")
    assert (factory.error, factory.status, factory.headers) == ("use_dpop_nonce", 400, {"DPoP-Nonce": "n-2"})


def test_a_resource_server_challenges_with_the_dpop_scheme_its_error_and_its_algorithms(ec_key):
    headers = refused(proof(ec_key, htm="GET"), "htm").challenge()
    assert headers == {"WWW-Authenticate": 'DPoP error="invalid_dpop_proof", error_description="The DPoP '
                                           'proof\'s htm is not this request\'s method.", algs="ES256 RS256 EdDSA"'}
    with pytest.raises(UseDpopNonce) as caught:
        check(proof(ec_key), nonce="n-1")
    headers = caught.value.challenge(("ES256",))
    assert headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce", ')
    assert headers["WWW-Authenticate"].endswith(', algs="ES256"')
    assert headers["DPoP-Nonce"] == "n-1"


def test_a_challenge_description_is_a_valid_quoted_string():
    headers = InvalidDpopProof('a "quoted" back\\slash').challenge()
    assert 'error_description="a \\"quoted\\" back\\\\slash"' in headers["WWW-Authenticate"]


def test_the_errors_are_one_tree_under_passport_error():
    assert issubclass(UseDpopNonce, InvalidDpopProof)
    assert issubclass(InvalidDpopProof, PassportError)
    assert (InvalidDpopProof.error, UseDpopNonce.error) == ("invalid_dpop_proof", "use_dpop_nonce")
    assert str(InvalidDpopProof("x")) == "invalid_dpop_proof: x"


def test_a_refusal_never_repeats_what_the_proof_or_the_token_carries(ec_key):
    secret = "s3cr3t-value-Zq9"
    tokens = [
        proof(ec_key, htu=f"https://{secret}.example/oauth/token"),
        proof(ec_key, htm=secret),
        proof(ec_key, jti=secret * 40),
        proof(ec_key, header_for(ec_key, typ=secret)),
        signed(ec_key, "ES256", header_for(ec_key, alg=secret), claims()),
        proof(ec_key, header_for(ec_key, kid=secret)),
        proof(ec_key, ath=secret),
        secret,
    ]
    for token in tokens:
        with pytest.raises(InvalidDpopProof) as caught:
            check(token, access_token=secret + "-token", nonce=secret + "-nonce")
        shown = caught.value.challenge()["WWW-Authenticate"] + str(caught.value)
        assert secret not in shown
        assert all(secret not in value for value in caught.value.oauth_error().body().values())


# RFC 9449 8 and 9: stateless server nonces.


def test_a_nonce_is_valid_in_its_window_and_the_next():
    nonces = DpopNonces(secrets.token_bytes(32), window_seconds=300)
    start = NOW - NOW % 300
    nonce = nonces.current(start)
    assert all(nonces.current(t) == nonce for t in (start, start + 1, start + 299))
    assert all(nonces.valid(nonce, t) for t in (start, start + 299, start + 300, start + 599))
    assert not nonces.valid(nonce, start + 600)
    assert not nonces.valid(nonce, start - 1)  # never ahead of its window


def test_a_nonce_changes_with_the_window_and_is_unpredictable_without_the_secret():
    nonces = DpopNonces(secrets.token_bytes(32), window_seconds=60)
    assert len({nonces.current(NOW + 60 * i) for i in range(10)}) == 10
    assert DpopNonces(secrets.token_bytes(32)).current(NOW) != DpopNonces(secrets.token_bytes(32)).current(NOW)


def test_a_nonce_from_another_secret_is_refused():
    ours, theirs = DpopNonces(secrets.token_bytes(32)), DpopNonces(secrets.token_bytes(32))
    assert not ours.valid(theirs.current(NOW), NOW)


def test_every_container_with_the_secret_agrees_on_the_nonce():
    secret = secrets.token_bytes(32)
    assert DpopNonces(secret).current(NOW) == DpopNonces(bytes(secret)).current(NOW + 1)
    assert DpopNonces(secret).valid(DpopNonces(secret).current(NOW), NOW)


def test_a_nonce_is_made_of_nqchar():
    nonce = DpopNonces(secrets.token_bytes(32)).current(NOW)
    assert len(nonce) == 43
    assert all(c == "!" or "#" <= c <= "[" or "]" <= c <= "~" for c in nonce)  # RFC 9449 8: NQCHAR


@pytest.mark.parametrize("value", [None, 1, b"x" * 43, "", "x" * 43, "\u00e9" * 43, "x" * 44, ["x"]])
def test_whatever_a_client_sends_as_a_nonce_is_refused_without_an_exception(value):
    assert DpopNonces(secrets.token_bytes(32)).valid(value, NOW) is False


# Fixed values in parameters: pytest-xdist's workers must collect the same test ids.
@pytest.mark.parametrize(("secret", "window"), [(b"short", 300), ("x" * 32, 300), (b"\x01" * 32, 0)],
                         ids=["short", "text", "empty-window"])
def test_a_weak_secret_or_an_empty_window_is_a_value_error(secret, window):
    with pytest.raises(ValueError):
        DpopNonces(secret, window_seconds=window)


# RFC 9449 11.1: replay.




def test_a_proof_is_spent_once(ec_key):
    replay, verified = MemoryReplay(), check(proof(ec_key))
    spend_once(replay, verified)
    with pytest.raises(InvalidDpopProof, match="used before"):
        spend_once(replay, check(proof(ec_key)))
    assert list(replay.spent.values()) == [verified.expires_at]


def test_the_same_jti_under_another_key_is_another_proof(ec_key, ed_key):
    replay = MemoryReplay()
    spend_once(replay, check(proof(ec_key)))
    spend_once(replay, check(proof(ed_key)))
    assert len(replay.spent) == 2


def test_a_replay_key_is_bounded_and_keeps_its_parts_apart():
    assert len(replay_key("k", "j" * 10_000)) == 43
    assert replay_key("ab", "c") != replay_key("a", "bc")
    assert replay_key("a", "b") == replay_key("a", "b")
    assert replay_key("a", "\ud800") != replay_key("a", "\ud801")  # a lone surrogate from JSON still hashes


# Whatever a client sends: a refusal, never a crash.


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400) | st.from_regex(r"[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,90}",
                                               fullmatch=True))
def test_verify_proof_raises_nothing_but_invalid_dpop_proof_for_any_string(text):
    try:
        verify_proof(text, method=METHOD, url=URL, now=NOW, access_token="t", nonce="n")
    except InvalidDpopProof:
        pass


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)
_MEMBER = _JSON | st.sampled_from(["AQAB", "P-256", "Ed25519", "", "AA", "x" * 43, "_" * 43, "A" * 342])
_JWK = st.fixed_dictionaries({"kty": st.sampled_from(["EC", "RSA", "OKP", "oct"]) | _JSON},
                             optional={name: _MEMBER for name in ("crv", "x", "y", "n", "e", "alg", "use", "key_ops",
                                                                  "d", "kid")})
_HEADER = st.fixed_dictionaries({"typ": st.just("dpop+jwt") | _JSON, "alg": st.sampled_from(DPOP_ALGORITHMS) | _JSON,
                                 "jwk": _JWK | _JSON}, optional={"crit": _JSON, "kid": _JSON})
_CLAIMS = st.fixed_dictionaries({}, optional={"jti": _MEMBER, "htm": st.just(METHOD) | _JSON,
                                              "htu": st.just(URL) | _MEMBER, "iat": st.just(NOW) | _JSON,
                                              "ath": _MEMBER, "nonce": _MEMBER})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HEADER, _CLAIMS, st.binary(max_size=80))
def test_verify_proof_raises_nothing_but_invalid_dpop_proof_for_any_header_and_claims(header, payload, signature):
    token = f"{encoded(header)}.{encoded(payload)}.{b64(signature) or 'AA'}"
    try:
        verify_proof(token, method=METHOD, url=URL, now=NOW, access_token="t", nonce="n", bound_jkt="k")
    except InvalidDpopProof:
        pass


@settings(max_examples=200, deadline=None)
@given(_HEADER, _CLAIMS)
def test_a_validly_signed_proof_with_any_header_and_claims_is_verified_or_refused(header, payload):
    # Signed by a real key, so the checks after the signature see every shape too.
    signing_key = ec.derive_private_key(7, ec.SECP256R1())
    if isinstance(header.get("jwk"), dict) and header.get("alg") == "ES256":
        header = {**header, "jwk": {**public_jwk_members(signing_key.public_key()), **{
            name: value for name, value in header["jwk"].items() if name not in ("kty", "crv", "x", "y")}}}
    token = signed(signing_key, "ES256", header, payload)
    try:
        verify_proof(token, method=METHOD, url=URL, now=NOW, access_token="t", nonce="n")
    except InvalidDpopProof:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.builds(lambda host, path: f"https://{host}{path}",
                                        st.from_regex(r"[A-Za-z0-9.%:\[\]-]{0,20}", fullmatch=True),
                                        st.from_regex(r"[/A-Za-z0-9.%?#~-]{0,30}", fullmatch=True)))
def test_normalized_htu_refuses_or_normalizes_to_a_fixed_point(text):
    try:
        once = normalized_htu(text)
    except ValueError:
        return
    assert normalized_htu(once) == once
