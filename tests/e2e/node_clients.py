"""The real clients that run on node (tests/e2e/node/), installed by ``scripts/ensure-node-clients`` (which reads
the pin below) into .build/node-clients/, and a bounded way to run one: its stdout is JSON lines, its stdin
gets JSON lines back, and it is killed at a deadline whatever it does."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

MCP_SDK_VERSION = "1.32.2"
#: oauth4webapi, a certified FAPI 2.0 and OpenID Connect relying party library (tests/e2e/test_fapi.py).
OAUTH4WEBAPI_VERSION = "3.8.9"
NODE_CLIENTS = REPO / ".build" / "node-clients" / "node_modules"
SCRIPTS = Path(__file__).parent / "node"


def installed(package: str, version: str, what: str) -> Path:
    """The installed npm ``package`` of the pinned ``version``; the test fails saying how to install it."""
    folder = NODE_CLIENTS / package
    manifest = folder / "package.json"
    found = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
    if shutil.which("node") is None or found != version:
        pytest.fail(f"{what} {version} is not installed (found {found}): run scripts/ensure-node-clients "
                    "(make test does)", pytrace=False)
    return folder


def mcp_sdk() -> Path:
    """The MCP TypeScript SDK, as pinned."""
    return installed("@modelcontextprotocol/sdk", MCP_SDK_VERSION, "the MCP TypeScript SDK")


def oauth4webapi() -> Path:
    """oauth4webapi, as pinned."""
    return installed("oauth4webapi", OAUTH4WEBAPI_VERSION, "oauth4webapi")


def converse(argv: list[str], answer: Callable[[dict[str, Any]], dict[str, Any] | None], *,
             seconds: float = 40) -> dict[str, Any]:
    """Run node with ``argv``; each JSON line it prints goes to ``answer``, whose reply (if any) is written back
    as a line; the first line with ``result`` or ``error`` ends the conversation and is returned."""
    environ = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}  # loopback only
    process = subprocess.Popen(["node", *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environ, cwd=SCRIPTS)
    deadline = time.monotonic() + seconds
    selector = selectors.DefaultSelector()
    assert process.stdout is not None and process.stdin is not None
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        pending = b""
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                message = json.loads(line)
                if "result" in message or "error" in message:
                    return message
                reply = answer(message)
                if reply is not None:
                    process.stdin.write(json.dumps(reply).encode() + b"\n")
                    process.stdin.flush()
        stderr = process.stderr.read(4000) if process.poll() is not None and process.stderr else b""
        pytest.fail(f"node ended or timed out without a result (exit {process.poll()}): {stderr.decode()[-2000:]}")
    finally:
        selector.close()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream:
                stream.close()
