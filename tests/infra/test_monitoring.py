"""Operations (docs/operations.md), read from the synthesized template: X-Ray tracing on every function and the API
stage, CloudWatch alarms on errors and throttling (the functions, the API, the tables), each to the SNS topic
config names or the stack's own, and the dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from passport import iam_manifest
from passport.config import load_settings
from passport.storage.models import TABLES

from infra.constructs.function import METRICS_NAMESPACE
from infra.constructs.monitoring import CUSTOM_METRICS, TABLE_OPERATIONS
from infra.options import DeployOptions
from tests.infra.conftest import REPO, Synthesized, dump, resolve_ref

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:ops-pager"


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in synthesized.of_type("AWS::CloudWatch::Alarm").items()}


def watched(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every metric an alarm reads, as (namespace, metric name, dimensions), a single metric or a math expression's."""
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], {d["Name"]: d["Value"] for d in alarm["Dimensions"]})]
    found = []
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append(
                (metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]})
            )
    return found


def alarms_on(synthesized: Synthesized, namespace: str, metric: str, **dimensions: Any) -> list[dict[str, Any]]:
    """The alarms that read ``metric`` with exactly these dimensions (among others of theirs, for math)."""
    return [
        alarm
        for alarm in alarms(synthesized).values()
        if (namespace, metric, dimensions) in [(n, m, d) for n, m, d in watched(alarm)]
    ]


def dashboard_body(synthesized: Synthesized) -> tuple[dict[str, Any], list[Any]]:
    """The dashboard's body as JSON (each reference replaced by ``<logical id>``) and its raw Fn::Join parts."""
    ((_, dashboard),) = synthesized.of_type("AWS::CloudWatch::Dashboard").items()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(part if isinstance(part, str) else f"<{resolve_ref(part) or json.dumps(part)}>" for part in parts)
    return json.loads(text), parts


def function_ids(synthesized: Synthesized) -> dict[str, str]:
    return {name: synthesized.logical_id(f.function) for name, f in synthesized.stack.functions.items()}


def table_ids(synthesized: Synthesized) -> dict[str, str]:
    return {setting: synthesized.logical_id(t) for setting, t in synthesized.stack.tables.tables.items()}


# --- tracing -------------------------------------------------------------------------------------------------


def test_every_function_traces_actively_with_x_ray_and_names_its_powertools_service(synthesized):
    """docs/operations.md (tracing): the functions, the guard and install-keys; Powertools reads its service and the
    metrics namespace from the environment."""
    assert set(synthesized.stack.functions) >= {iam_manifest.GUARD, iam_manifest.INSTALL_KEYS, "token"}
    for name, logical_id in function_ids(synthesized).items():
        props = synthesized.resources[logical_id]["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE == "LambdaPassport", name
        assert env["POWERTOOLS_SERVICE_NAME"] == "passport-" + name.replace("_", "-"), name


def test_the_api_stage_traces_requests_through_to_the_functions(synthesized):
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["TracingEnabled"] is True


# --- alarms --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_any_error_and_any_throttle_in_five_minutes(synthesized, metric):
    """docs/operations.md: alarms on errors and throttling for each function by its own FunctionName (install-keys
    too: it also runs on updates that CI deploys unattended); the guard on throttling only (next test)."""
    for name, logical_id in function_ids(synthesized).items():
        if metric == "Errors" and name == iam_manifest.GUARD:
            continue
        (alarm,) = alarms_on(synthesized, "AWS/Lambda", metric, FunctionName={"Ref": logical_id})
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), name
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1), name


