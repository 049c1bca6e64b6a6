"""POST /oauth/introspect (RFC 7662)."""

from passport.apigw import serve
from passport.compose import introspection_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: introspection_endpoint().handle(request))
