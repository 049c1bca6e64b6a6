"""GET /.well-known/oauth-authorization-server and GET /.well-known/jwks.json."""

from passport.apigw import serve
from passport.compose import discovery, public_cors
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: discovery().handle(request), cors=public_cors)