def test_the_guard_has_no_errors_alarm_its_failures_alarm_as_the_apis_5xx(synthesized):
    """A REST authorizer answers 401 only by raising "Unauthorized" (AWS, "Use API Gateway Lambda authorizers"),
    and Lambda counts each in Errors: an Errors alarm on the guard would page the operator for every bad token
    anyone sends. Its real failures (another exception, a timeout, a malformed answer) are the API's
    AUTHORIZER_FAILURE / AUTHORIZER_CONFIGURATION_ERROR, 5XX answers the Api5xx alarm watches; its throttles and
    p99 duration keep their alarms, and every other function keeps its Errors alarm."""
    ids = function_ids(synthesized)
    guard = {"Ref": ids[iam_manifest.GUARD]}
    assert alarms_on(synthesized, "AWS/Lambda", "Errors", FunctionName=guard) == []
    assert len(alarms_on(synthesized, "AWS/Lambda", "Throttles", FunctionName=guard)) == 1
    assert len(alarms_on(synthesized, "AWS/Lambda", "Duration", FunctionName=guard)) == 1
    others = {name: logical_id for name, logical_id in ids.items() if name != iam_manifest.GUARD}
    assert {"token", iam_manifest.INSTALL_KEYS} <= set(others)
    for name, logical_id in others.items():
        assert len(alarms_on(synthesized, "AWS/Lambda", "Errors", FunctionName={"Ref": logical_id})) == 1, name
    # Those failures are 5XX answers of the API: the guard's gateway responses, and the alarm on them.
    failures = {r["Properties"]["ResponseType"]: int(r["Properties"]["StatusCode"])
                for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
                if r["Properties"]["ResponseType"] in ("AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR")}
    assert len(failures) == 2 and all(500 <= status <= 599 for status in failures.values())
    stage = synthesized.logical_id(synthesized.stack.api.api.deployment_stage)
    assert len(alarms_on(synthesized, "AWS/ApiGateway", "5XXError", ApiName=synthesized.stack.stack_name,
                         Stage={"Ref": stage})) == 1


def test_the_guard_alarms_when_its_p99_duration_stays_above_one_second(synthesized):
    """The guard runs before every protected request: a slow guard is a slow API."""
    guard = function_ids(synthesized)[iam_manifest.GUARD]
    (alarm,) = alarms_on(synthesized, "AWS/Lambda", "Duration", FunctionName={"Ref": guard})
    assert alarm["ExtendedStatistic"] == "p99" and alarm["Threshold"] == 1000  # milliseconds
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3  # 15 minutes, not one slow cold start


def test_any_5xx_answer_of_the_api_stage_alarms_and_4xx_does_not(synthesized):
    """5XX is the server failing (a function, the guard, API Gateway); 4XX is OAuth refusing bad requests."""
    api = synthesized.resources[synthesized.logical_id(synthesized.stack.api.api)]
    stage = synthesized.logical_id(synthesized.stack.api.api.deployment_stage)
    # API Gateway's metrics are keyed by the API's name: the stack's, so no other API of the account mixes in.
    assert api["Properties"]["Name"] == synthesized.stack.stack_name
    (alarm,) = alarms_on(
        synthesized, "AWS/ApiGateway", "5XXError", ApiName=synthesized.stack.stack_name, Stage={"Ref": stage}
    )
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert not [a for a in alarms(synthesized).values() if any(m == "4XXError" for _, m, _ in watched(a))]


@pytest.mark.parametrize("setting", list(TABLES))
def test_every_table_alarms_on_throttled_reads_or_writes_of_it_and_its_indexes(synthesized, setting):
    table = {"Ref": table_ids(synthesized)[setting]}
    indexes = [index.Meta.index_name for index in getattr(TABLES[setting], "_indexes", {}).values()]
    expected = [
        ("AWS/DynamoDB", f"{kind}ThrottleEvents", {"TableName": table} | ({"GlobalSecondaryIndexName": i} if i else {}))
        for kind in ("Read", "Write")
        for i in [None, *indexes]
    ]
    (alarm,) = alarms_on(synthesized, "AWS/DynamoDB", "ReadThrottleEvents", TableName=table)
    assert sorted(map(dump, watched(alarm))) == sorted(map(dump, expected))
    (expression,) = [q for q in alarm["Metrics"] if "Expression" in q]
    # One sum over all of them: a throttle anywhere counts.
    assert expression["Expression"] == f"SUM([{', '.join(q['Id'] for q in alarm['Metrics'] if 'MetricStat' in q)}])"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


