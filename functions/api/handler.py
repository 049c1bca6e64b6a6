"""The demo protected API (/api/user, /api/ping, /api/orders), reached only through the guard."""

from passport.apigw import serve
from passport.endpoints.demo_api import handle
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: handle(request, event))
