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

Where the guard accepts DPoP, a DPoP-bound token is accepted with the DPoP scheme and a proof for this request
(RFC 9449 7.1; the URL is ``base_url`` and the request's path), and every challenge offers both schemes: the
``Bearer`` one, and ``DPoP`` with the algorithms accepted (``algs``). A refusal for what DPoP asks carries its
error (``invalid_token``, ``invalid_dpop_proof``) in the ``DPoP`` challenge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from passport.bearer import DPOP, MalformedAuthorization, token_credentials
from passport.core.errors import PassportError
from passport.core.http import Request, Response
from passport.guard.context import TokenContext
from passport.guard.decision import Call, DpopRefused, Guard
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

    def __init__(self, guard: Guard, metadata_url: str, scopes: Iterable[str] = (), *, inherit: bool = False,
                 base_url: str = "") -> None:
        self._guard = guard
        self._metadata_url = metadata_url
        self._scopes = tuple(dict.fromkeys(s for s in scopes if s != OFFLINE_ACCESS))
        self.inherit = inherit
        #: Where the function's paths are, as clients address them (the issuer): a DPoP proof's ``htu``.
        self._base_url = base_url
        proofs = getattr(guard, "proofs", None)
        self._dpop_algorithms: tuple[str, ...] = () if proofs is None else proofs.algorithms

    def authenticate(self, request: Request) -> TokenContext:
        """The caller of a request with a valid, live Bearer or DPoP token for this resource (its ``aud``)."""
        try:
            found = token_credentials(request.headers.get("authorization"))
        except MalformedAuthorization:
            raise Refused(self._refusal("invalid_token", "The Authorization header is not one Bearer or DPoP "
                                        "token.")) from None
        if found is None:
            # 3.1: no credentials, no error code; the metadata says where to get them
            raise Refused(self._refusal(None, "This resource needs an access token (Authorization: Bearer)."))
        scheme, token = found
        call = Call(token, scheme, request.headers.get("dpop"), request.method,
                    self._base_url + request.path if self._base_url else None)
        try:
            principal = self._guard.authenticate(token, call)
        except DpopRefused as refused:
            raise Refused(self._refusal(refused.error, refused.description, dpop=True, nonce=refused.nonce)) from None
        except InvalidToken:
            raise Refused(self._refusal("invalid_token", "The access token is missing, invalid, expired, revoked, "
                                        "or not for this resource.", dpop=scheme == DPOP)) from None
        return TokenContext(sub=principal.sub, client_id=principal.client_id, user_id=principal.user_id,
                            scopes=principal.scopes, jti=principal.jti, jkt=principal.jkt)

    def require(self, caller: TokenContext, scopes: Iterable[str]) -> None:
        """Raise :class:`Refused` (403 ``insufficient_scope``) unless the caller's token grants every one of
        ``scopes`` (through a broader scope where inherited scopes are on)."""
        needed = tuple(dict.fromkeys(scopes))
        if not all(caller.token_can(scope, inherit=self.inherit) for scope in needed):
            raise Refused(self.insufficient_scope(needed, dpop=bool(caller.jkt)))

    def insufficient_scope(self, scopes: Iterable[str], *, dpop: bool = False) -> Response:
        """RFC 6750 3.1: 403 ``insufficient_scope``; its ``scope`` names every scope the call needs, not only the
        missing ones, so one authorization covers the call (the MCP authorization spec's scope challenge). In the
        ``DPoP`` challenge for a DPoP-bound token (RFC 9449 7.1)."""
        needed = tuple(dict.fromkeys(scopes))
        return self._refusal("insufficient_scope", f"The access token lacks a scope this call needs: "
                             f"{' '.join(needed)}.", status=403, scopes=needed, dpop=dpop)

    def _refusal(self, error: str | None, description: str, *, status: int = 401,
                 scopes: tuple[str, ...] | None = None, dpop: bool = False, nonce: str | None = None) -> Response:
        return bearer_refusal(status, error, description, self._metadata_url,
                              self._scopes if scopes is None else scopes, dpop_algorithms=self._dpop_algorithms,
                              dpop_error=dpop, nonce=nonce)


def _quoted(text: str) -> str:
    """``text`` as the inside of an RFC 9110 5.6.4 quoted-string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def bearer_refusal(status: int, error: str | None, description: str, metadata_url: str | None,
                   scopes: tuple[str, ...] = (), *, dpop_algorithms: tuple[str, ...] = (), dpop_error: bool = False,
                   nonce: str | None = None) -> Response:
    """A Bearer challenge (RFC 6750 3) and its JSON error: ``error`` (none for a request without credentials,
    3.1), ``scope`` (3: space-delimited, so a client knows what to ask for) and ``resource_metadata`` (RFC 9728
    5.1). Scope names are RFC 6749 3.3 tokens, which hold neither a quote nor a backslash.

    ``dpop_algorithms``: the resource accepts DPoP too, so a ``DPoP`` challenge follows with ``algs`` (RFC 9449
    7.1). ``dpop_error``: the error is DPoP's (a DPoP call, or a bound token sent as Bearer), so it goes in the
    ``DPoP`` challenge, first, with its description, and ``nonce`` in ``DPoP-Nonce`` (RFC 9449 9)."""
    shared = [f'scope="{" ".join(scopes)}"'] if scopes else []
    if metadata_url:
        shared.append(f'resource_metadata="{metadata_url}"')
    bearer = ([f'error="{error}"'] if error and not dpop_error else []) + shared
    challenges = ["Bearer " + ", ".join(bearer) if bearer else "Bearer"]
    if dpop_algorithms or dpop_error:
        dpop = [f'error="{error}"', f'error_description="{_quoted(description)}"'] if error and dpop_error else []
        if dpop_algorithms:
            dpop.append(f'algs="{" ".join(dpop_algorithms)}"')
        dpop += shared if dpop_error else []
        challenge = "DPoP " + ", ".join(dpop) if dpop else "DPoP"
        challenges = [challenge, *challenges] if dpop_error else [*challenges, challenge]
    body = {"error": error or "invalid_token", "error_description": description}
    if scopes and error == "insufficient_scope":
        body["scope"] = " ".join(scopes)
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store",
               "WWW-Authenticate": ", ".join(challenges)}
    if nonce is not None:
        headers["DPoP-Nonce"] = nonce
    return Response(status, headers, json.dumps(body, separators=(",", ":")))
