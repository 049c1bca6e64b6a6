"""What each handler imports at cold start, checked in a fresh interpreter (the bench measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

#: botocore's bare package (a few ms) comes with Powertools' user-agent hook; its session and client are the SDK.
AWS_SDK = ["boto3", "botocore.session", "botocore.client", "pynamodb"]
#: PyJWT's package (its JWKS client, urllib.request, http.client, X.509) too: passport.keys.jwa signs and verifies.
HEAVY_FOR_THE_GUARD = ["aws_lambda_powertools.event_handler", "pydantic", *AWS_SDK, "moto", "jwt"]


def imported_by(function: str, **environ: str) -> set[str]:
    path = str(REPO / "functions" / function / "handler.py")
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('handler', {path!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # As on Lambda, where the handlers wrap themselves in Powertools (passport.observability) at import; X-Ray's
    # SDK knows Lambda by LAMBDA_TASK_ROOT (elsewhere it builds an AWS client for its sampling rules).
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": f"passport-{function}", "LAMBDA_TASK_ROOT": str(REPO), **environ}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO,
                         env=env)
    return set(json.loads(out.stdout))


def test_the_guard_imports_neither_the_powertools_event_handler_nor_pydantic_nor_the_aws_sdk_nor_pyjwt():
    modules = imported_by("guard")
    loaded = [m for m in HEAVY_FOR_THE_GUARD if any(n == m or n.startswith(m + ".") for n in modules)]
    assert loaded == []
    assert "passport.guard.events" in modules


@pytest.mark.parametrize("function", ["token", "metadata", "api", "register", "mcp"])
def test_http_handlers_do_not_import_the_powertools_event_handler_or_pydantic(function):
    modules = imported_by(function)
    assert not [m for m in modules if m.startswith(("aws_lambda_powertools.event_handler", "pydantic", "moto"))]


#: Every handler's third-party imports at cold start on Lambda, pinned: anything more is paid on every cold start of
#: that function (the bench prints the time). The JSON logs and metrics that wrap every handler are the standard
#: library's (passport.observability); Powertools' Tracer (with X-Ray's SDK, wrapt, jmespath, typing_extensions and
#: botocore's bare package) only with [observability] tracer on, and never the guard's. The AWS SDK's session and
#: client and pynamodb come on the first request that needs storage, so no handler can make an AWS call while it is
#: imported, and X-Ray's patch of botocore waits for them.
TRACER = {"aws_lambda_powertools", "jmespath", "typing_extensions", "botocore", "aws_xray_sdk", "wrapt"}
THIRD_PARTY_AT_IMPORT = {
    "account": {"cryptography"},
    "api": {"cryptography"},
    "authorize": {"cryptography"},
    "device": {"cryptography"},
    "guard": {"cryptography"},
    "install_keys": set(),
    "introspect": {"cryptography"},
    "mcp": {"cryptography"},
    "metadata": {"cryptography"},
    "par": {"cryptography"},
    "register": {"cryptography"},
    "revoke": {"cryptography"},
    "token": {"cryptography"},
    "userinfo": {"cryptography"},
}
#: Not packages of their own: cryptography's compiled parts, and setuptools' shim that site installs.
_NOT_PACKAGES = {"_cffi_backend", "_openssl", "_rust", "_distutils_hack", "passport", "handler", "__main__"}


def third_party(modules: set[str]) -> set[str]:
    tops = {name.split(".")[0] for name in modules}
    return tops - set(sys.stdlib_module_names) - _NOT_PACKAGES


def test_every_handler_has_a_pinned_import_set():
    functions = sorted(p.name for p in (REPO / "functions").iterdir() if (p / "handler.py").is_file())
    assert functions == sorted(THIRD_PARTY_AT_IMPORT)


@pytest.mark.parametrize("function", sorted(THIRD_PARTY_AT_IMPORT))
def test_each_handler_imports_exactly_its_pinned_packages_and_no_aws_sdk(function):
    modules = imported_by(function)
    assert third_party(modules) == THIRD_PARTY_AT_IMPORT[function]
    assert not [m for m in modules if any(m == sdk or m.startswith(sdk + ".") for sdk in AWS_SDK)]


@pytest.mark.parametrize("function", ["token", "guard"])
def test_with_the_tracer_on_every_function_but_the_guard_imports_x_rays_sdk(function):
    modules = imported_by(function, PASSPORT_OBSERVABILITY_TRACER="true")
    expected = THIRD_PARTY_AT_IMPORT[function] | (TRACER if function != "guard" else set())
    assert third_party(modules) == expected


def imported_after_first_request(
    function: str, method: str, path: str, query: dict[str, str] | None = None
) -> tuple[int, set[str]]:
    """The modules loaded once ``function`` has answered its first request (a fresh interpreter, as on Lambda)."""
    handler = str(REPO / "functions" / function / "handler.py")
    event = {"httpMethod": method, "path": path, "resource": path, "headers": {"Host": "127.0.0.1"},
             "queryStringParameters": query, "multiValueQueryStringParameters":
                 {k: [v] for k, v in query.items()} if query else None,
             "requestContext": {"requestId": "first", "stage": "v1", "identity": {"sourceIp": "127.0.0.1"}}}
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('handler', {handler!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        f"answer = module.handler({event!r}, None)\n"
        "print(json.dumps([answer['statusCode'], sorted(sys.modules)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO,
                         env=dict(os.environ))
    status, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return status, set(modules)


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/jwks.json"])
def test_discovery_and_the_jwks_answer_without_loading_the_aws_sdk(env, path):
    """They read no table: their first request, which every client's first contact is, pays for no DynamoDB client."""
    status, modules = imported_after_first_request("metadata", "GET", path)
    assert status == 200
    assert [m for m in AWS_SDK if m in modules] == []


def test_an_authorization_request_answered_with_a_redirect_does_not_load_jinja2_and_a_page_does(env):
    """Most first requests of the authorization endpoint send the browser to sign in: only a page pays for the
    template engine (passport.web.render)."""
    from tests.conftest import make_client

    client = make_client(env, grant_types=("authorization_code",), redirect_uris=("https://app.example/cb",))
    status, modules = imported_after_first_request("authorize", "GET", "/oauth/authorize", {
        "response_type": "code", "client_id": client.client_id, "redirect_uri": "https://app.example/cb",
        "scope": "orders:read", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256", "state": "s"})
    assert status == 303 and "jinja2" not in modules
    status, modules = imported_after_first_request("authorize", "GET", "/login")
    assert status == 200 and "jinja2" in modules
