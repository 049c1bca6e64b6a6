"""POST /oauth/device/code: the device authorization endpoint (RFC 8628 3.1)."""

from passport.apigw import serve
from passport.compose import device_endpoint
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: device_endpoint().handle(request))
