"""ID tokens (OpenID Connect Core 1.0 section 2, 3.1.3.6 and 12.2): signed with the same keys as access tokens
and published in the same JWKS, ``typ`` JWT (an access token is ``at+jwt``, so neither passes for the other)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from passport.ports import Clock, Signer

ID_TOKEN_TYP = "JWT"
#: How the user authenticated (RFC 8176): every session here starts with a password.
AMR = ("pwd",)
#: 3.1.3.6: at_hash is the left half of the hash "used in the alg Header Parameter of the ID Token's JOSE
#: Header"; for EdDSA on Ed25519, SHA-512 (as the OpenID Foundation's errata set and every OP that signs with it).
_HASHES: dict[str, Callable[[bytes], Any]] = {"RS256": hashlib.sha256, "ES256": hashlib.sha256,
                                             "EdDSA": hashlib.sha512}


def left_half_hash(value: str, alg: str) -> str:
    digest = _HASHES[alg](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


class IdTokenIssuer:
    def __init__(self, *, signer: Signer, clock: Clock, issuer: str, lifetime: int) -> None:
        self._signer = signer
        self._clock = clock
        self._issuer = issuer
        self._lifetime = lifetime
        self._headers = {"kid": signer.kid, "typ": ID_TOKEN_TYP}

    def mint(
        self, *, client_id: str, user_id: str, auth_time: int, access_token: str, nonce: str | None = None,
        acr: str | None = None, user_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An ID token for ``client_id`` about ``user_id``. ``auth_time`` is when the user signed in, kept as it
        was on refreshes (12.2); ``nonce`` is the authorization request's, echoed unchanged (3.1.2.1), and never
        on a refresh (12.2: it "SHOULD NOT have a nonce Claim Value"). ``acr`` (2) when the request asked for it;
        ``user_claims``: the user's claims the claims parameter asked of the ID token (5.5), which never replace
        the claims above."""
        now = self._clock.now()
        claims: dict[str, Any] = {**(user_claims or {}),
            "iss": self._issuer,
            "sub": user_id,
            "aud": client_id,
            "exp": now + self._lifetime,
            "iat": now,
            "auth_time": auth_time,
            "azp": client_id,
            "at_hash": left_half_hash(access_token, self._signer.alg),
            "amr": list(AMR),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if acr is not None:
            claims["acr"] = acr
        return self._signer.sign(claims, self._headers)
