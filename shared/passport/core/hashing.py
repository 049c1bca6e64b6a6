"""Secrets at rest: opaque values, their hashes and constant-time comparison.

Client secrets, refresh tokens, codes and device codes are at least 256 random bits, so one SHA-256 is a
preimage-resistant record of them: a slow password hash buys nothing for such entropy and would cost
milliseconds per token request. Passwords, chosen by people, get scrypt (:mod:`passport.core.passwords`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

HASH_PREFIX = "sha256:"


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random value of ``nbytes`` bytes (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    return HASH_PREFIX + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def verify_secret(secret: str, stored_hash: str | None) -> bool:
    """Compare in constant time; a missing hash still costs one comparison so timing tells nothing."""
    candidate = hash_secret(secret).encode("utf-8")
    expected = (stored_hash or HASH_PREFIX + "0" * 64).encode("utf-8", "replace")
    return hmac.compare_digest(candidate, expected) and stored_hash is not None


def same_key(presented: str | None, bound: str) -> bool:
    """Whether a proof's key thumbprint is the one something is bound to (RFC 9449 5, 10: a refresh token's, a
    code's), compared in constant time; no proof, no match."""
    return presented is not None and hmac.compare_digest(presented.encode("utf-8", "replace"),
                                                         bound.encode("utf-8", "replace"))


def scoped_digest(scope: str, value: str) -> str:
    """base64url SHA-256 (43 characters) of ``value`` within ``scope``, length-prefixed so no two pairs share an
    input: how a used-once value (a DPoP proof's or a client assertion's ``jti``) is keyed in storage, whatever
    it holds (RFC 9449 11.1: "store only a hash")."""
    scoped = scope.encode("utf-8", "surrogatepass")
    material = len(scoped).to_bytes(4, "big") + scoped + value.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(hashlib.sha256(material).digest()).rstrip(b"=").decode("ascii")
