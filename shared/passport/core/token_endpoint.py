"""The token endpoint (RFC 6749 section 3.2): one form in, one JSON answer out, never cached."""

from __future__ import annotations

from collections.abc import Mapping

from passport.core.audit import audit
from passport.core.client_auth import ClientCredentials, authenticate_client, extract_credentials
from passport.core.errors import OAuthError, unauthorized_client, unsupported_grant_type
from passport.core.grants.base import Grant
from passport.core.http import NO_STORE, Request, Response, json_response, oauth_error_response, single
from passport.core.models import Client
from passport.ports import ClientStore


class TokenEndpoint:
    def __init__(self, clients: ClientStore, grants: Mapping[str, Grant]) -> None:
        self._clients = clients
        self._grants = dict(grants)

    @property
    def grant_types(self) -> tuple[str, ...]:
        return tuple(self._grants)

    def _authenticate(self, credentials: ClientCredentials, grant_type: str) -> Client:
        """RFC 6749 3.2.1: the client, authenticated and allowed this grant."""
        client = authenticate_client(credentials, self._clients)
        if not client.allows_grant(grant_type):
            raise unauthorized_client(f"The client is not allowed to use the {grant_type!r} grant.")
        return client

    def handle(self, request: Request) -> Response:
        grant_type = client_id = None
        try:
            form = request.form()
            grant_type = single(form, "grant_type", required=True)
            grant = self._grants.get(grant_type)
            if grant is None:
                raise unsupported_grant_type(grant_type)
            credentials = extract_credentials(request.headers, form)
            poll = getattr(grant, "poll", None)
            if poll is not None:
                # The device grant authenticates its polls itself, from the device record when it can.
                client, answer = poll(credentials, lambda: self._authenticate(credentials, grant_type), form)
                client_id = client.client_id
                body = answer()
            else:
                client = self._authenticate(credentials, grant_type)
                client_id = client.client_id
                body = grant.respond(client, form, source_ip=request.source_ip)
        except OAuthError as error:
            audit("token_refused", client_id=client_id, grant_type=grant_type if grant_type in self._grants else None,
                  error=error.error, reason=error.description, source_ip=request.source_ip)
            return oauth_error_response(error)
        audit("token_refreshed" if grant_type == "refresh_token" else "token_issued", client_id=client_id,
              grant_type=grant_type, scopes=body.get("scope"), source_ip=request.source_ip)
        return json_response(body, headers=NO_STORE)

