"""Token issuance measured in several fresh processes, each with a local deployment of its own.

One process's figure depends on that process: its hash seed and memory layout moved the handler's time over a
bare sign by up to 20 µs between processes measuring the same code the same way, while the two halves of each
process's own repeats agreed within a few. The bench therefore measures in :data:`PROCESSES` fresh processes
(``python -m bench.issuance_processes`` each) and reports the median process, with every process's figure beside
it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from bench.figures import IssuanceTimes
from bench.imports import REPO
from bench.timing import Settling, Timing

#: Fresh processes the issuance figure is measured in (odd: the median is one of them).
PROCESSES = 3


@dataclass(frozen=True)
class IssuanceRun:
    """One process's issuance figures and how they settled."""

    times: IssuanceTimes
    settling: Settling

    @property
    def overhead(self) -> float:
        """What the handler adds to a bare sign, in seconds."""
        return self.times.handler.best - self.times.sign.best


def measure_issuance_in_processes(count: int = PROCESSES) -> list[IssuanceRun]:
    """Every process's figures, ordered by what the handler adds to a bare sign (the median is the middle one)."""
    runs = []
    for _ in range(count):
        out = subprocess.run([sys.executable, "-m", "bench.issuance_processes"], cwd=REPO, capture_output=True,
                             text=True, timeout=600, stdin=subprocess.DEVNULL)
        if out.returncode != 0 or not out.stdout.strip():
            tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"an issuance process failed: {tail}")
        runs.append(_run(json.loads(out.stdout.strip().splitlines()[-1])))
    return sorted(runs, key=lambda run: run.overhead)


def _timing(found: dict[str, object]) -> Timing:
    best, halves = found["best"], found["halves"]
    assert isinstance(best, float) and isinstance(halves, list)
    return Timing(best, (float(halves[0]), float(halves[1])))


def _run(found: dict[str, dict[str, object]]) -> IssuanceRun:
    times = IssuanceTimes(_timing(found["handler"]), _timing(found["sign"]), _timing(found["authlib"]))
    settling = found["settling"]
    return IssuanceRun(times, Settling(float(settling["spread"]), int(settling["attempts"]),  # type: ignore[arg-type]
                                       bool(settling["noisy"])))


def _measure_here() -> dict[str, object]:
    from bench.deployment import local_deployment
    from bench.figures import measure_issuance
    from bench.run import issuance_spread
    from bench.timing import settle

    with local_deployment() as d:
        times, settling = settle(lambda: measure_issuance(d), issuance_spread, 1.0)
    timing = {name: {"best": t.best, "halves": list(t.halves)}
              for name, t in (("handler", times.handler), ("sign", times.sign), ("authlib", times.authlib))}
    return {**timing, "settling": {"spread": settling.spread, "attempts": settling.attempts,
                                   "noisy": settling.noisy}}


if __name__ == "__main__":
    print(json.dumps(_measure_here()), flush=True)
