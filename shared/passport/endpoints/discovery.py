"""GET /.well-known/oauth-authorization-server (RFC 8414), GET /.well-known/openid-configuration (OpenID Connect
Discovery 1.0) and GET /.well-known/jwks.json (RFC 7517)."""

from __future__ import annotations

from passport.config import MCP_PATH, Settings
from passport.core.dpop import DPOP_ALGORITHMS
from passport.core.http import Request, Response, json_response
from passport.core.metadata import authorization_server_metadata, openid_configuration
from passport.core.profile import FAPI2
from passport.core.protected_resource import protected_resource_metadata
from passport.gateway_responses import PROTECTED_RESOURCE_PATH
from passport.keys.keyring import KEYS

# Clients may cache both documents; five minutes keeps a rotated key visible soon after it is published.
_CACHE = {"Cache-Control": "public, max-age=300"}
#: How stale the keys this function publishes may be: a warm container reads the key set again after a minute,
#: so a rotated-in key is in the JWKS within a minute (plus the clients' own caching above).
KEYS_MAX_AGE_SECONDS = 60.0


class Discovery:
    """The metadata function's documents, for this deployment's settings and the grants it answers."""

    def __init__(self, settings: Settings, grant_types: tuple[str, ...]) -> None:
        self.settings = settings
        self.grant_types = grant_types

    def handle(self, request: Request) -> Response:
        s = self.settings
        if request.path == "/.well-known/jwks.json":
            return json_response(KEYS.get(s, max_age=KEYS_MAX_AGE_SECONDS).jwks(), headers=_CACHE)
        if request.path == PROTECTED_RESOURCE_PATH + MCP_PATH:
            metadata = protected_resource_metadata(resource=s.mcp_resource, authorization_server=s.issuer_url,
                                                   scopes=s.scopes, name=f"{s.app_name} demo MCP server",
                                                   dpop_algorithms=DPOP_ALGORITHMS if s.dpop.enabled else ())
            return json_response(metadata, headers=_CACHE)
        if request.path.startswith(PROTECTED_RESOURCE_PATH):
            # RFC 9728 3.1: at the root, and at the path-inserted location of the API's own identifier
            metadata = protected_resource_metadata(resource=s.token_audience, authorization_server=s.issuer_url,
                                                   scopes=s.scopes, name=f"{s.app_name} API",
                                                   dpop_algorithms=DPOP_ALGORITHMS if s.dpop.enabled else ())
            return json_response(metadata, headers=_CACHE)
        if request.path == "/openapi.json":
            from passport.openapi import openapi_document

            return json_response(openapi_document(s), headers=_CACHE)
        # What both documents say of this server (RFC 8414 2; OpenID Connect Discovery 1.0 3 adds to it).
        server = {
            "issuer": s.issuer_url, "scopes": s.scopes, "grant_types": self.grant_types,
            "registration": s.registration.policy != "closed", "client_documents": s.client_documents.enabled,
            "dpop_algorithms": DPOP_ALGORITHMS if s.dpop.enabled else (),
            # RFC 9126 5: every client must push (FAPI 2.0 Security Profile 5.3.2.2 point 1 too)
            "par_required": s.par.required or s.security_profile == FAPI2,
        }
        if request.path == "/.well-known/openid-configuration":
            algorithms = [key["alg"] for key in KEYS.get(s, max_age=KEYS_MAX_AGE_SECONDS).jwks()["keys"]]
            metadata = openid_configuration(**server, signing_algorithms=algorithms)
        else:
            metadata = authorization_server_metadata(**server)
        return json_response(metadata, headers=_CACHE)
