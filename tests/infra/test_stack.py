"""PassportStack's template: its resources, built from the route table, the table schema and the settings file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import CfnDeletionPolicy
from aws_cdk.assertions import Match, Template
from passport import iam_manifest
from passport.authorizer_cache import ttl_seconds
from passport.config import load_settings
from passport.gateway_responses import GATEWAY_RESPONSES, gateway_responses
from passport.routes import preflight_routes, route_table
from passport.storage.connection import table_schema
from passport.storage.models import TABLES

from tests.infra.conftest import REPO, Synthesized, resolve_ref

# The synthesized stack has the demos on (tests/infra/conftest.py); test_demo.py looks at the one without.
SETTINGS = load_settings(REPO / "passport.toml", environ={"PASSPORT_DEMO_ENABLED": "true"})
ROUTES = route_table(SETTINGS)
ROUTE_FUNCTIONS = list(dict.fromkeys(route.function for route in ROUTES))


def _paths(template: dict) -> dict[str, str]:
    """API Gateway resource logical id -> its full path."""
    resources = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Resource"}
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = "" if "Fn::GetAtt" in parent else path_of(parent["Ref"])
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def api_methods(template: dict) -> dict[str, dict]:
    """``"GET /api/orders"`` -> the method's properties."""
    paths = _paths(template)
    methods = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::Method":
            props = resource["Properties"]
            parent = props["ResourceId"]
            path = paths[parent["Ref"]] if "Ref" in parent else "/"
            methods[f"{props['HttpMethod']} {path}"] = props
    return methods


def test_one_function_per_route_function_plus_the_guard_install_keys_and_the_provider_framework(synthesized):
    template = Template.from_stack(synthesized.stack)
    template.resource_count_is("AWS::Lambda::Function", len(ROUTE_FUNCTIONS) + 3)
    assert set(synthesized.stack.functions) == {*ROUTE_FUNCTIONS, iam_manifest.GUARD, iam_manifest.INSTALL_KEYS}
    template.resource_count_is("AWS::DynamoDB::Table", len(TABLES))
    template.resource_count_is("AWS::SecretsManager::Secret", 1)
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    template.resource_count_is("AWS::ApiGateway::RestApi", 1)
    template.resource_count_is("AWS::ApiGateway::Authorizer", 1)
    template.resource_count_is("AWS::ApiGateway::Method", len(ROUTES) + len(preflight_routes(ROUTES)))
    template.resource_count_is("AWS::ApiGateway::GatewayResponse", len(GATEWAY_RESPONSES))
    template.resource_count_is("Custom::PassportInstallKeys", 1)
    # No VPC, no NAT gateway, no provisioned capacity: nothing here costs money while idle.
    for kind in ("AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::Lambda::Version", "AWS::KMS::Key"):
        template.resource_count_is(kind, 0)


def test_the_template_is_environment_agnostic(template):
    text = json.dumps(template)
    assert "unknown-account" not in text and "unknown-region" not in text
    assert '"Ref": "AWS::Region"' in text  # the region comes from where it is deployed


