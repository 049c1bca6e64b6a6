"""The authorization request (RFC 6749 4.1.1 and 4.2.1), validated the same way when the browser arrives
(GET) and when the user approves (POST): nothing the consent form carries is trusted without a second check.

Two kinds of failure, as RFC 6749 4.1.2.1 orders them: an unknown client or a redirect URI that is not
registered gets an HTML page and never a redirect (the URI could be an attacker's); everything else goes
back to the client's redirect URI with ``error``, ``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode, urlsplit, urlunsplit

from passport.core.clients import MAX_STATE
from passport.core.errors import OAuthError, PageError, PassportError, invalid_request, unauthorized_client
from passport.core.http import single
from passport.core.models import Client
from passport.core.pkce import validate_challenge
from passport.core.redirects import find_registered
from passport.core.resources import requested_resources
from passport.core.scopes import ScopePolicy
from passport.ports import ClientStore

PROMPTS = {"none", "login", "consent", "select_account"}
#: The parameters a consent form (and the way back from a sign-in) carries, verbatim.
CARRIED = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
           "code_challenge_method", "nonce", "max_age", "prompt")
#: Longest nonce accepted: it is stored with the code and echoed in the ID token.
MAX_NONCE = 512


@dataclass(frozen=True)
class AuthorizationRequest:
    """An authorization request (RFC 6749 4.1.1), validated and ready for consent."""

    client: Client
    redirect_uri: str
    redirect_uri_sent: bool
    response_type: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: str | None
    prompt: frozenset[str]
    nonce: str | None
    #: The parameters as received, for the consent form to send back.
    params: dict[str, str]
    #: Whether the answer goes in the fragment (the implicit grant, when it is on) rather than the query.
    fragment: bool = False
    #: OpenID Connect Core 3.1.2.1: the most seconds since the user last signed in (0: sign in again now).
    max_age: int | None = None
    #: RFC 8707: the resources the client asks a token for (registered ones only).
    resources: tuple[str, ...] = ()


class RedirectError(PassportError):
    """An error the client hears about at its redirect URI."""

    def __init__(self, request: AuthorizationRequest, error: OAuthError) -> None:
        super().__init__(str(error))
        self.request, self.error = request, error


def redirect_to(uri: str, params: Mapping[str, str | None], *, fragment: bool = False) -> str:
    """``uri`` with ``params`` added to its query (4.1.2), or as its fragment (4.2.2), keeping its own query."""
    parts = urlsplit(uri)
    encoded = urlencode({k: v for k, v in params.items() if v is not None})
    if fragment:
        return urlunsplit(parts._replace(fragment=encoded))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit(parts._replace(query=query))


def error_redirect(failure: RedirectError, issuer: str) -> str:
    request, error = failure.request, failure.error
    return redirect_to(
        request.redirect_uri,
        {"error": error.error, "error_description": error.description, "state": request.state, "iss": issuer},
        fragment=request.fragment,
    )


def check_echoable_state(state: str | None) -> None:
    """RFC 6749 4.1.2 (and 4.1.2.1, 4.2.2; OpenID Connect RP-Initiated Logout 3): ``state`` goes back "exactly
    as received". A state holding U+FFFD was not received exactly: U+FFFD is what a gateway puts in place of
    bytes that are not UTF-8 (the local gateway does; API Gateway may), so what the client sent is already lost.
    A lone surrogate has no UTF-8 at all and cannot be sent back. Echoing either would hand the client a state
    it never sent, and leaving it out would defeat its CSRF check (RFC 9700 4.7): an error page instead, never
    a redirect."""
    if state is None:
        return
    try:
        state.encode("utf-8")
    except UnicodeEncodeError:
        unechoable = True
    else:
        unechoable = "\ufffd" in state
    if unechoable:
        raise PageError("Invalid request", "The state parameter is not valid UTF-8 text, so it could not be sent "
                        "back to the application as it was sent.")


def validate(
    params: Mapping[str, list[str]], *, clients: ClientStore, scopes: ScopePolicy, response_types: tuple[str, ...],
    resources: tuple[str, ...] = (),
) -> AuthorizationRequest:
    """``resources``: those a request may name (RFC 8707); none given, the parameter is refused."""
    def one(name: str) -> str | None:
        try:
            return single(params, name)
        except OAuthError:
            raise PageError("Invalid request", f"The {name} parameter is repeated.") from None

    client_id = one("client_id")
    client = clients.get(client_id) if client_id and len(client_id) <= 128 else None
    if client is None or client.revoked:
        raise PageError("Unknown application", "The application that sent you here is not registered.")
    requested_uri = one("redirect_uri")
    redirect_uri = find_registered(requested_uri, client.redirect_uris)
    if redirect_uri is None:
        raise PageError(
            "Invalid redirect URI",
            "The application sent you here with a redirect URI that is not registered, so you were not sent back.",
        )
    state = one("state")
    check_echoable_state(state)
    # From here on the client hears of any error at its (now trusted) redirect URI.
    request = AuthorizationRequest(
        client=client,
        redirect_uri=requested_uri or redirect_uri,  # a loopback URI keeps the port the app listens on
        redirect_uri_sent=requested_uri is not None,
        response_type=one("response_type") or "",
        scopes=(), state=state, challenge=None, prompt=frozenset(), nonce=one("nonce"),
        params={name: value for name in CARRIED if (value := one(name)) is not None},
    )
    request = replace(request, fragment=request.response_type == "token" and "token" in response_types)
    try:
        request = replace(request, resources=requested_resources(params, resources))
        return _validate_parameters(request, one, scopes, response_types)
    except OAuthError as error:
        raise RedirectError(request, error) from None


def _validate_parameters(
    request: AuthorizationRequest, one: Callable[[str], str | None], scopes: ScopePolicy,
    response_types: tuple[str, ...],
) -> AuthorizationRequest:
    if request.state is not None and len(request.state) > MAX_STATE:
        raise invalid_request("The state parameter is too long.")
    if not request.response_type:
        raise invalid_request("The response_type parameter is missing.")
    if request.response_type not in response_types:
        raise OAuthError("unsupported_response_type", f"The response_type {request.response_type!r} is not supported.")
    grant = {"code": "authorization_code", "token": "implicit"}[request.response_type]
    if not request.client.allows_grant(grant):
        raise unauthorized_client(f"The client may not use the {grant} grant.")
    prompt = frozenset((one("prompt") or "").split())
    if prompt - PROMPTS:
        raise invalid_request("The prompt parameter has an unknown value.")
    if "none" in prompt and len(prompt) > 1:
        raise invalid_request("prompt=none cannot be combined with other values.")
    if request.nonce is not None and len(request.nonce) > MAX_NONCE:
        raise invalid_request("The nonce parameter is too long.")
    max_age = None
    raw_max_age = one("max_age")
    if raw_max_age is not None:
        if not raw_max_age.isascii() or not raw_max_age.isdigit() or len(raw_max_age) > 9:
            raise invalid_request("The max_age parameter must be a number of seconds.")
        max_age = int(raw_max_age)
    granted = scopes.resolve(one("scope"), request.client.scopes, identity=True)
    challenge = None
    if request.response_type == "code":
        challenge = validate_challenge(
            one("code_challenge"), one("code_challenge_method"), required=request.client.public
        )
    return replace(request, scopes=granted, challenge=challenge, prompt=prompt, max_age=max_age)
