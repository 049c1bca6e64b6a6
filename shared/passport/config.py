"""Settings: one file (``passport.toml``) read by the CDK app and at run time, every key overridable from the
environment (docs/configuration.md).

The file is found through ``PASSPORT_CONFIG``, else ``./passport.toml``; without either the defaults below
apply, and they equal the shipped file. An override is ``PASSPORT_<SECTION>_<KEY>`` for a key in a section and
``PASSPORT_<KEY>`` for a top-level key. Lists in the environment are comma-separated or a JSON array; tables
are JSON.

This module is on the guard's import path: standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from passport.authorizer_cache import DEFAULT_TTL_SECONDS
from passport.core.errors import PassportError

SUBJECTS = ("any", "user", "client")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
# RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
ALGORITHMS = ("RS256", "ES256", "EdDSA")
MAX_LEEWAY_SECONDS = 60


class ConfigError(PassportError, ValueError):
    """A setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class RouteRule:
    """A demo API route and the guard's rule for it."""

    method: str
    path: str
    scopes: tuple[str, ...] = ()
    any_scopes: tuple[str, ...] = ()
    subject: str = "any"

    def __post_init__(self) -> None:
        # "get" and "GET" are the same method; the rule table is keyed by the upper-case form.
        object.__setattr__(self, "method", self.method.upper())


def validate_route_rule(rule: RouteRule) -> None:
    if rule.method not in HTTP_METHODS:
        raise ConfigError(f"route {rule.path}: {rule.method!r} is not an HTTP method")
    if not rule.path.startswith("/"):
        raise ConfigError(f"route {rule.path!r} must start with /")
    if rule.subject not in SUBJECTS:
        raise ConfigError(f"route {rule.path}: subject must be one of {', '.join(SUBJECTS)}")


@dataclass(frozen=True)
class Lifetimes:
    """How long each kind of token, code and session lives, in seconds (``[lifetimes]``)."""

    access: int = 3600
    refresh: int = 30 * 24 * 3600
    personal_access: int = 365 * 24 * 3600
    code: int = 600
    device: int = 600
    session: int = 12 * 3600
    id_token: int = 3600


@dataclass(frozen=True)
class Grants:
    """The optional grants (``[grants]``), off by default as in Laravel Passport."""

    password: bool = False
    implicit: bool = False


@dataclass(frozen=True)
class Keys:
    """Where the signing keys come from and what kind new ones are (``[keys]``, docs/keys.md)."""

    algorithm: str = "RS256"
    rsa_bits: int = 2048
    path: str = ""
    secret_name: str = ""


REGISTRATION_POLICIES = ("closed", "open", "token")
#: Where the demo MCP server answers; its resource identifier is ``<issuer>/mcp`` (docs/mcp.md).
MCP_PATH = "/mcp"
#: The token endpoint under the issuer (RFC 8414 ``token_endpoint``): what a DPoP proof's ``htu`` names there.
TOKEN_PATH = "/oauth/token"
#: The pushed authorization request endpoint under the issuer (RFC 9126 5), likewise.
PAR_PATH = "/oauth/par"
#: The UserInfo endpoint under the issuer (OpenID Connect Core 5.3), and so the audience of a token for it alone.
USERINFO_PATH = "/oauth/userinfo"


@dataclass(frozen=True)
class Registration:
    """Dynamic client registration (RFC 7591) at ``POST /oauth/register``."""

    # closed: none (the CLI registers clients); open: anyone may register a public client that uses PKCE (what
    # MCP clients do, so they need no manual set-up: docs/mcp.md), or a private_key_jwt client without
    # client_credentials (no shared secret either); token: whoever presents the initial access token may register
    # any client.
    policy: str = "open"
    # The SHA-256 (hex) of the initial access token, for policy "token" (`passport client registration-token`).
    initial_access_token_sha256: str = ""
    # Registrations accepted per source address per hour.
    per_hour: int = 20


@dataclass(frozen=True)
class ClientDocuments:
    """Clients whose ``client_id`` is the https URL of their metadata document (``[client_documents]``;
    draft-ietf-oauth-client-id-metadata-document-03; docs/mcp.md): fetched when first met, no registration."""

    enabled: bool = True
    # Hosts whose documents are accepted (exact names, lower case); empty: any host with public addresses.
    allowed_hosts: tuple[str, ...] = ()
    # Fetch documents from loopback addresses too: for developing a client on this machine with `passport serve`
    # only (a deployed server refuses to start with it: its loopback is the Lambda's own).
    allow_loopback: bool = False
    # Documents fetched per source address per hour (a kept document costs nothing; a refused fetch counts).
    fetches_per_hour: int = 60


