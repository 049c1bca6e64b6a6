"""The token endpoint (RFC 6749 section 3.2): one form in, one JSON answer out, never cached.

A request with a ``DPoP`` header (RFC 9449 5) gets a token bound to the proof's key: the proof is checked before
the client is authenticated, so a client asked for a nonce (RFC 9449 8) learns it first, and spent once the client
has authenticated (a spend is a write: nobody but a client makes the endpoint write). The grant is handed the key's
thumbprint (``jkt``) to bind the access token (``cnf.jkt``), a public client's refresh token, and to match a code's
``dpop_jkt`` (RFC 9449 10).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from passport.core.audit import audit
from passport.core.client_auth import ClientAssertions, ClientCredentials, authenticate_client, extract_credentials
from passport.core.errors import OAuthError, invalid_request, unauthorized_client, unsupported_grant_type
from passport.core.grants.base import Grant
from passport.core.http import NO_STORE, Request, Response, json_response, oauth_error_response, single
from passport.core.models import Client
from passport.core.profile import BASELINE, ClientPolicy, client_policy
from passport.ports import ClientStore

if TYPE_CHECKING:
    from passport.core.dpop import DpopProof, ProofChecker


class TokenEndpoint:
    def __init__(self, clients: ClientStore, grants: Mapping[str, Grant], *, dpop: ProofChecker | None = None,
                 nonces: bool = False, url: str = "", policy: Callable[[Client], ClientPolicy] | None = None,
                 assertions: ClientAssertions | None = None) -> None:
        self._clients = clients
        self._grants = dict(grants)
        #: private_key_jwt (RFC 7523 2.2): how client assertions are verified here; None: every one is refused.
        self._assertions = assertions
        #: RFC 9449: proofs are checked against ``url``, this endpoint's URL as clients are told it (RFC 8414
        #: ``token_endpoint``); None: DPoP is off and a ``DPoP`` header is ignored (RFC 9449 5).
        self._dpop = dpop
        #: Whether every answer carries the next DPoP nonce (RFC 9449 8.2): only where ``dpop`` asks for nonces.
        self._nonces = dpop is not None and nonces
        self._url = url
        self._policy = policy or (lambda client: client_policy(client, server_profile=BASELINE))

    @property
    def grant_types(self) -> tuple[str, ...]:
        return tuple(self._grants)

    def _authenticate(self, credentials: ClientCredentials, grant_type: str) -> Client:
        """RFC 6749 3.2.1: the client, authenticated and allowed this grant."""
        client = authenticate_client(credentials, self._clients, self._assertions)
        if not client.allows_grant(grant_type):
            raise unauthorized_client(f"The client is not allowed to use the {grant_type!r} grant.")
        return client

    def _proof(self, request: Request) -> DpopProof | None:
        """The request's DPoP proof, checked and spent (RFC 9449 4.3, 11.1); None when it sent none or DPoP is
        off. A bad proof is 400 ``invalid_dpop_proof``, a missing or stale nonce ``use_dpop_nonce`` (RFC 9449 5, 8)."""
        if self._dpop is None:
            return None
        return self._dpop.at_endpoint(request.headers.get("dpop"), method=request.method, url=self._url)

    def _admit(self, client: Client, grant_type: str, proof: DpopProof | None) -> None:
        """What the client's security profile asks beyond its registration (passport.core.profile)."""
        policy = self._policy(client)
        if policy.grants and grant_type not in policy.grants:
            raise unauthorized_client(f"The client's security profile does not allow the {grant_type!r} grant.")
        if policy.dpop_required and proof is None:
            # RFC 9449 5.2 (dpop_bound_access_tokens), FAPI 2.0 Security Profile 5.3.2.1 point 1.
            raise invalid_request("This client's tokens must be DPoP-bound: send a DPoP proof.")

    def handle(self, request: Request) -> Response:
        grant_type = client_id = None
        nonce_headers: dict[str, str] = {}
        try:
            form = request.form()
            grant_type = single(form, "grant_type", required=True)
            grant = self._grants.get(grant_type)
            if grant is None:
                raise unsupported_grant_type(grant_type)
            credentials = extract_credentials(request.headers, form)
            proof = self._proof(request) if "dpop" in request.headers else None
            if self._nonces:
                nonce_headers = self._dpop.answer_headers()  # type: ignore[union-attr]  # RFC 9449 8.2: with every answer
            jkt = None if proof is None else proof.jkt
            poll = getattr(grant, "poll", None)
            if poll is not None:
                # The device grant authenticates its polls itself, from the device record when it can.
                def authenticated() -> Client:
                    found = self._authenticate(credentials, grant_type)
                    self._admit(found, grant_type, proof)
                    return found

                client, answer = poll(credentials, authenticated, form, jkt)
                client_id = client.client_id
                self._admit(client, grant_type, proof)
                if proof is not None:
                    self._dpop.spend_at_endpoint(proof)  # type: ignore[union-attr]
                body = answer()
            else:
                client = self._authenticate(credentials, grant_type)
                client_id = client.client_id
                self._admit(client, grant_type, proof)
                if proof is not None:
                    self._dpop.spend_at_endpoint(proof)  # type: ignore[union-attr]
                body = grant.respond(client, form, source_ip=request.source_ip, jkt=jkt)
        except OAuthError as error:
            audit("token_refused", client_id=client_id, grant_type=grant_type if grant_type in self._grants else None,
                  error=error.error, reason=error.description, source_ip=request.source_ip)
            return oauth_error_response(error, nonce_headers)
        audit("token_refreshed" if grant_type == "refresh_token" else "token_issued", client_id=client_id,
              grant_type=grant_type, scopes=body.get("scope"), source_ip=request.source_ip,
              token_type=body.get("token_type"))
        return json_response(body, headers={**NO_STORE, **nonce_headers} if nonce_headers else NO_STORE)

