"""The documentation, run: every command the README and docs/ quote works as written, and the reference pages
list everything the code has (settings, CLI flags, routes), so neither can drift from the other.

The convention, for whoever writes a page:

- A fenced block tagged ``sh`` runs. Its commands run in page order with ``bash``, in a fresh folder holding the
  repository's ``passport.toml`` and ``.venv`` (a new user's clone), against ``passport serve`` started there on a
  free port (``http://127.0.0.1:8000`` in the text becomes that server's URL). ``make serve`` and ``passport
  serve`` stand for that server (the Makefile's ``serve`` target is ``passport serve``: checked below); ``make
  test`` is this suite and is not run again. Write ``passport`` or ``.venv/bin/passport``: both work.
- Placeholders carry values from one command to the next: ``CLIENT_ID``, ``CLIENT_SECRET``, ``ACCESS_TOKEN``,
  ``REFRESH_TOKEN``, ``ID_TOKEN``, ``TOKEN_ID``, ``DEVICE_CODE``, ``USER_CODE``, ``KID``,
  ``REGISTRATION_ACCESS_TOKEN`` take the latest value of the JSON member of the same name (``client_id``...) that a
  command printed. A placeholder used before any command
  gave it fails.
- The comment after a command (on its line, or the comment lines right below it) says what it does, and is
  checked: ``# 200`` (or any status) is the HTTP status of a ``curl`` (a curl without one must answer below 400;
  the runner gives curl a ``.curlrc`` that writes the status, so commands stay as written); ``# exit 1: text`` is
  the exit status and a part of the error line (otherwise the exit status must be 0); ``# {...}`` or ``# [...]``
  is an example of the JSON output; ``# header Name: value`` says a ``curl -i`` answer has that header, its value
  starting with what is written. In an example, ``…`` in place of a value matches any value, ``"eyJ…"`` any
  string that starts ``eyJ``, and a bare ``…`` among the members or items means "and more"; without one, the
  output has exactly the members shown. Values written out must be equal.
- What a reader does in the browser is a directive, an HTML comment the page does not show:
  ``<!-- doc-test: authorize user=E password=P redirect_uri=U scope=S -->`` signs in and approves the latest
  ``CLIENT_ID`` (giving ``CODE``, ``VERIFIER``, ``STATE``; any other ``name=value``, such as ``nonce=N`` or
  ``resource=http://127.0.0.1:8000/mcp``, is a parameter of the authorization request);
  ``<!-- doc-test: device-approve user=E password=P -->`` approves ``USER_CODE``;
  ``<!-- doc-test: restart [PASSPORT_X=value...] -->`` restarts the server (with those variables, for the server
  and the commands after it).
- ``sh aws`` (needs an AWS account) and ``sh long`` (minutes: ``make synth``, run by
  tests/infra/test_cdk_cli_synth.py) blocks are checked without running: make targets exist, ``passport`` command
  lines parse, every ``aws`` operation, waiter and option exists in botocore's service model (required options
  given), ``python FILE`` names a file the page gives.
- A ``python FILE`` block is that file, whole: the tests below use them (the guard stack is built, the backend
  handler called, ``copy_table.py`` run against DynamoDB Local, the user provider called). Other ``python``
  blocks must compile. ``toml`` blocks must load as settings; ``json`` blocks must parse.

The pages run one after another on one xdist worker (40 to 60 seconds in all, most of it the start-up of the
~35 CLI commands the pages quote).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import re
import shutil
import sys
import types
import uuid
from pathlib import Path
from typing import Any

import pytest
from passport.config import Settings, load_settings
from passport.routes import route_table

from tests.conftest import REPO
from tests.e2e import docs_runner as runner

pytestmark = pytest.mark.slow

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
RUNNABLE = [p for p in PAGES if any(isinstance(b, runner.Block) and b.runs for b in runner.parse_page(p))]


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def section(text: str, heading: str) -> str:
    """The text under the heading whose title (without backticks) is ``heading``, up to the next heading of the
    same or a higher level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        found = re.match(r"^(#+)\s+(.*)$", line)
        if found and found[2].replace("`", "").strip() == heading:
            level = len(found[1])
            end = next((j for j in range(i + 1, len(lines))
                        if re.match(rf"^#{{1,{level}}}\s", lines[j])), len(lines))
            return "\n".join(lines[i:end])
    raise AssertionError(f"no heading {heading!r}")


