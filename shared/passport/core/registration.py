"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), as a policy allows:

- ``closed``: no one registers here (the CLI does); the endpoint answers 403 and metadata does not list it.
- ``open``: anyone may register a *public* client that uses PKCE (``token_endpoint_auth_method`` ``none``, the
  code flow): what an MCP client does on first contact. It can do no more than any public client can. Or a
  ``private_key_jwt`` client (its ``jwks`` or ``jwks_uri``), which gets no shared secret either and the same
  grants (never ``client_credentials``): see :func:`_open_registration`.
- ``token``: whoever presents the initial access token (a Bearer token, RFC 7591 3) may register any client.

Each registration returns a ``registration_access_token`` (stored as a SHA-256, like every secret here) that
reads, replaces or deletes that one client at its ``registration_client_uri``. Registrations are rate limited
per source address.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from passport.core.audit import audit
from passport.core.clients import (
    MAX_URI,
    InvalidClientMetadata,
    InvalidRedirectUri,
    KeyRegistration,
    changed_client,
    new_client,
    validate_application_type,
    validate_client_keys,
    validate_name,
    validate_redirect_uris,
)
from passport.core.errors import BearerError, OAuthError
from passport.core.hashing import HASH_PREFIX, hash_secret, new_secret, verify_secret
from passport.core.http import NO_STORE, MalformedJson, Request, Response, json_response, parse_json
from passport.core.models import Client
from passport.core.oidc.claims import IDENTITY_SCOPES
from passport.core.oidc.userinfo import bearer_token, challenge
from passport.core.scopes import parse_scope
from passport.ports import ClientStore

#: private_key_jwt (RFC 7523 2.2, OpenID Connect Core 1.0 section 9) with the client's jwks or jwks_uri.
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post", "private_key_jwt")
#: The grants a registered client may have (the device grant and the others stay with the CLI).
GRANTS = ("authorization_code", "refresh_token", "client_credentials")
MAX_BODY = 16 * 1024
#: What a client that gives no client_name is called (RFC 7591 2: the member is optional).
UNNAMED = "Unnamed application"


class RegistrationError(OAuthError):
    """RFC 7591 3.2.2: ``invalid_redirect_uri`` or ``invalid_client_metadata``, 400 (and the registration
    endpoint's own refusals: ``access_denied``, ``slow_down``), in the OAuth JSON surface."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(error, description, status, headers or {})


def invalid_metadata(description: str) -> RegistrationError:
    return RegistrationError("invalid_client_metadata", description)


def refusal(error: InvalidClientMetadata) -> RegistrationError:
    """A refusal of the client rules (:mod:`passport.core.clients`, the same for every way a client is made) in
    RFC 7591 3.2.2's terms: ``invalid_redirect_uri`` for a redirect URI, ``invalid_client_metadata`` else."""
    code = "invalid_redirect_uri" if isinstance(error, InvalidRedirectUri) else "invalid_client_metadata"
    description = str(error)
    return RegistrationError(code, description[:1].upper() + description[1:] + ".")


