"""The guard, issuance and round-trip figures of docs/performance.md, measured in this process against a local
deployment."""

from __future__ import annotations

import base64
import copy
import json
import logging
from dataclasses import dataclass
from typing import Any

from bench.counting import counting, describe
from bench.deployment import REDIRECT_URI, SCOPE, Deployment
from bench.memory import SpentOnce
from bench.timing import Timing, best_per_call

# -- 4. DynamoDB round trips ------------------------------------------------------------------------------


@dataclass
class RoundTrips:
    token_first: list[str]  # the first token request a container serves (wiring built on it)
    token_later: list[str]
    guard_new_container: list[str]  # fresh token, nothing cached
    guard_client_cached: list[str]  # fresh token, its client's status already cached
    guard_cached: list[str]  # the same token again
    token: str  # a token whose revocation status the guard has cached
    guard_event: dict[str, Any]  # the REST REQUEST authorizer event the local gateway built for it


def _token_of(reply: Any) -> str:
    if reply.status != 200:
        raise RuntimeError(f"the token endpoint answered {reply.status}: {reply.body[:200]!r}")
    return json.loads(reply.body)["access_token"]


def measure_round_trips(d: Deployment) -> RoundTrips:
    """Real events through the local gateway (which builds API Gateway's events and runs the handlers
    in-process), the guard's requests counted per invocation."""
    from passport.local.gateway import LambdaContext

    gateway = d.gateway
    with counting() as calls:
        with calls.span() as token_first:
            token_a = _token_of(gateway.dispatch("POST", *d.token_request()))
        with calls.span() as token_later:
            token_b = _token_of(gateway.dispatch("POST", *d.token_request()))

        guard_module = gateway.function("guard")  # as the gateway loads it on the first protected request
        original = guard_module.handler
        invocations: list[tuple[dict[str, Any], list[str]]] = []

        def recording(event: dict[str, Any], context: Any) -> Any:
            seen = copy.deepcopy(event)
            with calls.span() as sent:
                try:
                    return original(event, context)
                finally:
                    invocations.append((seen, sent))

        guard_module.handler = recording
        try:
            for token in (token_a, token_b):
                reply = gateway.dispatch("GET", *d.api_request(token))
                if reply.status != 200:
                    raise RuntimeError(f"GET /api/orders answered {reply.status}: {reply.body[:200]!r}")
        finally:
            guard_module.handler = original
        if len(invocations) != 2:
            raise RuntimeError(f"expected 2 guard invocations, saw {len(invocations)}")
        (event_a, guard_new_container), (_, guard_client_cached) = invocations
        with calls.span() as guard_cached:
            guard_module.handler(copy.deepcopy(event_a), LambdaContext("guard"))
    return RoundTrips(
        token_first, token_later, guard_new_container, guard_client_cached, guard_cached, token_a, event_a
    )


@dataclass(frozen=True)
class CodeFlowTrips:
    exchange: list[str]  # authorization_code at the token endpoint
    refresh: list[str]  # refresh_token at the token endpoint
    device_pending: list[str]  # a device poll while the user has not answered
    password: list[str]  # the password grant
    userinfo: list[str]  # GET /oauth/userinfo with the exchange's access token


