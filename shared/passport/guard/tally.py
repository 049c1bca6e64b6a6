"""The guard's counts (decisions by outcome, revocation-cache hits), kept in memory: incrementing a dict entry
costs a tenth of a microsecond; passport.observability sends them as metrics once a minute on Lambda."""

from __future__ import annotations

import threading


class Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.decisions: dict[str, int] = {}
        self.cache_hits = 0

    def decision(self, outcome: str) -> None:
        self.decisions[outcome] = self.decisions.get(outcome, 0) + 1

    def cache_hit(self) -> None:
        self.cache_hits += 1

    def take(self) -> tuple[dict[str, int], int]:
        """The counts so far, and zero again."""
        with self._lock:
            decisions, hits = self.decisions, self.cache_hits
            self.decisions, self.cache_hits = {}, 0
        return decisions, hits


TALLY = Tally()
