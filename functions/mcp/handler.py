"""The demo MCP server (POST /mcp: MCP streamable HTTP, stateless), a protected resource of its own
(``<issuer>/mcp``): the guard runs here, so the 401 names this resource's metadata (RFC 9728)."""

from functools import cache

from passport.apigw import serve
from passport.config import MCP_PATH, load_settings
from passport.core.http import Request, Response
from passport.endpoints.mcp_server import handle
from passport.gateway_responses import PROTECTED_RESOURCE_PATH
from passport.guard.resource import ProtectedResource, Refused
from passport.guard.runtime import guard
from passport.observability import instrumented


@cache
def resource() -> tuple[ProtectedResource, bool]:
    settings = load_settings()
    metadata = settings.issuer_url + PROTECTED_RESOURCE_PATH + MCP_PATH
    return ProtectedResource(guard(audience=settings.mcp_resource), metadata), settings.inherited_scopes


def mcp(request: Request) -> Response:
    protected, inherit = resource()
    try:
        caller = protected.authenticate(request)
    except Refused as refused:
        return refused.response
    return handle(request, caller, inherit=inherit)


@instrumented
def handler(event, context):
    return serve(event, mcp)
