"""``PassportMonitoring``: the CloudWatch alarms and the dashboard of a passport deployment (docs/operations.md).

Alarms, each to one SNS topic (its ``alarm_topic_arn`` from ``[deploy]``, else a topic of the stack's own), when
the alarm fires and when it clears:

* every function: any throttle (5 minutes, sum); every function but the guard: any error; the guard when its p99
  duration stays above a second (it runs before every protected request);
* the API stage: any 5XX answer (an integration failure, a guard failure, API Gateway's own);
* every table: any throttled read or write (the table or its indexes) and any DynamoDB system error.

The guard has no Errors alarm. A REST API authorizer's only way to refuse with 401 is to raise an exception whose
message is "Unauthorized" (AWS, "Use API Gateway Lambda authorizers"), and Lambda counts each such invocation in
``Errors``: an alarm on it would page the operator for every bad token anyone sends. The guard's real failures
(any other exception, a timeout, a malformed answer) reach callers as the API's 5XX (``AUTHORIZER_FAILURE``,
``AUTHORIZER_CONFIGURATION_ERROR``), which the API's 5XX alarm watches.

Missing data never alarms: an idle deployment sends no metric at all. Metrics the handlers emit themselves
(Powertools Metrics, namespace ``LambdaPassport``) are on the dashboard, found by name whatever their
dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct
from passport import iam_manifest
from passport.storage.models import TABLES

from infra.constructs.common import acknowledge
from infra.constructs.function import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
#: The guard's p99 duration above which (for three periods running) it alarms.
GUARD_P99 = Duration.seconds(1)
#: The DynamoDB operations passport makes (the functions and the CLI): their SystemErrors are summed per table.
#: A math expression in an alarm may hold at most ten metrics.
TABLE_OPERATIONS = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
)
#: The metrics the handlers emit (passport.observability, EMF) -> the dimension each is split by ("" for none).
CUSTOM_METRICS = {
    "TokensIssued": "grant_type",
    "GrantFailures": "error",
    "GuardDecisions": "decision",
    "GuardCacheHits": "",
}


@dataclass(frozen=True)
class AlarmSpec:
    """An alarm and what it watches: its kind (the metric: "Errors", "Throttles", "5XXError"...) and subject (a
    function's name, a table's setting, or "api")."""

    kind: str
    subject: str
    alarm: cloudwatch.Alarm


class PassportMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        api: apigateway.RestApi,
        tables: Mapping[str, dynamodb.ITable],
        topic: sns.ITopic | None = None,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.topic = topic or self._own_topic()
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[AlarmSpec] = []
        self._prefix = stack.stack_name

        for name, function in functions.items():
            label = _title(name)
            # Not the guard: every 401 it answers is an "Unauthorized" exception, which Lambda counts in Errors, so
            # anyone sending bad tokens would page the operator. Its real failures are the API's 5XX (Api5xx below).
            if name != iam_manifest.GUARD:
                self._alarm(
                    "Errors",
                    name,
                    function.metric_errors(period=PERIOD, statistic="Sum"),
                    f"{stack.stack_name} {name}: the function failed (an unhandled exception, a timeout or running "
                    "out of memory) at least once in 5 minutes. Look at its log group for the error and the "
                    "request id, and at its X-Ray traces.",
                    id=f"{label}Errors",
                )
            self._alarm(
                "Throttles",
                name,
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{stack.stack_name} {name}: Lambda refused to run the function at least once in 5 minutes (the "
                "account's concurrency limit was reached), so the request it would have answered failed. Look at "
                "the account's ConcurrentExecutions, at what else runs in the account, and ask for a higher limit.",
                id=f"{label}Throttles",
            )
        guard = functions.get(iam_manifest.GUARD)
        if guard is not None:
            self._alarm(
                "Duration",
                iam_manifest.GUARD,
                guard.metric_duration(period=PERIOD, statistic="p99"),
                f"{stack.stack_name} guard: its p99 duration stayed above {GUARD_P99.to_seconds():g} s for 15 "
                "minutes, and every protected request waits for it. Look at its traces for slow DynamoDB reads "
                "or key loading, and at the authorizer cache time (guard.authorizer_cache_seconds).",
                id="GuardDuration",
                threshold=GUARD_P99.to_milliseconds(),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=3,
            )

        stage = api.deployment_stage
        self._alarm(
            "5XXError",
            "api",
            stage.metric_server_error(period=PERIOD, statistic="Sum"),
            f"{stack.stack_name} API: at least one 5XX answer in 5 minutes. Look at the access logs "
            "(status, integrationError, authorizerError, errorType) for the route, then at that function's "
            "errors, or the guard's log group when authorizerError is set (the guard's failures alarm here only).",
            id="Api5xx",
        )

        for setting, table in tables.items():
            label = _title(setting.removesuffix("_table"))
            self._alarm(
                "Throttles",
                setting,
                _table_throttles(setting, table),
                f"{stack.stack_name} {setting}: DynamoDB throttled at least one read or write of the table or its "
                "indexes in 5 minutes (on demand, traffic more than doubling its previous peak, or a hot key). "
                "Look at the table's Read/WriteThrottleEvents per index and at the functions' storage errors.",
                id=f"{label}TableThrottles",
            )
            self._alarm(
                "SystemErrors",
                setting,
                _table_system_errors(setting, table),
                f"{stack.stack_name} {setting}: DynamoDB answered at least one request with a 500 (an error of "
                "DynamoDB's own) in 5 minutes; passport's storage calls retry it ([storage] retries). Look at the "
                "AWS Health Dashboard, and at the functions' errors and the API's 5XX if it lasts.",
                id=f"{label}TableSystemErrors",
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            # Dashboards are listed account-wide, not per region: the region keeps two deployments apart.
            dashboard_name=dashboard_name or f"{stack.stack_name}-{Aws.REGION}",
            default_interval=Duration.hours(3),
        )
        self._dashboard(functions, stage, tables)

    @property
    def dashboard_url(self) -> str:
        return (
            f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards:name={self.dashboard.dashboard_name}"
        )

    def _own_topic(self) -> sns.Topic:
        stack = Stack.of(self)
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{Stack.of(self).stack_name} alarms",
            # A topic policy that refuses every request not over TLS (AwsSolutions-SNS3).
            enforce_ssl=True,
        )
        # The topic policy replaces SNS's default one: CloudWatch alarms of this account may publish.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        acknowledge(
            topic,
            "AwsSolutions-SNS2",
            "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed key aws/sns (its key policy "
            "does not let CloudWatch use it), and a customer-managed key costs money every month even when idle. "
            "Alarm notifications carry alarm names and metric values: no token, key, code or personal data.",
        )
        return topic

    def _alarm(
        self,
        kind: str,
        subject: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        id: str,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id,
            alarm_name=f"{self._prefix}-{id}",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            # An idle deployment sends no data: that is not a failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(AlarmSpec(kind, subject, alarm))
        return alarm

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.IFunction],
        stage: apigateway.Stage,
        tables: Mapping[str, dynamodb.ITable],
    ) -> None:
        board = self.dashboard
        board.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {Stack.of(self).stack_name}\nlambda-passport: the API, the token endpoint and the "
                "guard, every other function, the tables, and the metrics the handlers emit "
                f"(namespace {METRICS_NAMESPACE}).",
                width=24,
                height=2,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=[spec.alarm for spec in self.alarms], width=24, height=6
            ),
        )
        # The API.
        board.add_widgets(
            _graph("API requests", [stage.metric_count(period=PERIOD, statistic="Sum", label="requests")]),
            _graph(
                "API 4XX and 5XX",
                [
                    stage.metric_client_error(period=PERIOD, statistic="Sum", label="4XX"),
                    stage.metric_server_error(period=PERIOD, statistic="Sum", label="5XX"),
                ],
            ),
            _graph(
                "API latency (ms)",
                [stage.metric_latency(period=PERIOD, statistic=s, label=f"latency {s}") for s in ("p50", "p99")],
            ),
        )
        # The token endpoint and the guard, a row each.
        for name in ("token", iam_manifest.GUARD):
            function = functions.get(name)
            if function is None:
                continue
            board.add_widgets(
                _graph(
                    f"{name}: invocations, errors, throttles",
                    [
                        function.metric_invocations(period=PERIOD, statistic="Sum", label="invocations"),
                        function.metric_errors(period=PERIOD, statistic="Sum", label="errors"),
                        function.metric_throttles(period=PERIOD, statistic="Sum", label="throttles"),
                    ],
                    width=12,
                ),
                _graph(
                    f"{name}: duration (ms)",
                    [function.metric_duration(period=PERIOD, statistic=s, label=s) for s in ("p50", "p99")],
                    width=12,
                ),
            )
        # Every other function, one line each.
        others = {n: f for n, f in functions.items() if n not in ("token", iam_manifest.GUARD)}
        if others:
            board.add_widgets(*(
                _graph(
                    f"Other functions: {title}",
                    [getattr(f, metric)(period=PERIOD, statistic=statistic, label=n) for n, f in others.items()],
                    width=6,
                )
                for title, metric, statistic in (
                    ("invocations", "metric_invocations", "Sum"),
                    ("errors", "metric_errors", "Sum"),
                    ("duration p99 (ms)", "metric_duration", "p99"),
                    ("throttles", "metric_throttles", "Sum"),
                )
            ))
        # The tables.
        board.add_widgets(
            _graph(
                "DynamoDB consumed read units",
                [_table_metric(table, "ConsumedReadCapacityUnits", label=_short(s)) for s, table in tables.items()],
                width=6,
            ),
            _graph(
                "DynamoDB consumed write units",
                [_table_metric(table, "ConsumedWriteCapacityUnits", label=_short(s)) for s, table in tables.items()],
                width=6,
            ),
            _graph(
                "DynamoDB throttled reads and writes (with indexes)",
                [_table_throttles(s, table) for s, table in tables.items()],
                width=6,
            ),
            _graph("DynamoDB system errors", [_table_system_errors(s, table) for s, table in tables.items()], width=6),
        )
        # What the handlers emit, whatever other dimensions they carry (service): found by namespace and name.
        board.add_widgets(
            *(
                _graph(
                    f"{metric}" + (f" by {dimension}" if dimension else ""),
                    [
                        cloudwatch.MathExpression(
                            expression=(
                                f"SEARCH('Namespace=\"{METRICS_NAMESPACE}\" MetricName=\"{metric}\"', 'Sum', "
                                f"{int(PERIOD.to_seconds())})"
                            ),
                            using_metrics={},
                            # A line per value of the dimension (a dynamic label), the same metric name on each.
                            label=f"${{PROP('Dim.{dimension}')}}" if dimension else metric,
                            period=PERIOD,
                        )
                    ],
                    width=6,
                )
                for metric, dimension in CUSTOM_METRICS.items()
            )
        )


def _title(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _short(setting: str) -> str:
    return setting.removesuffix("_table")


def _table_metric(
    table: dynamodb.ITable,
    name: str,
    index: str | None = None,
    *,
    operation: str | None = None,
    label: str | None = None,
) -> cloudwatch.Metric:
    dimensions = {"TableName": table.table_name}
    if index:
        dimensions["GlobalSecondaryIndexName"] = index
    if operation:
        dimensions["Operation"] = operation
    return cloudwatch.Metric(
        namespace="AWS/DynamoDB",
        metric_name=name,
        dimensions_map=dimensions,
        period=PERIOD,
        statistic="Sum",
        label=label,
    )


def _table_throttles(setting: str, table: dynamodb.ITable) -> cloudwatch.MathExpression:
    """Throttled reads and writes of the table and of each of its indexes (the model's), summed."""
    indexes = [index.Meta.index_name for index in getattr(TABLES.get(setting), "_indexes", {}).values()]
    metrics = {
        f"{_short(setting)}_{kind.lower()}{i}": _table_metric(table, f"{kind}ThrottleEvents", index)
        for kind in ("Read", "Write")
        for i, index in enumerate([None, *indexes])
    }
    return _sum(f"{_short(setting)} throttled reads and writes", metrics)


def _table_system_errors(setting: str, table: dynamodb.ITable) -> cloudwatch.MathExpression:
    """DynamoDB's own errors (HTTP 500) on the operations passport makes, summed."""
    metrics = {
        f"{_short(setting)}_{op.lower()}": _table_metric(table, "SystemErrors", operation=op) for op in TABLE_OPERATIONS
    }
    return _sum(f"{_short(setting)} system errors", metrics)


def _sum(label: str, metrics: Mapping[str, cloudwatch.IMetric]) -> cloudwatch.MathExpression:
    if len(metrics) > 10:
        raise ValueError(f"{label}: an alarm's math expression may hold at most 10 metrics, not {len(metrics)}")
    # SUM([...]) adds, at each time, the series that have a point there: one with no data leaves it to the others.
    return cloudwatch.MathExpression(
        expression=f"SUM([{', '.join(metrics)}])", using_metrics=dict(metrics), label=label, period=PERIOD
    )


def _graph(title: str, metrics: list[cloudwatch.IMetric], *, width: int = 8) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=width, height=6)
