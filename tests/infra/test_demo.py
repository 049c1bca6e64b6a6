"""The demo API and the demo MCP server are examples: a stack from the shipped settings has neither (no function,
route, alarm or metadata of theirs); ``[demo] enabled = true`` puts them back."""

from __future__ import annotations

import json

from passport import iam_manifest
from passport.config import load_settings
from passport.routes import route_table

from tests.infra.conftest import REPO, Synthesized

DEMO_FUNCTIONS = {"api", "mcp"}
DEMO_ALARMS = {f"PassportStack-{label}{kind}" for label in ("Api", "Mcp") for kind in ("Errors", "Throttles")}


def alarm_names(synthesized: Synthesized) -> set[str]:
    return {a["Properties"]["AlarmName"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()}


def paths(template: dict) -> set[str]:
    return {r["Properties"]["PathPart"] for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGateway::Resource"}


def test_the_shipped_settings_deploy_no_demo_function_route_alarm_or_metadata(synthesized_without_demos: Synthesized):
    stack, template = synthesized_without_demos.stack, synthesized_without_demos.template
    assert not DEMO_FUNCTIONS & set(stack.functions)
    assert set(stack.functions) == {*(r.function for r in route_table(stack.settings)), iam_manifest.GUARD,
                                    iam_manifest.INSTALL_KEYS}
    assert not {"api", "mcp", "oauth-protected-resource"} & paths(template)
    # No guarded route: no authorizer on this API (the guard function stays, exported for other APIs).
    assert not synthesized_without_demos.of_type("AWS::ApiGateway::Authorizer")
    assert stack.api.resource_metadata_url is None
    text = json.dumps(template)
    for name in ("FunctionApi", "FunctionMcp", "Function/api", "Function/mcp"):
        assert name not in text
    assert alarm_names(synthesized_without_demos) and not alarm_names(synthesized_without_demos) & DEMO_ALARMS


def test_the_demos_turned_on_deploy_their_functions_routes_and_metadata(synthesized: Synthesized,
                                                                          synthesized_without_demos: Synthesized):
    stack, template = synthesized.stack, synthesized.template
    assert stack.settings.demo.enabled and not synthesized_without_demos.stack.settings.demo.enabled
    assert DEMO_FUNCTIONS <= set(stack.functions)
    assert {"api", "orders", "mcp", "oauth-protected-resource"} <= paths(template)
    assert len(synthesized.of_type("AWS::ApiGateway::Authorizer")) == 1
    assert alarm_names(synthesized) - alarm_names(synthesized_without_demos) == DEMO_ALARMS


def test_the_shipped_settings_leave_the_demos_off_and_the_environment_turns_them_on():
    shipped = load_settings(REPO / "passport.toml", environ={})
    assert not shipped.demo.enabled
    on = load_settings(REPO / "passport.toml", environ={"PASSPORT_DEMO_ENABLED": "true"})
    assert on.demo.enabled
