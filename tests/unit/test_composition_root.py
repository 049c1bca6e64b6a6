"""One composition root (passport/compose.py): every function of the route table, and the guard, gets its objects
from it, through a registered builder; none builds its own wiring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from passport import compose
from passport.config import load_settings
from passport.routes import route_table

REPO = Path(__file__).resolve().parents[2]
SHIPPED = load_settings(REPO / "passport.toml", environ={"PASSPORT_DEMO_ENABLED": "true"})
FUNCTIONS = sorted({route.function for route in route_table(SHIPPED)} | {"guard"})


def compose_imports(function: str) -> set[str]:
    """The names a function's handler imports from passport.compose."""
    tree = ast.parse((REPO / "functions" / function / "handler.py").read_text())
    return {alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "passport.compose" for alias in node.names}


def test_the_route_table_names_every_function_with_a_handler():
    assert {"token", "authorize", "metadata", "api", "mcp"} <= set(FUNCTIONS)
    for function in FUNCTIONS:
        assert (REPO / "functions" / function / "handler.py").is_file(), function


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_gets_its_objects_from_a_builder_of_the_composition_root(function):
    imported = compose_imports(function)
    assert imported, f"functions/{function}/handler.py wires itself instead of asking passport.compose"
    assert imported <= set(compose.builders()), imported - set(compose.builders())


def test_reset_forgets_what_every_builder_built(monkeypatch):
    """Builders register themselves: reset() needs no list kept by hand."""
    monkeypatch.setenv("PASSPORT_CONFIG", str(REPO / "passport.toml"))
    compose.reset()
    try:
        first = compose.discovery()
        assert compose.discovery() is first
        compose.reset()
        assert compose.discovery() is not first
        assert {"token_endpoint", "guard", "mcp_resource", "discovery", "demo_api"} <= set(compose.builders())
    finally:
        compose.reset()
