"""The JWS algorithms (``passport.keys.jwa``: RS256 and ES256 of RFC 7518 3.3 and 3.4, EdDSA of RFC 8037 3.1),
held to PyJWT's implementation of each, both ways, and refusing every malformed signature with False."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from passport.keys import jwa
from passport.keys.material import KeyMaterialError, algorithm_for, generate, load_private, private_pem

MESSAGE = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9"
KEYS = {alg: generate(alg) for alg in jwa.ALGORITHMS}


@pytest.fixture(scope="module", params=jwa.ALGORITHMS)
def key(request):
    return generate(request.param)


@pytest.fixture(scope="module")
def alg(key):
    return algorithm_for(key.public_key())


def pyjwt(alg):
    return jwt.get_algorithm_by_name(alg)


def test_a_signature_verifies_with_pyjwts_implementation_of_the_algorithm(key, alg):
    signature = jwa.sign(alg, MESSAGE, key)
    assert pyjwt(alg).verify(MESSAGE, key.public_key(), signature)


def test_pyjwts_signature_verifies_here(key, alg):
    assert jwa.verify(alg, MESSAGE, key.public_key(), pyjwt(alg).sign(MESSAGE, key))


@pytest.mark.parametrize("deterministic", ["RS256", "EdDSA"])
def test_deterministic_algorithms_sign_exactly_as_pyjwt(deterministic):
    """RSASSA-PKCS1-v1_5 and Ed25519 are deterministic: the same bytes as PyJWT's (ECDSA is randomized)."""
    key = KEYS[deterministic]
    assert jwa.sign(deterministic, MESSAGE, key) == pyjwt(deterministic).sign(MESSAGE, key)


def test_an_es256_signature_is_64_octets_of_r_and_s():
    """RFC 7518 3.4: R and S as 32-byte big-endian integers, concatenated; never OpenSSL's DER."""
    key = generate("ES256")
    assert all(len(jwa.sign("ES256", MESSAGE + bytes([i]), key)) == 64 for i in range(20))


def test_another_message_or_a_changed_signature_is_refused(key, alg):
    signature = jwa.sign(alg, MESSAGE, key)
    public = key.public_key()
    assert not jwa.verify(alg, MESSAGE + b".", public, signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not jwa.verify(alg, MESSAGE, public, flipped)
    assert not jwa.verify(alg, MESSAGE, public, b"")
    assert not jwa.verify(alg, MESSAGE, public, signature + b"\x00")
    assert not jwa.verify(alg, MESSAGE, public, signature[:-1])


def test_an_es256_signature_in_der_or_out_of_range_is_refused():
    key = generate("ES256")
    public = key.public_key()
    der = key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    assert not jwa.verify("ES256", MESSAGE, public, der)  # OpenSSL's own form is not RFC 7518's
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's n
    signature = jwa.sign("ES256", MESSAGE, key)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    for bad_r, bad_s in ((0, s), (r, 0), (r + order, s), (r, s + order), (2**256 - 1, 2**256 - 1)):
        if bad_r >= 2**256 or bad_s >= 2**256:
            continue  # does not fit 32 octets: not a spelling of (r, s) at all
        assert not jwa.verify("ES256", MESSAGE, public, bad_r.to_bytes(32, "big") + bad_s.to_bytes(32, "big"))


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=300), signature=st.binary(max_size=600), which=st.sampled_from(jwa.ALGORITHMS))
def test_no_signature_bytes_raise(message, signature, which):
    key = KEYS[which]
    assert jwa.verify(which, message, key.public_key(), signature) is False


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "HS256", "none", "PS256"])
def test_a_key_never_works_under_another_algorithm(alg):
    for own, key in KEYS.items():
        if own == alg:
            continue
        with pytest.raises(ValueError):
            jwa.sign(alg, MESSAGE, key)
        with pytest.raises(ValueError):
            jwa.verify(alg, MESSAGE, key.public_key(), b"\x00" * 64)


def _inconsistent_rsa_pem() -> str:
    """An RSA private key whose CRT exponent does not match its private exponent: OpenSSL's check refuses it."""
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    broken = rsa.RSAPrivateNumbers(numbers.p, numbers.q, numbers.d, numbers.dmp1 ^ 2, numbers.dmq1, numbers.iqmp,
                                   numbers.public_numbers)
    key = broken.private_key(unsafe_skip_rsa_key_validation=True)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_a_private_key_a_user_supplies_is_checked_and_an_inconsistent_one_refused():
    with pytest.raises(KeyMaterialError):
        load_private(_inconsistent_rsa_pem())


def test_a_key_generated_here_skips_openssls_rsa_check_and_still_signs():
    """The check costs 40 ms of every cold start that signs; a key this server generated passes it by
    construction, so it is skipped for keys from the key secret (which only this server writes)."""
    assert load_private(_inconsistent_rsa_pem(), generated_here=True)  # proof the check is skipped, not a use
    key = generate("RS256")
    loaded = load_private(private_pem(key), generated_here=True)
    assert pyjwt("RS256").verify(MESSAGE, key.public_key(), jwa.sign("RS256", MESSAGE, loaded))
