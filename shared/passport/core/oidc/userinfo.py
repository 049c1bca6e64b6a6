"""The UserInfo endpoint (OpenID Connect Core 1.0 section 5.3), a protected resource of this server: the access
token is presented as RFC 6750 says, and every failure answers with RFC 6750 section 3's ``WWW-Authenticate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from passport.core.http import NO_STORE, Request, Response, json_response
from passport.core.lifecycle import access_claims
from passport.core.models import User
from passport.core.oidc.claims import OPENID, user_claims
from passport.core.scopes import parse_scope
from passport.keys.material import VerificationKey


class BearerError(Exception):
    """RFC 6750 3.1: ``error`` None is a request with no token at all, answered with the bare challenge."""

    def __init__(self, status: int, error: str | None, description: str = "", scope: str | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.scope = status, error, description, scope


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
    header = request.headers.get("authorization", "")
    from_header = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise BearerError(401, None)  # another scheme: as no token at all (3.1), the challenge says which
        if not value.strip() or " " in value.strip():
            raise BearerError(400, "invalid_request", "The Authorization header is not a well-formed Bearer token.")
        from_header = value.strip()
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
        self, *, issuer: str, users: Callable[[str], User | None],
        keys: Callable[[], Mapping[str, VerificationKey]],
        liveness: Callable[[str, str], tuple[bool | None, bool | None]],
    ) -> None:
        self._issuer = issuer
        self._users = users
        self._keys = keys
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
        claims = access_claims(token, self._keys(), self._issuer, verify_exp=True) if token.count(".") == 2 else None
        if claims is None:
            raise BearerError(401, "invalid_token", "The access token is invalid or expired.")
        token_live, client_live = self._liveness(claims["jti"], claims["client_id"])
        if not (token_live and client_live):
            raise BearerError(401, "invalid_token", "The access token was revoked.")
        scopes = parse_scope(claims.get("scope") if isinstance(claims.get("scope"), str) else None)
        if OPENID not in scopes:
            raise BearerError(403, "insufficient_scope", "The access token was not issued for OpenID Connect.",
                              scope=OPENID)
        subject = claims.get("sub")
        user = self._users(subject) if isinstance(subject, str) and subject != claims["client_id"] else None
        if user is None:
            raise BearerError(401, "invalid_token", "The access token does not name a user.")
        return user_claims(user, scopes)