@pytest.mark.parametrize("setting", list(TABLES))
def test_every_table_alarms_on_dynamodb_system_errors_of_every_operation_passport_makes(synthesized, setting):
    table = {"Ref": table_ids(synthesized)[setting]}
    (alarm,) = alarms_on(synthesized, "AWS/DynamoDB", "SystemErrors", TableName=table, Operation="GetItem")
    assert {d["Operation"] for _, _, d in watched(alarm)} == set(TABLE_OPERATIONS)
    # Every DynamoDB action any function is granted on any table is among them.
    granted = {a for needs in iam_manifest.FUNCTIONS.values() for actions in needs.tables.values() for a in actions}
    assert granted <= set(TABLE_OPERATIONS)
    assert len(alarm["Metrics"]) <= 11  # CloudWatch: at most ten metrics (and the expression) in one alarm


def test_every_alarm_notifies_the_topic_when_it_fires_and_clears_and_an_idle_stack_never_alarms(synthesized):
    found = alarms(synthesized)
    functions, tables = len(synthesized.stack.functions), len(TABLES)
    # Errors (not the guard's) and Throttles per function, the guard's duration, the API's 5XX, Throttles and
    # SystemErrors per table.
    assert len(found) == (functions - 1) + functions + 1 + 1 + 2 * tables
    topic = synthesized.logical_id(synthesized.stack.monitoring.topic)
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": topic}] and alarm["OKActions"] == [{"Ref": topic}], name
        # No metric at all is what an idle deployment sends.
        assert alarm["TreatMissingData"] == "notBreaching", name
        # Says what it means and where to look.
        assert len(alarm["AlarmDescription"].split()) >= 15 and "Look at" in alarm["AlarmDescription"], name
        assert alarm["AlarmName"].startswith(f"{synthesized.stack.stack_name}-"), name


def test_the_stacks_own_alarm_topic_takes_cloudwatch_alarms_only_over_tls_and_is_an_output(synthesized):
    (topic_id,) = synthesized.of_type("AWS::SNS::Topic")
    assert synthesized.logical_id(synthesized.stack.monitoring.topic) == topic_id
    # No KMS key: CloudWatch cannot use the AWS-managed aws/sns key, and a key of our own costs money while idle.
    assert "KmsMasterKeyId" not in synthesized.resources[topic_id]["Properties"]
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":alarm:*" in json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert synthesized.template["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": topic_id}


def test_a_topic_named_in_the_deploy_section_receives_the_alarms_and_no_topic_is_made(tmp_path, synthesized):
    """``[deploy] alarm_topic_arn``: read from the settings file through DeployOptions. Built, not synthesized:
    the constructs already say what the template will."""
    from aws_cdk import App

    from infra.stack import PassportStack

    config = tmp_path / "passport.toml"
    text = (REPO / "passport.toml").read_text()
    assert 'alarm_topic_arn = ""' in text  # the shipped file documents it, empty
    config.write_text(text.replace('alarm_topic_arn = ""', f'alarm_topic_arn = "{TOPIC_ARN}"'))
    settings = load_settings(config, environ={"PASSPORT_DEMO_ENABLED": "true"})  # as `synthesized` is built
    assert DeployOptions.from_settings(settings).alarm_topic_arn == TOPIC_ARN
    stack = PassportStack(
        App(context={"aws:cdk:disable-asset-staging": True}),
        "Configured",
        settings=settings,
        settings_file=config,
        layer_dir=Path(synthesized.stack.layer.directory),
    )
    children = stack.node.find_all()
    assert not [c for c in children if isinstance(c, sns.CfnTopic | sns.CfnTopicPolicy)]
    made = [c for c in children if isinstance(c, cloudwatch.CfnAlarm)]
    assert len(made) == len(alarms(synthesized))
    for alarm in made:
        assert stack.resolve(alarm.alarm_actions) == [TOPIC_ARN] == stack.resolve(alarm.ok_actions)
    assert stack.resolve(stack.monitoring.topic.topic_arn) == TOPIC_ARN


