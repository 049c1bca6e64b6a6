"""The UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), a protected resource of this server: the access
token is presented as RFC 6750 says, and every failure answers with RFC 6750 section 3's ``WWW-Authenticate``.

A DPoP-bound token (RFC 9449 6.1) is presented with the DPoP scheme and a proof for this endpoint (RFC 9449 7.1);
where DPoP is on, every challenge offers it (``DPoP algs=...``) and a refusal for what DPoP asks is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from passport.bearer import BEARER, DPOP, MalformedAuthorization, token_credentials
from passport.config import USERINFO_PATH
from passport.core.errors import BearerError
from passport.core.http import NO_STORE, Request, Response, json_response
from passport.core.models import User
from passport.core.oidc.claims import OPENID, user_claims
from passport.core.scopes import parse_scope
from passport.jws import InvalidToken, TokenVerifier

if TYPE_CHECKING:
    from passport.core.dpop import ProofChecker


def challenge(realm: str, failure: BearerError, dpop_algorithms: tuple[str, ...] = ()) -> str:
    """RFC 6750 3's challenge; with ``dpop_algorithms``, RFC 9449 7.1's ``DPoP`` challenge too, which carries the
    error when it is DPoP's."""
    params = [f'realm="{realm}"']
    errors = []
    if failure.error:
        errors.append(f'error="{failure.error}"')
        if failure.description:
            errors.append(f'error_description="{failure.description}"')
    if failure.scope:
        errors.append(f'scope="{failure.scope}"')
    bearer = "Bearer " + ", ".join(params + ([] if failure.dpop else errors))
    if not dpop_algorithms and not failure.dpop:
        return bearer
    dpop = "DPoP " + ", ".join(params + (errors if failure.dpop else [])
                               + ([f'algs="{" ".join(dpop_algorithms)}"'] if dpop_algorithms else []))
    return f"{dpop}, {bearer}" if failure.dpop else f"{bearer}, {dpop}"


def bearer_token(request: Request) -> str:
    """The token from the Authorization header (2.1) or, for a POST, the form body (2.2); never the query (2.3 is
    discouraged, and a token in a URL ends up in logs). Two ways at once is invalid_request (2)."""
    scheme, token = presented_token(request)
    if scheme != BEARER:
        raise BearerError(401, None)  # a DPoP credential is not a bearer token: as no token at all (RFC 6750 3.1)
    return token


def presented_token(request: Request) -> tuple[str, str]:
    """The scheme and token: Bearer from the header or the body (RFC 6750 2.1, 2.2), or DPoP from the header (RFC
    9449 7.1). As :func:`bearer_token` says."""
    try:
        # None for no header or another scheme: as no token at all (3.1), the challenge says which
        found = token_credentials(request.headers.get("authorization"))
    except MalformedAuthorization:
        # 3.1: invalid_token covers an access token that is "malformed"; invalid_request is for the request itself
        raise BearerError(401, "invalid_token", "The access token is malformed.") from None
    from_body = None
    if request.method == "POST" and request.media_type == "application/x-www-form-urlencoded":
        try:
            values = request.form().get("access_token") or []
        except Exception:
            raise BearerError(400, "invalid_request", "The request body is not valid form data.") from None
        if len(values) > 1:
            raise BearerError(400, "invalid_request", "The access_token parameter is repeated.")
        from_body = values[0] if values else None
    if found and from_body:
        raise BearerError(400, "invalid_request", "The access token was sent in more than one way.")
    scheme, token = found or (BEARER, from_body)
    if not token:
        raise BearerError(401, None)
    return scheme, token


class UserInfoEndpoint:
    def __init__(
        self, *, issuer: str, users: Callable[[str], User | None], access_tokens: TokenVerifier,
        liveness: Callable[[str, str], tuple[bool | None, bool | None]], proofs: ProofChecker | None = None,
    ) -> None:
        """``access_tokens`` accepts only tokens meant for this server's own API or for userinfo (their ``aud``,
        RFC 8707): a token issued for another resource is that resource's, not a key to the user's profile."""
        self._issuer = issuer
        self._users = users
        self._access_tokens = access_tokens
        self._liveness = liveness
        #: DPoP (RFC 9449 7); None: off, and a bound token is refused.
        self._proofs = proofs
        self._dpop_algorithms: tuple[str, ...] = () if proofs is None else proofs.algorithms

    def handle(self, request: Request) -> Response:
        try:
            scheme, token = presented_token(request)
            return json_response(self._claims(token, scheme, request), headers=NO_STORE)
        except BearerError as failure:
            # The body always says what went wrong, in the JSON the guarded APIs answer with; only the
            # challenge of a request with no token at all stays bare, as RFC 6750 3.1 asks.
            body: dict[str, Any] = {"error": failure.error or "invalid_token",
                                    "error_description": failure.description or "No access token was sent "
                                    "(Authorization: Bearer <token>)."}
            headers = {**NO_STORE, "WWW-Authenticate": challenge(self._issuer, failure, self._dpop_algorithms)}
            if failure.nonce is not None:
                headers["DPoP-Nonce"] = failure.nonce
            return json_response(body, failure.status, headers)

    def _claims(self, token: str, scheme: str = BEARER, request: Request | None = None) -> dict[str, Any]:
        try:
            claims = self._access_tokens.verify(token)
        except InvalidToken:
            raise BearerError(401, "invalid_token", "The access token is invalid, expired, or not for this "
                              "server's API.", dpop=scheme == DPOP) from None
        token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
        if not (token_live and client_live):
            raise BearerError(401, "invalid_token", "The access token was revoked.", dpop=scheme == DPOP)
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if jkt is not None or scheme == DPOP:
            self._prove(token, scheme, jkt, request)
        scopes = parse_scope(claims.get("scope"))
        if OPENID not in scopes:
            raise BearerError(403, "insufficient_scope", "The access token was not issued for OpenID Connect.",
                              scope=OPENID)
        subject = claims["sub"]
        user = self._users(subject) if subject != claims["client_id"] else None
        if user is None:
            raise BearerError(401, "invalid_token", "The access token does not name a user.")
        requested = claims.get("userinfo_claims")
        return user_claims(user, scopes, requested if isinstance(requested, list) else ())

    def _prove(self, token: str, scheme: str, jkt: object, request: Request | None) -> None:
        """RFC 9449 7.1 and 7.2: a bound token with the DPoP scheme and a proof of its key for this request."""
        if self._proofs is None or scheme != DPOP or not isinstance(jkt, str) or request is None:
            raise BearerError(401, "invalid_token", "The access token is DPoP-bound: send it with the DPoP scheme "
                              "and a proof." if scheme == BEARER else "The access token is not DPoP-bound.", dpop=True)
        from passport.core.dpop import InvalidDpopProof

        proof = request.headers.get("dpop")
        try:
            if proof is None:
                raise InvalidDpopProof("A DPoP proof is required with a DPoP-bound token.")
            self._proofs.check(proof, method=request.method, url=self._issuer + USERINFO_PATH, access_token=token,
                               bound_jkt=jkt)
        except InvalidDpopProof as refused:
            raise BearerError(401, refused.error, refused.description, dpop=True, nonce=refused.nonce) from None
