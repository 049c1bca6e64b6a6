"""``make fuzz``: coverage-guided fuzzing of every target, bounded in time, its findings kept as a corpus.

``python -m tests.fuzz [--seconds N] [--targets a,b] [--engine auto|atheris|hypothesis]``. For each target, in its
own process and one after the other (the machine is shared):

1. atheris (libFuzzer) runs it for ``--seconds`` (``-max_total_time``), seeded from the committed corpus
   (``tests/fuzz/corpus/<target>/``, read only) and writing what it finds to the scratch corpus
   (``.fuzz/<target>/``, git-ignored, kept between runs);
2. libFuzzer's ``-merge=1`` copies into the committed corpus only the scratch inputs that reach coverage it lacks
   (minimal ones first); a corpus over :data:`MAX_CORPUS` files is minimized afresh, keeping the hand-made seeds;
3. a crash, timeout or out-of-memory input is saved as ``tests/fuzz/crashes/<target>/crash-<sha1>`` (and the
   traceback printed); ``tests/unit/test_fuzz_corpus.py`` replays it until it is fixed, and this exits non-zero.

Where atheris is not installed (no wheel for the platform), Hypothesis searches instead, randomized and for the
same time per target (:mod:`tests.fuzz.hypothesis_engine`): no coverage, so nothing is added to the corpus.
Every run ends by itself: each process is killed at its budget plus :data:`GRACE`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.seeds import SEED_PREFIX, write_missing
from tests.fuzz.targets import TARGETS, Target

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
CRASHES = ROOT / "tests" / "fuzz" / "crashes"
SCRATCH = ROOT / ".fuzz"
#: The committed corpus of a target stays this small (a few hundred files): make test replays every file.
MAX_CORPUS = 300
#: The scratch corpus is kept between runs (a run starts where the last stopped) until it holds this many files
#: (the value profile keeps many); past that it is dropped after the merge, which has kept its coverage.
MAX_SCRATCH = 4000
#: Seconds one input may take: every target answers in milliseconds, so a slower one is a finding (``timeout-``).
INPUT_TIMEOUT = 10
RSS_LIMIT_MB = 2048
#: Beyond its budget, the time a process may take to start (instrumenting imports), report and merge; then it is
#: killed, so a hung engine cannot hold make fuzz.
GRACE = 120
ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


@dataclass
class Stats:
    """What an engine's output says (libFuzzer's, which the Hypothesis fallback imitates)."""

    executions: int | None = None
    per_second: int | None = None
    cov: tuple[int, int] | None = None  # libFuzzer's cov: when the corpus was loaded, and at the end
    ft: tuple[int, int] | None = None  # its ft: (features: edges and their hit counts), likewise
    traceback: str = ""


@dataclass
class Outcome:
    target: str
    stats: Stats = field(default_factory=Stats)
    corpus_before: int = 0
    corpus_after: int = 0
    crashes: list[Path] = field(default_factory=list)
    error: str = ""  # the engine failed in a way that is no finding (it did not start, it was killed)


_COUNTERS = re.compile(r"^#\d+\s+(\w+)\s+cov: (\d+) ft: (\d+)", re.MULTILINE)
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.MULTILINE)
_UNCAUGHT = re.compile(r"^ ?=== Uncaught Python exception: ===\n(.*?)(?=^==)", re.MULTILINE | re.DOTALL)


def read_stats(output: str) -> Stats:
    """libFuzzer's progress lines (``#N INITED cov: C ft: F ...``, then ``NEW``, ``REDUCE``, ``pulse``, ``DONE``)
    and final ``stat::`` lines (``-print_final_stats=1``)."""
    stats = Stats()
    counters = [(int(cov), int(ft)) for _, cov, ft in _COUNTERS.findall(output)]
    if counters:
        stats.cov = (counters[0][0], counters[-1][0])
        stats.ft = (counters[0][1], counters[-1][1])
    values = {name: int(value) for name, value in _STAT.findall(output)}
    stats.executions = values.get("number_of_executed_units")
    stats.per_second = values.get("average_exec_per_sec")
    uncaught = _UNCAUGHT.search(output)
    stats.traceback = uncaught.group(1).strip() if uncaught else ""
    return stats


def dictionary(words: Sequence[bytes]) -> str:
    """A libFuzzer ``-dict`` file: one quoted word a line, ``\\xNN`` for anything but printable ASCII."""
    lines = []
    for word in words:
        text = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}" for b in word)
        lines.append(f'"{text}"')
    return "\n".join(lines) + "\n"


def run_logged(args: Sequence[str], log: Path, timeout: float) -> int | None:
    """Runs a command in its own process group, its output to ``log``; kills the group past ``timeout`` (libFuzzer's
    merge runs a child of its own). The exit code, or None when it had to be killed."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None


