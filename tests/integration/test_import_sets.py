"""What each handler imports at cold start, checked in a fresh interpreter (the bench measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

HEAVY_FOR_THE_GUARD = ["aws_lambda_powertools.event_handler", "pydantic", "boto3", "botocore", "pynamodb", "moto"]


def imported_by(function: str) -> set[str]:
    path = str(REPO / "functions" / function / "handler.py")
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('handler', {path!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    return set(json.loads(out.stdout))


def test_the_guard_imports_neither_the_powertools_event_handler_nor_pydantic_nor_the_aws_sdk():
    modules = imported_by("guard")
    loaded = [m for m in HEAVY_FOR_THE_GUARD if any(n == m or n.startswith(m + ".") for n in modules)]
    assert loaded == []
    assert "jwt" in modules and "passport.guard.events" in modules


@pytest.mark.parametrize("function", ["token", "metadata", "api"])
def test_http_handlers_do_not_import_the_powertools_event_handler_or_pydantic(function):
    modules = imported_by(function)
    assert not [m for m in modules if m.startswith(("aws_lambda_powertools.event_handler", "pydantic", "moto"))]
