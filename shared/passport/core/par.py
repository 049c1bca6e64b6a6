"""Pushed authorization requests (RFC 9126): the endpoint a client pushes its authorization request to
(``POST /oauth/par``, section 2), and what the authorization endpoint does with the ``request_uri`` it gets back
(section 4).

The push is authenticated as a token request is (2: "in the same way as at the token endpoint"), and its
parameters are validated by the authorization endpoint's own rules (:func:`passport.core.authorization.validate`,
2.1 point 3), so a request that could never be approved is refused before the user sees anything. What is stored
is the form less the client's credentials, under the SHA-256 of a ``request_uri`` holding 256 random bits (7.1),
never the URI itself.

At the authorization endpoint a ``request_uri`` of the form ``urn:ietf:params:oauth:request_uri:...`` with the
``client_id`` that pushed it stands for the pushed parameters, and for them only: whatever else the query says is
ignored (4, as RFC 9101 5 for request objects). An unknown, expired, used or other client's ``request_uri`` is an
error page naming OpenID Connect Core 6.2's ``invalid_request_uri``: nothing says the redirect URI of such a
request is the client's. The browser carries ``client_id`` and ``request_uri`` (never the parameters) through the
sign-in page and the consent form, so reloading the consent page works, and the request is spent once when it is
decided: a code issued, or an error or a denial sent to the redirect URI (4: "SHOULD treat request_uri values as
one-time use but MAY allow for duplicate requests due to a user reloading/refreshing their user agent").

A request_uri is live for ``[par] lifetime_seconds`` (``expires_in``, 2.2) until the browser first brings it to
the authorization endpoint; from then the user has :data:`DECISION_SECONDS` to sign in and decide, as a sign-in
page would give anyone. Where a client must push (its ``require_pushed_authorization_requests``, ``[par]
required`` or the FAPI 2.0 profile: :func:`passport.core.profile.client_policy`), an authorization request
without a pushed request_uri is refused with ``invalid_request`` (4), at the redirect URI once that is known to be
the client's (RFC 6749 4.1.2.1).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from passport.core.audit import audit
from passport.core.authorization import AuthorizationRequest, RedirectError, validate
from passport.core.client_auth import authenticate_client, extract_credentials
from passport.core.errors import OAuthError, PageError, invalid_request
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, json_response, oauth_error_response, single
from passport.core.models import Client, PushedRequest
from passport.core.profile import BASELINE, client_policy
from passport.core.scopes import ScopePolicy
from passport.ports import ClientStore, Clock, PushedRequests

if TYPE_CHECKING:
    from passport.core.client_auth import ClientAssertions
    from passport.core.dpop import ProofChecker

#: RFC 9126 2.2: the request_uri's form; what follows is 256 random bits, base64url (7.1: never guessable).
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: Once the browser has brought a request_uri to the authorization endpoint, the time the user has to sign in and
#: decide (a sign-in with a password manager, or a consent page read twice, easily outlasts ``expires_in``).
DECISION_SECONDS = 600
#: What a client authenticates with at the endpoint: not authorization request parameters, never stored.
CREDENTIALS = ("client_secret", "client_assertion", "client_assertion_type")
#: An authorization request has about twenty parameters; a push with many more is no authorization request.
MAX_PARAMETERS = 50
MAX_VALUES = 100
#: The longest request_uri this server makes, with room: a longer one is none of ours, and is never looked up.
MAX_REQUEST_URI = 128


def is_pushed_uri(value: str | None) -> bool:
    """Whether ``value`` has the form of the request_uri this server hands out (RFC 9126 2.2)."""
    return value is not None and value.startswith(REQUEST_URI_PREFIX)


class _TheClient:
    """The authenticated client as the one client :func:`validate` can find: no second read of the store."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, client_id: str) -> Client | None:
        return self._client if client_id == self._client.client_id else None


