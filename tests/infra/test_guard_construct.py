"""PassportGuard in a user's own CDK app: a stack of another app protects its own REST API with a guard of its
own (per-route rules) and its own HTTP API with the deployed guard, found by its exported ARN; another makes its
own MCP server a protected resource (RFC 9728 metadata, RFC 8707 audience)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk.assertions import Template
from passport.config import ConfigError, RouteRule
from passport.core.protected_resource import protected_resource_metadata
from passport.gateway_responses import GATEWAY_RESPONSES, PROTECTED_RESOURCE_PATH
from passport.guard.rules import RuleTable
from passport_cdk import PassportGuard, PassportResources

from infra.app import cdk_context
from tests.infra.conftest import resolve_ref
from tests.infra.test_compliance import cfn_lint, not_ignored
from tests.infra.test_iam import XRAY, grants

REGION, ACCOUNT = "eu-west-1", "123456789012"
OUTPUTS = {  # what `make deploy` printed for the passport stack
    "layer_version_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:LayerA7B50CFA:3",
    "keys_secret_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:KeysSecret88F3B70F-Xm2Ld0Bq9TzW-a1B2c3",
    "tokens_table_name": "PassportStack-TablesTokens107FFD66-1R2S3T4U5V6W",
    "clients_table_name": "PassportStack-TablesClients1DE6DB3C-7X8Y9Z0A1B2C",
    "issuer": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod",
}
GUARD_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:PassportStack-GuardFunction945E30EE-AbCdEf123456"
RULES = {
    "GET /orders": {"scopes": ["orders:read"]},
    "POST /orders": {"any_scopes": ["orders:write", "admin"]},
    "DELETE /orders/{order_id}": {"scopes": ["orders:write"], "subject": "user"},
}

#: The DPoP challenge the 401 offers beside Bearer (RFC 9449 7.1), and the closing quote of the header value.
DPOP_401 = ', DPoP error="invalid_token", algs="ES256 RS256 EdDSA"\''


class OrdersStack(Stack):
    """A user's own service, in its own app: nothing of lambda-passport's stack is in it."""

    def __init__(self, scope: App, id: str) -> None:
        super().__init__(scope, id)
        passport = PassportResources.from_outputs(self, "Passport", **OUTPUTS)
        # A Bearer-only API keeps API Gateway's cache (with DPoP it is off: tests below)
        guard = PassportGuard(self, "Guard", passport=passport, rules=RULES, cache_ttl=Duration.seconds(30),
                              dpop=False)
        backend = apigateway.MockIntegration(
            integration_responses=[apigateway.IntegrationResponse(status_code="200")],
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        self.rest = apigateway.RestApi(self, "Orders", deploy_options=apigateway.StageOptions(stage_name="v1"))
        guard.add_gateway_responses(self.rest)
        orders = self.rest.root.add_resource("orders")
        authorizer = guard.rest_authorizer(self.rest)
        for method in ("GET", "POST"):
            orders.add_method(
                method, backend, authorizer=authorizer, method_responses=[apigateway.MethodResponse(status_code="200")]
            )
        orders.add_resource("{order_id}").add_method(
            "DELETE", backend, authorizer=authorizer, method_responses=[apigateway.MethodResponse(status_code="200")]
        )
        self.rest.root.add_resource("health").add_method("GET", backend)  # public

        shared = PassportGuard(self, "SharedGuard", function_arn=GUARD_ARN)
        self.http = apigatewayv2.HttpApi(self, "Status")
        self.http.add_routes(
            path="/status",
            methods=[apigatewayv2.HttpMethod.GET],
            integration=integrations.HttpUrlIntegration("Upstream", "https://status.example.com/"),
            authorizer=shared.http_authorizer(self.http),
        )
        self.guard, self.shared = guard, shared


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> tuple[OrdersStack, dict[str, Any], Any]:
    # CDK's own CloudFormation validation is left out (it doubles the synthesis time): cfn-lint checks below.
    app = App(
        outdir=str(tmp_path_factory.mktemp("orders.out")),
        context=cdk_context(),
        builtin_cloud_formation_validation=False,
    )
    stack = OrdersStack(app, "OrdersStack")
    template = Template.from_stack(stack)
    return stack, template.to_json(), template


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_the_guard_of_its_own_carries_the_per_route_rules(orders):
    stack, template, _ = orders
    guard = stack.resolve(stack.guard.function.node.default_child.logical_id)
    env = template["Resources"][guard]["Properties"]["Environment"]["Variables"]
    rules = RuleTable.from_json(env["PASSPORT_GUARD_RULES"])
    assert rules.for_route("GET", "/orders") == RouteRule("GET", "/orders", scopes=("orders:read",))
    assert rules.for_route("POST", "/orders").any_scopes == ("orders:write", "admin")
    assert rules.for_route("DELETE", "/orders/o-17") == RouteRule(
        "DELETE", "/orders/{order_id}", scopes=("orders:write",), subject="user"
    )
    assert env["PASSPORT_ISSUER"] == OUTPUTS["issuer"]
    assert env["PASSPORT_KEYS_SECRET_NAME"] == OUTPUTS["keys_secret_arn"]
    assert env["PASSPORT_STORAGE_TOKENS_TABLE"] == OUTPUTS["tokens_table_name"]
    assert env["PASSPORT_STORAGE_CLIENTS_TABLE"] == OUTPUTS["clients_table_name"]
    props = template["Resources"][guard]["Properties"]
    assert props["Layers"] == [OUTPUTS["layer_version_arn"]] and props["Handler"] == "handler.handler"


def test_the_users_rest_api_is_guarded_on_its_own_routes_with_rfc6750_3_responses(orders):
    stack, template, assertions = orders
    ((authorizer_id, authorizer),) = _of_type(template, "AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 30
    methods = [r["Properties"] for r in _of_type(template, "AWS::ApiGateway::Method").values()]
    guarded = [m for m in methods if m.get("AuthorizationType") == "CUSTOM"]
    assert len(guarded) == 3 and all(m["AuthorizerId"] == {"Ref": authorizer_id} for m in guarded)
    assert len(methods) == 4  # and GET /health stays public
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in _of_type(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    # The guard's own: the rest of the API's gateway responses stay the user's.
    assert set(responses) == {"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"}
    for kind, response in responses.items():
        assert response["StatusCode"] == str(GATEWAY_RESPONSES[kind].status)
    assert (
        responses["UNAUTHORIZED"]["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"]
        == "'Bearer error=\"invalid_token\"'"
    )
    # API Gateway answers over https only: its own answers carry HSTS as the functions' do (RFC 6797).
    for response in responses.values():
        assert response["ResponseParameters"]["gatewayresponse.header.Strict-Transport-Security"] == (
            "'max-age=63072000; includeSubDomains'")
    guard = stack.resolve(stack.guard.function.node.default_child.logical_id)
    assertions.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "FunctionName": {"Fn::GetAtt": [guard, "Arn"]},
        },
    )


def test_the_guard_of_its_own_only_reads_the_passport_deployment(orders):
    """A Bearer-only guard (dpop=False): reads only. With DPoP it also spends proofs (the next test)."""
    stack, template, _ = orders
    guard = stack.resolve(stack.guard.function.node.default_child.logical_id)
    role = resolve_ref(template["Resources"][guard]["Properties"]["Role"])
    allowed = {(g.action, json.dumps(g.raw, sort_keys=True)) for g in grants(template) if g.role == role}
    actions = {a for a, _ in allowed}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:BatchGetItem",
        "secretsmanager:GetSecretValue",
        *XRAY,  # its traces (Resource: *, the only form of these two)
    }
    secret = [r for a, r in allowed if a == "secretsmanager:GetSecretValue"]
    assert secret == [json.dumps(OUTPUTS["keys_secret_arn"])]
    tables = " ".join(r for a, r in allowed if a == "dynamodb:BatchGetItem")
    assert OUTPUTS["tokens_table_name"] in tables and OUTPUTS["clients_table_name"] in tables
    assert "Users" not in tables


def test_a_guard_of_its_own_that_accepts_dpop_spends_proofs_and_keeps_no_authorizer_cache(tmp_path):
    """RFC 9449 11.1: its one write is a proof spent, a dpop# item of the passport tokens table (IAM's
    dynamodb:LeadingKeys); API Gateway's cache is off, and asking for one is refused at synth."""
    app = App(outdir=str(tmp_path), context=cdk_context(), builtin_cloud_formation_validation=False)
    stack = Stack(app, "DpopStack")
    passport = PassportResources.from_outputs(stack, "Passport", **OUTPUTS)
    guard = PassportGuard(stack, "Guard", passport=passport)
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method("GET", apigateway.MockIntegration(), authorizer=guard.rest_authorizer(api))
    template = Template.from_stack(stack).to_json()
    role = resolve_ref(template["Resources"][stack.resolve(guard.function.node.default_child.logical_id)][
        "Properties"]["Role"])
    statements = [st for policy in template["Resources"][role]["Properties"]["Policies"]
                  for st in policy["PolicyDocument"]["Statement"] if "dynamodb:PutItem" in str(st["Action"])]
    assert len(statements) == 1 and statements[0]["Action"] == "dynamodb:PutItem"
    assert statements[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["dpop#*"]}}
    (authorizer,) = [r["Properties"] for r in template["Resources"].values()
                     if r["Type"] == "AWS::ApiGateway::Authorizer"]
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    with pytest.raises(ValueError, match="replayed proof"):
        PassportGuard(stack, "Cached", passport=passport, cache_ttl=Duration.seconds(60))