# -- the commands, run -----------------------------------------------------------------------------------------


def test_the_readme_and_the_quickstart_are_among_the_pages_that_run():
    """The README is the front door: following it alone must give a token and a guarded call, so it must run."""
    assert REPO / "README.md" in RUNNABLE and DOCS / "quickstart.md" in RUNNABLE
    readme = [c.text for b in runner.parse_page(REPO / "README.md") if isinstance(b, runner.Block) and b.runs
              for c in runner.commands(b)]
    assert readme[:2] == ["make serve", "make test"]  # the README starts with exactly these two commands
    assert any("/oauth/token" in c for c in readme) and any("Authorization: Bearer" in c for c in readme)


@pytest.mark.parametrize("page", RUNNABLE, ids=page_id)
def test_every_sh_block_runs_as_written_and_does_what_its_comments_say(page: Path, tmp_path: Path):
    assert shutil.which("bash") and shutil.which("curl"), "the docs' commands need bash and curl"
    sandbox = runner.Sandbox(tmp_path / "clone")
    try:
        ran = runner.run_page(sandbox, page)
    finally:
        sandbox.close()
    assert ran > 0


def test_make_serve_runs_passport_serve_so_the_runner_may_stand_in_for_it():
    recipe = re.search(r"^serve:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe and re.search(r"\$\(BIN\)/passport serve\s*$", recipe[1].strip())


def test_commands_that_need_aws_are_checked_without_running():
    """Each `sh aws` / `sh long` command: the make target exists, the CLI parses it, the AWS operation and its
    options exist (botocore's service model, which the AWS CLI is built from)."""
    kinds: set[str] = set()
    for where, command, files in runner.static_commands(PAGES):
        kinds.update(runner.check_static(command, where, files))
    assert {"make", "passport", "aws", "python"} <= kinds


def test_the_runner_refuses_what_is_wrong():
    """The checks can fail: a wrong flag, an unknown AWS option, a missing JSON member, a different value."""
    def static(text: str) -> None:
        runner.check_static(runner.Command(text, 1), "x")

    for wrong in ("passport client create --nmae x", "aws dynamodb restore-table-to-point-in-time --target-table-name "
                  "t --restore-time 1", "aws dynamodb scan --table-name t --max-items 5", "make no-such-target",
                  "aws dynamodb restore-table-to-point-in-time --source-table-name t", "rm -rf /"):
        with pytest.raises(AssertionError):
            static(wrong)
    static("aws dynamodb wait table-exists --table-name t")
    example = runner.read_example('{"a": …, "b": true, "c": "eyJ…", …}')
    assert runner.mismatch(example, {"a": 1, "b": True, "c": "eyJx", "d": 0}) is None
    assert runner.mismatch(example, {"a": 1, "b": False, "c": "eyJx"})
    assert runner.mismatch(example, {"b": True, "c": "eyJx"})
    assert runner.mismatch(example, {"a": 1, "b": True, "c": "abc"})
    exact = runner.read_example('{"a": …}')
    assert runner.mismatch(exact, {"a": 1, "extra": 2})
    command = runner.commands(runner.Block(REPO, 1, "sh", (), 'curl -i "http://x/#y"   # 401, a comment'))[0]
    assert command.status == 401 and command.text == 'curl -i "http://x/#y"'
    block = runner.Block(REPO, 1, "sh", (), 'curl -i http://x/   # 401\n# header WWW-Authenticate: Bearer x="1"')
    assert runner.commands(block)[0].headers == [("WWW-Authenticate", 'Bearer x="1"')]


# -- every block of every page is valid --------------------------------------------------------------------------


def blocks(lang: str) -> list[tuple[str, runner.Block]]:
    return [(f"{page_id(p)}:{b.line}", b) for p in PAGES for b in runner.parse_page(p)
            if isinstance(b, runner.Block) and b.lang == lang]


def test_toml_examples_are_valid_settings(tmp_path: Path):
    from infra.options import DeployOptions

    found = blocks("toml")
    assert found
    for _where, block in found:
        path = tmp_path / f"{uuid.uuid4().hex}.toml"
        path.write_text(block.text)
        settings = load_settings(path, environ={})  # unknown keys and bad values raise
        DeployOptions.from_settings(settings)  # [deploy] values the CDK app would refuse


def test_python_examples_compile_and_json_examples_parse():
    for where, block in blocks("python"):
        ast.parse(block.text, filename=where)
    for _where, block in blocks("json"):
        json.loads(block.text)


def load_module(name: str, source: str, folder: Path) -> types.ModuleType:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source)
    module = types.ModuleType(Path(name).stem)
    module.__file__ = str(folder / name)
    exec(compile(source, str(folder / name), "exec"), module.__dict__)
    return module