@pytest.mark.parametrize("setting", list(TABLES))
def test_tables_follow_the_model_schema_on_demand_with_pitr_encryption_and_ttl(synthesized, setting):
    model = TABLES[setting]
    table = synthesized.resources[synthesized.logical_id(synthesized.stack.tables[setting])]
    props = table["Properties"]
    hash_key = next(a for a in model.get_attributes().values() if a.is_hash_key)
    assert props["KeySchema"] == [{"AttributeName": hash_key.attr_name, "KeyType": "HASH"}]
    # The same key schema and indexes the local store creates from the model.
    schema = table_schema(model)
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(schema["attribute_definitions"], key=str)
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i["index_name"] for i in schema["global_secondary_indexes"]}
    for index in schema["global_secondary_indexes"]:
        assert sorted(indexes[index["index_name"]]["KeySchema"], key=str) == sorted(index["key_schema"], key=str)
        assert indexes[index["index_name"]]["Projection"] == {"ProjectionType": "ALL"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # SSEEnabled: KMS with the AWS-managed key aws/dynamodb (false or absent: an AWS-owned key).
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "TableName" not in props  # CloudFormation names it; functions get the name in their environment
    if "ttl" in model.get_attributes():
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    # Retained by default, and protected from deletion.
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True


def test_the_tokens_table_expires_items_by_ttl(synthesized):
    tokens = synthesized.resources[synthesized.logical_id(synthesized.stack.tables["tokens_table"])]
    assert tokens["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_the_key_secret_is_retained_and_holds_no_value_in_the_template(synthesized):
    (secret,) = synthesized.of_type("AWS::SecretsManager::Secret").values()
    assert secret["DeletionPolicy"] == "Retain" and secret["UpdateReplacePolicy"] == "Retain"
    # A value in the template would be written again as a new version whenever it changed: the keys with it.
    assert "SecretString" not in secret["Properties"] and "GenerateSecretString" not in secret["Properties"]
    assert "KmsKeyId" not in secret["Properties"]  # the AWS-managed aws/secretsmanager key


def test_every_function_runs_python_3_12_or_newer_on_arm64_from_its_folder_on_the_layer(synthesized):
    layer = synthesized.logical_id(synthesized.stack.layer.layer)
    for name, function in synthesized.stack.functions.items():
        props = synthesized.resources[synthesized.logical_id(function.function)]["Properties"]
        family, version = props["Runtime"][:6], props["Runtime"][6:]
        assert family == "python" and tuple(map(int, version.split("."))) >= (3, 12), name
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "handler.handler"
        assert props["Layers"] == [{"Ref": layer}]
        assert props["Environment"]["Variables"]["PASSPORT_CONFIG"] == "/opt/passport.toml"
        assert (REPO / "functions" / name / "handler.py").is_file()
        assert props["LoggingConfig"]["LogFormat"] == "JSON"


def test_functions_are_told_only_the_tables_and_secret_they_may_use(synthesized):
    secret = synthesized.logical_id(synthesized.stack.keys.secret)
    for name, function in synthesized.stack.functions.items():
        env = synthesized.resources[synthesized.logical_id(function.function)]["Properties"]["Environment"]["Variables"]
        needs = iam_manifest.needs(name, SETTINGS)
        tables = {k for k in env if k.startswith("PASSPORT_STORAGE_")}
        assert tables == {f"PASSPORT_STORAGE_{s.upper()}" for s in needs.tables}, name
        for setting in needs.tables:
            expected = synthesized.logical_id(synthesized.stack.tables[setting])
            assert env[f"PASSPORT_STORAGE_{setting.upper()}"] == {"Ref": expected}
        if needs.secret:
            assert env["PASSPORT_KEYS_SECRET_NAME"] == {"Ref": secret}, name
        else:
            assert "PASSPORT_KEYS_SECRET_NAME" not in env, name


def test_the_issuer_is_built_from_the_rest_api_id_not_from_its_deployment(synthesized):
    api = synthesized.logical_id(synthesized.stack.api.api)
    for name in [*ROUTE_FUNCTIONS, iam_manifest.GUARD]:
        function = synthesized.stack.functions[name].function
        issuer = synthesized.resources[synthesized.logical_id(function)]["Properties"]["Environment"]["Variables"][
            "PASSPORT_ISSUER"
        ]
        parts = issuer["Fn::Join"][1]
        assert parts[0] == "https://" and {"Ref": api} in parts and parts[-1] == "/prod", name
        assert "Deployment" not in json.dumps(issuer) and "Stage" not in json.dumps(issuer)


def test_every_route_has_exactly_one_method_and_every_method_is_a_route(template):
    methods = api_methods(template)  # and the CORS preflights of the paths that allow cross-origin reads
    assert sorted(methods) == sorted(route.key for route in (*ROUTES, *preflight_routes(ROUTES)))


def test_each_method_invokes_its_routes_function_through_a_proxy_integration(synthesized, template):
    methods = api_methods(template)
    for route in ROUTES:
        integration = methods[route.key]["Integration"]
        assert integration["Type"] == "AWS_PROXY" and integration["IntegrationHttpMethod"] == "POST"
        function = synthesized.logical_id(synthesized.stack.functions[route.function].function)
        assert {"Fn::GetAtt": [function, "Arn"]} in integration["Uri"]["Fn::Join"][1], route.key


def test_the_guard_is_on_exactly_the_routes_with_a_rule(synthesized, template):
    (authorizer_id,) = synthesized.of_type("AWS::ApiGateway::Authorizer")
    guarded = {route.key for route in ROUTES if route.rule is not None}
    # The demo API's (the demo MCP server, a resource of its own, runs the guard in its function: tests/infra/
    # test_mcp.py).
    assert guarded == {f"GET {rule.path}" for rule in SETTINGS.demo_api.routes}
    for key, method in api_methods(template).items():
        if key in guarded:
            assert method["AuthorizationType"] == "CUSTOM" and method["AuthorizerId"] == {"Ref": authorizer_id}, key
        else:
            assert method["AuthorizationType"] == "NONE" and "AuthorizerId" not in method, key


def test_the_guard_is_a_request_authorizer_on_the_authorization_header_cached_as_configured(synthesized):
    template = Template.from_stack(synthesized.stack)
    guard = synthesized.logical_id(synthesized.stack.guard.function)
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "REQUEST",
            "IdentitySource": "method.request.header.Authorization",
            # With DPoP on (the default) API Gateway's cache is off: a cached answer would pass a replayed proof
            "AuthorizerResultTtlInSeconds": ttl_seconds(SETTINGS.guard.authorizer_cache_seconds,
                                                        dpop=SETTINGS.dpop.enabled),
            "AuthorizerUri": {"Fn::Join": ["", Match.array_with([{"Fn::GetAtt": [guard, "Arn"]}])]},
        },
    )
    # The guard reads its rules from the route table in the layer, not from a variable.
    env = synthesized.resources[guard]["Properties"]["Environment"]["Variables"]
    assert "PASSPORT_GUARD_RULES" not in env


