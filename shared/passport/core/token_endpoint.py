"""The token endpoint (RFC 6749 section 3.2): one form in, one JSON answer out, never cached."""

from __future__ import annotations

from collections.abc import Mapping

from passport.core.audit import audit
from passport.core.client_auth import authenticate_client, extract_credentials
from passport.core.errors import OAuthError, unauthorized_client, unsupported_grant_type
from passport.core.grants.base import Grant
from passport.core.http import NO_STORE, Request, Response, json_response, single
from passport.ports import ClientStore


class TokenEndpoint:
    def __init__(self, clients: ClientStore, grants: Mapping[str, Grant]) -> None:
        self._clients = clients
        self._grants = dict(grants)

    @property
    def grant_types(self) -> tuple[str, ...]:
        return tuple(self._grants)

    def handle(self, request: Request) -> Response:
        grant_type = client_id = None
        try:
            form = request.form()
            grant_type = single(form, "grant_type", required=True)
            grant = self._grants.get(grant_type)
            if grant is None:
                raise unsupported_grant_type(grant_type)
            client = authenticate_client(extract_credentials(request.headers, form), self._clients)
            client_id = client.client_id
            if not client.allows_grant(grant_type):
                raise unauthorized_client(f"The client is not allowed to use the {grant_type!r} grant.")
            body = grant.respond(client, form, source_ip=request.source_ip)
        except OAuthError as error:
            audit("token_refused", client_id=client_id, grant_type=grant_type if grant_type in self._grants else None,
                  error=error.error, reason=error.description, source_ip=request.source_ip)
            return json_response(error.body(), error.status, {**NO_STORE, **error.headers})
        audit("token_refreshed" if grant_type == "refresh_token" else "token_issued", client_id=client_id,
              grant_type=grant_type, scopes=body.get("scope"), source_ip=request.source_ip)
        return json_response(body, headers=NO_STORE)

