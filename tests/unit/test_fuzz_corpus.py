"""``make test`` replays what ``make fuzz`` found: every file of ``tests/fuzz/corpus/<target>/`` (the hand-made seeds
and what libFuzzer merged in) and of ``tests/fuzz/crashes/<target>/`` (each crash, which fails here until it is
fixed) goes through its target, with the same invariants, and without atheris (``tests/fuzz/targets.py`` never
imports it). Also, briefly: the runner's reading of libFuzzer's output, the JSON mutator, the Hypothesis fallback."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import pytest

from tests.fuzz import hypothesis_engine
from tests.fuzz.__main__ import MAX_CORPUS, dictionary, read_stats
from tests.fuzz.mutator import JsonMutator
from tests.fuzz.seeds import SEED_PREFIX, SEEDS
from tests.fuzz.targets import TARGETS, Target

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"


def inputs(kind: str, target: str) -> list[Path]:
    folder = FUZZ / kind / target
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def replay(target: str, paths: list[Path]) -> list[str]:
    """Each input that breaks its target, with the last lines of its traceback."""
    failures = []
    for path in paths:
        try:
            TARGETS[target].run(path.read_bytes())
        except Exception:
            tail = "".join(traceback.format_exc().splitlines(keepends=True)[-6:])
            failures.append(f"{path.relative_to(FUZZ.parent.parent)}:\n{tail}")
    return failures


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_corpus_input_keeps_its_targets_invariant(target):
    paths = inputs("corpus", target)
    assert paths, f"tests/fuzz/corpus/{target}/ is empty: python -m tests.fuzz writes its seeds"
    failures = replay(target, paths)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_crash_make_fuzz_found_is_fixed(target):
    failures = replay(target, inputs("crashes", target))
    assert not failures, "a crash input of make fuzz still breaks its target:\n" + "\n".join(failures)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_corpus_holds_its_seeds_and_stays_small(target):
    paths = inputs("corpus", target)
    names = {path.name for path in paths}
    assert {f"{SEED_PREFIX}{name}" for name in SEEDS[target]} <= names
    for name, data in SEEDS[target].items():
        assert (FUZZ / "corpus" / target / f"{SEED_PREFIX}{name}").read_bytes() == data, name
    assert len(paths) <= MAX_CORPUS
    # libFuzzer truncates a longer input to -max_len when it loads it: it would fuzz another input than the file.
    assert all(path.stat().st_size <= TARGETS[target].max_len for path in paths)


def test_the_targets_replay_without_atheris():
    assert "atheris" not in sys.modules


LIBFUZZER_OUTPUT = """\
INFO: seed corpus: files: 8 min: 165b max: 6000b total: 8863b rss: 63Mb
#9\tINITED cov: 212 ft: 362 corp: 6/2650b exec/s: 0 rss: 63Mb
#57962\tREDUCE cov: 224 ft: 420 corp: 42/4299b lim: 1796 exec/s: 3864 rss: 63Mb L: 58/239 MS: 1 EraseBytes-
#58277\tDONE   cov: 224 ft: 420 corp: 42/4299b lim: 1796 exec/s: 3642 rss: 63Mb

 === Uncaught Python exception: ===
KeyError: 'boom'
Traceback (most recent call last):
  File "t.py", line 4, in t
KeyError: 'boom'

==14241== ERROR: libFuzzer: fuzz target exited
stat::number_of_executed_units: 58277
stat::average_exec_per_sec:     3642
"""


def test_the_runner_reads_libfuzzers_counters_and_the_traceback():
    stats = read_stats(LIBFUZZER_OUTPUT)
    assert (stats.executions, stats.per_second, stats.cov, stats.ft) == (58277, 3642, (212, 224), (362, 420))
    assert stats.traceback.startswith("KeyError: 'boom'") and stats.traceback.endswith("KeyError: 'boom'")


def test_dictionary_words_are_escaped_for_libfuzzer():
    assert dictionary([b'"iss"', b"\0", b"a\\b"]) == '"\\x22iss\\x22"\n"\\x00"\n"a\\x5Cb"\n'


def test_the_hypothesis_fallback_searches_and_stops_by_itself():
    seeds = [path.read_bytes() for path in inputs("corpus", "bearer")]
    found = hypothesis_engine.search(TARGETS["bearer"], 0.5, seeds)
    assert found.crash is None, found.trace
    # How many inputs fit in the budget depends on the machine (48 on a loaded 2-core CI run): that it ran
    # inputs and came back on its own is the property; make fuzz reports the rate.
    assert found.executions > 0


def test_the_hypothesis_fallback_keeps_a_shrunk_crash():
    def fails_on_x(data: bytes) -> None:
        if b"x" in data:
            raise ValueError("x")

    found = hypothesis_engine.search(Target("broken", fails_on_x, words=(b"x",)), 5, [b"abc"])
    assert found.crash is not None and b"x" in found.crash and len(found.crash) <= 4, found.crash
    assert "ValueError: x" in found.trace


def test_the_json_mutator_changes_values_and_leaves_other_bytes_to_libfuzzer():
    untouched = []
    mutator = JsonMutator([b'"aud"'], lambda data, max_size: untouched.append(data) or b"bytes", share=1.0)
    data = b'{"alg":"ES256"}\0{"iss":"x","aud":"y"}'
    mutated = {mutator(data, 4096, seed) for seed in range(200)}
    assert mutated == {mutator(data, 4096, seed) for seed in range(200)}  # deterministic for a seed
    for output in mutated - {b"bytes"}:
        header, payload = output.split(b"\0")
        json.loads(header), json.loads(payload)  # still JSON on both sides
    assert any(b'"aud":true' in output or b'"aud":[' in output for output in mutated)
    assert mutator(b"not json", 4096, 1) == b"bytes" and untouched[-1] == b"not json"
    assert mutator(data, 8, 1) == b"bytes"  # never past max_size