def _web_uri(name: str, value: object) -> str | None:
    """client_uri, logo_uri, tos_uri, policy_uri: https URLs (shown to users, so never javascript: or data:)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_URI or any(not "\x21" <= c <= "\x7e" for c in value):
        raise invalid_metadata(f"{name} must be an https URL.")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise invalid_metadata(f"{name} must be an https URL.") from None
    if parts.scheme != "https" or not parts.hostname:
        raise invalid_metadata(f"{name} must be an https URL.")
    return value


def _strings(name: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_metadata(f"{name} must be an array of strings.")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class ClientMetadata:
    """RFC 7591 2, as this server understands it (unknown members are ignored, as 2 requires)."""

    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    grant_types: tuple[str, ...]
    client_name: str
    client_uri: str | None
    logo_uri: str | None
    scope: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    #: OpenID Connect Dynamic Client Registration 1.0 section 2: "web" (the default) or "native".
    application_type: str = "web"
    #: RFC 9126 6: its authorization requests must be pushed (default false).
    require_pushed_authorization_requests: bool = False
    #: RFC 9449 5.2: its access tokens are always DPoP-bound, a token request without a proof refused (default false).
    dpop_bound_access_tokens: bool = False
    #: private_key_jwt: its jwks or jwks_uri and token_endpoint_auth_signing_alg (RFC 7591 2); None for the rest.
    keys: KeyRegistration | None = None

    @classmethod
    def parse(cls, body: Mapping[str, Any], defined_scopes: Mapping[str, str]) -> ClientMetadata:
        method = body.get("token_endpoint_auth_method", "client_secret_basic")  # 2: the default
        if method not in AUTH_METHODS:
            raise invalid_metadata(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.")
        grants = tuple(_strings("grant_types", body.get("grant_types")) or ["authorization_code"])
        unknown = [g for g in grants if g not in GRANTS]
        if unknown:
            raise invalid_metadata(f"The grant type {unknown[0]} cannot be registered here.")
        response_types = _strings("response_types", body.get("response_types")) or (
            ["code"] if "authorization_code" in grants else [])
        # 2.1: grant_types and response_types must agree
        if set(response_types) != ({"code"} if "authorization_code" in grants else set()):
            raise invalid_metadata("response_types must be [\"code\"] exactly when grant_types has "
                                   "authorization_code.")
        if method == "none" and "client_credentials" in grants:
            raise invalid_metadata("A public client (token_endpoint_auth_method none) cannot use client_credentials.")
        try:
            # The rules every client is held to, whoever makes it (passport.core.clients).
            kind = validate_application_type(body.get("application_type", "web"))
            uris = validate_redirect_uris(_strings("redirect_uris", body.get("redirect_uris")), application_type=kind)
            logout_uris = validate_redirect_uris(_strings("post_logout_redirect_uris",
                                                          body.get("post_logout_redirect_uris")),
                                                 "post-logout redirect URIs", kind)
            name = validate_name(body.get("client_name", ""), default=UNNAMED)
        except InvalidClientMetadata as error:
            raise refusal(error) from None
        if "authorization_code" in grants and not uris:
            raise RegistrationError("invalid_redirect_uri", "The code flow needs at least one redirect URI.")
        scope_value = body.get("scope")
        if scope_value is not None and not isinstance(scope_value, str):
            raise invalid_metadata("scope must be a space-separated string.")
        try:
            scopes = parse_scope(scope_value)
        except Exception:
            raise invalid_metadata("scope is malformed.") from None
        undefined = [s for s in scopes if s not in defined_scopes and s not in IDENTITY_SCOPES]
        if undefined:
            raise invalid_metadata(f"The scope {undefined[0]} is not defined here.")
        for member in ("tos_uri", "policy_uri"):
            _web_uri(member, body.get(member))
        keys = _client_keys(body, method)
        require_par = body.get("require_pushed_authorization_requests", False)
        if not isinstance(require_par, bool):
            raise invalid_metadata("require_pushed_authorization_requests must be a boolean (RFC 9126 6).")
        dpop_bound = body.get("dpop_bound_access_tokens", False)
        if not isinstance(dpop_bound, bool):
            raise invalid_metadata("dpop_bound_access_tokens must be a boolean (RFC 9449 5.2).")
        return cls(
            redirect_uris=uris, token_endpoint_auth_method=method, grant_types=grants, client_name=name,
            client_uri=_web_uri("client_uri", body.get("client_uri")),
            logo_uri=_web_uri("logo_uri", body.get("logo_uri")),
            # Only API scopes limit a client; identity scopes are open to every code-flow client anyway.
            scope=tuple(s for s in scopes if s not in IDENTITY_SCOPES or s in defined_scopes),
            post_logout_redirect_uris=logout_uris, application_type=kind,
            require_pushed_authorization_requests=require_par, dpop_bound_access_tokens=dpop_bound, keys=keys,
        )

    @property
    def public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


def _client_keys(body: Mapping[str, Any], method: str) -> KeyRegistration | None:
    """RFC 7591 2: ``jwks`` or ``jwks_uri`` (never both), the keys of ``private_key_jwt``, which needs them; and
    ``token_endpoint_auth_signing_alg`` (OpenID Connect Dynamic Client Registration 1.0 section 2), which only a
    JWT method has. Keys are registered for nothing else here (no request objects, no encrypted responses), so
    keys with another method are a mistake, refused rather than kept unused."""
    jwks, jwks_uri = body.get("jwks"), body.get("jwks_uri")
    alg = body.get("token_endpoint_auth_signing_alg")
    if method == "private_key_jwt":
        if jwks is not None and not isinstance(jwks, dict):
            raise invalid_metadata("jwks must be a JSON Web Key Set: an object with a keys array (RFC 7517 5).")
        try:
            return validate_client_keys(jwks, jwks_uri, alg)
        except InvalidClientMetadata as error:
            raise refusal(error) from None
    if jwks is not None or jwks_uri is not None:
        raise invalid_metadata("jwks and jwks_uri are the keys of private_key_jwt: register them with "
                               "token_endpoint_auth_method private_key_jwt.")
    if alg is not None:
        raise invalid_metadata("token_endpoint_auth_signing_alg is for token_endpoint_auth_method private_key_jwt.")
    return None


def describe(client: Client, issuer: str) -> dict[str, Any]:
    """The client information response (RFC 7591 3.2.1) without the secrets: what RFC 7592 GET answers."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": ["code"] if "authorization_code" in client.grant_types else [],
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "application_type": client.application_type,
        "registration_client_uri": f"{issuer}/oauth/register/{client.client_id}",
    }
    if client.scopes:
        body["scope"] = " ".join(client.scopes)
    if client.client_uri:
        body["client_uri"] = client.client_uri
    if client.logo_uri:
        body["logo_uri"] = client.logo_uri
    if client.post_logout_redirect_uris:
        body["post_logout_redirect_uris"] = list(client.post_logout_redirect_uris)
    if client.secret_hash is not None:
        body["client_secret_expires_at"] = 0  # 3.2.1: REQUIRED with a secret; 0, it does not expire
    if client.jwks is not None:
        body["jwks"] = json.loads(client.jwks)  # as kept: its canonical JSON (passport.core.client_assertions)
    if client.jwks_uri is not None:
        body["jwks_uri"] = client.jwks_uri
    if client.auth_signing_alg:
        body["token_endpoint_auth_signing_alg"] = client.auth_signing_alg
    if client.require_par:
        body["require_pushed_authorization_requests"] = True  # RFC 9126 6 (omitted: false)
    if client.dpop_bound:
        body["dpop_bound_access_tokens"] = True  # RFC 9449 5.2 (omitted: false)
    return body


