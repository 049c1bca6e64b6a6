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

**DPoP** (RFC 9449, ``dpop=True`` by default): the guard accepts DPoP-bound tokens with a proof for the very request
(``Authorization: DPoP`` and the ``DPoP`` header), spent once in the passport tokens table, and its 401 offers the
``DPoP`` scheme. A proof is good for one request and API Gateway's cache answers without the guard, so with DPoP
the cache is off and a ``cache_ttl`` is refused; ``dpop=False`` makes a Bearer-only guard that keeps it.

**API Gateway's authorizer result cache** (``cache_ttl``, 60 s by default, with ``dpop=False`` only) keys each
answer by the authorizer's identity sources (``passport.authorizer_cache``, which the local gateway models too). On
a REST API the key is the ``Authorization`` header alone: the guard answers with one IAM policy for the whole API
(Allow the stage, an explicit Deny of each route the token's rule fails), which API Gateway evaluates against each
method it is reused for. On an HTTP API the guard's simple response (``isAuthorized``) holds for one route only, and
AWS's "Working with AWS Lambda authorizers for HTTP APIs" says a cached answer is reused "for all routes of an API
that use the authorizer" unless ``$context.routeKey`` is an identity source: the key is the header and the route
key, or a token allowed on ``GET /orders`` would be let through ``POST /orders`` from the cache.

**A protected resource (RFC 9728, RFC 8707)**, such as your own MCP server, is an API that an agent finds its way
to from nothing but its URL: ``protect_resource`` serves the API's protected resource metadata at
``GET /.well-known/oauth-protected-resource`` (a mock integration: no function runs) and makes the 401 of
``add_gateway_responses`` say where it is, and the guard of its own then accepts only tokens issued for that
resource (``aud``, RFC 8707): a token for the passport API or for another resource is refused. The resource must
be listed in the passport deployment's ``resources`` setting, or the server issues no token for it::

      guard = PassportGuard(self, "Guard", passport=passport, rules={"POST /mcp": {}})
      api = apigateway.RestApi(self, "Mcp", deploy_options=apigateway.StageOptions(stage_name="prod"))
      guard.protect_resource(api, resource="https://mcp.example.com/mcp", scopes=["orders:read"],
                             name="Orders MCP server", base_url="https://mcp.example.com")  # call it first,
      guard.add_gateway_responses(api)   # then the 401 says: Bearer error="invalid_token", resource_metadata="..."
      api.root.add_resource("mcp").add_method("POST", apigateway.LambdaIntegration(server),
                                              authorizer=guard.rest_authorizer(api))

``base_url`` is where the API answers (a custom domain); without it, API Gateway's default URL of the stage,
``https://<api id>.execute-api.<region>.amazonaws.com/<stage>``. One guard of its own protects one resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from passport import iam_manifest
from passport.authorizer_cache import DEFAULT_TTL_SECONDS, HTTP_IDENTITY_SOURCES, REST_IDENTITY_SOURCES, ttl_seconds
from passport.config import Dpop, Settings
from passport.core.protected_resource import protected_resource_metadata
from passport.gateway_responses import PROTECTED_RESOURCE_PATH, GatewayResponse, gateway_responses
from passport.guard.rules import RuleTable

from passport_cdk.common import acknowledge
from passport_cdk.function import PassportFunction

#: The gateway responses a refusal or a failure of the guard produces (a user's API gets these; the passport
#: API all of ``passport.gateway_responses``).
GUARD_RESPONSES = ("UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR")
#: How long clients may cache the protected resource metadata (it changes only with a deploy).
METADATA_MAX_AGE = 300


@dataclass(frozen=True)
class ProtectedResource:
    """What ``PassportGuard.protect_resource`` made: the resource, where its metadata is, the metadata itself
    (RFC 9728 2) and the GET methods that serve it."""

    resource: str
    metadata_url: str
    metadata: dict[str, Any]
    methods: tuple[apigateway.Method, ...]


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
        dpop: bool = True,
    ) -> None:
        super().__init__(scope, id)
        if (passport is None) == (function_arn is None):
            raise ValueError("give either passport= (a guard of its own) or function_arn= (the deployed guard)")
        #: The guard accepts DPoP-bound tokens (RFC 9449 7): API Gateway's cache is then off, since a cached answer
        #: would let a replayed proof through (passport.authorizer_cache.ttl_seconds).
        self.dpop = dpop
        if dpop and cache_ttl is not None and cache_ttl.to_seconds() > 0:
            raise ValueError("a guard that accepts DPoP cannot use API Gateway's authorizer cache: a cached answer "
                             "would let a replayed proof through (pass dpop=False to keep the cache)")
        #: API Gateway's authorizer result cache (the stack uses guard.authorizer_cache_seconds).
        self.cache_ttl = cache_ttl if cache_ttl is not None else Duration.seconds(
            ttl_seconds(DEFAULT_TTL_SECONDS, dpop=dpop))
        self.rules = rules_json(rules) if rules is not None else None
        self.own: PassportFunction | None = None
        #: The issuer of the tokens a guard of its own accepts (the authorization server of its resources).
        self.issuer = passport.issuer if passport is not None else None
        self._audience = passport.audience if passport is not None else ""
        #: The resource this guard protects (protect_resource), and where each API's metadata is.
        self.resource: ProtectedResource | None = None
        self._metadata_urls: dict[str, str] = {}
        self._responses: dict[str, dict[str, apigateway.GatewayResponse]] = {}
        if passport is not None:
            environment = {"PASSPORT_ISSUER": passport.issuer}
            if passport.audience:
                environment["PASSPORT_AUDIENCE"] = passport.audience
            if self.rules is not None:
                environment["PASSPORT_GUARD_RULES"] = self.rules
            if not dpop:
                environment["PASSPORT_DPOP_ENABLED"] = "false"
            self.own = PassportFunction(
                self,
                "Guard",
                name=iam_manifest.GUARD,
                layer=passport.layer,
                secret=passport.keys_secret,
                tables={"tokens_table": passport.tokens_table, "clients_table": passport.clients_table},
                environment=environment,
                timeout=Duration.seconds(10),
                log_retention_days=passport.log_retention_days,
                retain_logs=passport.retain_logs,
                # Its role spends DPoP proofs only where it accepts DPoP (iam_manifest.WHEN_DPOP).
                settings=Settings(dpop=Dpop(enabled=dpop)),
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
        request without one is refused with 401 before the guard runs, and the answer, a policy for every route
        of the API, is cached by token."""
        key = api.node.path
        if key not in self._rest:
            self._rest[key] = apigateway.RequestAuthorizer(
                self,
                f"RestAuthorizer{len(self._rest) or ''}",
                handler=self.function,
                identity_sources=list(REST_IDENTITY_SOURCES),
                results_cache_ttl=self.cache_ttl,
            )
        return self._rest[key]

    def http_authorizer(self, api: apigatewayv2.IHttpApi) -> authorizers.HttpLambdaAuthorizer:
        """A Lambda authorizer for an HTTP API (payload 2.0, simple responses), one per API. Its identity sources
        are the Authorization header (a request without one is refused with 401 before the guard runs) and the
        route key: a simple response answers for one route, so its cached copy must never answer another."""
        key = api.node.path
        if key not in self._http:
            self._http[key] = authorizers.HttpLambdaAuthorizer(
                f"{self.node.id}Authorizer{len(self._http) or ''}",
                self.function,
                response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
                identity_source=list(HTTP_IDENTITY_SOURCES),
                results_cache_ttl=self.cache_ttl,
            )
        return self._http[key]

    def protect_resource(
        self,
        api: apigateway.RestApi,
        *,
        resource: str,
        scopes: Iterable[str] = (),
        name: str = "",
        base_url: str | None = None,
    ) -> ProtectedResource:
        """Make ``api`` the protected resource ``resource`` (RFC 9728, RFC 8707): its metadata at
        ``GET /.well-known/oauth-protected-resource`` (and at that path followed by the resource's own path, RFC 9728
        3.1, when ``resource`` is under ``base_url``), a static answer of API Gateway's (a mock integration), naming
        the passport issuer as its authorization server; the 401 of :meth:`add_gateway_responses` on that API points
        at it (RFC 9728 5.1; at the path-suffixed location when there is one); and this guard accepts only tokens
        whose ``aud`` is ``resource`` (``PASSPORT_AUDIENCE``). Call it before :meth:`add_gateway_responses`.

        ``scopes`` are the scopes the resource understands (``scopes_supported``), ``name`` its human-readable name
        (``resource_name``), ``base_url`` where the API answers (default: the stage's execute-api URL)."""
        if self.own is None or self.issuer is None:
            raise ValueError(
                "a protected resource needs a guard of its own (passport=...): the deployed guard accepts tokens "
                "for the passport API only"
            )
        if self.resource is not None and self.resource.resource != resource:
            raise ValueError(
                f"this guard already protects {self.resource.resource}: one guard of its own per resource (its "
                "tokens' aud); make another PassportGuard"
            )
        if self._audience and self._audience != resource:
            raise ValueError(f"the guard's audience is {self._audience}, not the resource {resource}")
        key = api.node.path
        if key in self._responses:
            raise ValueError("call protect_resource before add_gateway_responses, so the 401 names the metadata")
        if key in self._metadata_urls:
            raise ValueError("this API is already a protected resource")
        _check_resource(resource)
        base = (base_url or _stage_url(api)).rstrip("/")
        metadata = protected_resource_metadata(
            resource=resource, authorization_server=self.issuer, scopes=list(scopes), name=name
        )
        body = json.dumps(metadata, separators=(",", ":"))
        _check_template(body, "the protected resource metadata")
        integration = apigateway.MockIntegration(
            request_templates={"application/json": '{"statusCode": 200}'},
            integration_responses=[
                apigateway.IntegrationResponse(
                    status_code="200",
                    response_templates={"application/json": body},
                    response_parameters={
                        "method.response.header.Content-Type": "'application/json'",
                        "method.response.header.Cache-Control": f"'public, max-age={METADATA_MAX_AGE}'",
                    },
                )
            ],
        )
        paths = [PROTECTED_RESOURCE_PATH]
        suffix = _resource_path(resource, base)
        if suffix:
            paths.append(PROTECTED_RESOURCE_PATH + suffix)
        methods = []
        for path in paths:
            method = api.root.resource_for_path(path).add_method(
                "GET",
                integration,
                authorization_type=apigateway.AuthorizationType.NONE,
                method_responses=[
                    apigateway.MethodResponse(
                        status_code="200",
                        response_parameters={
                            "method.response.header.Content-Type": True,
                            "method.response.header.Cache-Control": True,
                        },
                    )
                ],
            )
            reason = (
                "Protected resource metadata (RFC 9728) is public by design: a client reads it before it has a "
                "token, to find the authorization server; it is a static answer and holds no secret."
            )
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
            methods.append(method)
        # The 401 names the location RFC 9728 3.1 gives the resource's identifier (the passport API's does too).
        metadata_url = base + paths[-1]
        self._metadata_urls[key] = metadata_url
        # RFC 8707: the guard accepts only tokens issued for this resource.
        self.own.function.add_environment("PASSPORT_AUDIENCE", resource)
        self.own.environment["PASSPORT_AUDIENCE"] = resource
        self.resource = ProtectedResource(resource, metadata_url, metadata, tuple(methods))
        return self.resource

    def add_gateway_responses(
        self,
        api: apigateway.RestApi,
        responses: Iterable[str] | Mapping[str, GatewayResponse] = GUARD_RESPONSES,
    ) -> list[apigateway.GatewayResponse]:
        """API Gateway's own answers, as ``passport.gateway_responses`` defines them (and the local gateway
        gives): by default those of the guard, 401 ``invalid_token`` and 403 ``insufficient_scope`` with
        ``WWW-Authenticate`` and 503 with ``Retry-After`` when it fails; the passport API takes them all
        (404 for an unknown path, 429, 413, 502 in OAuth's JSON), as a mapping of kind to response. On an API
        :meth:`protect_resource` made a protected resource, the 401's challenge carries ``resource_metadata``
        (RFC 9728 5.1)."""
        if isinstance(responses, Mapping):
            definitions: Mapping[str, GatewayResponse] = responses
        else:
            definitions = {
                kind: response
                for kind, response in gateway_responses(self._metadata_urls.get(api.node.path), https=True,
                                                        dpop=self.dpop).items()
                if kind in tuple(responses)
            }
        made = self._responses.setdefault(api.node.path, {})
        for kind, response in definitions.items():
            body = json.dumps(response.body, separators=(",", ":"))
            _check_template(body, f"the {kind} gateway response body")
            headers = {}
            for name, value in response.headers.items():
                if any("'" in part for part in _literals(value)):
                    raise ValueError(f"the {kind} header {name} cannot hold a single quote")
                headers[name] = f"'{value}'"
            made[kind] = api.add_gateway_response(
                f"Response{kind.title().replace('_', '')}",
                type=apigateway.ResponseType.of(kind),
                status_code=str(response.status),
                response_headers=headers or None,
                templates={"application/json": body},
            )
        return list(made.values())


#: How a CDK token (an API id, the region) is written inside a string until synthesis resolves it.
_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")


def _literals(text: str) -> list[str]:
    """The literal parts of a string that may hold CDK tokens."""
    return _TOKEN.split(text)


def _check_template(body: str, what: str) -> None:
    """A mapping template is VTL: ``$`` and ``#`` in the literal text would be read as VTL."""
    if any(c in part for part in _literals(body) for c in "$#"):
        raise ValueError(f"{what} would be read as a VTL template ($ or #)")


def _check_resource(resource: str) -> None:
    """RFC 8707 2 (RFC 9728 1.2): an absolute URI, no fragment; https, or http for a loopback test."""
    if Token.is_unresolved(resource):
        return
    parts = urlsplit(resource)
    if parts.scheme not in ("https", "http") or not parts.netloc or "#" in resource:
        raise ValueError(f"the resource {resource!r} must be an absolute https URI without a fragment")


def _stage_url(api: apigateway.RestApi) -> str:
    """The stage's base URL, from the API id and the stage's literal name: never the Stage resource itself (a
    gateway response referencing it would make a dependency cycle through the Deployment)."""
    try:
        name = api.deployment_stage.node.default_child.stage_name
    except Exception:  # a RestApi with deploy=False has no stage
        name = None
    if not isinstance(name, str) or Token.is_unresolved(name):
        raise ValueError("the API has no stage of a known name: give base_url= (where the API answers)")
    stack = Stack.of(api)
    return f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{name}"


def _resource_path(resource: str, base: str) -> str:
    """The resource's path under the API's base URL (RFC 9728 3.1's suffix), when both are known now."""
    if Token.is_unresolved(resource) or Token.is_unresolved(base) or not resource.startswith(base + "/"):
        return ""
    suffix = resource[len(base):].rstrip("/")
    return suffix if suffix and "?" not in suffix and "{" not in suffix else ""