def test_api_gateway_may_invoke_the_guard_and_each_function_only_from_this_api(synthesized):
    api = synthesized.logical_id(synthesized.stack.api.api)
    invoked = set()
    for permission in synthesized.of_type("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com"
        assert {"Ref": api} in props["SourceArn"]["Fn::Join"][1]
        invoked.add(resolve_ref(props["FunctionName"]))
    expected = {synthesized.logical_id(synthesized.stack.functions[n].function) for n in [*ROUTE_FUNCTIONS, "guard"]}
    assert invoked == expected


def joined(value) -> str:
    """A template value as text: each ``Ref`` as ``<logical id>`` (``<AWS::Region>``), literals as they are."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return separator.join(joined(part) for part in parts)


@pytest.mark.parametrize("kind", list(GATEWAY_RESPONSES))
def test_gateway_responses_are_the_shared_definitions(synthesized, kind):
    api = synthesized.logical_id(synthesized.stack.api.api)
    metadata = (f"https://<{api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod/.well-known/"
                "oauth-protected-resource/api")
    # API Gateway is https only; the passport API's own answers are readable cross-origin (passport.cors)
    expected = gateway_responses(resource_metadata=metadata, https=True, cors=True, dpop=True)[kind]
    (response,) = [
        r["Properties"]
        for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == kind
    ]
    assert response["StatusCode"] == str(expected.status)
    assert json.loads(response["ResponseTemplates"]["application/json"]) == expected.body
    headers = {k.removeprefix("gatewayresponse.header."): joined(v)
               for k, v in response.get("ResponseParameters", {}).items()}
    assert headers == {name: f"'{value}'" for name, value in expected.headers.items()}


def test_a_refusal_by_the_guard_carries_the_rfc6750_3_www_authenticate_header(synthesized):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    header = "gatewayresponse.header.WWW-Authenticate"
    assert set(responses["UNAUTHORIZED"]["ResponseParameters"]) == {
        header, "gatewayresponse.header.Strict-Transport-Security",
        "gatewayresponse.header.Access-Control-Allow-Origin", "gatewayresponse.header.Access-Control-Expose-Headers"}
    challenge = joined(responses["UNAUTHORIZED"]["ResponseParameters"][header])
    assert challenge.startswith("'Bearer error=\"invalid_token\", resource_metadata=\"https://")  # and RFC 9728 5.1
    assert responses["ACCESS_DENIED"]["StatusCode"] == "403"
    assert (
        "insufficient_scope"
        in responses["ACCESS_DENIED"]["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"]
    )
    assert responses["AUTHORIZER_FAILURE"]["StatusCode"] == "503"
    assert responses["AUTHORIZER_FAILURE"]["ResponseParameters"] == {
        "gatewayresponse.header.Retry-After": "'1'",
        "gatewayresponse.header.Strict-Transport-Security": "'max-age=63072000; includeSubDomains'",
        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
        "gatewayresponse.header.Access-Control-Expose-Headers": "'WWW-Authenticate, Retry-After'"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


def test_the_stage_is_throttled_and_writes_json_access_logs_without_headers_or_queries(synthesized):
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "prod"
    (settings,) = props["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert settings["ThrottlingRateLimit"] == 500 and settings["ThrottlingBurstLimit"] == 1000
    assert settings["DataTraceEnabled"] is False
    fields = json.loads(props["AccessLogSetting"]["Format"])
    assert fields["requestId"] == "$context.requestId" and fields["status"] == "$context.status"
    assert fields["authorizerError"] == "$context.authorizer.error"
    assert not [v for v in fields.values() if "header" in v or "querystring" in v.lower() or "body" in v.lower()]
    logs = synthesized.logical_id(synthesized.stack.api.access_logs)
    assert {"Ref": logs} in props["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    assert synthesized.resources[logs]["Properties"]["RetentionInDays"] == 365


def test_the_api_opens_only_after_install_keys_made_the_keys(synthesized):
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    assert synthesized.logical_id(synthesized.stack.install_keys.resource) in stage["DependsOn"]


def test_install_keys_is_a_provider_framework_custom_resource_on_its_function(synthesized):
    (resource,) = synthesized.of_type("Custom::PassportInstallKeys").values()
    props = resource["Properties"]
    framework = resolve_ref(props["ServiceToken"])
    handler = synthesized.logical_id(synthesized.stack.install_keys.handler.function)
    framework_env = synthesized.resources[framework]["Properties"]["Environment"]["Variables"]
    assert framework_env["USER_ON_EVENT_FUNCTION_ARN"] == {"Fn::GetAtt": [handler, "Arn"]}
    assert props["KeysSecret"] == {"Ref": synthesized.logical_id(synthesized.stack.keys.secret)}
    assert props["Algorithm"] == SETTINGS.keys.algorithm and props["RsaBits"] == str(SETTINGS.keys.rsa_bits)
    handler_props = synthesized.resources[handler]["Properties"]
    assert handler_props["Timeout"] >= 60  # an RSA-4096 key takes seconds to generate


def test_outputs_name_the_issuer_token_endpoint_jwks_and_the_exported_guard(synthesized):
    outputs = synthesized.template["Outputs"]
    api = synthesized.logical_id(synthesized.stack.api.api)

    def url(name: str) -> str:
        parts = outputs[name]["Value"]["Fn::Join"][1]
        assert {"Ref": api} in parts
        return "".join(p if isinstance(p, str) else "{}" for p in parts)

    assert url("IssuerUrl").endswith("/prod")
    assert url("TokenEndpoint") == url("IssuerUrl") + "/oauth/token"
    assert url("JwksUrl") == url("IssuerUrl") + "/.well-known/jwks.json"
    assert url("MetadataUrl") == url("IssuerUrl") + "/.well-known/oauth-authorization-server"
    assert url("OpenIdConfigurationUrl") == url("IssuerUrl") + "/.well-known/openid-configuration"
    guard = synthesized.logical_id(synthesized.stack.guard.function)
    assert outputs["GuardFunctionArn"]["Value"] == {"Fn::GetAtt": [guard, "Arn"]}
    assert outputs["GuardFunctionArn"]["Export"] == {"Name": "PassportStack-GuardFunctionArn"}
    # What the CLI and a guard in another app need to find the deployment, and where to watch it; nothing else.
    assert set(outputs) == {
        "IssuerUrl",
        "TokenEndpoint",
        "JwksUrl",
        "MetadataUrl",
        "OpenIdConfigurationUrl",
        "GuardFunctionArn",
        "LayerVersionArn",
        "KeysSecretArn",
        "ClientsTableName",
        "UsersTableName",
        "TokensTableName",
        "AlarmTopicArn",
        "DashboardUrl",
    }


def test_the_issuer_optional_grants_and_removal_policy_configured_reach_the_stack(tmp_path, synthesized: Synthesized):
    """Built, not synthesized: the constructs already say what the template will."""
    from aws_cdk import App

    from infra.options import DeployOptions
    from infra.stack import PassportStack

    config = tmp_path / "passport.toml"
    text = (REPO / "passport.toml").read_text().replace('issuer = ""', 'issuer = "https://auth.example.com/"')
    text = text.replace("password = false", "password = true").replace("implicit = false", "implicit = true")
    text = text.replace("# enabled = false", "enabled = true")  # the demo API's guarded routes: a 401 to look at
    config.write_text(text)
    settings = load_settings(config, environ={})
    stack = PassportStack(
        App(context={"aws:cdk:disable-asset-staging": True}),
        "Throwaway",
        settings=settings,
        settings_file=config,
        options=DeployOptions(removal_policy="destroy"),
        layer_dir=Path(synthesized.stack.layer.directory),
    )
    assert stack.issuer == "https://auth.example.com"
    for name in [*ROUTE_FUNCTIONS, iam_manifest.GUARD]:
        assert stack.functions[name].environment["PASSPORT_ISSUER"] == "https://auth.example.com", name
    # RFC 9728 5.1 on the custom domain: the 401 names the metadata under the issuer, as the local gateway's does.
    (unauthorized,) = [c for c in stack.api.api.node.find_all()
                       if getattr(c, "cfn_resource_type", "") == "AWS::ApiGateway::GatewayResponse"
                       and c.response_type == "UNAUTHORIZED"]
    assert unauthorized.response_parameters == {"gatewayresponse.header.WWW-Authenticate": (
        '\'Bearer error="invalid_token", '
        'resource_metadata="https://auth.example.com/.well-known/oauth-protected-resource/api", '
        'DPoP error="invalid_token", algs="ES256 RS256 EdDSA"\''),  # RFC 9449 7.1: DPoP is offered too
        "gatewayresponse.header.Strict-Transport-Security": "'max-age=63072000; includeSubDomains'",
        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
        "gatewayresponse.header.Access-Control-Expose-Headers": "'WWW-Authenticate, Retry-After'"}
    for table in stack.tables.tables.values():
        assert table.node.default_child.cfn_options.deletion_policy == CfnDeletionPolicy.DELETE
        assert stack.resolve(table.node.default_child.deletion_protection_enabled) is False
    assert stack.keys.secret.node.default_child.cfn_options.deletion_policy == CfnDeletionPolicy.DELETE
    # The password grant makes the token function read users. The pages read the keys with or without the implicit
    # grant (which signs with them): the id_token_hint of OpenID Connect logout is checked against them.
    token, pages = stack.functions["token"], stack.functions["authorize"]
    assert token.needs.tables["users_table"] == ("GetItem",) and "PASSPORT_STORAGE_USERS_TABLE" in token.environment
    assert pages.needs.secret == "read" and "PASSPORT_KEYS_SECRET_NAME" in pages.environment
    assert "users_table" not in synthesized.stack.functions["token"].needs.tables  # off in the shipped settings
    shipped = synthesized.stack.functions["authorize"]
    assert shipped.needs.secret == "read" and "PASSPORT_KEYS_SECRET_NAME" in shipped.environment


def test_deploy_options_come_from_a_deploy_section_of_the_settings(monkeypatch):
    from types import SimpleNamespace

    from infra.options import DeployOptions

    assert DeployOptions.from_settings(SETTINGS) == DeployOptions()  # the shipped [deploy] section: the defaults
    assert DeployOptions().retain
    section = SimpleNamespace(removal_policy="destroy", log_retention_days=30)
    options = DeployOptions.from_settings(SimpleNamespace(deploy=section))
    assert (options.removal_policy, options.log_retention_days, options.throttle_rate) == ("destroy", 30, 500)
    with pytest.raises(ValueError, match="removal_policy"):
        DeployOptions(removal_policy="keep")
    with pytest.raises(ValueError, match="log_retention_days"):
        DeployOptions(log_retention_days=42)


def test_a_stack_is_never_built_with_metadata_documents_fetched_from_loopback(tmp_path):
    """client_documents.allow_loopback is for `passport serve`: on Lambda it would let a client ID's URL reach
    the function's own loopback (draft-ietf-oauth-client-id-metadata-document-03, Security Considerations)."""
    from infra.app import build_app

    settings_file = tmp_path / "passport.toml"
    settings_file.write_text('issuer = "https://auth.example.com"\n[client_documents]\nallow_loopback = true\n')
    with pytest.raises(SystemExit, match="allow_loopback is for `passport serve` only"):
        build_app(outdir=str(tmp_path / "out"), settings_file=settings_file, nag=False)
