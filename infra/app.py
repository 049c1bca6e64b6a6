"""The CDK app: ``PassportStack`` from the settings file, checked by cdk-nag's AWS Solutions rules at every synth.

``app.py`` at the repository root runs it for the CDK CLI (``make synth``, ``make deploy``); the tests build the
very same app in-process. The feature flags are ``cdk.json``'s context, read here too, so both agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks
from passport.config import load_settings

from infra.layer import LayerBuildError
from infra.options import DeployOptions
from infra.stack import PassportStack

REPO = Path(__file__).resolve().parents[1]
STACK_NAME = "PassportStack"


def cdk_context(cdk_json: Path = REPO / "cdk.json") -> dict:
    return dict(json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {}))


def settings_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``PASSPORT_CONFIG`` names another settings file (``passport.prod.toml``); else ``passport.toml``."""
    return Path(environ.get("PASSPORT_CONFIG") or REPO / "passport.toml").resolve()


def build_app(
    *,
    outdir: str | None = None,
    settings_file: Path | None = None,
    options: DeployOptions | None = None,
    layer_dir: Path | None = None,
    nag: bool = True,
    cloudformation_validation: bool = True,
    stage_assets: bool = True,
) -> tuple[App, PassportStack]:
    """The app and its one stack. ``cloudformation_validation`` (CDK's own template checks) and
    ``stage_assets`` (copying the assets into the output folder) are for tests that check those separately."""
    settings_file = settings_file or settings_path()
    # The deployed functions read the file alone (shipped in the layer), so the stack is built from the file
    # alone too: a PASSPORT_* variable of this shell would change the stack but never reach the functions.
    settings = load_settings(settings_file, environ={})
    if settings.client_documents.allow_loopback:
        # A deployed function's loopback is the Lambda's own: letting a client's document URL reach it is the
        # request forgery the fetch exists to refuse (passport.client_documents_fetch).
        raise SystemExit(f"{settings_file.name}: client_documents.allow_loopback is for `passport serve` only; "
                         "turn it off to deploy")
    context = cdk_context()
    if not stage_assets:
        context["aws:cdk:disable-asset-staging"] = True
    app = App(
        outdir=outdir, context=context, builtin_cloud_formation_validation=None if cloudformation_validation else False
    )
    stack = PassportStack(
        app,
        STACK_NAME,
        settings=settings,
        settings_file=settings_file,
        options=options,
        layer_dir=layer_dir,
        analytics_reporting=False,
    )
    ignored = sorted(n for n in os.environ if n.startswith("PASSPORT_") and n != "PASSPORT_CONFIG")
    if ignored:
        Annotations.of(stack).add_warning_v2(
            "passport:environment-ignored",
            f"{', '.join(ignored)} ignored: the stack and the deployed functions read {settings_file.name} only",
        )
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app, stack


def main() -> None:
    try:
        app, _stack = build_app()
    except LayerBuildError as error:
        # What to do, not a traceback: the CDK CLI shows this and exits non-zero.
        raise SystemExit(str(error)) from None
    app.synth()


if __name__ == "__main__":
    main()