def test_the_backend_example_reads_the_caller_from_rest_and_http_api_events(tmp_path: Path):
    """Deploying: the backend behind PassportGuard gets the guard's authorizer context (the real Principal's)
    in REST API and HTTP API events, and `TokenContext` reads it (docs/concepts.md)."""
    from passport.guard.decision import Principal

    handler = load_module("orders/handler.py", runner.python_files(DOCS / "deploying.md")["orders/handler.py"],
                          tmp_path).handler
    user = Principal(sub="user-1", client_id="app-1", scopes=("orders:write",), jti="j1").context()
    admin = Principal(sub="svc-1", client_id="svc-1", scopes=("admin",), jti="j2").context()
    rest = {"httpMethod": "GET", "resource": "/me", "requestContext": {"authorizer": user}}
    me = handler(rest, None)
    assert me["statusCode"] == 200 and json.loads(me["body"]) == {"user_id": "user-1", "client_id": "app-1",
                                                                   "scopes": ["orders:write"]}
    http = {"routeKey": "POST /orders", "body": '{"for_user": "u-2"}',
            "requestContext": {"authorizer": {"lambda": user}}}
    assert handler(http, None)["statusCode"] == 403  # orders:write may not order for others
    http["requestContext"] = {"authorizer": {"lambda": admin}}
    assert handler(http, None)["statusCode"] == 201
    listed = json.loads(handler({"httpMethod": "GET", "resource": "/orders",
                                 "requestContext": {"authorizer": admin}}, None)["body"])
    assert listed["is_user"] is False
    with pytest.raises(LookupError):
        handler({"httpMethod": "GET", "resource": "/orders", "requestContext": {}}, None)


def test_the_guard_example_stack_builds_with_its_rules_and_a_guarded_method_per_route(tmp_path: Path, monkeypatch):
    """Deploying: the documented `PassportGuard` stack is valid against the construct as it is (built, not
    synthesized: the construct tree says what the template will; tests/infra/test_guard_construct.py synthesizes
    and lints one like it)."""
    from aws_cdk import App
    from aws_cdk import aws_apigateway as apigateway
    from passport.guard.rules import RuleTable

    files = runner.python_files(DOCS / "deploying.md")
    assert {"orders_stack.py", "app.py", "orders/handler.py"} <= set(files)
    load_module("orders/handler.py", files["orders/handler.py"], tmp_path)
    # The CDK CLI runs an app from its folder, where "orders" is; here the jsii kernel's folder is another.
    relative = 'lambda_.Code.from_asset("orders")'
    assert relative in files["orders_stack.py"]
    source = files["orders_stack.py"].replace(relative, f'lambda_.Code.from_asset({str(tmp_path / "orders")!r})')
    module = load_module("orders_stack.py", source, tmp_path)
    monkeypatch.setitem(sys.modules, "orders_stack", module)
    stack = module.OrdersStack(App(context={"aws:cdk:disable-asset-staging": True}), "OrdersStack")
    children = stack.node.find_all()
    guard = next(c for c in children if type(c).__name__ == "PassportGuard")
    rules = RuleTable.from_json(guard.rules)
    assert rules.for_route("GET", "/orders").scopes == ("orders:read",)
    assert rules.for_route("POST", "/orders").any_scopes == ("orders:write", "admin")
    assert rules.for_route("GET", "/me").subject == "user"
    methods = [c for c in children if isinstance(c, apigateway.Method)]
    assert len(methods) == 3
    assert all(m.node.default_child.authorization_type == "CUSTOM" for m in methods)
    responses = [c for c in children if isinstance(c, apigateway.GatewayResponse)]
    assert len(responses) >= 2  # 401 and 403 with WWW-Authenticate at least


