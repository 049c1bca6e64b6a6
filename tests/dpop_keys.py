"""A DPoP client's key for tests: proofs (RFC 9449 4.2) made with PyJWT, independently of passport.core.dpop, which
checks them."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from passport.keys.material import algorithm_for, public_jwk_members


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 3 for an EC key, written out here rather than taken from the code under test."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return _b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


class DpopKey:
    """A P-256 key and the proofs it signs."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = public_jwk_members(self.key.public_key())
        self.jkt = thumbprint(self.jwk)

    def proof(self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None,
              iat: float | None = None, jti: str | None = None, **extra: Any) -> str:
        claims: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(16), "htm": method, "htu": url,
                                  "iat": int(time.time() if iat is None else iat), **extra}
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            claims["nonce"] = nonce
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return jwt.encode(claims, self.key, algorithm=algorithm_for(self.key.public_key()), headers=headers)
