"""GET/POST/DELETE /oauth/authorize, GET/POST /login, POST /logout: the pages a user sees."""

from passport.apigw import serve
from passport.compose import browser_endpoints
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: browser_endpoints().handle(request))
