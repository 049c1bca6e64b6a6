"""The REST API: one method per route of the route table, the guard on the routes that have a rule, a CORS preflight
(``OPTIONS``, a mock integration) per path that allows cross-origin reads, the gateway responses (the 401 names the
API's protected resource metadata, RFC 9728 5.1; all readable from any origin), stage throttling and JSON access
logs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from passport.cors import preflight_headers
from passport.gateway_responses import STRICT_TRANSPORT_SECURITY, api_resource_metadata, gateway_responses
from passport.routes import PREFLIGHT, Route, preflight_methods, preflight_routes

from infra.constructs.common import acknowledge, removal_policy, retention
from infra.constructs.guard import PassportGuard
from infra.options import DeployOptions

STAGE = "prod"

#: One JSON object per request. Never a header, a query string or a body: codes and tokens travel there.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "time": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "resource": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "clientId": "$context.authorizer.client_id",
    "sub": "$context.authorizer.principalId",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatencyMs": "$context.authorizer.latency",
    "authorizerError": "$context.authorizer.error",
    "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error",
    "errorType": "$context.error.responseType",
    "error": "$context.error.message",
}


class PassportApi(Construct):
    def __init__(self, scope: Construct, id: str, *, options: DeployOptions, stage_name: str = STAGE) -> None:
        super().__init__(scope, id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(options.access_log_retention_days),
            removal_policy=removal_policy(options.retain),
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            # API Gateway's metrics are keyed by the API's name (ApiName): the stack's, unique in the account and
            # region, so the alarms and the dashboard watch this API alone.
            rest_api_name=Stack.of(self).stack_name,
            description="lambda-passport: the OAuth 2.0 authorization server",
            # Regional: no CloudFront distribution of API Gateway's own in front (put yours, or a custom domain).
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # Access logs need the account's API Gateway CloudWatch role; this sets it (account-wide, per region)
            # and keeps it when the stack goes, as other APIs of the account may log through it too.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=options.throttle_rate,
                throttling_burst_limit=options.throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
                # X-Ray: sampled requests are traced through the guard and the function they reach.
                tracing_enabled=True,
            ),
        )
        # The stack outputs the issuer (the same URL without the trailing slash) in its place.
        self.api.node.try_remove_child("Endpoint")
        self.stage_name = stage_name
        self.methods: dict[str, apigateway.Method] = {}
        #: The CORS preflights (``OPTIONS /path``), by route key: mock integrations, no function.
        self.preflights: dict[str, apigateway.Method] = {}
        self.routes: tuple[Route, ...] = ()
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Every handler validates its own input and answers in its endpoint's error format (RFC 6749 JSON or "
            "an HTML page); API Gateway's request validation would answer in a format of its own.",
        )
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            "A WAF web ACL costs money every month even when idle; associate one with the stage when needed. "
            "The stage is throttled, and client secrets and tokens carry at least 256 random bits.",
        )
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG6",
            "Access logs record every request, with the guard's and the integration's errors. Execution logs would "
            "go to a log group outside the stack with no retention and can record request data.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-wide CloudWatch role, which access logging requires, uses AWS's managed policy "
            "for exactly that purpose.",
        )

    @property
    def url(self) -> str:
        """The stage's base URL, built from the API id (``api.url`` would make the functions, whose environment
        holds it, depend on the deployment, which depends on them)."""
        return f"https://{self.api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{self.stage_name}"

    def add_routes(
        self,
        routes: Iterable[Route],
        functions: Mapping[str, lambda_.IFunction],
        guard: PassportGuard,
        *,
        resource_metadata: str | None = None,
    ) -> None:
        """The routes, and every gateway response; ``resource_metadata`` is the URL of the API's protected resource
        metadata that the 401 names (by default under the stage's execute-api URL, :attr:`url`)."""
        integrations = {
            name: apigateway.LambdaIntegration(function, allow_test_invoke=False)
            for name, function in functions.items()
        }
        self.routes = tuple(routes)
        for route in self.routes:
            if route.key in self.methods:
                raise ValueError(f"the route table lists {route.key} twice")
            resource = self.api.root.resource_for_path(route.path)
            guarded = route.rule is not None
            kind = apigateway.AuthorizationType.CUSTOM if guarded else apigateway.AuthorizationType.NONE
            method = resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=guard.rest_authorizer(self.api) if guarded else None,
                authorization_type=kind,
            )
            self.methods[route.key] = method
            if guarded:
                acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "Authorized by the passport guard, a Lambda authorizer for the tokens this server issues.",
                )
            else:
                if route.bearer:
                    reason = (
                        f"{route.key} ({route.summary}) is a protected resource of its own: its function runs the "
                        "passport guard in-process on every request, so that its 401 names its own resource "
                        "metadata (RFC 9728), which API Gateway's one UNAUTHORIZED response per API cannot."
                    )
                else:
                    reason = (
                        f"{route.key} is a public endpoint of the OAuth server ({route.summary}): it is reached "
                        "before the caller has a token, and authenticates clients or users itself where it must."
                    )
                acknowledge(method, "AwsSolutions-APIG4", reason)
                acknowledge(method, "AwsSolutions-COG4", reason)
        self._add_preflights()
        # RFC 9728 5.1: a bare 401 says where the protected resource metadata is (the metadata function serves it,
        # a route of the table). Built from the API id, never from the Stage: the Deployment depends on every
        # gateway response, and the Stage on the Deployment.
        guarded_routes = any(route.rule is not None for route in self.routes)
        metadata = resource_metadata or (api_resource_metadata(self.url, f"{self.url}/api") if guarded_routes else None)
        self.resource_metadata_url = metadata
        guard.add_gateway_responses(self.api, gateway_responses(resource_metadata=metadata, https=True, cors=True,
                                                                   dpop=guard.dpop))

    def _add_preflights(self) -> None:
        """Fetch standard, CORS protocol: ``OPTIONS`` on each path whose routes allow cross-origin reads answers
        ``passport.cors.preflight_headers`` (the same for every origin, so static) from a mock integration, as the
        local gateway answers it: no function runs, so a preflight costs a request and no Lambda invocation, and
        never waits for a cold start. What a page may read is decided by the function's answer that follows."""
        methods = {kind: preflight_methods(self.routes, kind) for kind in {r.cors for r in self.routes if r.cors}}
        for route in preflight_routes(self.routes):
            headers = preflight_headers(route.cors, methods[route.cors][route.path])
            headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY  # API Gateway answers over https only
            parameters = {f"method.response.header.{name}": f"'{value}'" for name, value in headers.items()}
            integration = apigateway.MockIntegration(
                request_templates={"application/json": '{"statusCode": 204}'},
                passthrough_behavior=apigateway.PassthroughBehavior.WHEN_NO_MATCH,
                integration_responses=[apigateway.IntegrationResponse(status_code="204",
                                                                      response_parameters=parameters)],
            )
            method = self.api.root.resource_for_path(route.path).add_method(
                PREFLIGHT,
                integration,
                authorization_type=apigateway.AuthorizationType.NONE,
                method_responses=[apigateway.MethodResponse(
                    status_code="204", response_parameters={name: True for name in parameters})],
            )
            self.preflights[route.key] = method
            reason = (
                f"{route.key} is a CORS preflight (Fetch standard): browsers send it without credentials before a "
                "cross-origin request; a mock integration answers it with static headers and runs no code."
            )
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
