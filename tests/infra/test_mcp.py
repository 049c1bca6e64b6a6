"""The synthesized passport stack: dynamic client registration (RFC 7591/7592) and the demo MCP server
as functions of their own, each on its routes with a least-privilege role, alarms and dashboard lines; the
protected resource metadata (RFC 9728) served by the metadata function, and API Gateway's bare 401 that names the
API's (RFC 9728 5.1), built from the API's id so that no dependency cycle goes through the stage."""

from __future__ import annotations

import json

from passport.gateway_responses import PROTECTED_RESOURCE_PATH
from passport.routes import MCP_PATH

from tests.infra.test_iam import XRAY, grants, role_of
from tests.infra.test_monitoring import alarms_on, dashboard_body, function_ids
from tests.infra.test_stack import ROUTES, api_methods, joined

REGISTRATION_ROUTES = {"POST /oauth/register", "GET /oauth/register/{client_id}", "PUT /oauth/register/{client_id}",
                       "DELETE /oauth/register/{client_id}"}
LOGS_AND_TRACES = {("logs:CreateLogStream", "logs"), ("logs:PutLogEvents", "logs"), *((a, "*") for a in XRAY)}

#: The DPoP challenge the 401 offers beside Bearer (RFC 9449 7.1), and the closing quote of the header value.
DPOP_401 = ', DPoP error="invalid_token", algs="ES256 RS256 EdDSA"\''


def granted(synthesized, name: str) -> set[tuple[str, str]]:
    """(action, table setting | "secret" | "logs" | "*") of every grant of the function's role."""
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    secret = synthesized.logical_id(synthesized.stack.keys.secret)
    role = role_of(synthesized, synthesized.stack.functions[name].function)
    found = set()
    for grant in grants(synthesized.template):
        if grant.role == role:
            where = tables.get(grant.resource) or ("secret" if grant.resource == secret else grant.resource)
            found.add((grant.action, "logs" if grant.action.startswith("logs:") else where))
    return found


def served_by(synthesized, template, name: str) -> dict[str, dict]:
    function = synthesized.logical_id(synthesized.stack.functions[name].function)
    return {key: method for key, method in api_methods(template).items()
            if method["Integration"].get("Type") == "AWS_PROXY"
            and {"Fn::GetAtt": [function, "Arn"]} in method["Integration"]["Uri"]["Fn::Join"][1]}


def environment(synthesized, name: str) -> dict:
    function = synthesized.stack.functions[name].function
    return synthesized.resources[synthesized.logical_id(function)]["Properties"]["Environment"]["Variables"]


def test_the_register_function_serves_registration_and_its_management_as_public_routes(synthesized, template):
    """RFC 7591 3 (POST /oauth/register) and RFC 7592 2 (GET, PUT, DELETE at the registration_client_uri): the
    endpoint checks the registration policy and the registration access token itself; the guard is not on them."""
    methods = served_by(synthesized, template, "register")
    assert set(methods) == REGISTRATION_ROUTES
    for key, method in methods.items():
        assert method["AuthorizationType"] == "NONE" and "AuthorizerId" not in method, key


def test_the_register_role_writes_clients_counts_registrations_and_never_reads_a_key(synthesized):
    """Create (PutItem), read (GetItem) and replace or revoke (UpdateItem) clients; the per-address rate limit is
    a conditional increment in the tokens table (UpdateItem). No delete, no scan, no key secret."""
    assert granted(synthesized, "register") == {
        ("dynamodb:GetItem", "clients_table"),
        ("dynamodb:PutItem", "clients_table"),
        ("dynamodb:UpdateItem", "clients_table"),
        ("dynamodb:UpdateItem", "tokens_table"),
        *LOGS_AND_TRACES,
    }
    env = environment(synthesized, "register")
    assert {k for k in env if k.startswith("PASSPORT_STORAGE_")} == {
        "PASSPORT_STORAGE_CLIENTS_TABLE", "PASSPORT_STORAGE_TOKENS_TABLE"}
    assert "PASSPORT_KEYS_SECRET_NAME" not in env
    assert env["POWERTOOLS_SERVICE_NAME"] == "passport-register"


