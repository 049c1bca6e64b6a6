"""A function of ``functions/<name>/``, with a role that allows exactly what ``passport.iam_manifest`` says it needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from passport import iam_manifest
from passport.storage.connection import index_names
from passport.storage.models import TABLES

from passport_cdk.common import (
    ARCHITECTURE,
    LAYER_SETTINGS,
    RUNTIME,
    acknowledge,
    function_dir,
    removal_policy,
    retention,
)

#: The CloudWatch namespace of the metrics the handlers emit (Powertools Metrics reads it from the environment).
METRICS_NAMESPACE = "LambdaPassport"


def service_name(name: str) -> str:
    """``install_keys`` -> ``passport-install-keys``: the service of its logs, metrics and traces (Powertools)."""
    return "passport-" + name.replace("_", "-")


def storage_variable(setting: str) -> str:
    """``clients_table`` -> ``PASSPORT_STORAGE_CLIENTS_TABLE``, the override passport.config reads."""
    return f"PASSPORT_STORAGE_{setting.upper()}"


class PassportFunction(Construct):
    """``functions/<name>/handler.py`` on the layer.

    Its role has one inline policy: write its own log group, the DynamoDB actions ``passport.iam_manifest`` lists on
    the tables it lists, and read (or, for install-keys, write) the key secret if listed. Its environment names
    only those tables and that secret. No managed policy. X-Ray tracing is active, for which CDK adds the role's
    one ``Resource: *`` grant: the two X-Ray actions that take no resource (PutTraceSegments, PutTelemetryRecords).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        layer: lambda_.ILayerVersion,
        tables: Mapping[str, dynamodb.ITable],
        secret: secretsmanager.ISecret | None,
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 512,
        timeout: Duration | None = None,
        log_retention_days: int = 90,
        retain_logs: bool = True,
        settings: Any = None,
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        # With the settings, the optional grants they turn on count too (the password grant reads users).
        self.needs = needs = iam_manifest.needs(name, settings)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=retention(log_retention_days), removal_policy=removal_policy(retain_logs)
        )
        statements = [
            iam.PolicyStatement(
                sid="OwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        ]
        env = {
            "PASSPORT_CONFIG": LAYER_SETTINGS,
            "POWERTOOLS_SERVICE_NAME": service_name(name),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        for setting, actions in needs.tables.items():
            if setting not in tables:
                raise KeyError(f"the function {name} needs the table {setting}, which was not given")
            table = tables[setting]
            # A Query reads the table's indexes (the owner index): each by its own ARN, no wildcard.
            indexes = index_names(TABLES[setting]) if "Query" in actions else ()
            resources = [table.table_arn, *(f"{table.table_arn}/index/{name}" for name in indexes)]
            everywhere = needs.unconditioned(setting)
            if everywhere:
                statements.append(
                    iam.PolicyStatement(
                        sid=_sid(setting), actions=[f"dynamodb:{a}" for a in everywhere], resources=resources
                    )
                )
            for number, (action, prefix) in enumerate(needs.prefixed.get(setting, ())):
                # Fine-grained access control: only items whose partition key starts with the prefix.
                statements.append(
                    iam.PolicyStatement(
                        sid=f"{_sid(setting)}Prefixed{number}", actions=[f"dynamodb:{action}"],
                        resources=[table.table_arn],
                        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*"]}},
                    )
                )
            env[storage_variable(setting)] = table.table_name
        if needs.secret:
            if secret is None:
                raise KeyError(f"the function {name} needs the key secret, which was not given")
            statements.append(
                iam.PolicyStatement(
                    sid="KeySecret",
                    actions=[f"secretsmanager:{a}" for a in needs.secret_actions],
                    resources=[secret.secret_arn],
                )
            )
            # An ARN names the secret as well as its name does, and exactly (GetSecretValue takes either).
            env["PASSPORT_KEYS_SECRET_NAME"] = secret.secret_arn
        env.update(environment or {})
        #: The function's environment, as given to it.
        self.environment = env
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"lambda-passport {name}: {needs.description}"[:1000],
            inline_policies={"least-privilege": iam.PolicyDocument(statements=statements)},
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"lambda-passport {name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_.Code.from_asset(str(function_dir(name)), exclude=["__pycache__", "*.pyc"]),
            handler="handler.handler",
            layers=[layer],
            role=self.role,
            environment=env,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(20),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            # Active: Lambda traces a sample of invocations, and follows the sampling decision of a traced caller
            # (the API stage).
            tracing=lambda_.Tracing.ACTIVE,
        )
        # Tracing made the Function add X-Ray's statement to the role's default policy (the inline policy holds
        # every other grant): the acknowledgement covers that policy alone.
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource "
            "(AWS defines no resource type for them), so Resource: * is the only form; nothing else is a wildcard.",
        )


def _sid(setting: str) -> str:
    return "".join(part.title() for part in setting.split("_"))
