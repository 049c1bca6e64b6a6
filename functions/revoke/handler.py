"""POST /oauth/revoke (RFC 7009)."""

from passport.apigw import serve
from passport.compose import token_lifecycle
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: token_lifecycle().revoke(request))
