"""JWT access tokens (RFC 9068, "JSON Web Token Profile for OAuth 2.0 Access Tokens").

Header ``{"alg", "kid", "typ": "at+jwt"}`` (section 2.1); claims iss, sub, aud, client_id, jti, iat, nbf, exp
and scope (section 2.2), plus ``scopes`` as an array for Laravel Passport compatibility.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from passport.core.models import AccessTokenRecord
from passport.core.resources import audience as audience_claim
from passport.ports import AccessTokenStore, Clock, Signer

ACCESS_TOKEN_TYP = "at+jwt"
#: RFC 6749 7.1 token types: a bearer token (RFC 6750), or one bound to a DPoP key (RFC 9449 5).
BEARER = "Bearer"
DPOP = "DPoP"


class IssuedToken(NamedTuple):
    """A signed access token and the record that must be written before it is handed out. Immutable; a named
    tuple, as one is built per token issued."""

    access_token: str
    expires_in: int
    scopes: tuple[str, ...]
    record: AccessTokenRecord
    #: ``DPoP`` when the token is bound to a key by ``cnf.jkt`` (RFC 9449 5, 6.1), else ``Bearer``.
    token_type: str = BEARER


class AccessTokenIssuer:
    """Mints an access token and records it; the token is returned only once its record is written, so
    a token whose write failed can never pass the guard."""

    def __init__(
        self, *, signer: Signer, store: AccessTokenStore, clock: Clock, issuer: str, audience: str, lifetime: int,
        resources: Sequence[str] = (),
    ) -> None:
        self.clock = clock
        #: Every resource a token may be for (RFC 8707): the deployment's own API first, then the registered ones.
        self.resources = (audience, *(r for r in resources if r != audience))
        self._signer = signer
        self._store = store
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._headers = {"kid": signer.kid, "typ": ACCESS_TOKEN_TYP}

    def issue(self, **token: Any) -> IssuedToken:
        """Mint and record a token on its own, ``token`` being :meth:`mint`'s parameters (grants that write several
        records mint, then write them all in one transaction)."""
        issued = self.mint(**token)
        self._store.save(issued.record)
        return issued

    def mint(
        self,
        *,
        client_id: str,
        scopes: Sequence[str],
        grant_type: str,
        user_id: str | None = None,
        lifetime: int | None = None,
        name: str | None = None,
        resources: Sequence[str] = (),
        userinfo_claims: Sequence[str] = (),
        jkt: str | None = None,
    ) -> IssuedToken:
        """Sign a token and build its record, without writing it: the caller must write the record before it
        hands the token out. ``userinfo_claims``: the claims the claims parameter asked of userinfo (OpenID
        Connect Core 1.0 5.5), carried as the token's ``userinfo_claims`` claim for userinfo to release. ``jkt``:
        the thumbprint of the DPoP key the token is bound to (RFC 9449 6.1: ``cnf.jkt``)."""
        now = self._clock.now()
        ttl = lifetime or self._lifetime
        jti = os.urandom(16).hex()  # secrets.token_hex(16), from the same source, without its three calls
        granted = tuple(scopes)
        claims = {
            "iss": self._issuer,
            # RFC 9068 2.2: the resource owner, or the client itself when there is none (client credentials)
            "sub": user_id or client_id,
            # RFC 8707 2.2 / RFC 9068 3: the resources the token is for, else the deployment's own API
            "aud": audience_claim(resources, self._audience),
            "client_id": client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "scope": " ".join(granted),
            "scopes": list(granted),
        }
        if userinfo_claims:
            claims["userinfo_claims"] = list(userinfo_claims)
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        token = self._signer.sign(claims, self._headers)
        record = AccessTokenRecord(
            jti=jti, client_id=client_id, user_id=user_id, scopes=granted,
            issued_at=now, expires_at=now + ttl, grant_type=grant_type, name=name,
        )
        return IssuedToken(token, ttl, granted, record, BEARER if jkt is None else DPOP)
