"""The demo protected API (/api/user, /api/ping, /api/orders), reached only through the guard."""

from passport.apigw import serve
from passport.compose import demo_api
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: demo_api().handle(request, event))