def test_the_mcp_server_example_stack_is_a_protected_resource_of_the_passport_deployment(tmp_path: Path,
                                                                                           monkeypatch):
    """Deploying (and MCP): the documented `protect_resource` stack builds against the construct as it is: the
    RFC 9728 metadata on a mock integration naming the passport issuer, the 401 naming it (5.1), and a guard that
    accepts only tokens for the resource (RFC 8707)."""
    from aws_cdk import App
    from aws_cdk import aws_apigateway as apigateway

    files = runner.python_files(DOCS / "deploying.md")
    load_module("orders/handler.py", files["orders/handler.py"], tmp_path)
    orders = load_module("orders_stack.py", files["orders_stack.py"].replace(
        'lambda_.Code.from_asset("orders")', f'lambda_.Code.from_asset({str(tmp_path / "orders")!r})'), tmp_path)
    monkeypatch.setitem(sys.modules, "orders_stack", orders)
    relative = 'lambda_.Code.from_asset("mcp_server")'
    assert relative in files["mcp_stack.py"]
    (tmp_path / "mcp_server").mkdir()
    (tmp_path / "mcp_server" / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    module = load_module("mcp_stack.py", files["mcp_stack.py"].replace(
        relative, f'lambda_.Code.from_asset({str(tmp_path / "mcp_server")!r})'), tmp_path)
    stack = module.McpStack(App(context={"aws:cdk:disable-asset-staging": True}), "McpStack")
    guard = next(c for c in stack.node.find_all() if type(c).__name__ == "PassportGuard")
    assert guard.resource.resource == module.RESOURCE == guard.own.environment["PASSPORT_AUDIENCE"]
    assert guard.resource.metadata["authorization_servers"] == [orders.PASSPORT["issuer"]]
    assert guard.resource.metadata_url == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    (well_known, *_) = guard.resource.methods
    assert well_known.node.default_child.authorization_type == "NONE"
    responses = [c for c in stack.node.find_all() if isinstance(c, apigateway.CfnGatewayResponse)]
    (unauthorized,) = [r for r in responses if r.response_type == "UNAUTHORIZED"]
    assert guard.resource.metadata_url in unauthorized.response_parameters["gatewayresponse.header.WWW-Authenticate"]
    guarded = [c for c in stack.node.find_all() if isinstance(c, apigateway.Method)
               and c.node.default_child.authorization_type == "CUSTOM"]
    assert len(guarded) == 1


def test_the_restore_script_copies_only_what_the_live_table_lacks(store_endpoint: str):
    """Operations: `copy_table.py` against DynamoDB's wire protocol (DynamoDB Local on loopback): missing
    items come back, items the live table still has (newer than the backup) are left alone."""
    import boto3

    module = types.ModuleType("copy_table")
    exec(runner.python_files(DOCS / "operations.md")["copy_table.py"], module.__dict__)
    client = boto3.client("dynamodb")
    names = [f"docs-{uuid.uuid4().hex[:8]}-{n}" for n in ("restored", "live")]
    for name in names:
        client.create_table(TableName=name, KeySchema=[{"AttributeName": "client_id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "client_id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
    try:
        restored, live = names
        for cid in ("a", "b", "c"):
            client.put_item(TableName=restored, Item={"client_id": {"S": cid}, "revoked": {"BOOL": False}})
        client.put_item(TableName=live, Item={"client_id": {"S": "b"}, "revoked": {"BOOL": True}})
        assert module.copy_missing(restored, live) == (2, 1)
        items = {i["client_id"]["S"]: i["revoked"]["BOOL"] for i in client.scan(TableName=live)["Items"]}
        assert items == {"a": False, "b": True, "c": False}
    finally:
        for name in names:
            client.delete_table(TableName=name)


def test_the_user_provider_example_has_passports_three_methods_and_answers():
    source = runner.python_files(DOCS / "configuration.md")["myapp/users.py"]
    module = types.ModuleType("users")
    exec(source, module.__dict__)
    users = module.MyUsers()
    ada = users.find_for_passport("ada@example.com")
    assert ada is not None and users.get(ada.id) == ada and users.find_for_passport("bob@example.com") is None
    assert users.validate_for_passport_password(ada, "a long password")
    assert not users.validate_for_passport_password(ada, "wrong")


# -- the reference pages list everything the code has -----------------------------------------------------------


def settings_fields(cls: type = Settings, prefix: str = "") -> list[tuple[str, str, Any]]:
    """(dotted name, environment variable, default) of every setting."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "base_dir":
            continue  # where the file is: not a setting
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            out += settings_fields(type(default), f"{prefix}{f.name}.")
        else:
            dotted = prefix + f.name
            out.append((dotted, "PASSPORT_" + dotted.replace(".", "_").upper(), default))
    return out


def toml_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return json.dumps(list(value))
    return None  # tables and routes: described in words


def test_the_configuration_reference_lists_every_setting_with_its_default_and_variable():
    text = (DOCS / "configuration.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for dotted, variable, default in settings_fields():
        row = next((r for r in rows if r.split("|")[1].strip() == f"`{dotted}`"), None)
        assert row is not None, f"configuration.md has no row for {dotted}"
        assert f"`{variable}`" in row, f"{dotted}: the row does not name {variable}"
        literal = toml_literal(default)
        if literal is not None:
            assert f"`{literal}`" in row.split("|")[2], f"{dotted}: the default is {literal}"
    # And the check of the variable names is the code's own rule:
    assert load_settings(environ={"PASSPORT_LIFETIMES_PERSONAL_ACCESS": "7", "PASSPORT_ISSUER": "https://x"}
                         ).lifetimes.personal_access == 7


def test_the_configuration_reference_lists_no_setting_that_does_not_exist():
    text = (DOCS / "configuration.md").read_text()
    documented = {line.split("|")[1].strip().strip("`") for line in text.splitlines()
                  if line.startswith("| `") and re.match(r"\| `[a-z0-9_.]+` \|", line)}
    assert documented == {dotted for dotted, _, _ in settings_fields()}


def test_every_passport_environment_variable_the_code_reads_is_documented():
    text = (DOCS / "configuration.md").read_text()
    sources = [*(REPO / "shared" / "passport").rglob("*.py"), *(REPO / "functions").rglob("*.py"),
               *(REPO / "infra").rglob("*.py")]
    # A name ending in "_" is a prefix the code completes (f"PASSPORT_STORAGE_{...}"): its settings are in the tables.
    named = {m for path in sources for m in re.findall(r"PASSPORT_[A-Z0-9_]+", path.read_text()) if m[-1] != "_"}
    assert {"PASSPORT_CONFIG", "PASSPORT_PRIVATE_KEY", "PASSPORT_GUARD_RULES"} <= named
    missing = sorted(n for n in named if f"`{n}`" not in text)
    assert not missing, f"configuration.md does not mention {missing}"


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [(path, parser)]
    return [leaf for name, sub in subparsers[0].choices.items() for leaf in leaf_commands(sub, (*path, name))]


def test_the_cli_reference_documents_every_command_flag_and_choice():
    from passport.cli import build_parser

    text = (DOCS / "cli.md").read_text()
    common = section(text, "Common options")
    for flag in ("--json", "--config", "--stack", "--aws"):
        assert f"`{flag}" in common
    leaves = leaf_commands(build_parser())
    assert len(leaves) >= 12
    for path, parser in leaves:
        name = "passport " + " ".join(path)
        body = section(text, name)
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            longs = [o for o in action.option_strings if o.startswith("--")]
            if longs and longs[0] in ("--json", "--config", "--stack", "--aws"):
                continue
            if longs:
                assert re.search(rf"`{re.escape(longs[0])}\b", body), f"{name}: {longs[0]} is not documented"
            else:  # a positional: its choices, or its name
                for shown in (action.choices or [action.dest.upper()]):
                    assert str(shown) in body, f"{name}: {shown} is not documented"


def test_the_http_reference_lists_every_route_and_no_other():
    text = (DOCS / "http.md").read_text()
    table = section(text, "Every route")
    listed = set(re.findall(r"^\| `([A-Z]+ /[^`]*)` \|", table, re.M))
    # With the demos on, as under `passport serve`: the reference lists their routes too, marked as the demos'.
    demo = load_settings(REPO / "passport.toml", environ={"PASSPORT_DEMO_ENABLED": "true"})
    routes = {route.key for route in route_table(demo)}
    assert listed == routes


PASSPORT_NAMES = {
    "Artisan commands": ["passport:install", "--uuids", "passport:keys", "--force", "--length", "passport:client",
                         "--personal", "--password", "--client", "--public", "--device", "--name", "--redirect_uri",
                         "--user_id", "--provider", "passport:purge", "--revoked", "--expired", "--hours",
                         "passport:hash"],
    "Configuration calls": ["tokensExpireIn", "refreshTokensExpireIn", "personalAccessTokensExpireIn", "tokensCan",
                            "setDefaultScope", "withInheritedScopes", "loadKeysFrom", "PASSPORT_PRIVATE_KEY",
                            "hashClientSecrets", "enablePasswordGrant", "enableImplicitGrant", "personalAccessClientId",
                            "ignoreRoutes", "useClientModel", "useTokenModel", "useAuthCodeModel",
                            "useRefreshTokenModel", "usePersonalAccessClientModel", "findForPassport",
                            "validateForPassportPasswordGrant", "authorizationView", "cookie", "actingAs",
                            "actingAsClient"],
    "Middleware": ["auth:api", "scopes:", "scope:", "CheckScopes", "CheckForAnyScope", "CheckClientCredentials",
                   "CheckClientCredentialsForAnyScope", "EnsureClientIsResourceOwner", "CreateFreshApiToken"],
    "Routes": ["GET /oauth/authorize", "POST /oauth/authorize", "DELETE /oauth/authorize", "POST /oauth/token",
               "POST /oauth/token/refresh", "GET /oauth/tokens", "DELETE /oauth/tokens/{token_id}",
               "GET /oauth/clients", "POST /oauth/clients", "PUT /oauth/clients/{client_id}",
               "DELETE /oauth/clients/{client_id}", "GET /oauth/scopes", "GET /oauth/personal-access-tokens",
               "POST /oauth/personal-access-tokens", "DELETE /oauth/personal-access-tokens/{token_id}"],
    "HasApiTokens and tokens": ["user()", "token()", "tokenCan", "createToken", "withAccessToken", "tokens()",
                                  "clients()", "revoke()"],
}


@pytest.mark.parametrize("heading", PASSPORT_NAMES)
def test_the_laravel_passport_page_maps_every_passport_name_to_an_equivalent_or_says_none(heading: str):
    body = section((DOCS / "from-laravel-passport.md").read_text(), heading)
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("|---")][1:]
    for name in PASSPORT_NAMES[heading]:
        row = next((r for r in rows if name in r.split(" | ")[0]), None)
        assert row is not None, f"{heading}: no row for {name}"
        assert row.rstrip(" |").split(" | ")[-1].strip(), f"{heading}: {name} has no equivalent and no 'none'"


# -- the pages hold together -------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for found in re.finditer(r"^#+\s+(.*)$", runner.prose(path), re.M):
        base = slug(found[1])
        out.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return out


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", runner.prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (page.parent / file).resolve() if file else page
            if not resolved.exists():
                broken.append(f"{page_id(page)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{page_id(page)}: {target} (no such heading)")
    assert not broken


def test_the_docs_index_links_every_page_and_the_readme_links_the_index():
    index = (DOCS / "README.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"
    assert "](docs/README.md)" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=page_id)
def test_every_page_starts_with_its_title_and_a_sentence_saying_what_it_is_for(page: Path):
    lines = page.read_text().splitlines()
    assert lines[0].startswith("# ") and not lines[1].strip() and lines[2].strip(), page_id(page)
