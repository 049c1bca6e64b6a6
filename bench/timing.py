"""timeit-style timing: calibrated loops, min of repeats, candidates interleaved so that drift (turbo, a noisy
neighbour) hits every candidate alike."""

from __future__ import annotations

import gc
import time
import timeit
from collections.abc import Callable, Mapping

#: Wall time one repeat of one candidate aims for.
REPEAT_SECONDS = 0.15
REPEATS = 7


def _calibrate(timer: timeit.Timer, seconds: float) -> int:
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= seconds / 10 or number >= 1_000_000:
            return max(1, int(number * seconds / max(elapsed, 1e-9)))
        number *= 10


def best_per_call(
    candidates: Mapping[str, Callable[[], object]], *, repeats: int = REPEATS, seconds: float = REPEAT_SECONDS
) -> dict[str, float]:
    """Seconds per call of each candidate: the minimum over ``repeats`` loops (timeit disables the garbage
    collector inside a loop, as ``python -m timeit`` does)."""
    timers = {name: timeit.Timer(fn, timer=time.perf_counter) for name, fn in candidates.items()}
    for fn in candidates.values():
        fn()  # warm: first-call imports, caches
    numbers = {name: _calibrate(timer, seconds) for name, timer in timers.items()}
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(repeats):
        for name, timer in timers.items():
            gc.collect()
            best[name] = min(best[name], timer.timeit(numbers[name]) / numbers[name])
    return best
