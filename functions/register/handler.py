"""POST /oauth/register (RFC 7591); GET, PUT and DELETE /oauth/register/{client_id} (RFC 7592)."""

from passport.apigw import serve
from passport.compose import client_cors, registration_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: registration_endpoint().handle(request), cors=client_cors)
