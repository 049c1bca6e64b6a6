"""The fallback engine where atheris cannot be installed (no wheel for the platform): Hypothesis, randomized (never
derandomized: each run searches somewhere new), for a time budget per target.

``python -m tests.fuzz.hypothesis_engine TARGET SECONDS CRASH_DIR [CORPUS_DIR]``. It is not coverage-guided, so it
cannot tell which inputs are interesting and adds nothing to the corpus; it mutates the corpus (byte edits and the
target's words spliced in) and generates raw bytes, and a failure is shrunk and saved as ``CRASH_DIR/crash-<sha1>``.
It prints libFuzzer's ``stat::`` lines, so ``python -m tests.fuzz`` reads both engines alike.
"""

from __future__ import annotations

import hashlib
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, Target

#: Examples per @given call: the deadline is checked between calls, and each example returns at once past it.
BATCH = 500


@dataclass
class Search:
    executions: int = 0
    crash: bytes | None = None
    trace: str = ""


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], words: Sequence[bytes]) -> bytes:
    """A corpus input with a few byte-level edits: insert, delete, overwrite, or splice in one of the target's words
    (what libFuzzer's mutators do, without coverage to steer them)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    chunk = st.binary(min_size=1, max_size=8) | st.sampled_from(words) if words else st.binary(min_size=1, max_size=8)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("insert", "delete", "overwrite")))
        if edit == "insert":
            data[at:at] = draw(chunk)
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            piece = draw(chunk)
            data[at:at + len(piece)] = piece
    return bytes(data)


def inputs(target: Target, seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    raw = st.binary(max_size=target.max_len)
    if target.words:
        raw = raw | st.lists(st.sampled_from(target.words) | st.binary(max_size=4), max_size=40).map(b"".join)
    if seeds:
        raw = raw | mutated(seeds, target.words)  # raw first: a failure shrinks to the fewest bytes
    return raw.map(lambda data: data[: target.max_len])


def search(target: Target, seconds: float, seeds: Sequence[bytes]) -> Search:
    """Runs the target on generated inputs until ``seconds`` have passed or it fails (then shrunk)."""
    deadline = time.monotonic() + seconds
    found = Search()
    last = [b""]
    failing: list[bytes] = []

    @settings(max_examples=BATCH, database=None, deadline=None, derandomize=False, print_blob=False,
              report_multiple_bugs=False, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(inputs(target, seeds))
    def run(data: bytes) -> None:
        # Past the deadline every example passes at once, except while a failure is being shrunk (skipping then
        # would make the failure look flaky).
        if time.monotonic() > deadline and not failing:
            return
        found.executions += 1
        last[0] = data  # Hypothesis runs the shrunk failing example last: this is then the one to keep
        try:
            target.run(data)
        except Exception:
            failing.append(data)
            raise

    while time.monotonic() < deadline:
        try:
            run()
        except Exception:
            found.crash, found.trace = last[0], traceback.format_exc()
            break
    return found


def main(argv: list[str]) -> int:
    name, seconds, crash_dir = argv[1], float(argv[2]), Path(argv[3])
    corpus = Path(argv[4]) if len(argv) > 4 else None
    target = TARGETS[name]
    seeds = [path.read_bytes() for path in sorted(corpus.iterdir())] if corpus and corpus.is_dir() else []
    started = time.monotonic()
    found = search(target, seconds, seeds)
    elapsed = max(time.monotonic() - started, 1e-9)
    if found.crash is not None:
        crash_dir.mkdir(parents=True, exist_ok=True)
        path = crash_dir / f"crash-{hashlib.sha1(found.crash).hexdigest()}"
        path.write_bytes(found.crash)
        print(f"=== Uncaught Python exception: ===\n{found.trace}==hypothesis== crash input saved as {path}")
    print(f"stat::number_of_executed_units: {found.executions}")
    print(f"stat::average_exec_per_sec:     {int(found.executions / elapsed)}")
    print("stat::new_units_added:          0")
    return 1 if found.crash is not None else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
