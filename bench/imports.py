"""The functions' handlers, and the DynamoDB requests each sends while a fresh interpreter imports it (none is
the target: a cold start must not wait on the network before its first request). Cold starts themselves are
measured by bench/cold_start.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
_LOAD_HANDLER = (
    "spec = importlib.util.spec_from_file_location('handler', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
)


def handler_names() -> list[str]:
    return sorted(p.name for p in FUNCTIONS.iterdir() if (p / "handler.py").is_file())


def handler_path(name: str) -> Path:
    return FUNCTIONS / name / "handler.py"


_COUNT_CALLS = (
    "import importlib.util, json, sys\n"
    "from passport.aws_json import REQUEST_OBSERVERS\n"
    "from passport.storage.connection import dynamodb_client\n"
    "sent = []\n"
    "def on_send(event_name='', **kwargs):\n"
    "    sent.append(event_name.rsplit('.', 1)[-1])\n"
    "dynamodb_client().meta.events.register('before-send.dynamodb', on_send)\n"
    "REQUEST_OBSERVERS.append(lambda service, operation: service == 'dynamodb' and sent.append(operation))\n"
    + _LOAD_HANDLER
    + "print(json.dumps(sent))\n"
)


def count_import_calls() -> dict[str, list[str]]:
    """DynamoDB requests sent while a fresh interpreter imports each handler (its environment is this
    process's: pointed at the local stores, so a stray call would be counted, never sent to AWS)."""
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
