"""Key material: generate, serialize and describe keys as JWKs (RFC 7517, RFC 7638 thumbprints).

Parsing an RSA private key is the expensive part when OpenSSL checks it (primality and consistency: about 40 ms
for RSA-2048 on Lambda's Python, 200 ms for RSA-4096); callers parse once per process and keep the key object,
and a key this server generated itself skips the check (:func:`load_private`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from passport.core.errors import PassportError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyMaterialError(PassportError, ValueError):
    """A key that cannot be read or used; the message says why."""


def generate(alg: str = "RS256", rsa_bits: int = 2048) -> PrivateKey:
    if alg == "RS256":
        if rsa_bits not in (2048, 3072, 4096):
            raise KeyMaterialError("RSA keys are 2048, 3072 or 4096 bits")
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise KeyMaterialError(f"unsupported algorithm {alg!r}; use RS256, ES256 or EdDSA")


def private_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def public_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private(pem: str | bytes, *, generated_here: bool = False) -> PrivateKey:
    """A PEM private key. ``generated_here``: the key is one this server generated and stored itself (the key
    secret, written only by :mod:`passport.keys.secret`), so OpenSSL's RSA check, which proves nothing about a
    key made by OpenSSL's own generator and costs every cold start that signs or verifies 40 ms, is skipped. A
    key a user supplies (a file, which may be Laravel Passport's, or the environment) is always checked: an
    invalid RSA key that skips it can make OpenSSL misbehave (``cryptography``'s documentation)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=generated_here)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError(f"not a usable unencrypted PEM private key: {exc}") from None
    algorithm_for(key.public_key())
    return key  # type: ignore[return-value]


def load_public(pem: str | bytes) -> PublicKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError(f"not a usable PEM public key: {exc}") from None
    algorithm_for(key)
    return key  # type: ignore[return-value]


def algorithm_for(key: PublicKey) -> str:
    """The one JWS algorithm a key is used with: a key never signs under two algorithms."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise KeyMaterialError("RSA keys shorter than 2048 bits are refused")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyMaterialError("only P-256 EC keys (ES256) are supported")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise KeyMaterialError(f"unsupported key type {type(key).__name__}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def public_jwk_members(key: PublicKey) -> dict[str, str]:
    """The required public members of the JWK (RFC 7518 section 6, RFC 8037 for OKP)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")),
                "y": _b64(numbers.y.to_bytes(32, "big"))}
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def thumbprint(key: PublicKey) -> str:
    """RFC 7638 JWK thumbprint: SHA-256 of the required members in lexical order. Used as the ``kid``, so a
    key names itself and no separate metadata can drift from it."""
    members = public_jwk_members(key)
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return _b64(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class VerificationKey:
    """A public key as the JWKS publishes it: its thumbprint ``kid`` and its one algorithm."""

    kid: str
    alg: str
    key: PublicKey

    @classmethod
    def of(cls, key: PublicKey) -> VerificationKey:
        return cls(thumbprint(key), algorithm_for(key), key)

    def jwk(self) -> dict[str, Any]:
        return {**public_jwk_members(self.key), "kid": self.kid, "alg": self.alg, "use": "sig"}
