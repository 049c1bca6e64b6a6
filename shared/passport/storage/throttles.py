"""Counters against guessing and flooding: the sign-in throttle (failed attempts per account and per address)
and fixed-window rate limits, each one conditional write so concurrent requests are all counted."""

from __future__ import annotations

import time
from collections.abc import Callable

from passport.core.errors import StorageUnavailable
from passport.core.hashing import hash_secret
from passport.storage.connection import call
from passport.storage.errors import ConditionFailed, storage_call
from passport.storage.models import ThrottleModel, throttle_key

#: The wait after the first failure past the free ones; each further failure doubles it.
FIRST_WAIT = 15
#: DynamoDB refuses partition keys over 2048 bytes, and a throttle key holds whatever was typed as the username.
MAX_KEY_BYTES = 256


def _throttle_pk(key: str) -> str:
    """The item key of a throttle key; an overlong one is kept as its hash (it counts all the same), so a
    100 KB username is refused as wrong credentials instead of failing in DynamoDB."""
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        kind, _, rest = key.partition(":")
        key = f"{kind}:{hash_secret(rest)}"
    return throttle_key(key)


class DynamoLoginThrottle:
    """Failed attempts per key: after the key's free failures each further one doubles the wait (15 s, 30 s,
    60 s ... up to ``lock_seconds``, the lock). An account gets 5 free failures; an address 20, since many
    people may share one (an office behind NAT), and its count is never cleared by a success, so one good
    password cannot launder a spray across accounts. Counters live ``window`` seconds after the last failure."""

    FREE = {"account": 5, "address": 20}
    DEFAULT_FREE = 5

    def __init__(self, lock_seconds: int = 900, window: int = 900) -> None:
        self.lock_seconds = lock_seconds
        self.window = window

    def free(self, key: str) -> int:
        return self.FREE.get(key.partition(":")[0], self.DEFAULT_FREE)

    def check(self, keys: tuple[str, ...]) -> tuple[int, frozenset[str]]:
        now = int(time.time())
        wait = 0
        recorded = set()
        pks = {_throttle_pk(k): k for k in keys}
        table = ThrottleModel.Meta.table_name
        try:
            answer = call("BatchGetItem", {"RequestItems": {table: {"Keys": [{"pk": {"S": pk}} for pk in pks]}}},
                          ThrottleModel.Meta.region)
        except Exception as error:  # throttled, timed out, unreachable
            raise StorageUnavailable(f"BatchGetItem: {type(error).__name__}") from error
        if answer.get("UnprocessedKeys"):
            # Part of the batch was throttled. (pynamodb's batch_get asks again at once, with no backoff and no
            # end, for as long as DynamoDB throttles: a login would spin until the function times out.)
            raise StorageUnavailable("BatchGetItem was throttled")
        for raw in answer.get("Responses", {}).get(table, []):
            item = ThrottleModel.from_raw_data(raw)
            if item.ttl > now:
                wait = max(wait, int(item.blocked_until) - now)
                recorded.add(pks.get(item.pk, item.pk.removeprefix("throttle#")))
        return max(wait, 0), frozenset(recorded)

    def failed(self, keys: tuple[str, ...]) -> None:
        now = int(time.time())
        for key in keys:
            item = ThrottleModel(_throttle_pk(key))
            with storage_call():
                # One atomic increment per key: concurrent failures are all counted.
                item.update(actions=[
                    ThrottleModel.failures.add(1),
                    ThrottleModel.ttl.set(now + self.window),
                ])
            failures, free = int(item.failures), self.free(key)
            if failures > free:
                wait = min(FIRST_WAIT * 2 ** (failures - free - 1), self.lock_seconds)
                with storage_call():
                    item.update(actions=[ThrottleModel.blocked_until.set(now + wait)])

    def succeeded(self, keys: tuple[str, ...]) -> None:
        with storage_call():
            for key in keys:
                ThrottleModel(_throttle_pk(key)).delete()


class DynamoRateLimit:
    """At most ``limit`` events per key per fixed window (an hour by default): one conditional increment each, so
    concurrent requests are all counted and none passes the limit."""

    def __init__(self, limit: int, window: int = 3600, clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self._clock = limit, window, clock

    def take(self, key: str) -> bool:
        now = int(self._clock())
        start = now - now % self.window
        item = ThrottleModel(_throttle_pk(f"rate:{key}:{start}"))
        try:
            with storage_call():
                item.update(
                    actions=[ThrottleModel.failures.add(1), ThrottleModel.ttl.set(start + 2 * self.window)],
                    condition=ThrottleModel.failures.does_not_exist() | (ThrottleModel.failures < self.limit),
                )
        except ConditionFailed:
            return False
        return True