def test_the_mcp_server_is_a_resource_of_its_own_whose_function_runs_the_guard(synthesized, template):
    """MCP Streamable HTTP, stateless, at <issuer>/mcp: API Gateway lets its routes through (its one UNAUTHORIZED
    response per API names the API's metadata), and the function checks the Bearer token itself, so its 401 names
    the MCP server's own metadata (RFC 9728 5.1). Its guard gets the issuer; its audience is its resource."""
    mcp_routes = {route.key for route in ROUTES if route.function == "mcp"}
    assert f"POST {MCP_PATH}" in mcp_routes and all(route.bearer for route in ROUTES if route.function == "mcp")
    methods = served_by(synthesized, template, "mcp")
    assert set(methods) == mcp_routes
    for key, method in methods.items():
        assert method["AuthorizationType"] == "NONE" and "AuthorizerId" not in method, key
    env = environment(synthesized, "mcp")
    assert env["PASSPORT_ISSUER"] == environment(synthesized, "token")["PASSPORT_ISSUER"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "passport-mcp"


def test_the_mcp_role_reads_what_the_guard_reads_and_writes_only_dpop_proofs(synthesized):
    """Its in-process guard: the token's record and its client in one read (revocation), the published keys, and
    a DPoP proof spent (a dpop# item: tests/infra/test_iam.py checks the condition)."""
    assert granted(synthesized, "mcp") == {
        ("dynamodb:BatchGetItem", "tokens_table"),
        ("dynamodb:BatchGetItem", "clients_table"),
        ("dynamodb:PutItem", "tokens_table"),
        ("secretsmanager:GetSecretValue", "secret"),
        *LOGS_AND_TRACES,
    }
    env = environment(synthesized, "mcp")
    assert {k for k in env if k.startswith("PASSPORT_STORAGE_")} == {
        "PASSPORT_STORAGE_TOKENS_TABLE", "PASSPORT_STORAGE_CLIENTS_TABLE"}
    assert "PASSPORT_KEYS_SECRET_NAME" in env


def test_the_protected_resource_metadata_is_served_by_the_metadata_function_at_both_locations(synthesized, template):
    """RFC 9728 3: at /.well-known/oauth-protected-resource, and at that path followed by the resource's path
    (3.1: the API's identifier is <issuer>/api, the MCP server's <issuer>/mcp), all public."""
    methods = served_by(synthesized, template, "metadata")
    for key in (f"GET {PROTECTED_RESOURCE_PATH}", f"GET {PROTECTED_RESOURCE_PATH}/api",
                f"GET {PROTECTED_RESOURCE_PATH}{MCP_PATH}"):
        assert key in methods and methods[key]["AuthorizationType"] == "NONE", key


def test_a_bare_401_names_the_metadata_by_a_url_built_from_the_api_id_and_never_from_the_stage(synthesized):
    """RFC 9728 5.1: WWW-Authenticate: Bearer ..., resource_metadata="<the API's base URL>/.well-known/
    oauth-protected-resource/api". The Deployment depends on every gateway response and the Stage on the Deployment:
    a response naming the Stage would be a cycle, so the URL is made of the API's id and the stage's literal name."""
    api = synthesized.logical_id(synthesized.stack.api.api)
    (unauthorized,) = [r for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
                       if r["Properties"]["ResponseType"] == "UNAUTHORIZED"]
    challenge = joined(unauthorized["Properties"]["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"])
    assert challenge == (
        f"'Bearer error=\"invalid_token\", resource_metadata=\"https://<{api}>.execute-api.<AWS::Region>."
        f"<AWS::URLSuffix>/prod{PROTECTED_RESOURCE_PATH}/api\"" + DPOP_401
    )  # 3.1: at the location of the API's identifier, <issuer>/api (the local gateway's 401 names the same)
    assert synthesized.stack.api.resource_metadata_url.endswith(f"/prod{PROTECTED_RESOURCE_PATH}/api")
    stages = [*synthesized.of_type("AWS::ApiGateway::Stage"), *synthesized.of_type("AWS::ApiGateway::Deployment")]
    text = json.dumps(unauthorized)
    assert not [name for name in stages if name in text]
    # And the deployment still waits for it (so a deploy publishes the new challenge).
    (deployment,) = synthesized.of_type("AWS::ApiGateway::Deployment").values()
    responses = set(synthesized.of_type("AWS::ApiGateway::GatewayResponse"))
    assert responses <= set(deployment.get("DependsOn", []))


def test_register_and_mcp_alarm_on_errors_and_throttles_and_are_on_the_dashboard(synthesized):
    """docs/operations.md: alarms and the dashboard come from the function list; the two new functions are in it."""
    ids = function_ids(synthesized)
    _, parts = dashboard_body(synthesized)
    for name in ("register", "mcp"):
        for metric in ("Errors", "Throttles"):
            (alarm,) = alarms_on(synthesized, "AWS/Lambda", metric, FunctionName={"Ref": ids[name]})
            assert alarm["AlarmName"].startswith(f"{synthesized.stack.stack_name}-"), (name, metric)
        assert {"Ref": ids[name]} in parts, name
