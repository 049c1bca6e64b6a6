"""POST /oauth/revoke (RFC 7009)."""

from passport.apigw import serve
from passport.compose import client_cors, revocation_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: revocation_endpoint().handle(request), cors=client_cors)
