"""Cold starts as Lambda pays them: for every function, a fresh interpreter of the runtime's Python (3.14, found or
unpacked by infra.runtime_python) with only the function's folder and the unzipped layer on its path, importing the
handler and answering its first request, with storage reached over loopback; once with the layer's bytecode and
once without it (the layer stripped of ``__pycache__``). Lambda's file system is read-only, so children never write
bytecode (``-B``): without the layer's, each compiles what it imports, every time.

The layer is the one ``infra.layer`` builds for the stack, for this machine's architecture (bytecode does not
depend on it). The first request of each function is the event API Gateway hands it, recorded in this process
from the local gateway (an authorizer event for the guard); install-keys answers CloudFormation once per deploy
and is measured importing only. Each figure is the minimum over RUNS children, children of every kind
interleaved; ``import boto3`` in the same interpreter, from the same layer with its bytecode, is the yardstick.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.imports import REPO, handler_names

RUNS = 5
RUNS_WITHOUT_BYTECODE = 3
#: Functions whose first request is not measured (and why).
IMPORT_ONLY = {"install_keys": "answers CloudFormation once per deploy"}
#: Measured once more with ``[observability] tracer`` on (Powertools' Tracer, X-Ray's SDK): what turning it on costs.
TRACED = "token"

_CHILD = """
import json, os, sys, time
task_root, layer_site, event_file = sys.argv[1:4]
sys.path[:0] = [task_root, layer_site]  # Lambda's order: /var/task, then the layer's python/
started = time.perf_counter()
if task_root == "-":
    import boto3
    imported = time.perf_counter()
    print(json.dumps({"import": imported - started, "first": 0.0, "status": 0}), flush=True)
    os._exit(0)
import handler
imported = time.perf_counter()
status = 0
if event_file != "-":
    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
        aws_request_id = "bench-cold-start"
        def get_remaining_time_in_millis(self):
            return 29000
    with open(event_file) as f:
        event = json.load(f)
    answer = handler.handler(event, Context())
    status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
    if "principalId" in (answer if isinstance(answer, dict) else {}):
        status = 200 if answer["policyDocument"]["Statement"][0]["Effect"] == "Allow" else 403