class RegistrationEndpoint:
    """POST /oauth/register; GET, PUT and DELETE /oauth/register/{client_id}."""

    def __init__(
        self, *, issuer: str, policy: str, initial_token_sha256: str, clients: ClientStore,
        defined_scopes: Mapping[str, str], rate_limit: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._policy = policy
        self._initial = initial_token_sha256
        self._clients = clients
        self._scopes = defined_scopes
        self._rate_limit = rate_limit
        self._clock = clock

    def handle(self, request: Request) -> Response:
        try:
            client_id = request.path_params.get("client_id")
            if client_id is None:
                return self._register(request)
            return self._manage(request, client_id)
        except RegistrationError as error:
            return json_response({"error": error.error, "error_description": error.description}, error.status,
                                 {**NO_STORE, **error.headers})
        except BearerError as failure:
            body = {"error": failure.error or "invalid_token",
                    "error_description": failure.description or "The request carries no Bearer token."}
            return json_response(body, failure.status,
                                 {**NO_STORE, "WWW-Authenticate": challenge(self._issuer, failure)})

    # -- RFC 7591 -----------------------------------------------------------------------------------------

    def _register(self, request: Request) -> Response:
        if self._policy == "closed":
            raise RegistrationError("access_denied", "Dynamic client registration is closed on this server; ask "
                                    "its operator for a client.", 403)
        if self._policy == "token":
            presented = bearer_token(request)
            if not self._initial or not verify_secret(presented, HASH_PREFIX + self._initial):
                raise BearerError(401, "invalid_token", "The initial access token is not valid.")
        metadata = ClientMetadata.parse(_json_body(request), self._scopes)
        if self._policy == "open":
            _open_registration(metadata)
        try:
            made = new_client(
                name=metadata.client_name, grant_types=metadata.grant_types, redirect_uris=metadata.redirect_uris,
                scopes=metadata.scope, public=metadata.public, defined_scopes=self._scopes,
                post_logout_redirect_uris=metadata.post_logout_redirect_uris,
                application_type=metadata.application_type, keys=metadata.keys,
            )
        except InvalidClientMetadata as error:
            raise refusal(error) from None
        if not self._rate_limit(request.source_ip or "unknown"):
            raise RegistrationError("slow_down", "Too many registrations from this address; try again later.", 429,
                                    {"Retry-After": "3600"})
        secret, token = made.secret, new_secret()
        # What only a registered client has: its RFC 7591 display URIs and its RFC 7592 registration access token.
        client = replace(
            made.client, created_at=int(self._clock()), client_uri=metadata.client_uri, logo_uri=metadata.logo_uri,
            registration_token_hash=hash_secret(token), auth_method=metadata.token_endpoint_auth_method,
            require_par=metadata.require_pushed_authorization_requests,
            dpop_bound=metadata.dpop_bound_access_tokens,
        )
        self._clients.create(client)
        audit("client_registered", client_id=client.client_id, source_ip=request.source_ip,
              auth_method=metadata.token_endpoint_auth_method)
        body = describe(client, self._issuer)
        body["registration_access_token"] = token
        if secret:
            body["client_secret"] = secret
        return json_response(body, 201, NO_STORE)

    # -- RFC 7592 -----------------------------------------------------------------------------------------

    def _manage(self, request: Request, client_id: str) -> Response:
        presented = bearer_token(request)
        client = self._clients.get(client_id) if len(client_id) <= 128 else None
        # 2: an unknown client, or a token that is not this client's, is 401 alike (nothing to learn from it)
        if (client is None or client.revoked
                or not verify_secret(presented, client.registration_token_hash)):
            raise BearerError(401, "invalid_token", "The registration access token is not valid for this client.")
        if request.method == "GET":
            # RFC 7592 3: the client information response carries the registration access token (the one
            # presented: only its hash is kept), and never the client secret again for the same reason.
            return json_response({**describe(client, self._issuer), "registration_access_token": presented},
                                 headers=NO_STORE)
        if request.method == "DELETE":
            self._clients.revoke(client.client_id)
            audit("client_deleted", client_id=client.client_id, source_ip=request.source_ip)
            return Response(204, dict(NO_STORE))
        body = _json_body(request)
        if body.get("client_id") != client.client_id:
            raise invalid_metadata("client_id must be the client's own.")  # 2.2
        if "client_secret" in body and (not isinstance(body["client_secret"], str)
                                        or not verify_secret(body["client_secret"], client.secret_hash)):
            raise invalid_metadata("client_secret does not match.")
        metadata = ClientMetadata.parse(body, self._scopes)
        if metadata.token_endpoint_auth_method != client.token_endpoint_auth_method:
            raise invalid_metadata("token_endpoint_auth_method cannot change: register a new client instead.")
        if "client_credentials" in metadata.grant_types and "client_credentials" not in client.grant_types:
            raise invalid_metadata("A registered client cannot add client_credentials.")
        try:
            # 2.2: the metadata replaced as a whole, held to the rules of every client
            changed = changed_client(
                client, name=metadata.client_name, redirect_uris=metadata.redirect_uris,
                grant_types=metadata.grant_types, scopes=metadata.scope, defined_scopes=self._scopes,
                post_logout_redirect_uris=metadata.post_logout_redirect_uris,
                application_type=metadata.application_type, keys=metadata.keys,  # a key client's keys, rotated
            )
        except InvalidClientMetadata as error:
            raise refusal(error) from None
        changed = replace(changed, client_uri=metadata.client_uri, logo_uri=metadata.logo_uri,
                          require_par=metadata.require_pushed_authorization_requests,
                          dpop_bound=metadata.dpop_bound_access_tokens)
        if not self._clients.replace_registered(changed):
            raise BearerError(401, "invalid_token", "The registration access token is not valid for this client.")
        return json_response({**describe(changed, self._issuer), "registration_access_token": presented},
                             headers=NO_STORE)


def _open_registration(metadata: ClientMetadata) -> None:
    """What anyone may register (RFC 7591 3: the server decides whom it lets register what): a client that gets no
    shared secret, so no more trusted than a public client. A public client (``none``, with PKCE), or a
    ``private_key_jwt`` client: it proves only that it holds a key it chose itself, which authenticates its token
    requests (a stolen code or refresh token is useless without the key, RFC 6749 10.4 and 10.5) but vouches for
    nothing else, so it gets the public client's grants only: never ``client_credentials``, which would give
    anyone who registers tokens without a user's consent (RFC 6749 4.4: the client credentials grant is for
    trusted clients; RFC 7591 5: registered metadata is self-asserted)."""
    if metadata.public:
        return
    if metadata.keys is None:
        raise invalid_metadata("Open registration is for clients without a shared secret: token_endpoint_auth_method "
                               "must be none (and the client must use PKCE) or private_key_jwt.")
    if "client_credentials" in metadata.grant_types:
        raise invalid_metadata("Open registration gives no client_credentials grant: a self-registered client acts "
                               "for its users only.")


def _json_body(request: Request) -> dict[str, Any]:
    if request.media_type != "application/json":
        raise invalid_metadata("The request body must be application/json (RFC 7591 3.1).")
    if len(request.body) > MAX_BODY:
        raise invalid_metadata("The request body is too large.")
    try:
        body = parse_json(request.body)
    except MalformedJson as error:
        raise invalid_metadata(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise invalid_metadata("The request body must be a JSON object.")
    return body
