"""The demo MCP server (POST /mcp: MCP streamable HTTP, stateless), a protected resource of its own
(``<issuer>/mcp``): the guard runs here, so the 401 names this resource's metadata (RFC 9728)."""

from passport.apigw import serve
from passport.compose import mcp_resource
from passport.core.http import Request, Response
from passport.endpoints.mcp_server import handle
from passport.guard.resource import Refused
from passport.observability import instrumented


def mcp(request: Request) -> Response:
    protected, inherit = mcp_resource()
    try:
        caller = protected.authenticate(request)
    except Refused as refused:
        return refused.response
    # A tool call the token's scopes do not cover is the resource's 403 insufficient_scope (RFC 6750 3.1).
    return handle(request, caller, inherit=inherit, resource=protected)


@instrumented
def handler(event, context):
    return serve(event, mcp)
