"""The guard inside a function: for a protected resource that answers its own 401 (RFC 6750 3, RFC 9728 5.1).

API Gateway's refusals are one per API, so behind its authorizer every route's 401 names the same resource
metadata. A function that is a protected resource of its own (the demo MCP server, ``<issuer>/mcp``) runs the
guard itself, on the same verifier, revocation cache and rules, and its 401 names its own metadata, so a client
that has nothing but its URL finds the authorization server::

    resource = ProtectedResource(guard(audience="https://api.example.com/mcp"), metadata_url)
    caller = resource.authenticate(request)       # a TokenContext, or raises Refused (answer it as is)
"""

from __future__ import annotations

import json

from passport.bearer import MalformedAuthorization, bearer_credentials
from passport.core.errors import PassportError
from passport.core.http import Request, Response
from passport.guard.context import TokenContext
from passport.guard.decision import Guard
from passport.jws import InvalidToken


class Refused(PassportError):
    """The guard refused the call: ``response`` is its Bearer challenge (RFC 6750 3), ready to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class ProtectedResource:
    def __init__(self, guard: Guard, metadata_url: str) -> None:
        self._guard = guard
        self._metadata_url = metadata_url

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

    def _refusal(self, error: str | None, description: str) -> Response:
        challenge = f'Bearer resource_metadata="{self._metadata_url}"'
        if error:
            challenge = f'Bearer error="{error}", resource_metadata="{self._metadata_url}"'
        body = {"error": error or "invalid_token", "error_description": description}
        return Response(401, {"Content-Type": "application/json", "Cache-Control": "no-store",
                              "WWW-Authenticate": challenge}, json.dumps(body, separators=(",", ":")))