def measure_code_flow_round_trips(d: Deployment) -> CodeFlowTrips:
    """A code as the authorization endpoint stores it (written here directly: the pages are not what is
    counted), for OpenID Connect (openid offline_access: an ID token too), then its exchange, one refresh and a
    userinfo request through the local gateway."""
    import json
    import secrets
    import time
    import uuid

    from passport.core.hashing import hash_secret
    from passport.core.models import AuthorizationCode
    from passport.core.users import create_user
    from passport.storage.grants import DynamoGrantStore
    from passport.storage.repositories import DynamoUserStore

    from bench.deployment import REDIRECT_URI, SCOPE

    password = "bench password 123"
    user = create_user(DynamoUserStore(), email=f"bench{uuid.uuid4().hex[:6]}@example.com", name="Bench",
                       password=password)
    code = secrets.token_urlsafe(32)
    now = int(time.time())
    DynamoGrantStore().save_code(AuthorizationCode(
        code_hash=hash_secret(code), client_id=d.client.client_id, user_id=user.id, redirect_uri=REDIRECT_URI,
        redirect_uri_sent=True, scopes=(SCOPE, "openid", "offline_access"), expires_at=now + 600, auth_time=now,
        nonce="bench",
    ))
    with counting() as calls:
        with calls.span() as exchange:
            reply = d.gateway.dispatch("POST", *d.form_request(
                {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}))
        if reply.status != 200 or b"id_token" not in reply.body:
            raise RuntimeError(f"the code exchange answered {reply.status}: {reply.body[:200]!r}")
        refresh_token = json.loads(reply.body)["refresh_token"]
        access_token = json.loads(reply.body)["access_token"]
        with calls.span() as refresh:
            reply = d.gateway.dispatch("POST", *d.form_request(
                {"grant_type": "refresh_token", "refresh_token": refresh_token}))
        if reply.status != 200:
            raise RuntimeError(f"the refresh answered {reply.status}: {reply.body[:200]!r}")
        with calls.span() as userinfo:
            reply = d.gateway.dispatch("GET", "/oauth/userinfo",
                                       [("Host", d.host), ("Authorization", f"Bearer {access_token}")], b"")
        if reply.status != 200:
            raise RuntimeError(f"userinfo answered {reply.status}: {reply.body[:200]!r}")
    device = d.gateway.dispatch("POST", *d.form_request({"scope": SCOPE}, path="/oauth/device/code"))
    device_code = json.loads(device.body)["device_code"]
    with counting() as calls:
        with calls.span() as device_pending:
            reply = d.gateway.dispatch("POST", *d.form_request(
                {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code}))
        if json.loads(reply.body).get("error") != "authorization_pending":
            raise RuntimeError(f"the device poll answered {reply.status}: {reply.body[:200]!r}")
        with calls.span() as password_grant:
            reply = d.gateway.dispatch("POST", *d.form_request(
                {"grant_type": "password", "username": user.email, "password": password, "scope": SCOPE}))
        if reply.status != 200:
            raise RuntimeError(f"the password grant answered {reply.status}: {reply.body[:200]!r}")
    return CodeFlowTrips(exchange, refresh, device_pending, password_grant, userinfo)


@dataclass(frozen=True)
class LifecycleTrips:
    introspect: list[str]
    revoke: list[str]


def measure_lifecycle_round_trips(d: Deployment) -> LifecycleTrips:
    """Introspection, then revocation, of a fresh client-credentials access token."""
    token = _token_of(d.gateway.dispatch("POST", *d.token_request()))
    with counting() as calls:
        with calls.span() as introspect:
            reply = d.gateway.dispatch("POST", *d.form_request({"token": token}, path="/oauth/introspect"))
        if reply.status != 200 or b'"active":true' not in reply.body:
            raise RuntimeError(f"introspection answered {reply.status}: {reply.body[:200]!r}")
        with calls.span() as revoke:
            reply = d.gateway.dispatch("POST", *d.form_request({"token": token}, path="/oauth/revoke"))
        if reply.status != 200:
            raise RuntimeError(f"revocation answered {reply.status}: {reply.body[:200]!r}")
    return LifecycleTrips(introspect, revoke)


# -- 1. the guard's warm decision ------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardTimes:
    raw_decode: Timing
    decision: Timing
    authorize: Timing
    calls_during: list[str]  # DynamoDB requests sent while timing (must be none: status cached)


