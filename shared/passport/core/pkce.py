"""Proof Key for Code Exchange (RFC 7636), S256 only (RFC 9700 2.1.1: "plain" gives no protection against a
leaked authorization request)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from passport.core.errors import invalid_grant, invalid_request

METHODS = ("S256",)
# 4.1: code-verifier = 43*128unreserved; 4.2: the S256 challenge is BASE64URL(SHA256(verifier)), 43 chars.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_challenge(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """At the authorization endpoint (4.3): the challenge to bind to the code, if any."""
    if challenge is None:
        if method is not None:
            raise invalid_request("code_challenge_method was sent without a code_challenge.")
        if required:
            raise invalid_request("This client must use PKCE: send code_challenge with code_challenge_method=S256.")
        return None
    if (method or "plain") not in METHODS:
        raise invalid_request("Only code_challenge_method=S256 is supported.")
    if not _CHALLENGE.fullmatch(challenge):
        raise invalid_request("The code_challenge is malformed.")
    return challenge


def verify(verifier: str | None, challenge: str | None) -> None:
    """At the token endpoint (4.6): the verifier must match the code's challenge. A verifier for a code that
    was issued without a challenge is refused too: accepting it would let a downgrade pass unnoticed."""
    if challenge is None:
        if verifier is not None:
            raise invalid_grant("A code_verifier was sent, but the code was issued without a code_challenge.")
        return
    if verifier is None:
        raise invalid_grant("The code_verifier is missing.")
    if not _VERIFIER.fullmatch(verifier):
        raise invalid_request("The code_verifier is malformed.")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise invalid_grant("The code_verifier does not match the code_challenge.")