def files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def engine_args(target: Target, *flags: str) -> list[str]:
    return [sys.executable, "-m", "tests.fuzz.libfuzzer", target.name, f"-max_len={target.max_len}",
            f"-timeout={INPUT_TIMEOUT}", f"-rss_limit_mb={RSS_LIMIT_MB}", *flags]


def fuzz_atheris(target: Target, seconds: int, outcome: Outcome) -> None:
    scratch, crashes = SCRATCH / target.name, CRASHES / target.name
    scratch.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)  # libFuzzer writes artifacts only into a folder that exists
    words = SCRATCH / f"{target.name}.dict"
    words.write_text(dictionary(target.words))
    log = SCRATCH / f"{target.name}.log"
    # The first folder receives what is found; the committed corpus after it is only read. The value profile
    # rewards getting closer in a comparison (how atheris finds the string a parser compares a field with); the
    # merge leaves it out, so only new coverage reaches the committed corpus and it stays small.
    code = run_logged(engine_args(target, f"-max_total_time={seconds}", "-use_value_profile=1", f"-dict={words}",
                                  f"-artifact_prefix={crashes}/", "-print_final_stats=1",
                                  str(scratch), str(CORPUS / target.name)), log, seconds + GRACE)
    output = log.read_text(errors="replace")
    outcome.stats = read_stats(output)
    if code is None:
        outcome.error = f"killed after {seconds + GRACE} s (log: {log.relative_to(ROOT)})"
    elif code != 0 and not outcome.stats.traceback and "ERROR: libFuzzer" not in output:
        outcome.error = f"atheris exited {code} (log: {log.relative_to(ROOT)})"


def merge(target: Target) -> str:
    """What is new in the scratch corpus, into the committed one; minimized afresh when it grew too big."""
    corpus, scratch = CORPUS / target.name, SCRATCH / target.name
    log = SCRATCH / f"{target.name}.merge.log"
    if run_logged(engine_args(target, "-merge=1", str(corpus), str(scratch)), log, GRACE * 2) != 0:
        return f"merge failed (log: {log.relative_to(ROOT)})"
    if len(files(corpus)) > MAX_CORPUS:
        return minimize(target)
    return ""


def minimize(target: Target) -> str:
    """The seeds, plus the fewest other inputs (smallest first) that reach the same coverage."""
    corpus = CORPUS / target.name
    with tempfile.TemporaryDirectory(dir=SCRATCH) as temporary:
        kept, others = Path(temporary, "kept"), Path(temporary, "others")
        kept.mkdir()
        others.mkdir()
        for path in files(corpus):
            shutil.copy2(path, (kept if path.name.startswith(SEED_PREFIX) else others) / path.name)
        log = SCRATCH / f"{target.name}.minimize.log"
        if run_logged(engine_args(target, "-merge=1", str(kept), str(others)), log, GRACE * 2) != 0:
            return f"minimizing failed (log: {log.relative_to(ROOT)})"
        for path in files(corpus):
            path.unlink()
        for path in files(kept):
            shutil.copy2(path, corpus / path.name)
    count = len(files(corpus))
    return f"{count} files even minimized (over {MAX_CORPUS})" if count > MAX_CORPUS else ""


def fuzz_hypothesis(target: Target, seconds: int, outcome: Outcome) -> None:
    SCRATCH.mkdir(exist_ok=True)
    log = SCRATCH / f"{target.name}.log"
    args = [sys.executable, "-m", "tests.fuzz.hypothesis_engine", target.name, str(seconds),
            str(CRASHES / target.name), str(CORPUS / target.name)]
    code = run_logged(args, log, seconds + GRACE)
    outcome.stats = read_stats(log.read_text(errors="replace"))
    if code is None:
        outcome.error = f"killed after {seconds + GRACE} s (log: {log.relative_to(ROOT)})"
    elif code != 0 and not outcome.stats.traceback:
        outcome.error = f"the Hypothesis engine exited {code} (log: {log.relative_to(ROOT)})"


