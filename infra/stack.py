"""``PassportStack``: the whole authorization server, built from the route table and the settings file.

One function per function named in the route table, plus the guard and install-keys; the tables, the key
secret, the layer, the REST API; the alarms, their SNS topic and the dashboard. No lookups and no account or
region in the template: ``cdk synth`` needs no AWS credentials, and the template deploys to any account and
region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct
from passport import iam_manifest
from passport.authorizer_cache import ttl_seconds
from passport.config import Settings
from passport.gateway_responses import api_resource_metadata
from passport.routes import route_table
from passport_cdk import PassportFunction, PassportGuard, PassportResources

from infra.constructs.api import PassportApi
from infra.constructs.install_keys import InstallKeys
from infra.constructs.keys import KeysSecret
from infra.constructs.layer import PassportLayer
from infra.constructs.monitoring import PassportMonitoring
from infra.constructs.tables import PassportTables
from infra.options import DeployOptions


class PassportStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str = "PassportStack",
        *,
        settings: Settings,
        settings_file: Path | None = None,
        options: DeployOptions | None = None,
        layer_dir: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, description="lambda-passport: an OAuth 2.0 authorization server", **kwargs)
        self.settings = settings
        self.options = options = options or DeployOptions.from_settings(settings)
        routes = route_table(settings)

        self.tables = PassportTables(self, "Tables", retain=options.retain)
        self.keys = KeysSecret(self, "Keys", retain=options.retain)
        self.layer = PassportLayer(
            self, "Layer", settings_file=settings_file, layer_dir=layer_dir, retain=options.retain
        )
        self.api = PassportApi(self, "Rest", options=options)
        self.issuer = settings.issuer.rstrip("/") if settings.issuer else self.api.url

        self.functions: dict[str, PassportFunction] = {}
        for name in dict.fromkeys(route.function for route in routes):
            self.functions[name] = PassportFunction(
                self,
                _construct_id(name),
                name=name,
                layer=self.layer.layer,
                tables=self.tables.tables,
                secret=self.keys.secret,
                environment={"PASSPORT_ISSUER": self.issuer},
                log_retention_days=options.log_retention_days,
                retain_logs=options.retain,
                settings=settings,
            )

        # The guard reads its rules from the route table in the layer's settings file.
        self.guard = PassportGuard(
            self,
            "Guard",
            passport=PassportResources(
                layer=self.layer.layer,
                keys_secret=self.keys.secret,
                tokens_table=self.tables["tokens_table"],
                clients_table=self.tables["clients_table"],
                issuer=self.issuer,
                log_retention_days=options.log_retention_days,
                retain_logs=options.retain,
            ),
            cache_ttl=Duration.seconds(ttl_seconds(settings.guard.authorizer_cache_seconds,
                                                   dpop=settings.dpop.enabled)),
            dpop=settings.dpop.enabled,
        )
        assert self.guard.own is not None
        self.functions[iam_manifest.GUARD] = self.guard.own
        # The API's 401 names its protected resource metadata (RFC 9728 5.1) where the local gateway's does: under
        # the issuer (the custom domain, or the stage's URL), at the path of the API's identifier (the audience).
        # Without the demos nothing on this API is guarded, and no metadata is published for a 401 to name.
        audience = settings.audience or f"{self.issuer}/api"
        metadata = api_resource_metadata(self.issuer, audience) if settings.demo.enabled else None
        self.api.add_routes(routes, {n: f.function for n, f in self.functions.items()}, self.guard,
                            resource_metadata=metadata)

        self.install_keys = InstallKeys(
            self,
            "InstallKeys",
            layer=self.layer.layer,
            secret=self.keys.secret,
            clients_table=self.tables["clients_table"],
            settings=settings,
            options=options,
        )
        self.functions[iam_manifest.INSTALL_KEYS] = self.install_keys.handler
        # The API opens only once the keys and default clients exist.
        self.api.api.deployment_stage.node.add_dependency(self.install_keys.resource)

        # The alarms go to the topic [deploy] alarm_topic_arn names, else to a topic of the stack's own.
        topic = (
            sns.Topic.from_topic_arn(self, "AlarmTopic", options.alarm_topic_arn) if options.alarm_topic_arn else None
        )
        self.monitoring = PassportMonitoring(
            self,
            "Monitoring",
            functions={n: f.function for n, f in self.functions.items()},
            api=self.api.api,
            tables=self.tables.tables,
            topic=topic,
        )

        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "IssuerUrl": (self.issuer, "The issuer (iss of every token); discovery is below it"),
            "TokenEndpoint": (f"{self.issuer}/oauth/token", "POST here for tokens"),
            "JwksUrl": (f"{self.issuer}/.well-known/jwks.json", "The public signing keys"),
            "MetadataUrl": (f"{self.issuer}/.well-known/oauth-authorization-server", "RFC 8414 metadata"),
            "OpenIdConfigurationUrl": (
                f"{self.issuer}/.well-known/openid-configuration",
                "OpenID Connect discovery: what an OpenID Connect client library is pointed at",
            ),
            "GuardFunctionArn": (self.guard.function.function_arn, "The guard, for PassportGuard(function_arn=...)"),
            "LayerVersionArn": (self.layer.layer.layer_version_arn, "The passport layer, for PassportResources"),
            "KeysSecretArn": (self.keys.secret.secret_arn, "The signing keys (passport keys rotate)"),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "The alarms' SNS topic: subscribe to it"),
            "DashboardUrl": (self.monitoring.dashboard_url, "The CloudWatch dashboard"),
        }
        for setting, table in self.tables.tables.items():
            outputs[f"{_construct_id(setting.removesuffix('_table'))}TableName"] = (
                table.table_name,
                f"The {setting.removesuffix('_table')} table ([storage] {setting})",
            )
        for name, (value, description) in outputs.items():
            CfnOutput(
                self,
                name,
                value=value,
                description=description,
                # The guard's ARN is exported for stacks that protect their own APIs with it.
                export_name=f"{self.stack_name}-{name}" if name == "GuardFunctionArn" else None,
            )


def _construct_id(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))
