"""PassportGuard in a user's own CDK app: a stack of another app protects its own REST API with a guard of its
own (per-route rules) and its own HTTP API with the deployed guard, found by its exported ARN."""

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
from passport.gateway_responses import GATEWAY_RESPONSES
from passport.guard.rules import RuleTable

from infra.app import cdk_context
from infra.constructs import PassportGuard, PassportResources
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


class OrdersStack(Stack):
    """A user's own service, in its own app: nothing of lambda-passport's stack is in it."""

    def __init__(self, scope: App, id: str) -> None:
        super().__init__(scope, id)
        passport = PassportResources.from_outputs(self, "Passport", **OUTPUTS)
        guard = PassportGuard(self, "Guard", passport=passport, rules=RULES, cache_ttl=Duration.seconds(30))
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


def test_the_users_rest_api_is_guarded_on_its_own_routes_with_spec_6_responses(orders):
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


def test_the_users_http_api_uses_the_deployed_guard_by_its_arn(orders):
    _, template, assertions = orders
    (authorizer,) = _of_type(template, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST" and props["AuthorizerPayloadFormatVersion"] == "2.0"
    assert props["EnableSimpleResponses"] is True
    assert props["IdentitySource"] == ["$request.header.Authorization"]
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
