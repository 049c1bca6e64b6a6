"""POST /oauth/par (RFC 9126 section 2)."""

from passport.apigw import serve
from passport.compose import client_cors, par_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: par_endpoint().handle(request), cors=client_cors)
