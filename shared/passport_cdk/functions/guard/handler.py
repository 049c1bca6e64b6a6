"""The guard: a Lambda authorizer for REST (TOKEN and REQUEST) and HTTP APIs (payload 2.0)."""

from passport.compose import guard
from passport.guard.events import authorize
from passport.observability import instrumented_guard


@instrumented_guard
def handler(event, context):
    return authorize(event, guard())