@dataclass(frozen=True)
class Dpop:
    """Sender-constrained tokens (``[dpop]``; RFC 9449, docs/security.md): a token request with a ``DPoP`` proof
    gets a token bound to the proof's key, which the guard accepts only with a fresh proof of that key."""

    enabled: bool = True
    # RFC 9449 8: the token endpoint asks for a proof carrying its nonce (``use_dpop_nonce``, ``DPoP-Nonce``).
    require_nonce: bool = False
    # RFC 9449 4.3 point 11: how old a proof's iat may be, in seconds (its jti is remembered that long).
    max_age_seconds: int = 300


@dataclass(frozen=True)
class Par:
    """Pushed authorization requests (``[par]``; RFC 9126) at ``POST /oauth/par``."""

    # RFC 9126 5: every client must push its authorization requests (``require_pushed_authorization_requests``).
    required: bool = False
    # RFC 9126 2.2: how long a request_uri lives, in seconds (used once).
    lifetime_seconds: int = 60


#: The security profiles a server or a client may be held to (passport.core.profile).
SECURITY_PROFILES = ("baseline", "fapi2")


@dataclass(frozen=True)
class Guard:
    """The guard's caches and clock skew (``[guard]``)."""

    revocation_cache_seconds: int = 30
    # API Gateway's authorizer result cache on the passport API (what PassportGuard defaults to elsewhere).
    authorizer_cache_seconds: int = DEFAULT_TTL_SECONDS
    leeway_seconds: int = 30


@dataclass(frozen=True)
class Storage:
    """The DynamoDB tables, their region, and the limits of every call to them (``[storage]``)."""

    clients_table: str = "passport-clients"
    users_table: str = "passport-users"
    tokens_table: str = "passport-tokens"
    region: str = ""
    # A DynamoDB (or key secret) call that gets no answer in this many seconds is retried, then fails as a 503;
    # (retries + 1) * timeout_seconds, plus backoff, must fit the function's timeout.
    timeout_seconds: int = 4
    # Retries (with backoff) of a throttled, failed or timed-out call before it fails.
    retries: int = 2


def _default_demo_routes() -> tuple[RouteRule, ...]:
    return (
        RouteRule("GET", "/api/user", subject="user"),
        RouteRule("GET", "/api/ping"),
        RouteRule("GET", "/api/orders", scopes=("orders:read",)),
    )


@dataclass(frozen=True)
class Demo:
    """The examples that ship with the server: the demo API (``[demo_api]``, ``/api/*``) and the demo MCP server
    (``/mcp``). Off by default, so a deployment serves only what it was asked to; ``passport serve`` turns them on
    unless the settings say otherwise (the quickstart and the guides use them)."""

    enabled: bool = False


@dataclass(frozen=True)
class DemoApi:
    """The demo API's routes and the guard's rule for each (``[demo_api]``)."""

    routes: tuple[RouteRule, ...] = field(default_factory=_default_demo_routes)


@dataclass(frozen=True)
class Observability:
    """What the functions record beyond their logs and metrics (docs/operations.md)."""

    # Powertools' Tracer in every function but the guard: an X-Ray subsegment per invocation and one per DynamoDB
    # and Secrets Manager call. Off, Lambda's active tracing still records every initialization and invocation;
    # on, each cold start imports X-Ray's SDK (tens of milliseconds: `make bench` prints it).
    tracer: bool = False


@dataclass(frozen=True)
class Deploy:
    """Choices of the CDK app alone (``infra.options.DeployOptions``): the functions never read them."""

    # The SNS topic (ARN) the CloudWatch alarms notify. Empty: the stack makes one (its output AlarmTopicArn).
    alarm_topic_arn: str = ""


@dataclass(frozen=True)
class Cors:
    """Cross-origin reads by browser clients (``[cors]``; Fetch standard, CORS protocol; docs/http.md)."""

    # Origins (scheme://host[:port]) that may read the token, revocation, registration and UserInfo answers of any
    # client, beside the origins of the calling client's own redirect URIs. Never credentials.
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Local:
    """Choices of ``passport serve`` and the CLI alone (the local store): the functions never read them."""

    # A DynamoDB endpoint you already run (your own DynamoDB Local, LocalStack, or DynamoDB itself, with the AWS
    # credentials of your environment) instead of the store passport serve starts. Empty: the standard
    # AWS_ENDPOINT_URL_DYNAMODB when it is set, else passport's own DynamoDB Local under the data folder.
    dynamodb_endpoint: str = ""


