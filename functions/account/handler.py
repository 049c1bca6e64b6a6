"""The signed-in user's JSON API: /oauth/scopes and /oauth/personal-access-tokens."""

from passport.apigw import serve
from passport.compose import account_api
from passport.observability import instrumented


@instrumented
def handler(event, context):
    return serve(event, lambda request: account_api().handle(request))
