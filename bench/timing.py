"""timeit-style timing: calibrated loops, min of repeats, candidates interleaved so that drift (turbo, a noisy
neighbour) hits every candidate alike."""

from __future__ import annotations

import gc
import time
import timeit
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

#: Many short repeats rather than a few long ones: the minimum of many samples finds the quiet moments of a
#: busy machine (other processes, a VM's stolen time), where a long loop always catches some noise.
REPEAT_SECONDS = 0.01
REPEATS = 100
#: How many times a figure is measured at most while its two halves disagree.
ATTEMPTS = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the minimum over all repeats, and over the even and the odd repeats alone (two
    independent estimates: when a figure computed from each half differs much, the machine was too noisy)."""

    best: float
    halves: tuple[float, float]


def _calibrate(timer: timeit.Timer, seconds: float) -> int:
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= seconds / 10 or number >= 1_000_000:
            return max(1, int(number * seconds / max(elapsed, 1e-9)))
        number *= 10


def best_per_call(
    candidates: Mapping[str, Callable[[], object]], *, repeats: int = REPEATS, seconds: float = REPEAT_SECONDS
) -> dict[str, Timing]:
    """Time each candidate in ``repeats`` rounds; every round runs one calibrated loop of each candidate
    (timeit turns the garbage collector off inside a loop, as ``python -m timeit`` does)."""
    timers = {name: timeit.Timer(fn, timer=time.perf_counter) for name, fn in candidates.items()}
    for fn in candidates.values():
        fn()  # warm: first-call imports, caches
    numbers = {name: _calibrate(timer, seconds) for name, timer in timers.items()}
    samples: dict[str, list[float]] = {name: [] for name in timers}
    gc.collect()  # once: a full collection in a process this size takes tens of ms
    for _ in range(repeats):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: Timing(min(s), (min(s[0::2]), min(s[1::2]))) for name, s in samples.items()}


@dataclass(frozen=True)
class Settling:
    spread: float  # how far apart the figure came out from the even and from the odd repeats
    attempts: int
    noisy: bool  # the halves never agreed within the tolerance


def settle(measure: Callable[[], T], spread: Callable[[T], float], tolerance: float) -> tuple[T, Settling]:
    """Measure until the figure's two halves agree within ``tolerance`` (at most :data:`ATTEMPTS` times);
    keep the attempt whose halves agree best."""
    best: tuple[T, float] | None = None
    attempts = 0
    while attempts < ATTEMPTS:
        attempts += 1
        result = measure()
        gap = spread(result)
        if best is None or gap < best[1]:
            best = (result, gap)
        if gap <= tolerance:
            break
    assert best is not None
    return best[0], Settling(best[1], attempts, best[1] > tolerance)
