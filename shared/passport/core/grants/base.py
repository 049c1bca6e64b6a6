"""What every grant shares (RFC 6749 sections 4 and 5.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from passport.core.models import Client
from passport.core.tokens import AccessTokenIssuer, IssuedToken

if TYPE_CHECKING:
    from passport.core.grants.refresh_token import RefreshTokens
    from passport.core.oidc.id_token import IdTokenIssuer


class Grant(Protocol):
    GRANT_TYPE: ClassVar[str]

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        """Validate the grant's parameters for this client and answer with the token response (``source_ip`` for
        grants that throttle by address; ``jkt``: the key of the request's DPoP proof, which the access token is
        bound to, RFC 9449 5)."""
        ...


class UserTokenGrant:
    """A grant that issues for a user who signed in (the code, the device code, a refresh token): the access token,
    a refresh token where the client may have one (RFC 6749 1.5), an ID token where ``openid`` was granted
    (OpenID Connect Core 3.1.3.3, 12.2)."""

    def __init__(self, issuer: AccessTokenIssuer, refresh: RefreshTokens, id_tokens: IdTokenIssuer | None) -> None:
        self._issuer = issuer
        self._refresh = refresh
        self._id_tokens = id_tokens


def refresh_binding(client: Client, jkt: str | None) -> str | None:
    """The DPoP key a new refresh token is bound to: the proof's for a public client (RFC 9449 5: "Refresh tokens
    issued to public clients ... MUST be bound"), none for a confidential one, whose refresh tokens are bound to
    its authentication instead (it may use a new key at each refresh)."""
    return jkt if client.public else None


def token_response(
    issued: IssuedToken, refresh_token: str | None = None, id_token: str | None = None
) -> dict[str, Any]:
    """The successful response of RFC 6749 5.1 (scope is always included: it may differ from the request), with
    the ID token of OpenID Connect Core 3.1.3.3 when the grant signed a user in."""
    body: dict[str, Any] = {
        "token_type": issued.token_type,  # RFC 9449 5: "DPoP" for a token bound to the proof's key
        "expires_in": issued.expires_in,
        "access_token": issued.access_token,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    body["scope"] = " ".join(issued.scopes)
    if id_token:
        body["id_token"] = id_token
    return body
