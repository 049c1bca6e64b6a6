"""The authorization request (RFC 6749 4.1.1 and 4.2.1), validated the same way when the browser arrives
(GET) and when the user approves (POST): nothing the consent form carries is trusted without a second check.

Two kinds of failure, as RFC 6749 4.1.2.1 orders them: an unknown client or a redirect URI that is not
registered gets an HTML page and never a redirect (the URI could be an attacker's); everything else goes
back to the client's redirect URI with ``error``, ``state`` and ``iss`` (RFC 9207), in the response mode asked
(OAuth 2.0 Multiple Response Type Encoding Practices 2.1, Form Post Response Mode 2) when it is one of ours.

OpenID Connect Core 1.0 adds request objects (6.1), the claims parameter (5.5) and acr_values (3.1.2.1): their
modules are imported only by a request that uses them.

A pushed authorization request (RFC 9126 4, :mod:`passport.core.par`) is a ``request_uri`` standing for
parameters the client pushed: they, and only they, are validated here, and the request then carries its
``client_id`` and ``request_uri`` instead of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from passport.core.client_documents import page_client
from passport.core.clients import MAX_STATE
from passport.core.errors import OAuthError, PageError, PassportError, invalid_request, unauthorized_client
from passport.core.http import single
from passport.core.models import Client
from passport.core.oidc.claims import wants_id_token
from passport.core.pkce import validate_challenge
from passport.core.profile import BASELINE, ClientPolicy, client_policy
from passport.core.redirects import find_registered
from passport.core.resources import requested_resources
from passport.core.scopes import ScopePolicy
from passport.ports import ClientStore

if TYPE_CHECKING:
    from passport.core.oidc.claims_request import ClaimsRequest
    from passport.core.par import PushedAuthorizations

PROMPTS = {"none", "login", "consent", "select_account"}
#: The parameters a consent form (and the way back from a sign-in) carries, verbatim.
CARRIED = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
           "code_challenge_method", "nonce", "max_age", "prompt", "response_mode", "claims", "acr_values", "dpop_jkt")
#: RFC 9449 10: ``dpop_jkt`` is a JWK SHA-256 thumbprint (RFC 7638), base64url without padding.
DPOP_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
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
    #: The parameters as received (a request object's merged in, OpenID Connect Core 6.3.3), for the consent form
    #: to send back.
    params: dict[str, str]
    #: Multiple Response Type Encoding Practices 2.1: "query", "fragment" (the default of the implicit grant, when
    #: it is on) or "form_post" (Form Post Response Mode 2).
    response_mode: str = "query"
    #: OpenID Connect Core 3.1.2.1: the most seconds since the user last signed in (0: sign in again now).
    max_age: int | None = None
    #: RFC 8707: the resources the client asks a token for (registered ones only).
    resources: tuple[str, ...] = ()
    #: OpenID Connect Core 5.5: the claims parameter, parsed (None: not sent).
    claims: ClaimsRequest | None = None
    #: 3.1.2.1 and 5.5.1.1: the acr the ID token will carry (None: none was asked for).
    acr: str | None = None
    #: RFC 9126 4: the request_uri of the pushed request whose parameters these are (None: they came with the
    #: request itself). ``params`` then carries client_id and request_uri only, never the parameters.
    request_uri: str | None = None
    #: When that request was pushed: a sign-in since then is one made for it (passport.endpoints.consent).
    pushed_at: int = 0
    #: RFC 9449 10: the DPoP key the code will be bound to (``dpop_jkt``, or the key of the proof sent with the
    #: pushed request, 10.1); None: not bound.
    dpop_jkt: str | None = None
    #: The longest the code may live, when the client's security profile says (FAPI 2.0: 60 s); 0: the server's.
    code_lifetime: int = 0

    @property
    def fragment(self) -> bool:
        return self.response_mode == "fragment"


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


def error_parameters(failure: RedirectError, issuer: str) -> dict[str, str | None]:
    """RFC 6749 4.1.2.1 with RFC 9207's ``iss``."""
    request, error = failure.request, failure.error
    return {"error": error.error, "error_description": error.description, "state": request.state, "iss": issuer}


def error_redirect(failure: RedirectError, issuer: str) -> str:
    """The error as a redirect URI, for the query and fragment response modes."""
    return redirect_to(failure.request.redirect_uri, error_parameters(failure, issuer),
                       fragment=failure.request.fragment)


