"""Client authentication at the token endpoint, and wherever else a client authenticates (revocation,
introspection, device authorization, pushed authorization requests): RFC 6749 sections 2.3 and 3.2.1.

Clients with a secret authenticate with HTTP Basic (``client_secret_basic``) or with ``client_id`` and
``client_secret`` in the body (``client_secret_post``). Clients with registered public keys authenticate with a JWT
they sign (``private_key_jwt``: ``client_assertion_type`` and ``client_assertion``, RFC 7521 4.2, RFC 7523 2.2,
OpenID Connect Core 1.0 section 9), verified by :class:`ClientAssertions`. One method per request (RFC 6749 2.3),
and each client its own: a client with keys never with a secret, a client with a secret never with an assertion.
Public clients send ``client_id`` only (``none``) and must prove possession another way (PKCE). Every refusal is
``invalid_client`` (RFC 6749 5.2; RFC 7521 4.2.1 for an assertion).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import unquote_plus

from passport.core.errors import DocumentRefused, OAuthError, invalid_client, invalid_request
from passport.core.hashing import verify_secret
from passport.core.http import Headers, single
from passport.core.models import Client
from passport.core.profile import BASELINE, client_policy
from passport.ports import ClientStore, Clock

if TYPE_CHECKING:  # the assertion module is imported by the requests that carry an assertion, not at cold start
    from passport.core.client_assertions import AssertionReplay, ClientKeys

#: OpenID Connect Core 1.0 section 9 (RFC 7523 2.2): a JWT signed with the client's registered private key.
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", PRIVATE_KEY_JWT, "none")
#: RFC 7523 2.2 (and passport.core.client_assertions.CLIENT_ASSERTION_TYPE, which a test holds equal): the one
#: client_assertion_type understood here.
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: How long an assertion may live (``exp`` after ``iat``): its jti is remembered that long (RFC 7523 3 point 7).
#: An hour: what authlib (``PrivateKeyJWT``) and Google's client libraries sign by default. An assertion is spent at
#: its first use, so its lifetime bounds only how long its spent jti is kept, one small item in the tokens table.
MAX_ASSERTION_LIFETIME_SECONDS = 3600

#: Client ids are UUIDs, or the https URL of a metadata document (passport.core.client_documents, at most
#: passport.core.clients.MAX_URI characters); anything longer is refused before it reaches storage.
MAX_CLIENT_ID_LENGTH = 512


class ClientCredentials(NamedTuple):
    """What the client presented to authenticate, and how (RFC 6749 2.3.1, RFC 7521 4.2). Immutable; a named
    tuple, as one is built per token request."""

    client_id: str | None
    secret: str | None
    method: str  # one of AUTH_METHODS
    #: The ``client_assertion`` of ``private_key_jwt``, not yet verified; None for the other methods.
    assertion: str | None = None


class ClientKeySource(Protocol):
    """Where a ``private_key_jwt`` client's public keys come from: its registered ``jwks``, or its ``jwks_uri``
    fetched (passport.core.client_keys.RegisteredKeys)."""

    def keys(self, client: Client, kid: str | None) -> ClientKeys:
        """The keys that may verify ``client``'s assertion, whose header names ``kid`` (None: none named), or
        :class:`passport.core.client_assertions.InvalidClientAssertion` when they cannot be had."""
        ...


@dataclass(frozen=True)
class ClientAssertions:
    """What verifying a ``private_key_jwt`` assertion needs at one endpoint (RFC 7523 3, OpenID Connect Core 1.0
    section 9), given to :func:`authenticate_client` by each endpoint that authenticates clients.

    - ``keys``: the client's registered keys (:class:`ClientKeySource`).
    - ``replay``: the deployment-wide set of spent ``jti`` values (RFC 7523 3 point 7: an assertion is used once).
    - ``clock``: the server's time, for ``exp``, ``nbf`` and ``iat`` (RFC 7523 3 points 4 to 6).
    - ``audiences``: what ``aud`` may name (RFC 7523 3 point 3): the issuer identifier first, the token endpoint's
      URL, and the URL of the endpoint called (passport.core.client_assertions says why each); a FAPI 2.0 client's
      only the issuer, as a string.
    - ``max_lifetime_seconds`` and ``leeway_seconds``: how long an assertion may live, and the clock skew allowed.
    - ``server_profile``: the server's ``security_profile``, which with the client's own decides the methods it may
      use (passport.core.profile: FAPI 2.0 allows ``private_key_jwt`` only)."""

    keys: ClientKeySource
    replay: AssertionReplay
    clock: Clock
    audiences: tuple[str, ...]
    max_lifetime_seconds: int = MAX_ASSERTION_LIFETIME_SECONDS
    leeway_seconds: int = 5
    server_profile: str = BASELINE

    def verify(self, assertion: str, client: Client) -> None:
        """Verify ``client``'s assertion and spend its ``jti``, or raise :class:`passport.core.client_assertions.
        InvalidClientAssertion` naming the check that failed (RFC 7521 4.2.1)."""
        from passport.core.client_assertions import (
            InvalidClientAssertion,
            assertion_kid,
            spend_once,
            verify_client_assertion,
        )

        keys = self.keys.keys(client, assertion_kid(assertion))
        # FAPI 2.0 Security Profile 5.3.2.1: only the issuer identifier, as a string (the first audience here).
        fapi2 = client_policy(client, server_profile=self.server_profile).fapi2
        verified = verify_client_assertion(
            assertion, client_id=client.client_id, keys=keys, audiences=self.audiences[:1] if fapi2 else self.audiences,
            now=self.clock.now(), max_lifetime_seconds=self.max_lifetime_seconds, leeway_seconds=self.leeway_seconds,
            single_audience=fapi2,
        )
        if client.auth_signing_alg and verified.alg != client.auth_signing_alg:
            # OpenID Connect Dynamic Client Registration 1.0 section 2, token_endpoint_auth_signing_alg: "MUST"
            raise InvalidClientAssertion("the client assertion's alg is not the token_endpoint_auth_signing_alg "
                                         "the client registered")
        spend_once(verified, self.replay)


def parse_basic(header: str) -> tuple[str, str]:
    """Decode ``Basic base64(urlencode(id):urlencode(secret))`` (RFC 6749 2.3.1, RFC 7617).

    Strict base64 (RFC 4648 4: the alphabet and its padding only), as ``base64.b64decode(validate=True)`` checks it.
    """
    try:
        raw = binascii.a2b_base64(header[6:].strip().encode("ascii"), strict_mode=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_client("The Basic credentials are malformed.", used_basic=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise invalid_client("The Basic credentials are malformed.", used_basic=True)
    if "%" in decoded or "+" in decoded:
        return unquote_plus(client_id), unquote_plus(secret)
    return client_id, secret  # nothing to unquote: UUID client ids, URL-safe secrets


def extract_credentials(headers: Headers, form: Mapping[str, list[str]]) -> ClientCredentials:
    """Find how the client authenticates; two methods at once is ``invalid_request`` (RFC 6749 2.3)."""
    body_id = single(form, "client_id")
    body_secret = single(form, "client_secret")
    authorization = headers.get("authorization", "")
    if "client_assertion_type" in form or "client_assertion" in form:  # read only when sent: one per token request
        assertion_type, assertion = single(form, "client_assertion_type"), single(form, "client_assertion")
        if body_secret is not None or authorization[:6].lower() == "basic ":
            raise invalid_request("The client used more than one authentication method.")
        return _assertion_credentials(body_id, assertion_type, assertion)
    if authorization[:6].lower() == "basic ":
        if body_secret is not None:
            raise invalid_request("The client used more than one authentication method.")
        client_id, secret = parse_basic(authorization)
        if body_id is not None and body_id != client_id:
            raise invalid_request("The client_id in the body differs from the authenticated client.")
        return ClientCredentials(client_id, secret, "client_secret_basic")
    if body_secret is not None:
        return ClientCredentials(body_id, body_secret, "client_secret_post")
    return ClientCredentials(body_id, None, "none")


def _assertion_credentials(body_id: str | None, assertion_type: str | None, assertion: str | None) -> ClientCredentials:
    """RFC 7521 4.2: ``client_assertion_type`` and ``client_assertion`` together (either alone is malformed,
    ``invalid_request``); a type other than RFC 7523's JWT is an authentication method this server does not
    support (``invalid_client``, RFC 6749 5.2). The client is the form's ``client_id`` or, without one, the
    assertion's ``sub`` (RFC 7521 4.2: "client_id ... is unnecessary"); both, they must be the same client."""
    if assertion_type is None or assertion is None:
        raise invalid_request("client_assertion_type and client_assertion go together (RFC 7521 4.2).")
    if assertion_type != JWT_BEARER_ASSERTION:
        raise invalid_client(f"The client_assertion_type is not supported: use {JWT_BEARER_ASSERTION} "
                             "(private_key_jwt).")
    from passport.core.client_assertions import client_id_from_assertion

    named = client_id_from_assertion(assertion)
    if body_id is not None and named is not None and named != body_id:
        raise invalid_client("The client assertion was refused: its sub is not the client_id of the request.")
    return ClientCredentials(body_id or named, None, PRIVATE_KEY_JWT, assertion)


def authenticate_client(
    credentials: ClientCredentials, clients: ClientStore, assertions: ClientAssertions | None = None,
) -> Client:
    """The client the credentials prove, or ``invalid_client``: unknown, revoked, a method its security profile
    does not allow, wrong secret, a client with a secret that sent none, a client with keys that sent no valid
    assertion (``assertions`` verifies it; without them every assertion is refused), or credentials of another
    kind than the client's (a secret or an assertion from a public client, an assertion from a client with a
    secret, a secret from a client with keys)."""
    client_id, secret = credentials.client_id, credentials.secret
    if not client_id:
        raise _refused(credentials, "Client authentication failed: no client identifier was sent.")
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise _refused(credentials)
    try:
        client = clients.get(client_id)
    except DocumentRefused as refused:
        raise _refused(credentials, f"The client's metadata document cannot be used: {refused}.") from None
    if client is None or client.revoked:
        if secret is not None:
            verify_secret(secret, None)  # same work as a real check: timing tells nothing
        raise _refused(credentials)
    policy = client_policy(client, server_profile=assertions.server_profile if assertions else BASELINE)
    if policy.auth_methods and credentials.method not in policy.auth_methods:
        raise _refused(credentials, f"This client's security profile allows only {', '.join(policy.auth_methods)}.")
    if client.has_keys:
        return _by_assertion(credentials, client, assertions)
    if credentials.assertion is not None:
        raise _refused(credentials, "The client has registered no keys: it cannot authenticate with a client "
                                    "assertion.")
    if client.public:
        if credentials.method != "none":
            raise _refused(credentials, "A public client has no secret to send.")
        return client
    if secret is None or not verify_secret(secret, client.secret_hash):
        raise _refused(credentials)
    return client


def _by_assertion(credentials: ClientCredentials, client: Client, assertions: ClientAssertions | None) -> Client:
    """A client with registered keys authenticates with ``private_key_jwt`` only (it has no secret to send)."""
    if credentials.assertion is None:
        if credentials.secret is not None:
            verify_secret(credentials.secret, None)  # as for an unknown client: timing tells nothing
        raise _refused(credentials, "This client authenticates with private_key_jwt: send client_assertion_type "
                                    "and client_assertion.")
    if assertions is None:
        raise _refused(credentials, "This endpoint does not take client assertions.")
    from passport.core.client_assertions import InvalidClientAssertion

    try:
        assertions.verify(credentials.assertion, client)
    except InvalidClientAssertion as refused:
        raise _refused(credentials, f"The client assertion was refused: {refused}.") from None
    return client


def _refused(credentials: ClientCredentials, description: str = "Client authentication failed.") -> OAuthError:
    """``invalid_client``, with the Basic challenge when the client tried Basic (RFC 6749 5.2)."""
    return invalid_client(description, used_basic=credentials.method == "client_secret_basic")