def measure_guard(d: Deployment, token: str, event: dict[str, Any]) -> GuardTimes:
    import jwt
    from passport.compose import guard as container_guard
    from passport.guard.events import authorize
    from passport.jws import ACCESS_TOKEN
    from passport.keys.keyring import KEYS

    s = d.settings
    guard = container_guard()  # the container's guard: keys loaded, this token's status cached
    key = KEYS.get(s).verification[jwt.get_unverified_header(token)["kid"]]  # the verifier's own key object
    options = {"require": list(ACCESS_TOKEN.required)}  # the claims the guard requires, as jwt.decode's option
    audience, issuer, leeway = s.token_audience, s.issuer_url, s.guard.leeway_seconds
    algorithms = [key.alg]
    method, path = event["httpMethod"], event["resource"]

    def raw_decode() -> object:
        return jwt.decode(
            token, key.key, algorithms=algorithms, audience=audience, issuer=issuer, leeway=leeway, options=options
        )

    def decision() -> object:
        return guard.permits(guard.authenticate(token), guard.rules.for_route(method, path))

    def full() -> object:
        return authorize(event, guard)

    if decision() is not True or full()["policyDocument"]["Statement"][0]["Effect"] != "Allow":
        raise RuntimeError("the guard does not admit the bench token to GET /api/orders")

    with counting() as calls:
        best = best_per_call({"raw": raw_decode, "decision": decision, "authorize": full})
    return GuardTimes(best["raw"], best["decision"], best["authorize"], list(calls.operations))


# -- 2. token issuance: the token function's handler, as users pay it ----------------------------------------


@dataclass(frozen=True)
class IssuanceTimes:
    handler: Timing  # functions/token/handler.py's handler(event, context), storage in memory
    sign: Timing  # the product's signer alone, on the same claims and headers
    authlib: Timing  # a minimal authlib token endpoint, in this process


