"""The guard's decision: who the token speaks for, and whether a route's rule admits it.

A token bound to a DPoP key (``cnf.jkt``, RFC 9449 6.1) is accepted only with the DPoP scheme and a proof of that
key for this very request: its method, its URL and the token's hash (``ath``), spent once deployment-wide (RFC
9449 7.1, 11.1). The same token sent as Bearer, and an unbound token sent as DPoP, are refused (RFC 9449 7.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from passport.bearer import BEARER, DPOP
from passport.config import RouteRule
from passport.guard.revocation import RevocationCache
from passport.guard.rules import RuleTable, permits
from passport.jws import InvalidToken, TokenVerifier

if TYPE_CHECKING:
    from passport.core.dpop import ProofChecker

_DENIED_MEMO_SIZE = 1024


class DpopRefused(InvalidToken):
    """A call refused for what DPoP asks (RFC 9449 7.1): ``error`` is ``invalid_token`` (a bound token without
    the DPoP scheme, an unbound one with it) or ``invalid_dpop_proof``; ``nonce`` a nonce to hand out, if any.
    An :class:`InvalidToken`, so whoever refuses every invalid token alike refuses this one too."""

    def __init__(self, error: str, description: str, nonce: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.nonce = nonce


@dataclass(frozen=True)
class Call:
    """What a call presents to a resource: the token and its scheme (RFC 6750 2.1, RFC 9449 7.1), the ``DPoP``
    header, and the method and URL the client addressed (None where the event does not carry them: a REST
    ``TOKEN`` authorizer's)."""

    token: str | None
    scheme: str = BEARER
    proof: str | None = None
    method: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for, as the guard's rules read it."""

    sub: str
    client_id: str
    scopes: tuple[str, ...]
    jti: str
    #: The DPoP key the token is bound to (RFC 9449 6.1), proven for this call; "" for a Bearer token.
    jkt: str = ""

    @property
    def user_id(self) -> str | None:
        # RFC 9068 2.2: without a resource owner, sub is the client's own id (client credentials).
        return None if self.sub == self.client_id else self.sub

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    def context(self) -> dict[str, str]:
        """The authorizer context handed to the backend: flat strings, as API Gateway requires."""
        context = {
            "sub": self.sub,
            "user_id": self.user_id or "",
            "client_id": self.client_id,
            "scopes": " ".join(self.scopes),
            "jti": self.jti,
        }
        if self.jkt:
            context["jkt"] = self.jkt  # the DPoP key the call proved (RFC 9449 6.1)
        return context


class Guard:
    def __init__(
        self, verifier: TokenVerifier, revocations: RevocationCache, rules: RuleTable, *, inherit: bool = False,
        proofs: ProofChecker | None = None, url_scheme: str = "https",
    ) -> None:
        #: The scheme of the URLs clients call (RFC 9449 4.3 point 9: htu): https behind API Gateway; http only
        #: for ``passport serve`` on an http issuer.
        self.url_scheme = url_scheme
        self._inherit = inherit
        #: DPoP proofs checked and spent (RFC 9449 7); None: DPoP is off, and a bound token is refused.
        self.proofs = proofs
        self._verifier = verifier
        self._revocations = revocations
        #: How long a token's or client's liveness is kept (``guard.revocation_cache_seconds``).
        self.revocation_cache_seconds = revocations.ttl_seconds
        self.rules = rules
        self._denied: dict[tuple[tuple[str, ...], bool], tuple[str, ...]] = {}

    def authenticate(self, token: str | None, call: Call | None = None) -> Principal:
        """The principal of a valid, live token presented as ``call`` says (a Bearer call with ``token`` when
        None); :class:`InvalidToken` (:class:`DpopRefused` for what DPoP asks) for anything else."""
        if not token:
            raise InvalidToken("no token")
        claims = self._verifier.verify(token)  # an access token: sub, client_id, jti and scope are strings
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        scheme = BEARER if call is None else call.scheme
        if jkt is None and scheme == BEARER:
            principal = Principal(claims["sub"], claims["client_id"], tuple(claims.get("scope", "").split()),
                                  claims["jti"])
        else:
            if not isinstance(jkt, str) or scheme != DPOP:
                # RFC 9449 7.2: a bound token is not a bearer token; an unbound one proves no key.
                raise DpopRefused("invalid_token", "The access token is DPoP-bound: send it with the DPoP scheme."
                                  if scheme == BEARER else "The access token is not DPoP-bound: send it as Bearer.")
            principal = Principal(claims["sub"], claims["client_id"], tuple(claims.get("scope", "").split()),
                                  claims["jti"], jkt)
        if not self._revocations.is_live(principal.jti, principal.client_id):
            raise InvalidToken("revoked, unknown or of a revoked client")
        if principal.jkt:
            self._prove(token, principal.jkt, call)
        return principal

    def _prove(self, token: str, jkt: str, call: Call | None) -> None:
        """RFC 9449 7.1: the call's proof, for this method and URL, with ``ath`` the token's hash, of the key the
        token is bound to, never seen before."""
        if self.proofs is None:
            raise DpopRefused("invalid_token", "This resource does not accept DPoP-bound tokens.")
        if call is None or call.proof is None or call.url is None:
            raise DpopRefused("invalid_dpop_proof", "A DPoP proof is required with a DPoP-bound token.")
        from passport.core.dpop import InvalidDpopProof

        try:
            self.proofs.check(call.proof, method=call.method, url=call.url, access_token=token, bound_jkt=jkt)
        except InvalidDpopProof as refused:
            raise DpopRefused(refused.error, refused.description, refused.nonce) from None
        except ValueError:
            # The URL is built from what the event says the client called (its host and path): one no proof can
            # name (characters a URI cannot hold, a host that is no host) is the client's, refused like a bad proof.
            raise DpopRefused("invalid_dpop_proof", "The request's URL cannot be compared with a proof.") from None

    def permits(self, principal: Principal, rule: RouteRule) -> bool:
        return permits(rule, scopes=principal.scopes, is_user=principal.is_user, inherit=self._inherit)

    def denied_routes(self, principal: Principal) -> tuple[str, ...]:
        """The route keys whose rule refuses this principal. Only its scopes and kind matter, and the same
        few combinations recur on every call, so the answer is remembered (boundedly)."""
        key = (principal.scopes, principal.is_user)
        denied = self._denied.get(key)
        if denied is None:
            denied = tuple(route for route, rule in self.rules if not self.permits(principal, rule))
            if len(self._denied) >= _DENIED_MEMO_SIZE:
                self._denied.clear()
            self._denied[key] = denied
        return denied
