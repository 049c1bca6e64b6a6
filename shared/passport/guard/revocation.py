"""Revocation status, cached per container for a bounded time (docs/concepts.md).

A token is live when its record exists, is not revoked and has not expired, and its client is not revoked.
Both facts come from one DynamoDB call when neither is cached, none when both are. A revoked answer is final
and is kept as long as a live one; the cache is bounded so a flood of distinct tokens cannot exhaust memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from passport.guard.tally import TALLY


class RevocationLookup(Protocol):
    def lookup(self, jti: str | None, client_id: str | None) -> tuple[bool | None, bool | None]:
        """(token is live, client is live) for the parts asked; None for a part not asked."""
        ...


class RevocationCache:
    def __init__(
        self,
        lookup: Callable[[], RevocationLookup],
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup_factory = lookup
        self._lookup: RevocationLookup | None = None
        self._ttl = self.ttl_seconds = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._tokens: dict[str, tuple[bool, float]] = {}
        self._clients: dict[str, tuple[bool, float]] = {}

    def is_live(self, jti: str, client_id: str) -> bool:
        now = self._clock()
        token_live = self._cached(self._tokens, jti, now)
        client_live = self._cached(self._clients, client_id, now)
        if token_live is False or client_live is False:
            TALLY.cache_hit()
            return False
        if token_live is not None and client_live is not None:
            TALLY.cache_hit()
        else:
            if self._lookup is None:
                self._lookup = self._lookup_factory()
            fetched_token, fetched_client = self._lookup.lookup(
                jti if token_live is None else None, client_id if client_live is None else None
            )
            if fetched_token is not None:
                token_live = self._remember(self._tokens, jti, fetched_token, now)
            if fetched_client is not None:
                client_live = self._remember(self._clients, client_id, fetched_client, now)
        return bool(token_live and client_live)

    def _cached(self, cache: dict[str, tuple[bool, float]], key: str, now: float) -> bool | None:
        entry = cache.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def _remember(self, cache: dict[str, tuple[bool, float]], key: str, live: bool, now: float) -> bool:
        if self._ttl <= 0 or self._max <= 0:
            return live
        cache.pop(key, None)  # re-inserted at the end, so the dict stays in expiry order
        # Every entry lives the same ttl and is appended when made: the oldest, first in the dict, expire
        # first. Dropping from the front clears the expired ones and, when full, the oldest live one.
        while cache:
            oldest = next(iter(cache))
            if cache[oldest][1] > now and len(cache) < self._max:
                break
            del cache[oldest]
        cache[key] = (live, now + self._ttl)
        return live