class PushedAuthorizationEndpoint:
    """``POST /oauth/par`` (RFC 9126 2): 201 with ``request_uri`` and ``expires_in``, or an OAuth error."""

    def __init__(
        self, *, clients: ClientStore, requests: PushedRequests, clock: Clock, scopes: ScopePolicy,
        response_types: tuple[str, ...], resources: tuple[str, ...] = (), issuer: str = "", lifetime: int = 60,
        assertions: ClientAssertions | None = None, dpop: ProofChecker | None = None, nonces: bool = False,
        url: str = "", server_profile: str = BASELINE,
    ) -> None:
        """``lifetime``: ``[par] lifetime_seconds``. ``assertions``: what checks ``private_key_jwt`` client
        assertions (None: not offered). ``dpop``: DPoP proofs, checked against ``url`` (this endpoint's, as
        metadata names it), to bind the code to the proof's key (RFC 9449 10.1); None: DPoP is off. ``nonces``:
        ``dpop`` asks for the server's nonce, so every answer carries the next one (RFC 9449 8.2).
        ``server_profile``: the server's ``security_profile`` (passport.core.profile)."""
        self._clients = clients
        self._requests = requests
        self._clock = clock
        self._scopes = scopes
        self._response_types = response_types
        self._resources = resources
        self._issuer = issuer
        self._lifetime = lifetime
        self._assertions = assertions
        self._dpop = dpop
        self._nonces = dpop is not None and nonces
        self._url = url
        self._server_profile = server_profile

    def handle(self, request: Request) -> Response:
        client_id = None
        nonce_headers: dict[str, str] = {}
        try:
            if request.method != "POST":
                # 2.3: 405 for any other method (the route table serves POST only).
                raise OAuthError("invalid_request", "Push the authorization request with POST.", 405,
                                 {"Allow": "POST"})
            form = request.form()
            if len(form) > MAX_PARAMETERS or sum(len(values) for values in form.values()) > MAX_VALUES:
                raise invalid_request("The request has too many parameters.")
            credentials = extract_credentials(request.headers, form)
            proof = None
            if self._dpop is not None and "dpop" in request.headers:
                proof = self._dpop.at_endpoint(request.headers.get("dpop"), method="POST", url=self._url)
            if self._nonces:
                nonce_headers = self._dpop.answer_headers()  # type: ignore[union-attr]
            client = authenticate_client(credentials, self._clients, self._assertions)
            client_id = client.client_id
            sent = single(form, "client_id")
            if sent is not None and sent != client.client_id:
                raise invalid_request("The client_id differs from the authenticated client.")
            if "request_uri" in form:
                raise invalid_request("request_uri cannot be pushed (RFC 9126 2.1).")
            params = {name: values for name, values in form.items() if name not in CREDENTIALS}
            params["client_id"] = [client.client_id]  # 2: required; Basic may have carried it alone
            if proof is not None:
                # RFC 9449 10.1: the proof's key binds the code, as dpop_jkt would; both, they must agree.
                sent_jkt = single(form, "dpop_jkt")
                if sent_jkt is not None and sent_jkt != proof.jkt:
                    from passport.core.dpop import invalid_dpop_proof

                    raise invalid_dpop_proof("The dpop_jkt is not the thumbprint of the DPoP proof's key.")
                params["dpop_jkt"] = [proof.jkt]
            if client_policy(client, server_profile=self._server_profile).fapi2 and not single(form, "redirect_uri"):
                # FAPI 2.0 Security Profile 5.3.2.2: the redirect_uri is required in a pushed request.
                raise invalid_request("A FAPI 2.0 client's pushed request must name its redirect_uri.")
            self._validate(params, client)
            if proof is not None:
                self._dpop.spend_at_endpoint(proof)  # type: ignore[union-attr]  # RFC 9449 11.1, once authenticated
            request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
            now = self._clock.now()
            self._requests.save(PushedRequest(uri_hash=hash_secret(request_uri), client_id=client.client_id,
                                              params=params, pushed_at=now, expires_at=now + self._lifetime))
        except OAuthError as error:
            audit("authorization_request_refused", client_id=client_id, error=error.error, reason=error.description,
                  source_ip=request.source_ip)
            return oauth_error_response(error, nonce_headers)
        audit("authorization_request_pushed", client_id=client_id, source_ip=request.source_ip)
        return json_response({"request_uri": request_uri, "expires_in": self._lifetime}, 201,
                             {**NO_STORE, **nonce_headers})

    def _validate(self, params: dict[str, list[str]], client: Client) -> AuthorizationRequest:
        """2.1 point 3: the authorization endpoint's rules, its answers as this endpoint's errors (2.3): the
        error it would send to the redirect URI, and ``invalid_request`` where it would show a page (an
        unregistered redirect URI, a repeated parameter)."""
        try:
            return validate(params, clients=_TheClient(client),  # type: ignore[arg-type]
                            scopes=self._scopes, response_types=self._response_types, resources=self._resources,
                            issuer=self._issuer, server_profile=self._server_profile)
        except RedirectError as failure:
            raise OAuthError(failure.error.error, failure.error.description) from None
        except PageError as error:
            if error.title == "Invalid redirect URI":
                raise invalid_request("The redirect_uri is missing or not one the client registered.") from None
            raise invalid_request(error.message) from None


class PushedAuthorizations:
    """The authorization endpoint's side (RFC 9126 4): which clients must push, the pushed request a
    ``request_uri`` stands for, and spending it once."""

    def __init__(self, requests: PushedRequests, clock: Clock, *, required: bool = False,
                 server_profile: str = BASELINE) -> None:
        """``required``: ``[par] required``; ``server_profile``: ``security_profile``."""
        self._requests = requests
        self._clock = clock
        self._required = required
        self._server_profile = server_profile

    @staticmethod
    def owns(request_uri: str | None) -> bool:
        """A request_uri of the form this server hands out (any other keeps OpenID Connect Core 6.2's
        ``request_uri_not_supported``)."""
        return is_pushed_uri(request_uri)

    def required_for(self, client: Client) -> bool:
        """Whether ``client`` may start an authorization only with a pushed request (4)."""
        return client_policy(client, server_profile=self._server_profile, par_required=self._required).par_required

    def take(self, request_uri: str, client: Client) -> PushedRequest:
        """The live, unused request ``client`` pushed as ``request_uri``; else an error page (the redirect URI
        of a request nobody can vouch for is never followed)."""
        pushed = None
        if len(request_uri) <= MAX_REQUEST_URI:
            pushed = self._requests.take(hash_secret(request_uri), client.client_id, self._clock.now(),
                                         DECISION_SECONDS)
        if pushed is None or pushed.client_id != client.client_id:
            raise PageError("Invalid request", "The application's request (its request_uri) is unknown, expired, "
                            "already answered, or another application's (invalid_request_uri). Go back to the "
                            "application and start again.")
        return pushed

    def spend(self, auth: AuthorizationRequest) -> None:
        """Spend the pushed request ``auth`` came from, once (4); an error page when it was spent before (a
        second answer, or a concurrent one) or has expired. A request not pushed has nothing to spend."""
        if auth.request_uri is None:
            return
        if not self._requests.spend(hash_secret(auth.request_uri), auth.client.client_id, self._clock.now()):
            raise PageError("Invalid request", "This request was already answered, or took too long "
                            "(invalid_request_uri). Go back to the application and start again.")