@dataclass(frozen=True)
class Settings:
    """Every setting, from the file and the environment (docs/configuration.md)."""

    issuer: str = ""
    audience: str = ""
    data_dir: str = ".passport"
    app_name: str = "lambda-passport"
    user_provider: str = ""
    personal_access_client: str = ""
    default_scopes: tuple[str, ...] = ()
    inherited_scopes: bool = False
    scopes: dict[str, str] = field(
        default_factory=lambda: {
            "orders:read": "Read your orders",
            "orders:write": "Create and change your orders",
        }
    )
    #: Other protected resources (APIs behind a PassportGuard) tokens may be issued for, by their identifiers
    #: (absolute URIs, RFC 8707); the deployment's own API (``audience``) is always one.
    resources: tuple[str, ...] = ()
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    grants: Grants = field(default_factory=Grants)
    registration: Registration = field(default_factory=Registration)
    client_documents: ClientDocuments = field(default_factory=ClientDocuments)
    dpop: Dpop = field(default_factory=Dpop)
    par: Par = field(default_factory=Par)
    # The profile every client is held to unless its own says otherwise: "baseline" or "fapi2" (the FAPI 2.0
    # Security Profile: passport.core.profile, docs/security.md).
    security_profile: str = "baseline"
    keys: Keys = field(default_factory=Keys)
    guard: Guard = field(default_factory=Guard)
    storage: Storage = field(default_factory=Storage)
    demo: Demo = field(default_factory=Demo)
    demo_api: DemoApi = field(default_factory=DemoApi)
    observability: Observability = field(default_factory=Observability)
    deploy: Deploy = field(default_factory=Deploy)
    cors: Cors = field(default_factory=Cors)
    local: Local = field(default_factory=Local)
    # Where relative paths in the file are anchored (the file's folder).
    base_dir: str = "."

    @property
    def issuer_url(self) -> str:
        """The issuer; unset, it follows the local server's HOST and PORT."""
        if self.issuer:
            return self.issuer.rstrip("/")
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        return f"http://{host}:{port}"

    @property
    def token_audience(self) -> str:
        """The ``aud`` of a token that names no resource: the deployment's API. ``<issuer>/api`` by default, with
        the demo API or without it: what PassportGuard (and the deployed guard) on the user's own API expects."""
        return self.audience or f"{self.issuer_url}/api"

    @property
    def mcp_resource(self) -> str:
        """The demo MCP server's resource identifier (RFC 8707, RFC 9728)."""
        return self.issuer_url + MCP_PATH

    @property
    def registered_resources(self) -> tuple[str, ...]:
        """Every resource a token may be for: this API, the demo MCP server when it runs, and the configured
        ``resources``."""
        mcp = (self.mcp_resource,) if self.demo.enabled else ()
        return tuple(dict.fromkeys((self.token_audience, *mcp, *self.resources)))

    @property
    def data_path(self) -> Path:
        return Path(self.base_dir, self.data_dir)

    @property
    def keys_path(self) -> Path:
        return Path(self.base_dir, self.keys.path) if self.keys.path else self.data_path / "keys"


def load_settings(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the settings file (if any), then apply ``PASSPORT_*`` overrides."""
    environ = os.environ if environ is None else environ
    path = _settings_file(path, environ)
    raw = _read_file(path) if path else {}
    raw["base_dir"] = str(Path(path).resolve().parent) if path else "."
    settings = _build(Settings, raw, "", environ)
    _validate(settings)
    return settings


def is_given(section: str, key: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment or the settings file sets ``section.key`` (a default does not): for a program that
    defaults a setting otherwise, as ``passport serve`` turns the demos on unless told not to."""
    environ = os.environ if environ is None else environ
    if f"PASSPORT_{section}_{key}".upper() in environ:
        return True
    path = _settings_file(None, environ)
    table = _read_file(path).get(section, {}) if path else {}
    return isinstance(table, dict) and key in table


def _settings_file(path: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> str | os.PathLike[str] | None:
    """The given file, else ``PASSPORT_CONFIG``'s, else ``./passport.toml`` if there is one."""
    return path or environ.get("PASSPORT_CONFIG") or ("passport.toml" if Path("passport.toml").is_file() else None)


def _read_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    file = Path(path)
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {file}: {exc}") from exc


def _build(cls: type, raw: dict[str, Any], prefix: str, environ: dict[str, str]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{prefix.rstrip('_').lower()}] must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(prefix.lower() + u for u in unknown))}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        env_name = f"PASSPORT_{prefix}{f.name}".upper()
        if dataclasses.is_dataclass(hint):
            values[f.name] = _build(hint, raw.get(f.name, {}), f"{prefix}{f.name}_", environ)
        elif env_name in environ and f.name != "base_dir":
            values[f.name] = _from_env(env_name, environ[env_name], hint)
        elif f.name in raw:
            values[f.name] = _coerce(f"{prefix}{f.name}".lower(), raw[f.name], hint)
    return cls(**values)