def fuzz(target: Target, seconds: int, engine: str) -> Outcome:
    outcome = Outcome(target.name, corpus_before=len(files(CORPUS / target.name)))
    known = set(files(CRASHES / target.name))
    if engine == "atheris":
        fuzz_atheris(target, seconds, outcome)
        if not outcome.error:
            outcome.error = merge(target)
        if not outcome.error and len(files(SCRATCH / target.name)) > MAX_SCRATCH:
            shutil.rmtree(SCRATCH / target.name)
    else:
        fuzz_hypothesis(target, seconds, outcome)
    outcome.crashes = [path for path in files(CRASHES / target.name)
                       if path not in known and path.name.startswith(ARTIFACTS)]
    outcome.corpus_after = len(files(CORPUS / target.name))
    for folder in (CRASHES / target.name, CRASHES):  # no empty folders left in the work tree
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return outcome


def _pair(values: tuple[int, int] | None) -> str:
    return f"{values[0]} -> {values[1]}" if values else "n/a"


def report(outcomes: Sequence[Outcome]) -> str:
    header = f"{'target':<12} {'executions':>11} {'exec/s':>7} {'cov':>13} {'ft':>13} {'corpus':>11} {'crashes':>8}"
    lines = [header, "-" * len(header)]
    for o in outcomes:
        s = o.stats
        lines.append(f"{o.target:<12} {s.executions if s.executions is not None else 'n/a':>11} "
                     f"{s.per_second if s.per_second is not None else 'n/a':>7} {_pair(s.cov):>13} "
                     f"{_pair(s.ft):>13} {f'{o.corpus_before} -> {o.corpus_after}':>11} {len(o.crashes):>8}")
    for o in outcomes:
        for crash in o.crashes:
            lines.append(f"\nCRASH in {o.target}: {crash.relative_to(ROOT)} (replay: python -m tests.fuzz.libfuzzer "
                         f"{o.target} {crash.relative_to(ROOT)})")
            if o.stats.traceback:
                lines.append(o.stats.traceback)
        if o.error:
            lines.append(f"\nENGINE ERROR in {o.target}: {o.error}")
    return "\n".join(lines)


def choose_engine(requested: str) -> str:
    available = importlib.util.find_spec("atheris") is not None
    if requested == "atheris" and not available:
        raise SystemExit("atheris is not installed (make fuzz installs it: pip install -e '.[fuzz]')")
    if requested == "auto":
        return "atheris" if available else "hypothesis"
    return requested


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="the budget of each target (default 60)")
    parser.add_argument("--targets", default="", help=f"comma or space separated, of: {', '.join(TARGETS)}")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    args = parser.parse_args(argv)
    names = args.targets.replace(",", " ").split() or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown or args.seconds < 1:
        parser.error(f"unknown targets {unknown}; the targets are {', '.join(TARGETS)}" if unknown else
                     "--seconds must be at least 1")
    engine = choose_engine(args.engine)
    if engine == "atheris":
        print(f"make fuzz: atheris (libFuzzer, coverage-guided), {args.seconds} s per target: {' '.join(names)}")
    else:
        why = "as asked" if args.engine == "hypothesis" else "atheris is not installed here (no wheel?)"
        print(f"make fuzz: Hypothesis searches, {why}: randomized, not coverage-guided, {args.seconds} s per "
              f"target, nothing added to the corpus: {' '.join(names)}")
    written = write_missing(CORPUS)
    if written:
        print(f"wrote {written} missing seed files into {CORPUS.relative_to(ROOT)}/")
    outcomes = []
    for name in names:
        print(f"fuzzing {name} for {args.seconds} s...", flush=True)
        outcomes.append(fuzz(TARGETS[name], args.seconds, engine))
    print(report(outcomes))
    failed = any(o.crashes or o.error for o in outcomes)
    if failed:
        print("\nmake fuzz: findings above; the crash inputs are kept, and make test replays them until fixed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
