"""The guard inside a function: for a protected resource that answers its own 401 (RFC 6750 3, RFC 9728 5.1).

API Gateway's refusals are one per API, so behind its authorizer every route's 401 names the same resource
metadata. A function that is a protected resource of its own (the demo MCP server, ``<issuer>/mcp``) runs the
guard itself, on the same verifier, revocation cache and rules, and its 401 names its own metadata, so a client
that has nothing but its URL finds the authorization server::

    resource = ProtectedResource(guard(audience="https://api.example.com/mcp"), metadata_url, scopes=["orders:read"])
    caller = resource.authenticate(request)       # a TokenContext, or raises Refused (answer it as is)
    resource.require(caller, ["orders:read"])     # or raises Refused: 403 insufficient_scope (step-up)

Every challenge names the resource's metadata (RFC 9728 5.1) and the scopes wanted (RFC 6750 3): on a 401 the
scopes the resource needs (``scopes``), on a 403 every scope the call needs, so a client that authorizes again for
them (with the scopes it already holds) gets a token that passes (the MCP authorization spec's step-up).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from passport.bearer import MalformedAuthorization, bearer_credentials
from passport.core.errors import PassportError
from passport.core.http import Request, Response
from passport.guard.context import TokenContext
from passport.guard.decision import Guard
from passport.jws import InvalidToken

#: The scope that asks for a refresh token (OpenID Connect Core 11): a client's choice, never a resource's need.
OFFLINE_ACCESS = "offline_access"


class Refused(PassportError):
    """The guard refused the call: ``response`` is its Bearer challenge (RFC 6750 3), ready to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class ProtectedResource:
    """``scopes``: what the resource needs, named by its 401s (never ``offline_access``: that is a client's choice,
    not something a resource needs); ``inherit``: the deployment's ``inherited_scopes``, as the guard's."""

    def __init__(self, guard: Guard, metadata_url: str, scopes: Iterable[str] = (), *, inherit: bool = False) -> None:
        self._guard = guard
        self._metadata_url = metadata_url
        self._scopes = tuple(dict.fromkeys(s for s in scopes if s != OFFLINE_ACCESS))
        self.inherit = inherit

    def authenticate(self, request: Request) -> TokenContext:
        """The caller of a request with a valid, live Bearer token for this resource (its ``aud``)."""
        try:
            token = bearer_credentials(request.headers.get("authorization"))
        except MalformedAuthorization:
            raise Refused(self._refusal("invalid_token", "The Authorization header is not one Bearer token.")) from None
        if token is None:
            # 3.1: no credentials, no error code; the metadata says where to get them
            raise Refused(self._refusal(None, "This resource needs an access token (Authorization: Bearer)."))
        try:
            principal = self._guard.authenticate(token)
        except InvalidToken:
            raise Refused(self._refusal("invalid_token", "The access token is missing, invalid, expired, revoked, "
                                        "or not for this resource.")) from None
        return TokenContext(sub=principal.sub, client_id=principal.client_id, user_id=principal.user_id,
                            scopes=principal.scopes, jti=principal.jti)

    def require(self, caller: TokenContext, scopes: Iterable[str]) -> None:
        """Raise :class:`Refused` (403 ``insufficient_scope``) unless the caller's token grants every one of
        ``scopes`` (through a broader scope where inherited scopes are on)."""
        needed = tuple(dict.fromkeys(scopes))
        if not all(caller.token_can(scope, inherit=self.inherit) for scope in needed):
            raise Refused(self.insufficient_scope(needed))

    def insufficient_scope(self, scopes: Iterable[str]) -> Response:
        """RFC 6750 3.1: 403 ``insufficient_scope``; its ``scope`` names every scope the call needs, not only the
        missing ones, so one authorization covers the call (the MCP authorization spec's scope challenge)."""
        needed = tuple(dict.fromkeys(scopes))
        return self._refusal("insufficient_scope", f"The access token lacks a scope this call needs: "
                             f"{' '.join(needed)}.", status=403, scopes=needed)

    def _refusal(self, error: str | None, description: str, *, status: int = 401,
                 scopes: tuple[str, ...] | None = None) -> Response:
        return bearer_refusal(status, error, description, self._metadata_url,
                              self._scopes if scopes is None else scopes)


def bearer_refusal(status: int, error: str | None, description: str, metadata_url: str | None,
                   scopes: tuple[str, ...] = ()) -> Response:
    """A Bearer challenge (RFC 6750 3) and its JSON error: ``error`` (none for a request without credentials,
    3.1), ``scope`` (3: space-delimited, so a client knows what to ask for) and ``resource_metadata`` (RFC 9728
    5.1). Scope names are RFC 6749 3.3 tokens, which hold neither a quote nor a backslash."""
    params = [f'error="{error}"'] if error else []
    if scopes:
        params.append(f'scope="{" ".join(scopes)}"')
    if metadata_url:
        params.append(f'resource_metadata="{metadata_url}"')
    challenge = "Bearer " + ", ".join(params) if params else "Bearer"
    body = {"error": error or "invalid_token", "error_description": description}
    if scopes and error == "insufficient_scope":
        body["scope"] = " ".join(scopes)
    return Response(status, {"Content-Type": "application/json", "Cache-Control": "no-store",
                             "WWW-Authenticate": challenge}, json.dumps(body, separators=(",", ":")))
