"""``passport_cdk`` as a user's CDK app gets it: from the built wheel, installed in a virtual environment of its own,
with no checkout of this repository anywhere on the path. The guard's code is package data, and the one file the
repository's ``functions/guard/handler.py`` links to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import REPO

GUARD_HANDLER = REPO / "functions" / "guard" / "handler.py"
PACKAGED_HANDLER = REPO / "shared" / "passport_cdk" / "functions" / "guard" / "handler.py"

#: A user's app: the passport deployment's resources given directly, a guard of its own with rules, on a REST API
#: and an HTTP API. It prints where passport_cdk came from and where the guard's asset was staged.
USER_APP = '''
import json
import sys

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

import passport_cdk
from passport_cdk import PassportGuard, PassportResources

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "OrdersStack")
passport = PassportResources(
    layer=lambda_.LayerVersion.from_layer_version_arn(
        stack, "Layer", "arn:aws:lambda:eu-west-1:123456789012:layer:LayerA7B50CFA:3"
    ),
    keys_secret=secretsmanager.Secret.from_secret_complete_arn(
        stack, "Keys", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:KeysSecret88F3B70F-a1B2c3"
    ),
    tokens_table=dynamodb.Table.from_table_name(stack, "Tokens", "PassportStack-TablesTokens"),
    clients_table=dynamodb.Table.from_table_name(stack, "Clients", "PassportStack-TablesClients"),
    issuer="https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod",
)
guard = PassportGuard(stack, "Guard", passport=passport, rules={"GET /orders": {"scopes": ["orders:read"]}})

api = apigateway.RestApi(stack, "Orders")
api.root.add_resource("orders").add_method(
    "GET", apigateway.MockIntegration(), authorizer=guard.rest_authorizer(api)
)
guard.add_gateway_responses(api)

http_api = apigatewayv2.HttpApi(stack, "OrdersHttp")
http_api.add_routes(
    path="/orders",
    methods=[apigatewayv2.HttpMethod.GET],
    integration=integrations.HttpUrlIntegration("Backend", "https://backend.example.com/orders"),
    authorizer=guard.http_authorizer(http_api),
)

app.synth()
print(json.dumps({
    "file": passport_cdk.__file__,
    "version": passport_cdk.__version__,
    "guard": stack.resolve(guard.own.function.node.default_child.logical_id),
}))
'''


def test_the_repository_guard_is_the_packaged_file():
    """One source for the guard: the folder the local gateway and the tests load is a link to the package data
    the stack deploys (and the wheel carries)."""
    from passport_cdk.common import function_dir

    assert GUARD_HANDLER.is_symlink()
    assert GUARD_HANDLER.resolve() == PACKAGED_HANDLER.resolve()
    assert function_dir("guard") == PACKAGED_HANDLER.parent
    assert function_dir("token") == REPO / "functions" / "token"


def test_the_version_is_the_distribution_s_and_the_changelog_has_it():
    import passport_cdk

    assert passport_cdk.__version__ == version("lambda-passport")
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {passport_cdk.__version__}" in changelog and "passport_cdk" in changelog


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of what the build reads: building in the checkout would leave build/ in it (and race a
    parallel build). Isolated, so pip takes the build backend pyproject.toml asks for (setuptools>=77, for its
    license field) rather than this environment's."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "shared", source / "shared", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = dist.glob("lambda_passport-*.whl")
    return wheel


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """No PYTHONPATH, no AWS credentials anywhere (synth needs none), the machine's pip settings (its local index)
    and trust store."""
    kept = {name: value for name, value in os.environ.items() if name.startswith("PIP_") or name in (
        "PATH", "HOME", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR")}
    return {
        **kept,
        "LANG": "C.UTF-8",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_CONFIG_FILE": str(tmp_path / "missing-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_user_app_synthesizes_the_guard_from_the_installed_wheel(tmp_path):
    wheel = build_wheel(tmp_path)
    environment = clean_environment(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=environment)
    python = str(venv / "bin" / "python")
    # aws-cdk-lib and the rest come from the pip cache (or the machine's index): a minute or two.
    result = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", f"{wheel}[cdk]"],
        capture_output=True, text=True, timeout=900, env=environment, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    app_dir = tmp_path / "user-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(USER_APP, encoding="utf-8")
    outdir = app_dir / "cdk.out"
    # Asset staging is on (CDK's default; only the repository's template tests turn it off): the guard's code
    # lands in cdk.out, as cdk deploy would upload it.
    result = subprocess.run(
        [python, "app.py", str(outdir)], capture_output=True, text=True, timeout=300, env=environment, cwd=app_dir
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    # passport_cdk is the installed one, never this checkout.
    assert Path(report["file"]).is_relative_to(venv) and not Path(report["file"]).is_relative_to(REPO)
    assert report["version"] == version("lambda-passport")

    template = json.loads((outdir / "OrdersStack.template.json").read_text(encoding="utf-8"))
    resources = template["Resources"]
    guard = resources[report["guard"]]
    assert guard["Type"] == "AWS::Lambda::Function"
    assert guard["Properties"]["Handler"] == "handler.handler"
    assert "PASSPORT_GUARD_RULES" in guard["Properties"]["Environment"]["Variables"]
    rest = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Authorizer"]
    http = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Authorizer"]
    assert len(rest) == 1 and len(http) == 1
    for authorizer in (*rest, *http):
        assert report["guard"] in json.dumps(authorizer["Properties"]["AuthorizerUri"])
    assert any(r["Type"] == "AWS::ApiGateway::GatewayResponse" for r in resources.values())

    # The staged asset is the repository's guard, byte for byte: the function's code is the file asset its S3 key
    # names, and the assets manifest says where in cdk.out that asset was staged.
    digest = guard["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    assets = json.loads((outdir / "OrdersStack.assets.json").read_text(encoding="utf-8"))
    asset = outdir / assets["files"][digest]["source"]["path"]
    assert (asset / "handler.py").read_bytes() == GUARD_HANDLER.read_bytes()
    assert sorted(p.name for p in asset.iterdir()) == ["handler.py"]
