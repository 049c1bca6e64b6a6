"""What revocation (RFC 7009 2.1) and introspection (RFC 7662 2.1) share: an authenticated client presents a token,
perhaps with a ``token_type_hint``, and the server tells its own access tokens by their signature.

Access tokens are our JWTs: their signature (checked against the published keys) says which client they belong to,
so only their record is touched. Refresh tokens carry their family id (:func:`passport.core.grants.refresh_token.
family_of`), so the token and its family are read together.
"""

from __future__ import annotations

from typing import Any

from passport.core.client_auth import ClientAssertions, authenticate_client, extract_credentials
from passport.core.http import Request, single
from passport.core.models import Client
from passport.jws import InvalidToken, TokenVerifier
from passport.ports import ClientStore

HINTS = ("access_token", "refresh_token")


class PresentedTokenEndpoint:
    """The base of the revocation and introspection endpoints: the client, the token, the hint."""

    def __init__(self, clients: ClientStore, access_tokens: TokenVerifier,
                 assertions: ClientAssertions | None = None) -> None:
        """``access_tokens`` verifies our access tokens for every resource this server issues them for;
        ``assertions`` verifies ``private_key_jwt`` clients' assertions (RFC 7523 2.2; None: refused)."""
        self._clients = clients
        self._access_tokens = access_tokens
        self._assertions = assertions

    def claims(self, token: str, *, check_expiry: bool) -> dict[str, Any] | None:
        """Our access token's claims, or None: never trust a claim whose signature we did not make."""
        try:
            return self._access_tokens.verify(token, check_expiry=check_expiry)
        except InvalidToken:
            return None

    def presented(self, request: Request) -> tuple[Client, str, str | None]:
        """The authenticated client, the token, and the hint (None when absent or unknown: RFC 7009 2.1 and RFC
        7662 2.1 ignore a hint the server does not know)."""
        form = request.form()
        client = authenticate_client(extract_credentials(request.headers, form), self._clients, self._assertions)
        token = single(form, "token", required=True)
        hint = single(form, "token_type_hint")
        return client, token, hint if hint in HINTS else None