def test_the_users_http_api_uses_the_deployed_guard_by_its_arn(orders):
    _, template, assertions = orders
    (authorizer,) = _of_type(template, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST" and props["AuthorizerPayloadFormatVersion"] == "2.0"
    assert props["EnableSimpleResponses"] is True
    # The route key too: a simple response answers for one route, and API Gateway reuses a cached answer for
    # every request with the same identity source values (tests/infra/test_authorizer_cache.py).
    assert props["IdentitySource"] == ["$request.header.Authorization", "$context.routeKey"]
    assert GUARD_ARN in json.dumps(props["AuthorizerUri"])
    assertions.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "FunctionName": GUARD_ARN,
        },
    )
    # Nothing new runs for it: one function in the stack, the guard of its own.
    assert len(_of_type(template, "AWS::Lambda::Function")) == 1


def test_the_users_template_lints_clean(orders, tmp_path):
    _, template, _ = orders
    path = tmp_path / "OrdersStack.template.json"
    path.write_text(json.dumps(template))
    assert not_ignored(cfn_lint(path)) == []


def test_mistakes_are_refused_at_synth():
    app = App()
    stack = Stack(app, "Mistakes")
    with pytest.raises(ConfigError, match="PASSPORT_GUARD_RULES"):
        PassportGuard(
            stack,
            "BadRule",
            function_arn=None,
            passport=PassportResources.from_outputs(stack, "Passport", **OUTPUTS),
            rules={"GET /orders": {"subject": "robot"}},
        )
    with pytest.raises(ValueError, match="guard of their own"):
        PassportGuard(stack, "RulesOnShared", function_arn=GUARD_ARN, rules={"GET /x": {}})
    with pytest.raises(ValueError, match="either"):
        PassportGuard(stack, "Neither")