class _AuditLines(logging.Handler):
    """Keeps the audit lines logged while it is attached."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def measure_issuance(d: Deployment) -> IssuanceTimes:
    """The token function's own handler on the REST proxy event the local gateway builds for the bench client's
    POST /oauth/token (HTTP Basic, client_credentials), with its stores in memory through compose's storage seam;
    against the product's signer alone on the same claims and headers, and against a minimal authlib token
    endpoint (bench/authlib_baseline.py, the load run's baseline) given the same request in this process."""
    from passport import compose
    from passport.core.tokens import ACCESS_TOKEN_TYP
    from passport.keys.keyring import KEYS
    from passport.local.gateway import LambdaContext

    from bench import authlib_baseline
    from bench.memory import MemoryStorage

    signer = KEYS.get(d.settings, need_private=True).require_signer()  # the one compose wires
    path, header_list, body = d.token_request()
    module = d.gateway.function("token")  # functions/token/handler.py, as the gateway loads it
    with counting() as calls, compose.using_storage(MemoryStorage(d.client)) as storage:
        seen: list[dict[str, Any]] = []
        original = module.handler

        def recording(event: dict[str, Any], context: Any) -> Any:
            seen.append(copy.deepcopy(event))
            return original(event, context)

        module.handler = recording
        try:
            reply = d.gateway.dispatch("POST", path, header_list, body)
        finally:
            module.handler = original
        _token_of(reply)
        (event,) = seen
        context = LambdaContext("token")
        handle = module.handler

        def handler() -> object:
            return handle(event, context)

        pristine = copy.deepcopy(event)
        audit_log, lines = logging.getLogger("passport.audit"), _AuditLines()
        audit_log.addHandler(lines)
        try:
            answer = handler()
        finally:
            audit_log.removeHandler(lines)
        token = _check_answer(answer, lines.lines, d.client.client_id)
        if event != pristine:
            raise RuntimeError("the token handler changed the event it was given: a replay would not be alike")
        signing_input, _, _ = token.rpartition(".")
        claims = json.loads(base64.urlsafe_b64decode(signing_input.split(".")[1] + "=="))
        headers = {"kid": signer.kid, "typ": ACCESS_TOKEN_TYP}  # as AccessTokenIssuer signs every access token

        def sign() -> object:
            return signer.sign(claims, headers)

        if signer.sign(claims, headers).rpartition(".")[0] != signing_input:
            raise RuntimeError("the bare sign does not sign what the handler signed")

        server, _, _, _ = authlib_baseline.build(d.settings.issuer_url, d.client.client_id, d.secret)
        authlib_headers = dict(header_list)

        def authlib() -> object:
            return authlib_baseline.token_response(server, d.settings.issuer_url, authlib_headers, body)

        _check_authlib(authlib())
        best = best_per_call({"handler": handler, "sign": sign, "authlib": authlib})
        if not storage.token_store.records:
            raise RuntimeError("the handler recorded no token in the in-memory store")
    if calls.operations:
        raise RuntimeError(f"the issuance figure sent {describe(calls.operations)} DynamoDB requests: its storage "
                           "was not the in-memory one")
    return IssuanceTimes(best["handler"], best["sign"], best["authlib"])


def _check_answer(answer: Any, audit_lines: list[str], client_id: str) -> str:
    """The handler's proxy result is a token response (RFC 6749 5.1) that may not be cached (5.1: no-store),
    and it logged one audit line for it; the access token in it."""
    headers = answer.get("headers") or {}
    if answer.get("statusCode") != 200 or headers.get("Cache-Control") != "no-store" or \
            headers.get("Pragma") != "no-cache" or headers.get("Content-Type") != "application/json":
        raise RuntimeError(f"the token handler answered {answer.get('statusCode')} {headers}: {answer.get('body')!r}")
    body = json.loads(answer["body"])
    if body.get("token_type") != "Bearer" or body.get("scope") != SCOPE:
        raise RuntimeError(f"unexpected token response {sorted(body)}")
    line = json.loads(audit_lines[0]) if len(audit_lines) == 1 else {}
    if line.get("audit") != "token_issued" or line.get("client_id") != client_id:
        raise RuntimeError(f"unexpected audit lines {audit_lines!r}")
    return body["access_token"]


def _check_authlib(answer: tuple[int, list[tuple[str, str]], bytes]) -> None:
    """The baseline issues what the comparison assumes: 200 and an RFC 9068 JWT signed RS256."""
    import jwt

    status, _, payload = answer
    body = json.loads(payload) if status == 200 else {}
    header = jwt.get_unverified_header(body["access_token"]) if "access_token" in body else {}
    if header.get("typ") != "at+jwt" or header.get("alg") != "RS256":
        raise RuntimeError(f"the authlib endpoint answered {status}: {payload[:200]!r}")


# -- 5. DPoP (RFC 9449): what a sender-constrained call costs --------------------------------------------------------


@dataclass(frozen=True)
class DpopFigures:
    token_calls: list[str]  # DynamoDB calls of a client_credentials request with a DPoP proof (a warm container)
    par_calls: list[str]  # DynamoDB calls of a pushed authorization request with a DPoP proof (RFC 9126, 9449 10.1)
    guard_calls: list[str]  # DynamoDB calls of a guarded DPoP call, the token's status cached
    bearer: Timing  # the guard's handler on a Bearer call (status cached)
    dpop: Timing  # the guard's handler on a DPoP call: the proof checked, then spent in DynamoDB Local
    dpop_memory: Timing  # the same, the proof spent in memory: what checking a proof costs the guard's CPU


def measure_dpop(d: Deployment) -> DpopFigures:
    """A DPoP-bound token from the token endpoint, then the guard's own handler (as API Gateway invokes it: a REST
    REQUEST event, the one the local gateway builds) on calls with that token, each with a fresh proof made
    beforehand (ES256, PyJWT), against the same handler on a Bearer call. The proofs are spent in DynamoDB Local,
    as deployed, and in memory, to part the proof's CPU from the write that makes it single-use."""
    import secrets
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from passport.compose import SystemClock
    from passport.compose import guard as container_guard
    from passport.core.dpop import ProofChecker, access_token_hash
    from passport.guard.events import authorize
    from passport.keys.material import public_jwk_members
    from passport.local.gateway import LambdaContext

    gateway = d.gateway
    key = ec.generate_private_key(ec.SECP256R1())
    header = {"typ": "dpop+jwt", "jwk": public_jwk_members(key.public_key())}

    def proof(method: str, url: str, token: str | None = None) -> str:
        claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url, "iat": int(time.time())}
        if token is not None:
            claims["ath"] = access_token_hash(token)
        return jwt.encode(claims, key, algorithm="ES256", headers=header)

    token_url = d.settings.issuer_url + "/oauth/token"
    api_path = d.api_request("")[0]
    api_url = d.settings.issuer_url + api_path
    path, headers, body = d.token_request()
    _token_of(gateway.dispatch("POST", path, [*headers, ("DPoP", proof("POST", token_url))], body))  # warm
    with counting() as calls, calls.span() as token_calls:
        reply = gateway.dispatch("POST", path, [*headers, ("DPoP", proof("POST", token_url))], body)
    bound = _token_of(reply)
    par_url = d.settings.issuer_url + "/oauth/par"
    push = {"response_type": "code", "redirect_uri": REDIRECT_URI, "scope": SCOPE, "state": "bench",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}
    par_path, par_headers, par_body = d.form_request(push, path="/oauth/par")
    gateway.dispatch("POST", par_path, [*par_headers, ("DPoP", proof("POST", par_url))], par_body)  # warm
    with counting() as calls, calls.span() as par_calls:
        pushed = gateway.dispatch("POST", par_path, [*par_headers, ("DPoP", proof("POST", par_url))], par_body)
    if pushed.status != 201:
        raise RuntimeError(f"POST /oauth/par answered {pushed.status}: {pushed.body[:200]!r}")
    bearer = _token_of(gateway.dispatch("POST", path, headers, body))

    guard_module = gateway.function("guard")
    original = guard_module.handler
    seen: list[dict[str, Any]] = []

    def recording(event: dict[str, Any], context: Any) -> Any:
        seen.append(copy.deepcopy(event))
        return original(event, context)

    guard_module.handler = recording
    try:
        dpop_headers = [("Host", d.host), ("Authorization", f"DPoP {bound}"), ("DPoP", proof("GET", api_url, bound))]
        for call_headers in (dpop_headers, [("Host", d.host), ("Authorization", f"Bearer {bearer}")]):
            answer = gateway.dispatch("GET", api_path, call_headers, b"")
            if answer.status != 200:
                raise RuntimeError(f"GET {api_path} answered {answer.status}: {answer.body[:200]!r}")
    finally:
        guard_module.handler = original
    dpop_event, bearer_event = seen
    guard = container_guard()
    in_memory = copy.copy(guard)
    in_memory.proofs = ProofChecker(SpentOnce(), SystemClock(), max_age_seconds=d.settings.dpop.max_age_seconds)

    def with_proof(event: dict[str, Any], fresh: str) -> dict[str, Any]:
        headers = {**event["headers"], "DPoP": fresh}
        return {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}

    with counting() as calls, calls.span() as guard_calls:
        guard_module.handler(with_proof(dpop_event, proof("GET", api_url, bound)), LambdaContext("guard"))
    # Enough fresh proofs for every loop the timing runs (calibrated to REPEAT_SECONDS, a proof is used once).
    stored = iter([with_proof(dpop_event, proof("GET", api_url, bound)) for _ in range(1500)])
    memory = iter([with_proof(dpop_event, proof("GET", api_url, bound)) for _ in range(12000)])

    best = best_per_call({
        "bearer": lambda: authorize(bearer_event, guard),
        "dpop": lambda: authorize(next(stored), guard),
        "dpop_memory": lambda: authorize(next(memory), in_memory),
    }, repeats=20)
    return DpopFigures(list(token_calls), list(par_calls), list(guard_calls), best["bearer"], best["dpop"],
                       best["dpop_memory"])
