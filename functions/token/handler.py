"""POST /oauth/token (RFC 6749 section 3.2)."""

from passport.apigw import serve
from passport.compose import client_cors, token_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: token_endpoint().handle(request), cors=client_cors)
