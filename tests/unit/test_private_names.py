"""No module reaches into another's private names: a leading underscore means "only this module", so whatever
another module needs is given a public name (and pynamodb's internals are reached only by
passport/storage/connection.py, which says why)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The repository's own top-level packages: a private name of the standard library or a dependency is that
#: project's business (a test may compare against botocore's own retry codes, for instance).
OURS = ("passport", "passport_cdk", "infra", "bench", "tests", "functions")
#: pynamodb's underscore methods and attributes, allowed in the one adapter module.
PYNAMODB_ADAPTER = "shared/passport/storage/connection.py"
PYNAMODB_PRIVATE = {"_get_connection", "_get_schema", "_connection", "_client", "_make_api_call", "_indexes"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ours(module: str) -> bool:
    return module.split(".")[0] in OURS


def crossings(path: str, source: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if _ours(node.module) and _private(alias.name):
                    found.append(f"{path}:{node.lineno}: from {node.module} import {alias.name}")
                modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            module = modules.get(node.value.id)
            if module is not None and _ours(module):
                found.append(f"{path}:{node.lineno}: {node.value.id}.{node.attr}")
        if (isinstance(node, ast.Attribute) and node.attr in PYNAMODB_PRIVATE and path != PYNAMODB_ADAPTER
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            found.append(f"{path}:{node.lineno}: pynamodb's {node.attr} outside {PYNAMODB_ADAPTER}")
    return found


def test_no_module_reaches_into_another_modules_private_names():
    listed = subprocess.run(["git", "ls-files", "-z", "*.py"], cwd=REPO, capture_output=True, check=True).stdout
    found = []
    for name in listed.decode().split("\0"):
        path = REPO / name
        if name and path.is_file() and "/corpus/" not in name:
            found += crossings(name, path.read_text(encoding="utf-8"))
    assert not found, "give these a public name:\n" + "\n".join(found)


def test_the_check_sees_a_private_import_and_a_private_attribute_of_our_modules():
    source = "from passport.routes import _PARAM\nimport passport.guard.decision as decision\ndecision._lookup()\n"
    assert len(crossings("x.py", source)) == 2
    assert crossings("x.py", "import sys\nsys._getframe()\nfrom argparse import _HelpAction\n") == []
