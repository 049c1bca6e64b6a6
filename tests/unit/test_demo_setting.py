"""``[demo] enabled``: the route table, the registered resources and the OpenAPI document follow it; ``passport
serve`` turns it on unless the settings file or the environment sets it."""

from __future__ import annotations

from passport.config import Demo, Settings
from passport.local.serve import enable_demos
from passport.openapi import openapi_document
from passport.routes import route_table

DEMO_PATHS = {"/api/user", "/api/ping", "/api/orders", "/mcp", "/.well-known/oauth-protected-resource",
              "/.well-known/oauth-protected-resource/api", "/.well-known/oauth-protected-resource/mcp"}
ON = Settings(issuer="https://auth.example.com", demo=Demo(enabled=True))
OFF = Settings(issuer="https://auth.example.com")


def test_the_route_table_and_the_openapi_document_have_the_demos_only_when_on():
    assert not DEMO_PATHS & {r.path for r in route_table(OFF)}
    assert DEMO_PATHS <= {r.path for r in route_table(ON)}
    assert not DEMO_PATHS & set(openapi_document(OFF)["paths"])
    assert DEMO_PATHS <= set(openapi_document(ON)["paths"])


def test_the_mcp_resource_is_registered_only_with_the_demos_and_the_audience_always():
    assert OFF.registered_resources == ("https://auth.example.com/api",)
    assert ON.registered_resources == ("https://auth.example.com/api", "https://auth.example.com/mcp")
    assert OFF.token_audience == ON.token_audience == "https://auth.example.com/api"


def test_serve_turns_the_demos_on_unless_the_file_or_the_environment_says(tmp_path):
    config = tmp_path / "passport.toml"
    config.write_text("")
    environ = {"PASSPORT_CONFIG": str(config)}
    enable_demos(environ)
    assert environ["PASSPORT_DEMO_ENABLED"] == "true"
    environ = {"PASSPORT_CONFIG": str(config), "PASSPORT_DEMO_ENABLED": "false"}
    enable_demos(environ)
    assert environ["PASSPORT_DEMO_ENABLED"] == "false"
    config.write_text("[demo]\nenabled = false\n")
    environ = {"PASSPORT_CONFIG": str(config)}
    enable_demos(environ)
    assert "PASSPORT_DEMO_ENABLED" not in environ
