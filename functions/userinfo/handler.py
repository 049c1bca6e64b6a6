"""GET and POST /oauth/userinfo (OpenID Connect Core 1.0 section 5.3)."""

from passport.apigw import serve
from passport.compose import client_cors, userinfo_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: userinfo_endpoint().handle(request), cors=client_cors)
