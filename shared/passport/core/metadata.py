"""Authorization server metadata (RFC 8414 section 2) and OpenID Provider metadata (OpenID Connect Discovery 1.0
section 3), listing only what this deployment has switched on. The OpenID document is the RFC 8414 one plus the
fields only OpenID Connect defines, so the two can never disagree on a field they share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from passport.config import TOKEN_PATH, USERINFO_PATH
from passport.core.client_assertions import ALGORITHMS as ASSERTION_ALGORITHMS
from passport.core.client_auth import AUTH_METHODS
from passport.core.oidc.claims import CLAIMS_SUPPORTED, IDENTITY_SCOPES, PASSWORD_ACR

_REDIRECTING_GRANTS = {"authorization_code": "code", "implicit": "token"}


def authorization_server_metadata(
    *, issuer: str, scopes: Mapping[str, str], grant_types: Iterable[str], registration: bool = False,
    client_documents: bool = False, dpop_algorithms: Iterable[str] = (), par_required: bool = False,
) -> dict[str, Any]:
    """RFC 8414 2. ``dpop_algorithms``: the algorithms DPoP proofs may use, none when DPoP is off.
    ``par_required``: every client must push its authorization requests (RFC 9126 5)."""
    grants = list(grant_types)
    response_types = [_REDIRECTING_GRANTS[g] for g in grants if g in _REDIRECTING_GRANTS]
    metadata: dict[str, Any] = {"issuer": issuer}
    if response_types:
        metadata["authorization_endpoint"] = f"{issuer}/oauth/authorize"
    metadata.update({
        "token_endpoint": issuer + TOKEN_PATH,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": list(dict.fromkeys([*IDENTITY_SCOPES, *scopes])),
        # REQUIRED and non-empty (RFC 8414 2) even when no grant uses the authorization endpoint: "none"
        # (OAuth 2.0 Multiple Response Type Encoding Practices 4) is then the truthful answer.
        "response_types_supported": response_types or ["none"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        # RFC 8414 2: REQUIRED with private_key_jwt: the algorithms its assertions may be signed with (RFC 7523).
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        # RFC 7662 2.1: the caller must authenticate; public clients ("none") cannot introspect.
        "introspection_endpoint_auth_methods_supported": [m for m in AUTH_METHODS if m != "none"],
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
    })
    if "urn:ietf:params:oauth:grant-type:device_code" in grants:
        metadata["device_authorization_endpoint"] = f"{issuer}/oauth/device/code"  # RFC 8628 4
    if response_types:
        metadata["code_challenge_methods_supported"] = ["S256"]
        metadata["authorization_response_iss_parameter_supported"] = True  # RFC 9207
        # Multiple Response Type Encoding Practices 2.1 and Form Post Response Mode 2; the fragment with implicit
        metadata["response_modes_supported"] = (["query", "fragment", "form_post"] if "token" in response_types
                                                else ["query", "form_post"])
        # RFC 9126 5: where to push an authorization request, and whether only a pushed one is accepted.
        metadata["pushed_authorization_request_endpoint"] = f"{issuer}/oauth/par"
        metadata["require_pushed_authorization_requests"] = par_required
    if registration:
        metadata["registration_endpoint"] = f"{issuer}/oauth/register"  # RFC 7591 / RFC 8414 2, only when open
    if client_documents and "code" in response_types:
        # draft-ietf-oauth-client-id-metadata-document-03, Authorization Server Metadata (passport.core.
        # client_documents): an https client_id is fetched, no registration needed.
        metadata["client_id_metadata_document_supported"] = True
    if dpop_algorithms:
        metadata["dpop_signing_alg_values_supported"] = list(dpop_algorithms)  # RFC 9449 5.1
    metadata["userinfo_endpoint"] = issuer + USERINFO_PATH
    metadata["end_session_endpoint"] = f"{issuer}/oauth/logout"
    return metadata


def openid_configuration(
    *, issuer: str, scopes: Mapping[str, str], grant_types: Iterable[str], signing_algorithms: Iterable[str],
    registration: bool = False, client_documents: bool = False, dpop_algorithms: Iterable[str] = (),
    par_required: bool = False,
) -> dict[str, Any]:
    """Discovery 1.0 section 3 (REQUIRED: issuer, authorization_endpoint, token_endpoint, jwks_uri,
    response_types_supported, subject_types_supported, id_token_signing_alg_values_supported)."""
    metadata = authorization_server_metadata(issuer=issuer, scopes=scopes, grant_types=grant_types,
                                             registration=registration, client_documents=client_documents,
                                             dpop_algorithms=dpop_algorithms, par_required=par_required)
    metadata.update({
        # Every client sees a user's one id (the users table's UUID): no pairwise identifiers.
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": sorted(set(signing_algorithms)),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claim_types_supported": ["normal"],
        # Core 5.5 and 6.1: the claims parameter and unsigned request objects; not request_uri (6.2), whose
        # Discovery default is true, so it must be said. (A pushed request's request_uri, RFC 9126 4, is
        # pushed_authorization_request_endpoint's: nothing is fetched from it.)
        "claims_parameter_supported": True,
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": ["none"],
        "request_uri_parameter_supported": False,
        # Core 2 and 3.1.2.1: the one class this server satisfies (docs/concepts.md)
        "acr_values_supported": [PASSWORD_ACR],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
    })
    return metadata
