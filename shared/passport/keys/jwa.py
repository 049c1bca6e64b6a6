"""The three JWS algorithms our keys sign with (RFC 7518 3, RFC 8037 3.1), on ``cryptography`` directly.

One key, one algorithm (``passport.keys.material.algorithm_for``): RSA keys sign RS256 (RSASSA-PKCS1-v1_5 with
SHA-256, RFC 7518 3.3), P-256 keys ES256 (ECDSA with SHA-256, RFC 7518 3.4) and Ed25519 keys EdDSA (RFC 8037 3.1).
PyJWT implements the same on the same library, but importing it costs every function's cold start more than
these few lines (its package loads its JWKS client, ``urllib.request``, ``http.client`` and X.509), and the guard
pays that on every cold start of every API. Tests hold these to PyJWT's own implementation, both ways.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from passport.keys.material import PrivateKey, PublicKey

ALGORITHMS = ("RS256", "ES256", "EdDSA")
#: RFC 7518 3.4: an ES256 signature is R and S, each a 32-byte big-endian unsigned integer, concatenated.
_P256_OCTETS = 32


def sign(alg: str, signing_input: bytes, key: PrivateKey) -> bytes:
    """The JWS Signature of ``signing_input`` (RFC 7515 5.1 step 5) with ``key`` under ``alg``."""
    if alg == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))  # DER, as OpenSSL gives it
        return r.to_bytes(_P256_OCTETS, "big") + s.to_bytes(_P256_OCTETS, "big")
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(signing_input)
    raise ValueError(f"a {type(key).__name__} does not sign {alg}")


def verify(alg: str, signing_input: bytes, key: PublicKey, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature of ``signing_input`` under ``alg`` (RFC 7515 5.2 step 8).
    False for any signature that is not, whatever its length or shape; never an exception for what a token
    carries. A key of another type than ``alg`` is a caller's error (ValueError)."""
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            # RFC 7518 3.4: exactly 64 octets; any other length is not an ES256 signature (no DER, no trimming).
            if len(signature) != 2 * _P256_OCTETS:
                return False
            r = int.from_bytes(signature[:_P256_OCTETS], "big")
            s = int.from_bytes(signature[_P256_OCTETS:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signing_input)
        else:
            raise ValueError(f"a {type(key).__name__} does not verify {alg}")
    except InvalidSignature:
        return False
    return True
