"""One target under atheris (libFuzzer): ``python -m tests.fuzz.libfuzzer TARGET [libFuzzer flags] [corpus dirs]``.

``python -m tests.fuzz`` (``make fuzz``) runs this once per target to fuzz, and again to merge; by hand it takes
any libFuzzer flag (``-runs=``, ``-max_total_time=``, a crash file to reproduce one).
"""

from __future__ import annotations

import shlex
import sys

import atheris

from tests.fuzz.mutator import JsonMutator


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(f"usage: {argv[0]} TARGET [libFuzzer flags] [corpus dirs]")
    name, flags = argv[1], argv[2:]
    # passport, PyJWT (the verifier's differential check calls it) and the targets are imported for the first time
    # here, under instrumentation: their branches are the coverage that guides the search. Anything imported
    # before this block would be invisible to the fuzzer.
    with atheris.instrument_imports(include=["passport", "jwt", "tests.fuzz.targets"]):
        from tests.fuzz.targets import TARGETS
    if name not in TARGETS:
        raise SystemExit(f"unknown target {name!r}; the targets are {', '.join(TARGETS)}")
    # libFuzzer's merge (and fork mode) run the program again through the shell as argv[0] plus flags: the command
    # that runs this module on this target, since the module's own path is no executable.
    command = shlex.join([sys.executable, "-m", "tests.fuzz.libfuzzer", name])
    target = TARGETS[name]
    # atheris.Mutate is looked up at each call: Setup replaces the module's functions with libFuzzer's, and the one
    # taken before it only says "Fuzz() must be called before Mutate()".
    mutator = JsonMutator(target.words, lambda data, max_size: atheris.Mutate(data, max_size))
    options = {"custom_mutator": mutator} if target.json else {}
    atheris.Setup([command, *flags], target.run, **options)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
