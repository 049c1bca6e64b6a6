"""Every function starts on Lambda's own Python (3.14), from its folder and the unzipped layer alone, and answers
the first request API Gateway hands it, with storage over loopback: the layer is complete for the runtime it
declares, not only for the Python the rest of the suite runs on. The same measurement as ``make bench``'s cold
starts (bench/cold_start.py), once, with the layer's bytecode."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.cold_start import IMPORT_ONLY
from bench.imports import handler_names
from tests.conftest import REPO

pytestmark = pytest.mark.slow

#: In a process of its own: the bench's deployment starts its own DynamoDB Local and moto (so does this process).
MEASURE = """
import dataclasses, json
from bench.cold_start import measure_cold_starts
from bench.deployment import local_deployment
with local_deployment() as deployment:
    found = measure_cold_starts(deployment, runs=1, runs_without_bytecode=0)
print(json.dumps(dataclasses.asdict(found)))
"""


def test_every_function_cold_starts_on_the_runtimes_python_and_answers_its_first_request():
    out = subprocess.run([sys.executable, "-c", MEASURE], cwd=REPO, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["interpreter"].startswith("Python 3.14.")
    assert found["layer_bytecode"] == found["layer_files"]
    assert set(found["with_bytecode"]) == set(handler_names())
    answered = {name: cold["status"] for name, cold in found["with_bytecode"].items() if name not in IMPORT_ONLY}
    # The first requests are ones each function serves: a page (200 or a redirect to sign in), a token, an
    # allowed API call, a registration; nothing refused for being malformed and nothing failing.
    assert answered == {
        "account": 303, "api": 200, "authorize": 303, "device": 200, "guard": 200, "introspect": 200, "mcp": 200,
        "metadata": 200, "par": 201, "register": 201, "revoke": 200, "token": 200, "userinfo": 403,
    }
    # With [observability] tracer on, the token function still starts and answers (X-Ray's SDK in the layer).
    assert found["traced"]["status"] == 200