def _from_env(name: str, text: str, hint: Any) -> Any:
    origin = get_origin(hint)
    if hint is bool:
        if text.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if text.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name} must be true or false, not {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if origin in (tuple, dict):
        stripped = text.strip()
        if stripped.startswith(("[", "{")):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name} is not valid JSON: {exc}") from None
        elif origin is tuple:
            value = [part.strip() for part in stripped.split(",") if part.strip()]
        else:
            raise ConfigError(f"{name} must be a JSON object")
        return _coerce(name, value, hint)
    return text


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name} must be a list")
        (item_hint, _ellipsis) = get_args(hint)
        if dataclasses.is_dataclass(item_hint):
            return tuple(_build(item_hint, item, f"{name}_", {}) for item in value)
        return tuple(_coerce(name, item, item_hint) for item in value)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{name} must be a table of strings")
        return dict(value)
    raise ConfigError(f"{name}: unsupported setting type {hint}")


def _validate(s: Settings) -> None:
    if s.keys.algorithm not in ALGORITHMS:
        raise ConfigError(f"keys.algorithm must be one of {', '.join(ALGORITHMS)}")
    if s.keys.rsa_bits not in (2048, 3072, 4096):
        raise ConfigError("keys.rsa_bits must be 2048, 3072 or 4096")
    if not 0 <= s.guard.leeway_seconds <= MAX_LEEWAY_SECONDS:
        raise ConfigError(f"guard.leeway_seconds must be between 0 and {MAX_LEEWAY_SECONDS}")
    if s.guard.revocation_cache_seconds < 0 or not 0 <= s.guard.authorizer_cache_seconds <= 3600:
        raise ConfigError("guard cache times must be between 0 and 3600 seconds")
    if s.security_profile not in SECURITY_PROFILES:
        raise ConfigError(f"security_profile must be one of {', '.join(SECURITY_PROFILES)}")
    if not 10 <= s.dpop.max_age_seconds <= 3600:
        raise ConfigError("dpop.max_age_seconds must be between 10 and 3600")
    if not 5 <= s.par.lifetime_seconds <= 600:
        raise ConfigError("par.lifetime_seconds must be between 5 and 600")
    if not 1 <= s.storage.timeout_seconds <= 60 or not 0 <= s.storage.retries <= 10:
        raise ConfigError("storage.timeout_seconds must be between 1 and 60, storage.retries between 0 and 10")
    for name, seconds in dataclasses.asdict(s.lifetimes).items():
        if seconds <= 0:
            raise ConfigError(f"lifetimes.{name} must be positive")
    for scope in s.scopes:
        if not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigError(f"scope name {scope!r} is not a valid RFC 6749 scope token")
    undefined = [scope for scope in s.default_scopes if scope not in s.scopes]
    if undefined:
        raise ConfigError(f"default_scopes names undefined scope(s): {', '.join(undefined)}")
    for rule in s.demo_api.routes:
        validate_route_rule(rule)
    for resource in s.resources:
        parts = urlsplit(resource)
        if parts.scheme not in ("https", "http") or not parts.netloc or "#" in resource:
            raise ConfigError(f"resource {resource!r} must be an absolute http(s) URI without a fragment")
    for origin in s.cors.allowed_origins:
        # A serialized origin, as browsers send it (lower case, no path, no trailing slash); "*" is no origin.
        if not re.fullmatch(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?", origin):
            raise ConfigError(f"cors.allowed_origins: {origin!r} is not an origin (scheme://host[:port], lower case)")
    if s.registration.policy not in REGISTRATION_POLICIES:
        raise ConfigError(f"registration.policy must be one of {', '.join(REGISTRATION_POLICIES)}")
    digest = s.registration.initial_access_token_sha256
    if s.registration.policy == "token" and not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ConfigError("registration.policy token needs registration.initial_access_token_sha256 (64 hex digits)")
    if not 1 <= s.registration.per_hour <= 10000:
        raise ConfigError("registration.per_hour must be between 1 and 10000")
    if not 1 <= s.client_documents.fetches_per_hour <= 10000:
        raise ConfigError("client_documents.fetches_per_hour must be between 1 and 10000")