def response_mode(asked: str | None, response_type: str, response_types: tuple[str, ...]) -> tuple[str, bool]:
    """The response mode (Multiple Response Type Encoding Practices 2.1 and 3) and whether ``asked`` is one this
    server answers in. The default is the query for ``code``, the fragment for ``token``; ``token`` is never sent
    in the query, and the fragment is offered only where the implicit grant is on."""
    implicit = "token" in response_types
    default = "fragment" if response_type == "token" and implicit else "query"
    if asked is None:
        return default, True
    allowed = {"form_post", *(("fragment",) if implicit else ()), *(() if response_type == "token" else ("query",))}
    return (asked, True) if asked in allowed else (default, False)


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
    resources: tuple[str, ...] = (), issuer: str = "", pushed: PushedAuthorizations | None = None,
    server_profile: str = BASELINE,
) -> AuthorizationRequest:
    """``resources``: those a request may name (RFC 8707); none given, the parameter is refused. ``issuer``: what
    a request object's ``aud`` must name (OpenID Connect Core 6.1). ``pushed``: pushed authorization requests
    (RFC 9126; None: a request_uri of theirs is as unsupported as any other, and none is required).
    ``server_profile``: the server's ``security_profile``, which with the client's own says what it is held to
    (passport.core.profile)."""
    def one(name: str) -> str | None:
        try:
            return single(params, name)
        except OAuthError:
            raise PageError("Invalid request", f"The {name} parameter is repeated.") from None

    client_id = one("client_id")
    client = page_client(clients, client_id)
    if client is None or client.revoked:
        raise PageError("Unknown application", "The application that sent you here is not registered.")
    request_uri, pushed_at = None, 0
    if pushed is not None and pushed.owns(one("request_uri")):
        # RFC 9126 4: the pushed parameters, and only they (the query's others are ignored), once the request_uri
        # is known to be this client's, live and unused; else a page (its redirect URI is nobody's word).
        request_uri = one("request_uri") or ""
        found = pushed.take(request_uri, client)
        params, pushed_at = found.params, found.pushed_at
    if "request" in params or "request_uri" in params:
        params = _with_request_object(params, one, client, issuer, response_types)
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
        params=({"client_id": client.client_id, "request_uri": request_uri} if request_uri is not None
                else {name: value for name in CARRIED if (value := one(name)) is not None}),
        request_uri=request_uri, pushed_at=pushed_at,
    )
    mode, supported = response_mode(one("response_mode"), request.response_type, response_types)
    request = replace(request, response_mode=mode)
    if not supported:
        raise RedirectError(request, invalid_request("The response_mode parameter has an unsupported value."))
    if request_uri is None and pushed is not None and pushed.required_for(client):
        # RFC 9126 4: where policy makes pushing the only way, the authorization endpoint "will refuse, using the
        # invalid_request error code" any request without a pushed request_uri.
        raise RedirectError(request, invalid_request("This application must push its authorization requests "
                                                     "(RFC 9126) and send the request_uri it got."))
    try:
        request = replace(request, resources=requested_resources(params, resources))
        policy = client_policy(client, server_profile=server_profile)
        return _validate_parameters(request, one, scopes, response_types, policy)
    except OAuthError as error:
        raise RedirectError(request, error) from None


def _with_request_object(
    params: Mapping[str, list[str]], one: Callable[[str], str | None], client: Client, issuer: str,
    response_types: tuple[str, ...],
) -> dict[str, list[str]]:
    """OpenID Connect Core 6.1 and 6.2: the parameters of an unsigned request object merged over the query's
    (6.3.3). Until the request object is read, the redirect URI is the query's: an error goes there when it is
    registered, else to a page."""
    from passport.core.oidc.request_object import merged_parameters, read_request_object

    try:
        if one("request_uri") is not None:
            raise OAuthError("request_uri_not_supported", "The request_uri parameter is not supported.")
        inner = read_request_object(one("request") or "", issuer=issuer, client_id=client.client_id)
        return merged_parameters(params, inner)
    except OAuthError as error:
        requested_uri = one("redirect_uri")
        redirect_uri = find_registered(requested_uri, client.redirect_uris)
        if redirect_uri is None:
            raise PageError("Invalid request", error.description) from None
        state = one("state")
        check_echoable_state(state)
        response_type = one("response_type") or ""
        request = AuthorizationRequest(
            client=client, redirect_uri=requested_uri or redirect_uri, redirect_uri_sent=requested_uri is not None,
            response_type=response_type, scopes=(), state=state, challenge=None, prompt=frozenset(), nonce=None,
            params={}, response_mode=response_mode(one("response_mode"), response_type, response_types)[0],
        )
        raise RedirectError(request, error) from None


def _validate_parameters(
    request: AuthorizationRequest, one: Callable[[str], str | None], scopes: ScopePolicy,
    response_types: tuple[str, ...], policy: ClientPolicy,
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
    if not policy.allows_grant(grant):
        # FAPI 2.0 Security Profile 5.3.2.2: response_type code only (no implicit grant)
        raise unauthorized_client(f"The client's security profile does not allow the {grant} grant.")
    dpop_jkt = one("dpop_jkt")
    if dpop_jkt is not None and not DPOP_JKT.fullmatch(dpop_jkt):
        raise invalid_request("The dpop_jkt parameter is not a JWK thumbprint (RFC 7638, base64url SHA-256).")
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
    claims, acr, acr_values = None, None, one("acr_values")
    if (raw_claims := one("claims")) is not None:
        from passport.core.oidc.claims_request import parse_claims

        claims = parse_claims(raw_claims)
    if (claims is not None or acr_values is not None) and wants_id_token(granted):
        from passport.core.oidc.claims_request import resolve_acr

        acr = resolve_acr(acr_values, claims)
    challenge = None
    if request.response_type == "code":
        # RFC 7636 for public clients (RFC 9700 2.1.1), and for every client a security profile holds to it (FAPI
        # 2.0 Security Profile 5.3.2.2); S256 only, either way.
        challenge = validate_challenge(
            one("code_challenge"), one("code_challenge_method"),
            required=request.client.public or policy.pkce_s256_required,
        )
    return replace(request, scopes=granted, challenge=challenge, prompt=prompt, max_age=max_age, claims=claims,
                   acr=acr, dpop_jkt=dpop_jkt, code_lifetime=policy.code_lifetime)
