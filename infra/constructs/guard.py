"""``PassportGuard``: the guard (passport's Lambda authorizer) on your own API Gateway APIs.

Two ways to get one, in this stack or in any other stack or app of the same AWS account and region:

* **A guard of its own, with your per-route rules** (``passport=`` and ``rules=``): the construct creates a guard
  function in your stack, on the passport layer, that reads the passport deployment's keys and revocation state
  (read-only) and enforces your rules, passed to it as ``PASSPORT_GUARD_RULES``::

      passport = PassportResources.from_outputs(self, "Passport", layer_version_arn=..., keys_secret_arn=...,
                                                tokens_table_name=..., clients_table_name=..., issuer=...)
      guard = PassportGuard(self, "Guard", passport=passport, rules={
          "GET /orders": {"scopes": ["orders:read"]},            # all of these scopes
          "POST /orders": {"any_scopes": ["orders:write", "admin"]},
          "GET /me": {"subject": "user"},                       # user tokens only ("client": client tokens only)
      })

* **The deployed guard, by its exported ARN** (``function_arn=``): nothing new runs; the rules are that
  function's own (the passport route table, or its ``PASSPORT_GUARD_RULES``), so on your routes it checks that
  the token is valid and live, no more.

Then attach it::

      guard.add_gateway_responses(api)        # REST API: 401 with WWW-Authenticate: Bearer error="invalid_token"
      orders.add_method("GET", integration, authorizer=guard.rest_authorizer(api))
      http_api.add_routes(path="/orders", methods=[HttpMethod.GET], integration=...,
                          authorizer=guard.http_authorizer(http_api))

A route the rules do not name needs only a valid, live token. HTTP APIs have no gateway responses: there a
refusal is API Gateway's own 401/403 ``{"message": ...}``, without ``WWW-Authenticate``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from passport import deploy
from passport.gateway_responses import GATEWAY_RESPONSES
from passport.guard.rules import RuleTable

from infra.constructs.function import PassportFunction

AUTHORIZATION_HEADER = "Authorization"
#: The gateway responses a refusal or a failure of the guard produces (a user's API gets these; the passport
#: API all of ``passport.gateway_responses``).
GUARD_RESPONSES = ("UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR")


@dataclass(frozen=True)
class PassportResources:
    """What a guard of its own needs from a passport deployment: the layer, the key secret, the tokens and
    clients tables (read-only), and the issuer (and audience, if configured) its tokens carry."""

    layer: lambda_.ILayerVersion
    keys_secret: secretsmanager.ISecret
    tokens_table: dynamodb.ITable
    clients_table: dynamodb.ITable
    issuer: str
    audience: str = ""
    log_retention_days: int = 90
    retain_logs: bool = True

    @classmethod
    def from_outputs(
        cls,
        scope: Construct,
        id: str,
        *,
        layer_version_arn: str,
        keys_secret_arn: str,
        tokens_table_name: str,
        clients_table_name: str,
        issuer: str,
        audience: str = "",
    ) -> PassportResources:
        """From the passport stack's outputs (LayerVersionArn, KeysSecretArn, TokensTableName,
        ClientsTableName, IssuerUrl), for a stack in another app of the same account and region."""
        holder = Construct(scope, id)
        return cls(
            layer=lambda_.LayerVersion.from_layer_version_arn(holder, "Layer", layer_version_arn),
            keys_secret=secretsmanager.Secret.from_secret_complete_arn(holder, "Keys", keys_secret_arn),
            tokens_table=dynamodb.Table.from_table_name(holder, "Tokens", tokens_table_name),
            clients_table=dynamodb.Table.from_table_name(holder, "Clients", clients_table_name),
            issuer=issuer,
            audience=audience,
        )


def rules_json(rules: Mapping[str, Mapping[str, Any]]) -> str:
    """The rules as ``PASSPORT_GUARD_RULES``, checked now (at synth) by the parser the guard itself uses."""
    text = json.dumps({key: dict(spec) for key, spec in rules.items()}, sort_keys=True, separators=(",", ":"))
    RuleTable.from_json(text)
    return text


class PassportGuard(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        passport: PassportResources | None = None,
        rules: Mapping[str, Mapping[str, Any]] | None = None,
        function_arn: str | None = None,
        cache_ttl: Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        if (passport is None) == (function_arn is None):
            raise ValueError("give either passport= (a guard of its own) or function_arn= (the deployed guard)")
        #: API Gateway's authorizer result cache (the stack uses guard.authorizer_cache_seconds).
        self.cache_ttl = cache_ttl if cache_ttl is not None else Duration.seconds(60)
        self.rules = rules_json(rules) if rules is not None else None
        self.own: PassportFunction | None = None
        if passport is not None:
            environment = {"PASSPORT_ISSUER": passport.issuer}
            if passport.audience:
                environment["PASSPORT_AUDIENCE"] = passport.audience
            if self.rules is not None:
                environment["PASSPORT_GUARD_RULES"] = self.rules
            self.own = PassportFunction(
                self,
                "Guard",
                name=deploy.GUARD,
                layer=passport.layer,
                secret=passport.keys_secret,
                tables={"tokens_table": passport.tokens_table, "clients_table": passport.clients_table},
                environment=environment,
                timeout=Duration.seconds(10),
                log_retention_days=passport.log_retention_days,
                retain_logs=passport.retain_logs,
            )
            self.function: lambda_.IFunction = self.own.function
        else:
            if rules is not None:
                raise ValueError(
                    "rules need a guard of their own (passport=...): the deployed guard enforces the rules in its "
                    "own environment"
                )
            # same_environment: the function is in this account and region, so the construct may add the
            # permission for API Gateway to invoke it.
            self.function = lambda_.Function.from_function_attributes(
                self, "Function", function_arn=str(function_arn), same_environment=True
            )
        self._rest: dict[str, apigateway.RequestAuthorizer] = {}
        self._http: dict[str, authorizers.HttpLambdaAuthorizer] = {}

    def rest_authorizer(self, api: apigateway.IRestApi) -> apigateway.RequestAuthorizer:
        """A REQUEST authorizer for a REST API (one per API), identity source the Authorization header: a
        request without one is refused with 401 before the guard runs, and the answer is cached by token."""
        key = api.node.path
        if key not in self._rest:
            self._rest[key] = apigateway.RequestAuthorizer(
                self,
                f"RestAuthorizer{len(self._rest) or ''}",
                handler=self.function,
                identity_sources=[apigateway.IdentitySource.header(AUTHORIZATION_HEADER)],
                results_cache_ttl=self.cache_ttl,
            )
        return self._rest[key]

    def http_authorizer(self, api: apigatewayv2.IHttpApi) -> authorizers.HttpLambdaAuthorizer:
        """A Lambda authorizer for an HTTP API (payload 2.0, simple responses), one per API."""
        key = api.node.path
        if key not in self._http:
            self._http[key] = authorizers.HttpLambdaAuthorizer(
                f"{self.node.id}Authorizer{len(self._http) or ''}",
                self.function,
                response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
                identity_source=[f"$request.header.{AUTHORIZATION_HEADER}"],
                results_cache_ttl=self.cache_ttl,
            )
        return self._http[key]

    @staticmethod
    def add_gateway_responses(
        api: apigateway.RestApi, kinds: Iterable[str] = GUARD_RESPONSES
    ) -> list[apigateway.GatewayResponse]:
        """API Gateway's own answers, as ``passport.gateway_responses`` defines them (and the local gateway
        gives): by default those of the guard, 401 ``invalid_token`` and 403 ``insufficient_scope`` with
        ``WWW-Authenticate`` (SPEC 6) and 503 with ``Retry-After`` when it fails; the passport API takes them all
        (404 for an unknown path, 429, 413, 502 in OAuth's JSON)."""
        made = []
        for kind in kinds:
            response = GATEWAY_RESPONSES[kind]
            body = json.dumps(response.body, separators=(",", ":"))
            if any(c in body for c in "$#"):
                raise ValueError(f"the {kind} gateway response body would be read as a VTL template")
            headers = {}
            for name, value in response.headers.items():
                if "'" in value:
                    raise ValueError(f"the {kind} header {name} cannot hold a single quote")
                headers[name] = f"'{value}'"
            made.append(
                api.add_gateway_response(
                    f"Response{kind.title().replace('_', '')}",
                    type=apigateway.ResponseType.of(kind),
                    status_code=str(response.status),
                    response_headers=headers or None,
                    templates={"application/json": body},
                )
            )
        return made