def test_the_alarm_topic_follows_the_environment_convention_and_must_be_a_standard_topic_arn(tmp_path):
    config = tmp_path / "passport.toml"
    config.write_text("")
    assert load_settings(config, environ={}).deploy.alarm_topic_arn == ""
    overridden = load_settings(config, environ={"PASSPORT_DEPLOY_ALARM_TOPIC_ARN": TOPIC_ARN})
    assert overridden.deploy.alarm_topic_arn == TOPIC_ARN
    assert DeployOptions(alarm_topic_arn=TOPIC_ARN).alarm_topic_arn == TOPIC_ARN
    for wrong in ("ops-pager", f"{TOPIC_ARN}.fifo", "arn:aws:sqs:eu-west-1:123456789012:ops", TOPIC_ARN + " "):
        with pytest.raises(ValueError, match="alarm_topic_arn"):
            DeployOptions(alarm_topic_arn=wrong)


# --- the dashboard -------------------------------------------------------------------------------------------


def test_the_dashboard_is_named_after_the_stack_and_is_an_output(synthesized):
    ((dashboard_id, dashboard),) = synthesized.of_type("AWS::CloudWatch::Dashboard").items()
    name = dashboard["Properties"]["DashboardName"]
    assert name == {"Fn::Join": ["", [f"{synthesized.stack.stack_name}-", {"Ref": "AWS::Region"}]]}
    url = synthesized.template["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    assert {"Ref": dashboard_id} in url and "#dashboards:name=" in "".join(p for p in url if isinstance(p, str))


def test_the_dashboard_graphs_every_function_every_table_and_the_api(synthesized):
    body, parts = dashboard_body(synthesized)
    for name, logical_id in function_ids(synthesized).items():
        assert {"Ref": logical_id} in parts, name
    for setting, logical_id in table_ids(synthesized).items():
        assert {"Ref": logical_id} in parts, setting
    metrics = [line for w in body["widgets"] for line in w["properties"].get("metrics", [])]
    named = {(line[0], line[1]) for line in metrics if isinstance(line[0], str)}
    for metric in ("Count", "4XXError", "5XXError", "Latency"):
        assert ("AWS/ApiGateway", metric) in named
    for metric in ("Invocations", "Errors", "Duration", "Throttles"):
        assert ("AWS/Lambda", metric) in named
    for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "SystemErrors"):
        assert ("AWS/DynamoDB", metric) in named
    stats = {line[-1].get("stat") for line in metrics if isinstance(line[-1], dict)}
    assert {"p50", "p99"} <= stats
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert any(t.startswith("token:") for t in titles) and any(t.startswith("guard:") for t in titles)
    (status,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == len(alarms(synthesized))


def test_the_dashboard_graphs_the_metrics_the_handlers_emit_in_the_lambda_passport_namespace(synthesized):
    """TokensIssued by grant_type, GrantFailures by error, GuardDecisions by decision, GuardCacheHits: found by
    namespace and name, whatever dimensions Powertools adds (its service)."""
    body, _ = dashboard_body(synthesized)
    expressions = [
        line[0]
        for w in body["widgets"]
        for line in w["properties"].get("metrics", [])
        if isinstance(line[0], dict) and "SEARCH(" in line[0].get("expression", "")
    ]
    assert CUSTOM_METRICS == {
        "TokensIssued": "grant_type",
        "GrantFailures": "error",
        "GuardDecisions": "decision",
        "GuardCacheHits": "",
    }
    for metric, dimension in CUSTOM_METRICS.items():
        (found,) = [e for e in expressions if f'MetricName="{metric}"' in e["expression"]]
        assert re.fullmatch(
            rf"SEARCH\('Namespace=\"LambdaPassport\" MetricName=\"{metric}\"', 'Sum', 300\)", found["expression"]
        )
        if dimension:
            assert found["label"] == f"${{PROP('Dim.{dimension}')}}"  # a line per grant type, error, decision
