"""Cold imports: each ``functions/<name>/handler.py`` and ``import boto3``, each in a fresh interpreter.

Every child runs ``import importlib.util`` (needed to load a handler by path) and ends with ``os._exit(0)`` (no
interpreter teardown). The same child without the import under test is the baseline; its time (interpreter
start, ``site``, the editable install's path hook) is subtracted from both sides, so what remains is the
import alone.

Children keep their bytecode in a temporary ``PYTHONPYCACHEPREFIX`` (written by the warm-up round), so both
sides import from bytecode whatever ``PYTHONDONTWRITEBYTECODE`` says, and nothing is written into the tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
RUNS = 5

_PRELUDE = "import importlib.util, os, sys\n"
_EXIT = "\nos._exit(0)\n"
_LOAD_HANDLER = (
    "spec = importlib.util.spec_from_file_location('handler', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
)


def handler_names() -> list[str]:
    return sorted(p.name for p in FUNCTIONS.iterdir() if (p / "handler.py").is_file())


def handler_path(name: str) -> Path:
    return FUNCTIONS / name / "handler.py"


@dataclass(frozen=True)
class ImportTimes:
    baseline: float  # seconds, min of RUNS
    boto3: float  # seconds above the baseline
    handlers: dict[str, float]  # seconds above the baseline


def _run(env: dict[str, str], script: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env=env,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure_import_times(runs: int = RUNS) -> ImportTimes:
    children: dict[str, tuple[str, ...]] = {
        "baseline": (_PRELUDE + _EXIT,),
        "boto3": (_PRELUDE + "import boto3" + _EXIT,),
        **{f"handler:{name}": (_PRELUDE + _LOAD_HANDLER + _EXIT, str(handler_path(name))) for name in handler_names()},
    }
    best = dict.fromkeys(children, float("inf"))
    with tempfile.TemporaryDirectory(prefix="passport-bench-pyc-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        # As on Lambda: there the handlers wrap themselves in Powertools at import (passport.observability).
        env["AWS_LAMBDA_FUNCTION_NAME"] = "passport-bench"
        env["LAMBDA_TASK_ROOT"] = str(REPO)  # X-Ray's SDK knows Lambda by it
        # One warm-up round (bytecode written, files in the page cache), then `runs` interleaved rounds.
        for round_ in range(runs + 1):
            for key, argv in children.items():
                elapsed = _run(env, *argv)
                if round_:
                    best[key] = min(best[key], elapsed)
    base = best.pop("baseline")
    return ImportTimes(
        baseline=base,
        boto3=best.pop("boto3") - base,
        handlers={key.split(":", 1)[1]: value - base for key, value in best.items()},
    )


_COUNT_CALLS = (
    "import importlib.util, json, sys\n"
    "from passport.storage.connection import dynamodb_client\n"
    "sent = []\n"
    "def on_send(event_name='', **kwargs):\n"
    "    sent.append(event_name.rsplit('.', 1)[-1])\n"
    "dynamodb_client().meta.events.register('before-send.dynamodb', on_send)\n"
    + _LOAD_HANDLER
    + "print(json.dumps(sent))\n"
)


def count_import_calls() -> dict[str, list[str]]:
    """DynamoDB requests sent while a fresh interpreter imports each handler (its environment is this
    process's: pointed at the embedded store, so a stray call would be counted, never sent to AWS)."""
    found = {}
    for name in handler_names():
        out = subprocess.run(
            [sys.executable, "-c", _COUNT_CALLS, str(handler_path(name))],
            cwd=REPO,
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        found[name] = json.loads(out.stdout.strip().splitlines()[-1])
    return found
