"""What the wrapper costs per invocation on Lambda: the JSON logs (with the metrics observer) and Powertools'
Tracer's ``## handler`` subsegment, each around a handler that does nothing, in a child interpreter with Lambda's
environment (X-Ray's SDK sends its segments over UDP to a loopback port nobody reads, as to the daemon).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from bench.imports import REPO

_CHILD = """
import json, timeit
from passport.observability import instrumented


class Context:
    function_name = "passport-bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:passport-bench"
    aws_request_id = "bench"


def bare(event, context):
    return None


event, context = {"headers": {}, "requestContext": {"requestId": "bench"}}, Context()
wrapped = {"logged": instrumented(bare, tracing=False), "traced": instrumented(bare, tracing=True)}
best = {}
for name, handler in wrapped.items():
    runs = timeit.repeat(lambda: handler(event, context), number=5000, repeat=5)
    best[name] = min(runs) / 5000
print(json.dumps(best))
"""


@dataclass(frozen=True)
class WrapperTimes:
    logged: float  # JSON logs + metrics observer: every function, the guard included
    traced: float  # the above + the Tracer's subsegment ([observability] tracer on; never the guard)


def measure_wrappers() -> WrapperTimes:
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "passport-bench",
        "LAMBDA_TASK_ROOT": str(REPO),
        "_X_AMZN_TRACE_ID": "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # discard: the datagrams go nowhere
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=300, check=True)
    best = json.loads(out.stdout.splitlines()[-1])
    return WrapperTimes(logged=best["logged"], traced=best["traced"])