answered = time.perf_counter()
print(json.dumps({"import": imported - started, "first": answered - imported, "status": status}), flush=True)
os._exit(0)
"""


@dataclass(frozen=True)
class ColdStart:
    imported: float  # seconds: the handler module, from nothing
    first: float  # seconds: its first request (0 for import-only functions)
    status: int  # the first request's answer (200, 302...; an authorizer's Allow is 200)

    @property
    def total(self) -> float:
        return self.imported + self.first


@dataclass(frozen=True)
class ColdStarts:
    interpreter: str  # "Python 3.14.10 (Debian's build, unpacked)"
    boto3: float  # seconds: import boto3, with bytecode
    boto3_without_bytecode: float | None  # None when not measured
    with_bytecode: dict[str, ColdStart]
    without_bytecode: dict[str, ColdStart]
    traced: ColdStart  # TRACED with the layer's bytecode and [observability] tracer on
    layer_files: int  # .py files in the layer
    layer_bytecode: int  # of them with a .pyc for the runtime's Python


def _record_first_requests(d: Any) -> dict[str, dict[str, Any]]:
    """The event each function gets for its first request, as the local gateway builds it."""
    gateway = d.gateway
    token = json.loads(gateway.dispatch("POST", *d.token_request()).body)["access_token"]
    spare = json.loads(gateway.dispatch("POST", *d.token_request()).body)["access_token"]
    for_mcp = json.loads(gateway.dispatch("POST", *d.form_request({
        "grant_type": "client_credentials", "scope": "orders:read", "resource": f"{d.settings.issuer_url}/mcp",
    })).body)["access_token"]  # RFC 8707: a token for the MCP server
    client_id = d.client.client_id
    host = d.host
    bearer = [("Host", host), ("Authorization", f"Bearer {token}")]
    json_headers = [("Host", host), ("Content-Type", "application/json")]
    authorize = (
        "/oauth/authorize?response_type=code&client_id=" + client_id
        + "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=orders%3Aread&state=s1"
        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
    requests: list[tuple[str, tuple[str, list[tuple[str, str]], bytes]]] = [
        ("GET", ("/.well-known/openid-configuration", [("Host", host)], b"")),
        ("POST", d.token_request()),
        ("GET", d.api_request(token)),
        ("POST", d.form_request({"token": token}, "/oauth/introspect")),
        ("POST", d.form_request({"token": spare}, "/oauth/revoke")),
        ("POST", d.form_request({"scope": "orders:read"}, "/oauth/device/code")),
        ("POST", d.form_request({"response_type": "code", "redirect_uri": "https://app.example.com/callback",
                                 "scope": "orders:read", "state": "s1", "code_challenge_method": "S256",
                                 "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "/oauth/par")),
        ("GET", ("/oauth/userinfo", bearer, b"")),
        ("GET", (authorize, [("Host", host)], b"")),
        ("GET", ("/account", [("Host", host)], b"")),
        ("POST", ("/oauth/register", json_headers,
                  json.dumps({"redirect_uris": ["https://app.example.com/cb"], "client_name": "bench",
                              "token_endpoint_auth_method": "none"}).encode())),
        ("POST", ("/mcp", [("Host", host), ("Authorization", f"Bearer {for_mcp}"), ("Content-Type", "application/json"),
                           ("Accept", "application/json, text/event-stream")], json.dumps(initialize).encode())),
    ]
    events: dict[str, dict[str, Any]] = {}
    originals = {name: gateway.function(name).handler for name in handler_names() if name not in IMPORT_ONLY}

    def recorder(name: str, original: Any) -> Any:
        def record(event: dict[str, Any], context: Any) -> Any:
            events.setdefault(name, copy.deepcopy(event))
            return original(event, context)
        return record

    for name, original in originals.items():
        gateway.function(name).handler = recorder(name, original)
    try:
        for method, (target, headers, body) in requests:
            gateway.dispatch(method, target, headers, body)
    finally:
        for name, original in originals.items():
            gateway.function(name).handler = original
    missing = sorted(set(originals) - set(events))
    if missing:
        raise RuntimeError(f"no first request recorded for {', '.join(missing)}")
    return events


def _layer(folder: Path) -> tuple[Path, Path]:
    """The stack's layer for this machine's architecture and the runtime's Python, and a copy without bytecode."""
    from passport.iam_manifest import LAMBDA_PYTHON

    from infra.layer import MACHINES, build_layer

    arch = next(name for name, machine in MACHINES.items() if machine == os.uname().machine)
    built = build_layer(arch, LAMBDA_PYTHON, settings_file=REPO / "passport.toml")
    stripped = folder / "layer-without-bytecode"
    shutil.copytree(built, stripped, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return built, stripped


def measure_cold_starts(d: Any, runs: int = RUNS, runs_without_bytecode: int = RUNS_WITHOUT_BYTECODE) -> ColdStarts:
    from passport.iam_manifest import LAMBDA_PYTHON

    from infra.layer import BUILD_DIR
    from infra.runtime_python import find

    interpreter = find(LAMBDA_PYTHON, BUILD_DIR, stdlib=True)
    events = _record_first_requests(d)
    with tempfile.TemporaryDirectory(prefix="passport-bench-cold-") as tmp:
        folder = Path(tmp)
        layer, stripped = _layer(folder)
        sources = list((layer / "python").rglob("*.py"))
        compiled = sum(
            (p.parent / "__pycache__" / f"{p.stem}.{interpreter.cache_tag}.pyc").is_file() for p in sources
        )
        event_files = {}
        for name, event in events.items():
            event_files[name] = folder / f"{name}.json"
            event_files[name].write_text(json.dumps(event))
        env = _lambda_environment()
        names = handler_names()

        def child(name: str | None, site: Path, traced: bool = False) -> ColdStart:
            task_root = "-" if name is None else str(REPO / "functions" / name)
            event = "-" if name is None or name not in event_files else str(event_files[name])
            run_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": f"passport-{name or 'bench'}",
                       "LAMBDA_TASK_ROOT": task_root if name else str(folder),
                       "PASSPORT_OBSERVABILITY_TRACER": "true" if traced else "false"}
            out = subprocess.run(
                interpreter.command("-I", "-B", "-c", _CHILD, task_root, str(site / "python"), event),
                env=run_env, cwd=folder, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
            )
            if out.returncode != 0:
                tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"cold start of {name or 'import boto3'} failed: {tail}")
            if not out.stdout.strip():
                raise RuntimeError(f"cold start of {name} printed nothing: {out.stderr[-300:]!r}")
            found = json.loads(out.stdout.strip().splitlines()[-1])
            return ColdStart(found["import"], found["first"], found["status"])

        best: dict[tuple[str | None, bool, bool], ColdStart] = {}
        for bytecode, count in ((True, runs), (False, runs_without_bytecode)):
            site = layer if bytecode else stripped
            for _ in range(count):
                kinds = [(name, False) for name in [None, *names]] + ([(TRACED, True)] if bytecode else [])
                for name, traced in kinds:
                    found = child(name, site, traced)
                    key = (name, bytecode, traced)
                    if key not in best or found.total < best[key].total:
                        best[key] = found
    return ColdStarts(
        interpreter=f"Python {interpreter.version} ({interpreter.origin})",
        boto3=best[(None, True, False)].imported,
        boto3_without_bytecode=best[(None, False, False)].imported if runs_without_bytecode else None,
        with_bytecode={name: best[(name, True, False)] for name in names},
        without_bytecode={name: best[(name, False, False)] for name in names if (name, False, False) in best},
        traced=best[(TRACED, True, True)],
        layer_files=len(sources),
        layer_bytecode=compiled,
    )


def _lambda_environment() -> dict[str, str]:
    """This process's environment (pointed at the local store by bench.deployment), less what Lambda's does not
    have, plus what Lambda sets (X-Ray's datagrams to a discard port on 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update({
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "_X_AMZN_TRACE_ID": "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    })
    return env
