"""The install-keys custom resource (docs/keys.md): on the first deploy it puts the signing keys in the secret and
creates the default clients, as ``passport install`` does; later deploys never replace a key.

CloudFormation talks to ``functions/install_keys/handler.py`` through the CDK Provider framework, which sends
the response to CloudFormation: the handler returns the result, or raises and the deploy fails with its message.
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct
from passport import iam_manifest
from passport.config import Settings

from infra.constructs.common import acknowledge, removal_policy, retention
from infra.constructs.function import PassportFunction
from infra.options import DeployOptions

RESOURCE_TYPE = "Custom::PassportInstallKeys"


class InstallKeys(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        layer: lambda_.ILayerVersion,
        secret: secretsmanager.ISecret,
        clients_table: dynamodb.ITable,
        settings: Settings,
        options: DeployOptions,
    ) -> None:
        super().__init__(scope, id)
        self.handler = PassportFunction(
            self,
            "Handler",
            name=iam_manifest.INSTALL_KEYS,
            layer=layer,
            secret=secret,
            tables={"clients_table": clients_table},
            timeout=Duration.minutes(2),
            log_retention_days=options.log_retention_days,
            retain_logs=options.retain,
            settings=settings,
        )
        framework_logs = logs.LogGroup(
            self,
            "FrameworkLogs",
            retention=retention(options.log_retention_days),
            removal_policy=removal_policy(options.retain),
        )
        framework_role = iam.Role(
            self,
            "FrameworkRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="lambda-passport install-keys: the CDK Provider framework's function",
            inline_policies={
                "logs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[framework_logs.log_group_arn],
                        )
                    ]
                )
            },
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler.function,
            log_group=framework_logs,
            framework_on_event_role=framework_role,
        )
        handler_id = Stack.of(self).get_logical_id(self.handler.function.node.default_child)
        acknowledge(
            framework_role,
            f"AwsSolutions-IAM5[Resource::<{handler_id}.Arn>:*]",
            "The CDK Provider framework grants itself lambda:InvokeFunction on the install-keys function and its "
            "versions (ARN:*); it invokes nothing else.",
        )
        # Every value arrives as a string. A change of any of them sends an Update, which creates what is missing
        # (a password grant client once that grant is turned on) and never replaces a key.
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "KeysSecret": secret.secret_arn,
                "ClientsTable": clients_table.table_name,
                "Algorithm": settings.keys.algorithm,
                "RsaBits": str(settings.keys.rsa_bits),
                "PasswordGrant": str(settings.grants.password).lower(),
            },
        )
        # Its Delete deletes nothing (see the handler): the keys and clients follow the removal policy of the
        # secret and the tables themselves.
