"""GET /.well-known/oauth-authorization-server and GET /.well-known/jwks.json."""

from passport.apigw import serve
from passport.endpoints.discovery import handle
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, handle)