# --- a protected resource (RFC 9728, RFC 8707): a user's own MCP server ----------------------------------------

MCP_RESOURCE = "https://mcp.example.com/mcp"
TOOLS_RESOURCE = "https://tools.example.com/"


class McpServerStack(Stack):
    """A user's own MCP server on a custom domain, and a second API on API Gateway's default URL, each a protected
    resource with a guard of its own."""

    def __init__(self, scope: App, id: str) -> None:
        super().__init__(scope, id)
        passport = PassportResources.from_outputs(self, "Passport", **OUTPUTS)
        backend = apigateway.MockIntegration(
            integration_responses=[apigateway.IntegrationResponse(status_code="200")],
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        self.guard = PassportGuard(self, "Guard", passport=passport, rules={"POST /mcp": {}})
        self.api = apigateway.RestApi(self, "Mcp", deploy_options=apigateway.StageOptions(stage_name="v1"))
        self.protected = self.guard.protect_resource(
            self.api, resource=MCP_RESOURCE, scopes=["orders:read"], name="Orders MCP server",
            base_url="https://mcp.example.com",
        )
        self.guard.add_gateway_responses(self.api)
        self.api.root.add_resource("mcp").add_method(
            "POST", backend, authorizer=self.guard.rest_authorizer(self.api),
            method_responses=[apigateway.MethodResponse(status_code="200")],
        )
        self.tools_guard = PassportGuard(self, "ToolsGuard", passport=passport)
        self.tools = apigateway.RestApi(self, "Tools")  # stage "prod", on its execute-api URL
        self.tools_guard.protect_resource(self.tools, resource=TOOLS_RESOURCE)
        self.tools_guard.add_gateway_responses(self.tools)
        self.tools.root.add_resource("run").add_method(
            "POST", backend, authorizer=self.tools_guard.rest_authorizer(self.tools),
            method_responses=[apigateway.MethodResponse(status_code="200")],
        )


@pytest.fixture(scope="module")
def mcp_server(tmp_path_factory) -> tuple[McpServerStack, dict[str, Any], dict[str, Any]]:
    """Synthesized with cdk-nag's AWS Solutions checks, as the passport stack is: the report lists the findings
    (the user's own API has some of its own, so synthesis fails; the template is written before)."""
    from aws_cdk import Validations
    from cdk_nag import AwsSolutionsChecks

    outdir = tmp_path_factory.mktemp("mcp.out")
    app = App(outdir=str(outdir), context=cdk_context(), builtin_cloud_formation_validation=False)
    stack = McpServerStack(app, "McpServerStack")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    try:
        app.synth()
    except Exception as error:  # jsii's error for a failed validation
        assert "ValidationFailed" in str(error), error
    template = json.loads((outdir / "McpServerStack.template.json").read_text())
    report = json.loads((outdir / "validation-report.json").read_text())
    return stack, template, report


def methods_by_path(template: dict) -> dict[str, dict]:
    """``"GET /.well-known/oauth-protected-resource"`` (prefixed by the API's logical id) -> the method."""
    resources = _of_type(template, "AWS::ApiGateway::Resource")

    def path(ref: dict) -> str:
        if "Ref" not in ref:
            return ""
        props = resources[ref["Ref"]]["Properties"]
        return f"{path(props['ParentId'])}/{props['PathPart']}"

    return {f"{m['Properties']['RestApiId']['Ref']} {m['Properties']['HttpMethod']} "
            f"{path(m['Properties']['ResourceId']) or '/'}": m["Properties"]
            for m in _of_type(template, "AWS::ApiGateway::Method").values()}


def _logical(stack: Stack, construct: Any) -> str:
    return stack.resolve(construct.node.default_child.logical_id)


def test_a_protected_resource_serves_its_rfc_9728_metadata_from_a_mock_integration(mcp_server):
    """RFC 9728 3: GET /.well-known/oauth-protected-resource answers the metadata (2: resource,
    authorization_servers, scopes_supported, bearer_methods_supported, resource_name) as application/json, and so
    does the path followed by the resource's own path (3.1). API Gateway answers it: no function runs."""
    stack, template, _ = mcp_server
    api = _logical(stack, stack.api)
    methods = methods_by_path(template)
    expected = protected_resource_metadata(resource=MCP_RESOURCE, authorization_server=OUTPUTS["issuer"],
                                           scopes=["orders:read"], name="Orders MCP server")
    assert expected["authorization_servers"] == [OUTPUTS["issuer"]] and expected["resource_name"]
    for path in (PROTECTED_RESOURCE_PATH, f"{PROTECTED_RESOURCE_PATH}/mcp"):
        method = methods[f"{api} GET {path}"]
        assert method["AuthorizationType"] == "NONE" and method["Integration"]["Type"] == "MOCK", path
        (answer,) = method["Integration"]["IntegrationResponses"]
        assert answer["StatusCode"] == "200"
        assert json.loads(answer["ResponseTemplates"]["application/json"]) == expected
        assert answer["ResponseParameters"]["method.response.header.Content-Type"] == "'application/json'"
    assert stack.protected.metadata == expected
    assert stack.protected.metadata_url == f"https://mcp.example.com{PROTECTED_RESOURCE_PATH}/mcp"  # 3.1
    tools = _logical(stack, stack.tools)
    tools_methods = {k for k in methods if k.startswith(f"{tools} GET /.well-known")}
    assert tools_methods == {f"{tools} GET {PROTECTED_RESOURCE_PATH}"}  # the resource has no path of its own


def _unauthorized(template: dict, api: str) -> dict:
    (response,) = [r["Properties"] for r in _of_type(template, "AWS::ApiGateway::GatewayResponse").values()
                   if r["Properties"]["ResponseType"] == "UNAUTHORIZED"
                   and r["Properties"]["RestApiId"] == {"Ref": api}]
    return response


def test_a_bare_401_of_a_protected_api_names_its_metadata(mcp_server):
    """RFC 9728 5.1: WWW-Authenticate: Bearer error="invalid_token", resource_metadata="<metadata URL>" (3.1's
    location for the resource's identifier), on the custom domain, and on API Gateway's default URL built from the
    API's id and the stage's literal name (never the Stage resource: the Deployment depends on the gateway
    responses)."""
    stack, template, _ = mcp_server
    challenge = _unauthorized(template, _logical(stack, stack.api))["ResponseParameters"][
        "gatewayresponse.header.WWW-Authenticate"]
    assert challenge == ("'Bearer error=\"invalid_token\", "
                         f"resource_metadata=\"https://mcp.example.com{PROTECTED_RESOURCE_PATH}/mcp\"" + DPOP_401)
    tools = _logical(stack, stack.tools)
    parts = _unauthorized(template, tools)["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"][
        "Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in parts)
    assert text == ("'Bearer error=\"invalid_token\", resource_metadata=\"https://"
                    f"<{tools}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod{PROTECTED_RESOURCE_PATH}\"" + DPOP_401)
    # The other refusals are as on any guarded API.
    assert GATEWAY_RESPONSES["ACCESS_DENIED"].status == 403


def test_the_guard_of_a_protected_resource_accepts_only_tokens_issued_for_it(mcp_server):
    """RFC 8707 2: the token's aud names the resource; the guard's PASSPORT_AUDIENCE is the resource, so a token
    for the passport API (or another resource) is refused by this API."""
    stack, template, _ = mcp_server
    for guard, resource in ((stack.guard, MCP_RESOURCE), (stack.tools_guard, TOOLS_RESOURCE)):
        env = template["Resources"][_logical(stack, guard.function)]["Properties"]["Environment"]["Variables"]
        assert env["PASSPORT_AUDIENCE"] == resource and env["PASSPORT_ISSUER"] == OUTPUTS["issuer"]


def test_a_protected_apis_template_lints_clean_and_cdk_nag_finds_nothing_in_what_the_construct_made(mcp_server,
                                                                                                  tmp_path):
    _, template, report = mcp_server
    path = tmp_path / "McpServerStack.template.json"
    path.write_text(json.dumps(template))
    assert not_ignored(cfn_lint(path)) == []  # no circular dependency (E3004) among them
    ours = [(violation["ruleName"], place["constructPath"]) for plugin in report["pluginReports"]
            for violation in plugin.get("violations", []) for place in violation["violatingConstructs"]
            if ".well-known" in place["constructPath"] or "Guard/" in place["constructPath"]]
    assert report["pluginReports"] and ours == []


def test_protect_resource_mistakes_are_refused_at_synth():
    app = App()
    stack = Stack(app, "ResourceMistakes")
    passport = PassportResources.from_outputs(stack, "Passport", **OUTPUTS)
    with pytest.raises(ValueError, match="guard of its own"):
        PassportGuard(stack, "Shared", function_arn=GUARD_ARN).protect_resource(
            apigateway.RestApi(stack, "A"), resource=MCP_RESOURCE)
    guard = PassportGuard(stack, "Own", passport=passport)
    with pytest.raises(ValueError, match="fragment"):
        guard.protect_resource(apigateway.RestApi(stack, "B"), resource="https://mcp.example.com/mcp#x")
    with pytest.raises(ValueError, match="base_url"):
        guard.protect_resource(apigateway.RestApi(stack, "C", deploy=False), resource=MCP_RESOURCE)
    late = apigateway.RestApi(stack, "D")
    guard.add_gateway_responses(late)
    with pytest.raises(ValueError, match="before add_gateway_responses"):
        guard.protect_resource(late, resource=MCP_RESOURCE)
    guard.protect_resource(apigateway.RestApi(stack, "E"), resource=MCP_RESOURCE)
    with pytest.raises(ValueError, match="one guard of its own per resource"):
        guard.protect_resource(apigateway.RestApi(stack, "F"), resource=TOOLS_RESOURCE)
    audience = PassportResources.from_outputs(stack, "WithAudience", **OUTPUTS, audience="https://api.example.com")
    with pytest.raises(ValueError, match="audience"):
        PassportGuard(stack, "Audience", passport=audience).protect_resource(
            apigateway.RestApi(stack, "G"), resource=MCP_RESOURCE)
