"""The UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), a protected resource of this server: the access
token is presented as RFC 6750 says, and every failure answers with RFC 6750 section 3's ``WWW-Authenticate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from passport.bearer import MalformedAuthorization, bearer_credentials
from passport.core.errors import BearerError
from passport.core.http import NO_STORE, Request, Response, json_response
from passport.core.models import User
from passport.core.oidc.claims import OPENID, user_claims
from passport.core.scopes import parse_scope
from passport.jws import InvalidToken, TokenVerifier


def challenge(realm: str, failure: BearerError) -> str:
    params = [f'realm="{realm}"']
    if failure.error:
        params.append(f'error="{failure.error}"')
        if failure.description:
            params.append(f'error_description="{failure.description}"')
    if failure.scope:
        params.append(f'scope="{failure.scope}"')
    return "Bearer " + ", ".join(params)


def bearer_token(request: Request) -> str:
    """The token from the Authorization header (2.1) or, for a POST, the form body (2.2); never the query (2.3 is
    discouraged, and a token in a URL ends up in logs). Two ways at once is invalid_request (2)."""
    try:
        # None for no header or another scheme: as no token at all (3.1), the challenge says which
        from_header = bearer_credentials(request.headers.get("authorization"))
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
    if from_header and from_body:
        raise BearerError(400, "invalid_request", "The access token was sent in more than one way.")
    token = from_header or from_body
    if not token:
        raise BearerError(401, None)
    return token


class UserInfoEndpoint:
    def __init__(
        self, *, issuer: str, users: Callable[[str], User | None], access_tokens: TokenVerifier,
        liveness: Callable[[str, str], tuple[bool | None, bool | None]],
    ) -> None:
        """``access_tokens`` accepts only tokens meant for this server's own API or for userinfo (their ``aud``,
        RFC 8707): a token issued for another resource is that resource's, not a key to the user's profile."""
        self._issuer = issuer
        self._users = users
        self._access_tokens = access_tokens
        self._liveness = liveness

    def handle(self, request: Request) -> Response:
        try:
            return json_response(self._claims(bearer_token(request)), headers=NO_STORE)
        except BearerError as failure:
            # The body always says what went wrong, in the JSON the guarded APIs answer with; only the
            # challenge of a request with no token at all stays bare, as RFC 6750 3.1 asks.
            body: dict[str, Any] = {"error": failure.error or "invalid_token",
                                    "error_description": failure.description or "No access token was sent "
                                    "(Authorization: Bearer <token>)."}
            headers = {**NO_STORE, "WWW-Authenticate": challenge(self._issuer, failure)}
            return json_response(body, failure.status, headers)

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            claims = self._access_tokens.verify(token)
        except InvalidToken:
            raise BearerError(401, "invalid_token", "The access token is invalid, expired, or not for this "
                              "server's API.") from None
        token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
        if not (token_live and client_live):
            raise BearerError(401, "invalid_token", "The access token was revoked.")
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
