"""The deployment, checked short of deploying: the app is synthesized once per test process (the first time takes
the layer build too), and every template test reads that one result."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Synthesized:
    app: Any
    stack: Any
    outdir: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return self.stack.resolve(construct.node.default_child.logical_id)


def synthesize(outdir: Path, **options: Any) -> Synthesized:
    from infra.app import build_app

    app, stack = build_app(outdir=str(outdir), **options)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(app, stack, outdir, template)


def demo_settings_file(folder: Path) -> Path:
    """The shipped passport.toml with the demos turned on (``[demo] enabled = true``)."""
    shipped = (REPO / "passport.toml").read_text(encoding="utf-8")
    text = shipped.replace("# enabled = false", "enabled = true", 1)
    assert text != shipped, "passport.toml no longer has the [demo] enabled line this fixture turns on"
    path = folder / "passport.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """PassportStack from the shipped passport.toml with the demos on (most template tests look at the demo API's
    guarded routes and the demo MCP server), with cdk-nag: synthesis raises on any finding not acknowledged.
    CDK's own CloudFormation validation and the copy of the assets into the output are left to
    test_cdk_cli_synth, which runs the whole thing through the CDK CLI (they take half of a synthesis)."""
    settings_file = demo_settings_file(tmp_path_factory.mktemp("settings"))
    yield synthesize(tmp_path_factory.mktemp("cdk.out"), settings_file=settings_file,
                     cloudformation_validation=False, stage_assets=False)


@pytest.fixture(scope="session")
def synthesized_without_demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """PassportStack from the shipped passport.toml as it is: the demos off, as a deployment has them by default.
    A second synthesis (seconds): only the tests that compare the two use it."""
    yield synthesize(tmp_path_factory.mktemp("cdk.out"), settings_file=REPO / "passport.toml",
                     cloudformation_validation=False, stage_assets=False)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template


def resolve_ref(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


__all__ = ["REPO", "Synthesized", "dump", "resolve_ref", "synthesize"]
