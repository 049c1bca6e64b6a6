"""The fuzz targets. Each takes the fuzzer's bytes and holds one component to the contract it keeps for any input:
it answers, or it refuses in its own way (its own exception, or an error answer), and it never raises anything
else. A target raises :class:`InvariantBroken`, or lets the unexpected exception through, when the contract breaks.

Every target is deterministic for its input: verifiers, guards and requests are built afresh for each input, and
the keys are made once per process; so an input that broke a target once breaks it again when
``tests/unit/test_fuzz_corpus.py`` replays it (without atheris: nothing here imports it).

What a corpus file means, target by target:

- ``jws_token``: the bytes, as UTF-8 (an undecodable byte as a lone surrogate, as any ``str`` may hold), are the
  token a client sends.
- ``jws_signed``: ``<header JSON> NUL <payload JSON>``, or the payload JSON alone under a valid header: both are
  base64url-encoded and signed with the real key, so the input gets past the signature to the claim checks. A
  text that holds a JSON object is also laid over a valid header or valid claims and signed again, so a few bytes
  (``{"aud":{}}``) reach the check they change.
- ``guard_event``: an API Gateway authorizer event as JSON (bytes that are not JSON are skipped: API Gateway only
  sends JSON). ``$TOKEN`` and ``$CLIENT_TOKEN`` stand for a user's and a client's valid access token, signed when
  the target starts, so the input reaches the route rules and the policy.
- ``form``: a token endpoint body, ``application/x-www-form-urlencoded`` (RFC 6749 appendix B).
- ``json_body``: a JSON request body (RFC 8259), as registration and the account API read it.
- ``mcp``: ``<request head> NUL <body>``, or the body alone (a POST with the MCP SDK client's headers). A head is
  a method line, then ``name: value`` lines.
- ``bearer``: an ``Authorization`` header value (RFC 6750 2.1).
- ``client_document``: ``<client ID URL> NUL <document>``, or the document alone under :data:`DOCUMENT_URL`: a
  client ID metadata document as fetched (draft-ietf-oauth-client-id-metadata-document-03).
- ``authorization_request``: an authorization request's query (or form body), request objects and ``claims``
  included (RFC 6749 4.1.1, OpenID Connect Core 3.1.2.1, 5.5, 6.1), for the registered clients of
  :data:`AUTHORIZE_CLIENTS`.
- ``dpop_proof``: ``<header JSON> NUL <payload JSON>``, or the payload JSON alone under :data:`DPOP_HEADER`: signed
  with the fixed DPoP key (ES256), as they are and laid over :func:`dpop_header` and :data:`DPOP_CLAIMS`; the
  bytes themselves (as UTF-8, as ``jws_token``) are a proof as well. Checked as a resource and the token endpoint
  check a proof (RFC 9449 4.3), at :data:`DPOP_NOW`, for ``GET`` :data:`DPOP_URL`.
- ``client_assertion``: the same layout over :data:`ASSERTION_HEADER` and :data:`ASSERTION_CLAIMS`, signed with
  the fixed client key; the bytes themselves are an assertion as well; the payload JSON is also a client's
  ``jwks`` (a JWK Set, or one JWK taken as a set of one).
- ``authorization_header``: an ``Authorization`` header value, Bearer or DPoP (RFC 6750 2.1, RFC 9449 7.1).

``guard_event`` inputs may also hold ``$DPOP_TOKEN``, a user's access token bound to the fixed DPoP key
(``cnf.jkt``), and ``$DPOP_PROOF``, that key's proof of ``GET`` :data:`DPOP_URL` for that token (``ath``).

The DPoP and client keys are derived from fixed labels (:func:`derived_p256_key`) and sign deterministically
(RFC 6979), so an input signs to the same bytes in every process and no key material is committed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from passport.bearer import BEARER, DPOP, MalformedAuthorization, bearer_credentials, token_credentials
from passport.config import RouteRule, Settings
from passport.core.client_assertions import ALGORITHMS as ASSERTION_ALGORITHMS
from passport.core.client_assertions import (
    ClientKeys,
    InvalidClientAssertion,
    InvalidClientKeys,
    VerifiedAssertion,
    assertion_kid,
    client_id_from_assertion,
    parse_client_jwks,
    verify_client_assertion,
)
from passport.core.dpop import (
    DPOP_ALGORITHMS,
    DpopNonces,
    DpopProof,
    InvalidDpopProof,
    ProofChecker,
    UseDpopNonce,
    normalized_htu,
    verify_proof,
)
from passport.core.errors import OAuthError
from passport.core.http import Headers, MalformedJson, Request, Response, parse_json, single
from passport.endpoints.mcp_server import INTERNAL_ERROR, handle
from passport.guard.context import TokenContext
from passport.guard.decision import Guard
from passport.guard.events import AuthorizerCall, Unauthorized, authorize, parse
from passport.guard.revocation import RevocationCache
from passport.guard.rules import RuleTable
from passport.jws import ACCESS_TOKEN, ID_TOKEN, InvalidToken, TokenKind, TokenVerifier
from passport.keys.material import VerificationKey, generate
from passport.routes import route_table

from bench.memory import SpentOnce
from tests.jws_corpus import AUDIENCE, ISSUER, LEEWAY, Signer

#: RFC 6750 2.1: ``b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="``.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: The key is new in every process, so a committed input cannot name it by its thumbprint: it is published under
#: this kid as well (a key set may hold one key under two names; the verifier looks a kid up as it is given).
FUZZ_KID = "fuzz-key"
MCP_AUDIENCE = "https://as.example/mcp"
#: A lifetime that outlives the corpus: a token signed now and replayed in years is still valid (2100-01-01).
FAR_FUTURE = 4_102_444_800


class InvariantBroken(AssertionError):
    """A component answered in a way its contract rules out (raised by a target, never by the component)."""


def require(condition: object, message: str) -> None:
    # Not `assert`: an invariant must hold under `python -O` too.
    if not condition:
        raise InvariantBroken(message)


# --- keys and tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    signer: Signer
    published: Mapping[str, VerificationKey]


@functools.cache
def keys() -> Keys:
    """One ES256 key per process (generated: no key is committed), published under its thumbprint and FUZZ_KID."""
    signer = Signer(generate("ES256"))
    return Keys(signer, {signer.public.kid: signer.public, FUZZ_KID: signer.public})


def fuzz_header(**members: Any) -> bytes:
    """A valid access token header naming the key by FUZZ_KID, as compact JSON."""
    header = {"alg": "ES256", "kid": FUZZ_KID, "typ": "at+jwt", **members}
    return json.dumps(header, separators=(",", ":")).encode()


def access_claims(sub: str, client_id: str, scope: str, jti: str) -> dict[str, Any]:
    return {"iss": ISSUER, "sub": sub, "aud": AUDIENCE, "client_id": client_id, "jti": jti,
            "iat": int(time.time()) - 60, "exp": FAR_FUTURE, "scope": scope}


#: The order of P-256's base point (SEC 2 2.4.2): a private scalar is in [1, order - 1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@functools.cache
def derived_p256_key(label: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key derived from ``label``: the same in every process (a corpus input signs and verifies alike
    whenever it is replayed), and no key material committed. For fuzzing only: anyone can derive it."""
    scalar = int.from_bytes(hashlib.sha256(f"lambda-passport make fuzz: {label}".encode()).digest(), "big")
    return ec.derive_private_key(scalar % (P256_ORDER - 1) + 1, ec.SECP256R1())


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big"))}


def rfc7638_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 3 for the key types DPoP takes, written out here rather than taken from the code under test."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    members = json.dumps({name: jwk[name] for name in required}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
    return b64url(hashlib.sha256(members.encode("utf-8", "surrogatepass")).digest())


def es256_compact(key: ec.EllipticCurvePrivateKey, header: bytes, payload: bytes) -> str:
    """A compact JWS of the two texts as they are, ES256 (RFC 7518 3.4: R and S, 32 octets each), with RFC 6979's
    deterministic nonce: the same input, the same token."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"),
                                         ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


#: What every DPoP proof of the fuzz targets is checked against: a fixed time, method and URL (the guard's events
#: name the same host and path), and the access token a resource receives with it.
DPOP_NOW = 1_800_000_000
DPOP_METHOD = "GET"
DPOP_DOMAIN = "api.example.com"
DPOP_PATH = "/prod/api/orders"
DPOP_URL = f"https://{DPOP_DOMAIN}{DPOP_PATH}"
DPOP_ACCESS_TOKEN = "dpop-bound.access-token_fuzz~1"
#: The server's nonce secret for ``dpop_proof`` (32 bytes, DpopNonces' minimum), and the one nonce a call may ask.
DPOP_NONCE_SECRET = b"lambda-passport make fuzz nonces."
DPOP_EXPECTED_NONCE = "server-nonce-1"


def dpop_key() -> ec.EllipticCurvePrivateKey:
    return derived_p256_key("the DPoP client key")


@functools.cache
def dpop_jkt() -> str:
    return rfc7638_thumbprint(public_jwk(dpop_key()))


def token_hash(token: str) -> str:
    """``ath`` (RFC 9449 4.2), written out here."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


def dpop_header() -> dict[str, Any]:
    return {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(dpop_key())}


#: The claims of a valid proof of ``GET`` DPOP_URL at DPOP_NOW, with DPOP_ACCESS_TOKEN's ``ath``.
DPOP_CLAIMS = {"jti": "proof-1", "htm": DPOP_METHOD, "htu": DPOP_URL, "iat": DPOP_NOW,
               "ath": token_hash(DPOP_ACCESS_TOKEN)}


def dpop_nonces() -> DpopNonces:
    return DpopNonces(DPOP_NONCE_SECRET)


@functools.cache
def valid_tokens() -> dict[bytes, bytes]:
    """The placeholders of ``guard_event`` inputs and the tokens they stand for (signed once per process)."""
    signer = keys().signer
    bound = signer.sign(fuzz_header(), {**access_claims("user-1", "client-1", "orders:read", "j-3"),
                                        "cnf": {"jkt": dpop_jkt()}})
    proof = es256_compact(dpop_key(), compact_json(dpop_header()), compact_json(
        {**DPOP_CLAIMS, "jti": "guard-proof-1", "ath": token_hash(bound)}))
    return {
        b"$DPOP_TOKEN": bound.encode(),
        b"$DPOP_PROOF": proof.encode(),
        b"$CLIENT_TOKEN": signer.sign(fuzz_header(), access_claims("client-2", "client-2", "files", "j-2")).encode(),
        b"$TOKEN": signer.sign(fuzz_header(), access_claims("user-1", "client-1", "orders:read orders:write",
                                                            "j-1")).encode(),
    }


# --- 1. the token verifier -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """One way a caller uses the verifier; the same modes as ``tests/unit/test_jws_differential.py``'s MODES."""

    name: str
    kind: TokenKind
    audiences: tuple[str, ...] | None
    check_expiry: bool


MODES = (
    Mode("the guard's", ACCESS_TOKEN, (AUDIENCE,), check_expiry=True),
    Mode("revocation's (any age)", ACCESS_TOKEN, (AUDIENCE, MCP_AUDIENCE), check_expiry=False),
    Mode("logout's ID token hint (any audience)", ID_TOKEN, None, check_expiry=False),
)
#: Refusals no mode can change: the token's form, its key, its signature, its payload's JSON. After one of them the
#: other modes would refuse alike, so they are skipped (most fuzzed inputs end so: twice the executions a second).
#: A refusal not listed here, or one reworded, runs every mode.
SAME_IN_EVERY_MODE = frozenset({
    "not a compact JWS in base64url", "a segment is not canonical base64url", "the header is not a JSON object",
    "the header names no key or no algorithm", "unsupported header extension", "unknown kid",
    "alg does not match the key", "bad signature", "the payload is not a JSON object",
})


def pyjwt_decode(token: str, mode: Mode, key: VerificationKey) -> dict[str, Any] | None:
    """``jwt.decode`` with the options that say what ``mode`` says; None for any refusal, whatever PyJWT raises."""
    options: dict[str, Any] = {"require": list(mode.kind.required)}
    audience: dict[str, Any] = {}
    if mode.audiences is None:
        options["verify_aud"] = False
    else:
        audience["audience"] = list(mode.audiences)
    if not mode.check_expiry:
        options["verify_exp"] = False
    try:
        return jwt.decode(token, key.key, algorithms=[key.alg], issuer=ISSUER, leeway=LEEWAY, options=options,
                          **audience)
    except Exception:
        return None


def verify_every_way(token: str) -> None:
    """Claims or InvalidToken, in every mode; and what ours accepts, ``jwt.decode`` accepts and reads the same."""
    published = keys().published
    for mode in MODES:
        verifier = TokenVerifier(published, issuer=ISSUER, audiences=mode.audiences, kind=mode.kind, leeway=LEEWAY)
        try:
            claims = verifier.verify(token, check_expiry=mode.check_expiry)
        except InvalidToken as refusal:
            if str(refusal) in SAME_IN_EVERY_MODE:
                return
            continue
        require(isinstance(claims, dict), f"verify returned {type(claims).__name__}, not claims")
        theirs = pyjwt_decode(token, mode, keys().signer.public)
        require(theirs is not None, f"accepted in {mode.name} mode a token jwt.decode refuses")
        require(theirs == claims, f"accepted in {mode.name} mode with claims that jwt.decode reads otherwise")


def jws_token(data: bytes) -> None:
    verify_every_way(data.decode("utf-8", "surrogateescape"))


#: The claims of a valid access token for the guard until 2100: what a fuzzed JSON object is laid over.
VALID_CLAIMS = {"iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "client_id": "client-1", "jti": "j-1",
                "iat": 1_700_000_000, "exp": FAR_FUTURE, "scope": "orders:read"}


def json_object(text: bytes) -> dict[str, Any]:
    """The JSON object a text holds, as Python's parser reads it (NaN and all); empty if it holds none."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def laid_over(base: dict[str, Any], text: bytes) -> bytes | None:
    """``base`` with the members of the object in ``text`` put over it, as JSON; None when there is no object or
    it cannot be written (nested too deep)."""
    members = json_object(text)
    if not members:
        return None
    try:
        return json.dumps({**base, **members}).encode()  # ASCII: ensure_ascii escapes every other character
    except (ValueError, RecursionError):
        return None


def jws_signed(data: bytes) -> None:
    header, separator, payload = data.partition(b"\0")
    if not separator:
        header, payload = fuzz_header(), data
    signer = keys().signer
    verify_every_way(signer.sign(header, payload))  # the texts as they are: spelling, encoding, duplicates
    # And laid over a valid token: {"aud":{}} is a few bytes for the fuzzer to find, where a whole valid payload
    # around it is hundreds; this is what gets a mutation past every other claim check to the one it changes.
    claims = laid_over(VALID_CLAIMS, payload)
    fields = laid_over(json.loads(fuzz_header()), header) if separator else None
    if claims is not None or fields is not None:
        verify_every_way(signer.sign(fields or fuzz_header(), claims or payload))


# --- 2. the authorizer's event parser --------------------------------------------------------------------------


class AllLive:
    """The revocation lookup, in memory: every token and client is live (the fuzzer aims at parsing, not
    revocation)."""

    def lookup(self, jti: str | None, client_id: str | None) -> tuple[bool | None, bool | None]:
        return True, True


@functools.cache
def rules() -> RuleTable:
    """The demo API's rules, and one of each other kind: a template, a greedy path, a user-only and a client-only
    route, any-of scopes."""
    extra = {
        "DELETE /api/orders/{id}": RouteRule("DELETE", "/api/orders/{id}", scopes=("orders:write",), subject="user"),
        "POST /api/orders": RouteRule("POST", "/api/orders", any_scopes=("orders:write", "admin")),
        "ANY /files/{proxy+}": RouteRule("ANY", "/files/{proxy+}", subject="client"),
    }
    return RuleTable({**dict(RuleTable.from_routes(route_table(Settings()))), **extra})


class FixedClock:
    """The proof checker's clock: DPOP_NOW, when ``$DPOP_PROOF`` was made."""

    def now(self) -> int:
        return DPOP_NOW


def guard(proofs: bool = False) -> Guard:
    """The guard of a deployment with DPoP off (``proofs`` False: a bound token is refused) or on (its proofs
    checked at DPOP_NOW and spent in memory)."""
    verifier = TokenVerifier(keys().published, issuer=ISSUER, audiences=(AUDIENCE,), leeway=LEEWAY)
    checker = ProofChecker(SpentOnce(), FixedClock()) if proofs else None
    return Guard(verifier, RevocationCache(AllLive, ttl_seconds=60), rules(), proofs=checker)


def with_tokens(data: bytes) -> bytes:
    for placeholder, token in valid_tokens().items():
        data = data.replace(placeholder, token)
    return data


def check_call(call: AuthorizerCall) -> None:
    require(call.kind in ("TOKEN", "REQUEST", "HTTP"), f"parse made a call of kind {call.kind!r}")
    require(call.token is None or (isinstance(call.token, str) and B64TOKEN.fullmatch(call.token)),
            f"parse took {call.token!r} for a Bearer token")
    require(all(isinstance(part, str) for part in (call.method, call.path, call.arn)), f"parse made {call!r}")
    require(call.scheme in (BEARER, DPOP), f"parse read the scheme {call.scheme!r}")
    require(call.proof is None or isinstance(call.proof, str), f"parse took {call.proof!r} for a DPoP proof")
    require(call.url is None or (isinstance(call.url, str) and call.url.startswith("https://")),
            f"parse took {call.url!r} for the URL called")


def check_answer(event: Mapping[str, Any], answer: object) -> None:
    """An HTTP API simple response or a REST policy, as the event's kind asks; flat string context (API Gateway
    refuses anything else); JSON that API Gateway can read."""
    require(isinstance(answer, dict), f"authorize answered {type(answer).__name__}")
    assert isinstance(answer, dict)
    context = answer.get("context")
    require(isinstance(context, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()),
            f"the context is not flat strings: {context!r}")
    if event.get("version") == "2.0":
        require(set(answer) == {"isAuthorized", "context"} and isinstance(answer["isAuthorized"], bool),
                f"not an HTTP API simple response: {answer!r}")
    else:
        document = answer.get("policyDocument")
        statements = document.get("Statement") if isinstance(document, dict) else None
        # The whole stage allowed first, then a Deny per route the token may not call.
        require(isinstance(answer.get("principalId"), str) and isinstance(statements, list) and statements
                and statements[0].get("Effect") == "Allow", f"not a REST authorizer policy: {answer!r}")
    json.dumps(answer, allow_nan=False)


def guard_event(data: bytes) -> None:
    try:
        event = json.loads(with_tokens(data))
    except (ValueError, RecursionError):  # not JSON: API Gateway never sends the authorizer such an event
        return
    call = parse(event) if isinstance(event, Mapping) else None
    if call is not None:
        check_call(call)
    # A guard with DPoP on decides a Bearer call as one with DPoP off does (it reads proofs of DPoP calls only).
    for proofs in (False, True) if call is not None and call.scheme == DPOP else (False,):
        try:
            answer = authorize(event, guard(proofs))
        except Unauthorized:
            continue
        check_answer(event, answer)
        if call is not None and call.scheme == DPOP:
            require(proofs, f"a guard with DPoP off let a DPoP call through: {answer!r}")
            require(answer["context"].get("jkt") == dpop_jkt(), f"a DPoP call passed without its key: {answer!r}")


# --- 3. the form parser ----------------------------------------------------------------------------------------

FORM_HEADERS = Headers({"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})


def form(data: bytes) -> None:
    try:
        params = Request("POST", "/oauth/token", FORM_HEADERS, body=data).form()
    except OAuthError:
        return
    require(isinstance(params, dict), f"form() returned {type(params).__name__}")
    for name, values in params.items():
        require(isinstance(name, str) and values and all(isinstance(v, str) for v in values),
                f"form() returned {name!r}: {values!r}")
    for name in (*params, "grant_type", "client_id"):
        for required in (False, True):
            try:
                value = single(params, name, required=required)
            except OAuthError:
                continue
            # One value, never an empty one: "" is None when optional and refused when required.
            require(value is None or (isinstance(value, str) and value), f"single({name!r}) returned {value!r}")
            require(value is not None or not required, f"single({name!r}, required=True) returned None")


# --- 4. the JSON body parser -----------------------------------------------------------------------------------


def json_body(data: bytes) -> None:
    try:
        value = parse_json(data)
    except MalformedJson:
        return
    try:
        json.dumps(value, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError) as error:  # UnicodeEncodeError is a ValueError
        raise InvariantBroken(f"parse_json returned a value that cannot be written back: {error}") from error


# --- 5. the MCP server -----------------------------------------------------------------------------------------

#: What the MCP SDK's client sends (as tests/unit/test_mcp_server.py); no MCP-Protocol-Version, so 2025-03-26 is
#: assumed and batches are open to the fuzzer.
MCP_CLIENT_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
#: A user with the tool's scope; a client whose parent scope grants it only when inherited scopes are on.
MCP_CALLERS = (
    (TokenContext(sub="user-1", client_id="client-1", user_id="user-1", scopes=("orders:read",), jti="j-1"), False),
    (TokenContext(sub="client-2", client_id="client-2", user_id=None, scopes=("orders",), jti="j-2"), True),
)


def mcp_request(data: bytes) -> Request:
    head, separator, body = data.partition(b"\0")
    if not separator:
        return Request("POST", "/mcp", Headers(MCP_CLIENT_HEADERS), body=data)
    method, *lines = head.decode("utf-8", "surrogateescape").split("\n")
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip(" \t\r")
    return Request(method.strip() or "POST", "/mcp", Headers(headers), body=body)


def no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def check_mcp_response(response: object) -> None:
    require(isinstance(response, Response), f"handle returned {type(response).__name__}")
    assert isinstance(response, Response)
    require(200 <= response.status < 500, f"status {response.status}: {response.body[:200]}")
    if response.status == 202 or not response.body:
        require(response.status == 202 and not response.body, f"status {response.status} with body "
                f"{response.body[:200]!r}")
        return
    require(response.headers.get("Content-Type") == "application/json", f"a body as {response.headers}")
    try:
        answer = json.loads(response.body, parse_constant=no_constant)
    except ValueError as error:
        raise InvariantBroken(f"the body is not JSON: {response.body[:200]!r}") from error
    for message in answer if isinstance(answer, list) else [answer]:
        require(isinstance(message, dict) and message.get("jsonrpc") == "2.0", f"not JSON-RPC: {message!r}")
        # A method that crashed is answered -32603 and logged: a crash all the same, so it counts as one.
        require((message.get("error") or {}).get("code") != INTERNAL_ERROR, f"an internal error: {message!r}")


def mcp(data: bytes) -> None:
    request = mcp_request(data)
    for caller, inherit in MCP_CALLERS:
        check_mcp_response(handle(request, caller, inherit=inherit))


# --- 6. the Bearer header parser -------------------------------------------------------------------------------


def bearer(data: bytes) -> None:
    require(bearer_credentials(data) is None, "bytes (not a header value) read as a Bearer token")
    value = data.decode("utf-8", "surrogateescape")
    try:
        token = bearer_credentials(value)
    except MalformedAuthorization:
        return
    if token is None:
        return
    require(isinstance(token, str) and B64TOKEN.fullmatch(token), f"{token!r} is not a b64token")
    require(token in value, f"{token!r} is not in the header {value!r}")
    require(bearer_credentials(f"Bearer {token}") == token, f"{token!r} does not read back as itself")


# --- 7. a client ID metadata document --------------------------------------------------------------------------

DOCUMENT_URL = "https://agent.example/oauth/client.json"
DOCUMENT_SCOPES = {"orders:read": "Read your orders"}


def client_document(data: bytes) -> None:
    from passport.core.client_documents import DocumentRefused, client_from_document, parse_client_id_url
    from passport.core.clients import validate_redirect_uri

    url_bytes, separator, body = data.partition(b"\0")
    url = url_bytes.decode("utf-8", "surrogateescape") if separator else DOCUMENT_URL
    body = body if separator else data
    try:
        parse_client_id_url(url)
        client = client_from_document(url, body, defined_scopes=DOCUMENT_SCOPES, now=1_800_000_000,
                                      cache_seconds=600)
    except DocumentRefused as refused:
        require(isinstance(str(refused), str) and str(refused), "a refusal without a reason")
        return
    # What a document may make: a public code-flow client under its own URL, every redirect URI one the rules
    # of every client accept, and nothing a document must not carry.
    require(client.client_id == url and client.public and client.auth_method == "none", f"{client!r}")
    require(set(client.grant_types) <= {"authorization_code", "refresh_token"}, f"grants {client.grant_types}")
    require(client.redirect_uris and all(validate_redirect_uri(u, client.application_type) == u
                                         for u in client.redirect_uris), f"redirect URIs {client.redirect_uris}")
    require(client.from_document and not client.vetted and not client.registered, "a document's client is vetted")
    require(all(s in DOCUMENT_SCOPES or s in ("openid", "profile", "email", "offline_access")
                for s in client.scopes), f"scopes {client.scopes}")


# --- 8. the authorization request --------------------------------------------------------------------------------

AUTHORIZE_ISSUER = "https://as.example"
AUTHORIZE_REDIRECT = "https://app.example/cb"


@functools.cache
def authorize_clients() -> Any:
    from passport.core.models import Client

    from tests.unit.fakes import MemoryClientStore

    return MemoryClientStore(
        Client(client_id="web", name="Web", secret_hash="sha256:00", redirect_uris=(AUTHORIZE_REDIRECT,),
               grant_types=("authorization_code", "refresh_token", "implicit"), scopes=("orders:read", "openid")),
        Client(client_id="native", name="Native", redirect_uris=("http://127.0.0.1/cb", "com.example.app:/cb"),
               grant_types=("authorization_code",), application_type="native"),
    )


def authorization_request(data: bytes) -> None:
    from urllib.parse import parse_qs

    from passport.core.authorization import AuthorizationRequest, RedirectError, validate
    from passport.core.errors import PageError
    from passport.core.scopes import ScopePolicy

    text = data.decode("utf-8", "surrogateescape")
    try:
        params = parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return
    try:
        request = validate(params, clients=authorize_clients(), scopes=ScopePolicy(DOCUMENT_SCOPES),
                           response_types=("code", "token"), resources=(f"{AUTHORIZE_ISSUER}/api",),
                           issuer=AUTHORIZE_ISSUER)
    except PageError:
        return  # an error page: the client or its redirect URI is not trusted
    except RedirectError as failure:
        # Back to a registered redirect URI only, with an OAuth error code.
        require(failure.request.client.client_id in ("web", "native"), "a redirect for an unknown client")
        require(failure.error.error and failure.error.error.isascii(), f"error {failure.error.error!r}")
        return
    require(isinstance(request, AuthorizationRequest), f"validate returned {type(request).__name__}")
    require(request.client.client_id in ("web", "native"), f"client {request.client.client_id!r}")
    require(request.response_type in ("code", "token"), f"response_type {request.response_type!r}")
    require(request.response_type != "code" or request.client.secret_hash or request.challenge,
            "a public client's code request without PKCE")


# --- 9. DPoP proofs --------------------------------------------------------------------------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ProofCall:
    """One way a proof is checked: at a resource (with the access token, bound to the proof's key or not), or at
    the token endpoint (no token; server nonces, or the one nonce given to the client)."""

    name: str
    access_token: str | None = None
    bound: bool = False
    nonce: str | None = None
    nonces: bool = False


PROOF_CALLS = (
    ProofCall("a resource's, the token bound to the key", DPOP_ACCESS_TOKEN, bound=True),
    ProofCall("a resource's", DPOP_ACCESS_TOKEN),
    ProofCall("the token endpoint's, with server nonces", nonces=True),
    ProofCall("the token endpoint's, with the client's nonce", nonce=DPOP_EXPECTED_NONCE),
)
#: Refusals no call can change (the calls differ only in ath, the bound key and the nonce, checked last), and the
#: commonest: after one of them the other calls are skipped. A refusal not listed here, or reworded, runs every call.
PROOF_SAME_IN_EVERY_CALL = frozenset({
    "The DPoP header is not one compact JWS.", "The DPoP proof's header is not a JSON object.",
    "The DPoP proof's typ is not dpop+jwt.", "The DPoP proof's alg is not an accepted asymmetric algorithm.",
    "The DPoP proof's signature does not verify with its jwk.", "The DPoP proof's payload is not a JSON object.",
})


def check_refusal_headers(refusal: InvalidDpopProof) -> None:
    """What a refusal puts in a 401's headers or a 400's body: visible ASCII, no line break."""
    for value in (*refusal.challenge().values(), refusal.oauth_error().description or ""):
        require(isinstance(value, str) and value.isascii() and value.isprintable(), f"a refusal says {value!r}")


def check_proof(proof: str) -> None:
    """A DpopProof of the documented shape, or InvalidDpopProof (UseDpopNonce only where a nonce is asked), in
    every call."""
    for call in PROOF_CALLS:
        nonces = dpop_nonces() if call.nonces else None
        try:
            verified = verify_proof(proof, method=DPOP_METHOD, url=DPOP_URL, now=DPOP_NOW,
                                    access_token=call.access_token, nonce=call.nonce, nonces=nonces,
                                    bound_jkt=dpop_jkt() if call.bound else None)
        except UseDpopNonce as refusal:
            require(call.nonce is not None or nonces is not None, f"use_dpop_nonce in {call.name} check")
            fresh = call.nonce if call.nonce is not None else dpop_nonces().current(DPOP_NOW)
            require(refusal.nonce == fresh, f"use_dpop_nonce with the nonce {refusal.nonce!r}, not {fresh!r}")
            check_refusal_headers(refusal)
            continue
        except InvalidDpopProof as refusal:
            require(refusal.nonce is None, f"a nonce {refusal.nonce!r} with a refusal that is no use_dpop_nonce")
            check_refusal_headers(refusal)
            if refusal.description in PROOF_SAME_IN_EVERY_CALL:
                return
            continue
        check_verified_proof(proof, verified, call)


def check_verified_proof(proof: str, verified: object, call: ProofCall) -> None:
    require(isinstance(verified, DpopProof), f"verify_proof returned {type(verified).__name__}")
    assert isinstance(verified, DpopProof)
    where = f"accepted in {call.name} check: {verified!r}"
    require(isinstance(verified.jkt, str) and len(verified.jkt) == 43 and _B64URL.fullmatch(verified.jkt),
            f"jkt is no SHA-256 in base64url; {where}")
    header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
    require(verified.jkt == rfc7638_thumbprint(header["jwk"]), f"jkt is not the jwk's RFC 7638 thumbprint; {where}")
    require(not call.bound or verified.jkt == dpop_jkt(), f"a key other than the token's; {where}")
    require(isinstance(verified.jti, str) and 0 < len(verified.jti) <= 256, f"jti; {where}")
    require(type(verified.iat) is int and DPOP_NOW - 301 <= verified.iat <= DPOP_NOW + 5, f"iat; {where}")
    require(type(verified.expires_at) is int and verified.iat < verified.expires_at <= DPOP_NOW + 306,
            f"expires_at; {where}")
    require(verified.htm == DPOP_METHOD, f"htm; {where}")
    require(verified.htu == normalized_htu(DPOP_URL), f"htu is not the request's, normalized; {where}")
    require(verified.alg in DPOP_ALGORITHMS and verified.alg == header["alg"], f"alg; {where}")
    if call.access_token is not None:
        claims = json.loads(base64.urlsafe_b64decode(proof.split(".")[1] + "=="))
        require(claims.get("ath") == token_hash(call.access_token), f"ath is not the token's hash; {where}")


def check_htu(htu: object) -> None:
    """normalized_htu: a normalized http(s) URI in visible ASCII, the same once more, or ValueError."""
    if not isinstance(htu, str):
        return
    try:
        normal = normalized_htu(htu)
    except ValueError:
        return
    require(isinstance(normal, str) and normal.isascii() and normal.isprintable()
            and normal.startswith(("http://", "https://")), f"normalized_htu({htu!r}) is {normal!r}")
    require(normalized_htu(normal) == normal, f"normalized_htu({htu!r}) is {normal!r}, which normalizes to "
            f"{normalized_htu(normal)!r}")


def dpop_proof(data: bytes) -> None:
    header, separator, payload = data.partition(b"\0")
    if not separator:
        header, payload = compact_json(dpop_header()), data
    key = dpop_key()
    check_proof(es256_compact(key, header, payload))  # the texts as they are: spelling, duplicates, NaN
    # Laid over a valid proof, so that a few bytes ({"htu":"HTTPS://..."}) reach the check they change.
    claims = laid_over(DPOP_CLAIMS, payload)
    fields = laid_over(dpop_header(), header) if separator else None
    if claims is not None or fields is not None:
        check_proof(es256_compact(key, fields or compact_json(dpop_header()), claims or payload))
    check_proof(data.decode("utf-8", "surrogateescape"))  # the bytes as a proof
    check_htu(json_object(payload).get("htu"))


# --- 10. client assertions (private_key_jwt) -------------------------------------------------------------------

ASSERTION_NOW = 1_800_000_000
ASSERTION_CLIENT = "s6BhdRkqt3"
ASSERTION_KID = "fuzz-client-key"
ASSERTION_AUDIENCES = (AUTHORIZE_ISSUER, f"{AUTHORIZE_ISSUER}/oauth/token")
ASSERTION_HEADER = {"alg": "ES256", "typ": "JWT", "kid": ASSERTION_KID}
ASSERTION_CLAIMS = {"iss": ASSERTION_CLIENT, "sub": ASSERTION_CLIENT, "aud": AUTHORIZE_ISSUER,
                    "exp": ASSERTION_NOW + 60, "iat": ASSERTION_NOW, "jti": "assertion-1"}
#: An assertion lives at most this long past ASSERTION_NOW (``exp`` within 300 s of an ``iat`` at most 5 s ahead),
#: plus the 5 s of leeway that ``expires_at`` adds.
ASSERTION_LATEST_EXPIRY = ASSERTION_NOW + 300 + 5 + 5


def assertion_key() -> ec.EllipticCurvePrivateKey:
    return derived_p256_key("the client's assertion key")


@functools.cache
def client_key_sets() -> tuple[ClientKeys, ClientKeys]:
    """The client's registered keys: its key under ASSERTION_KID; and, the other way, that key and a second P-256
    key without a kid, and an Ed25519 key under another kid (the choice of keys without a kid, and a kid naming a
    key of another alg)."""
    other = derived_p256_key("another key of the client")
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"make fuzz: an Ed25519 client key").digest())
    ed_x = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    named = parse_client_jwks({"keys": [{**public_jwk(assertion_key()), "kid": ASSERTION_KID, "alg": "ES256",
                                         "use": "sig"}]})
    unnamed = parse_client_jwks({"keys": [public_jwk(assertion_key()), public_jwk(other),
                                          {"kty": "OKP", "crv": "Ed25519", "x": b64url(ed_x), "kid": "ed"}]})
    return named, unnamed


def check_assertion(assertion: str) -> None:
    """A VerifiedAssertion of the documented shape, or InvalidClientAssertion, for each registered key set, with
    and without the form's client_id; the unverified readers never raise."""
    claimed = client_id_from_assertion(assertion)
    require(claimed is None or (isinstance(claimed, str) and 0 < len(claimed)), f"client_id {claimed!r}")
    kid = assertion_kid(assertion)
    require(kid is None or (isinstance(kid, str) and 0 < len(kid) <= 256), f"assertion_kid {kid!r}")
    named, unnamed = client_key_sets()
    for keys, client_id in ((named, ASSERTION_CLIENT), (named, None), (unnamed, ASSERTION_CLIENT)):
        try:
            verified = verify_client_assertion(assertion, client_id=client_id, keys=keys,
                                               audiences=ASSERTION_AUDIENCES, now=ASSERTION_NOW)
        except InvalidClientAssertion as refusal:
            require(str(refusal), "a refusal without a reason")
            continue
        where = f"accepted for client_id {client_id!r}: {verified!r}"
        require(isinstance(verified, VerifiedAssertion), f"verify_client_assertion returned {verified!r}")
        require(verified.client_id == (client_id or claimed), f"the client is not the one named; {where}")
        require(isinstance(verified.jti, str) and 0 < len(verified.jti) <= 256, f"jti; {where}")
        require(type(verified.expires_at) is int and ASSERTION_NOW < verified.expires_at <= ASSERTION_LATEST_EXPIRY,
                f"expires_at; {where}")
        require(verified.alg == "ES256", f"alg; {where}")  # only the ES256 keys are the fuzzer's to sign with
        require(verified.kid in (ASSERTION_KID, None) and (kid is None or verified.kid in (kid, None)),
                f"kid; {where}")


def check_jwks(value: object) -> None:
    """parse_client_jwks: ClientKeys whose canonical JSON reads back as itself, or InvalidClientKeys."""
    try:
        keys = parse_client_jwks(value)
    except InvalidClientKeys as refusal:
        require(str(refusal), "a refusal without a reason")
        return
    require(isinstance(keys, ClientKeys) and 0 < len(keys.keys) <= 10, f"parse_client_jwks returned {keys!r}")
    kids = [key.kid for key in keys.keys if key.kid is not None]
    require(len(kids) == len(set(kids)) and all(isinstance(kid, str) and 0 < len(kid) <= 256 for kid in kids),
            f"kids {kids!r}")
    require(all(key.algorithms and set(key.algorithms) <= set(ASSERTION_ALGORITHMS) for key in keys.keys),
            f"algorithms {[key.algorithms for key in keys.keys]}")
    again = ClientKeys.from_json(keys.canonical_json)
    require(again.canonical_json == keys.canonical_json, f"{keys.canonical_json!r} reads back otherwise")
    require(keys.document() == json.loads(keys.canonical_json), "the document is not the canonical JSON")


def client_assertion(data: bytes) -> None:
    header, separator, payload = data.partition(b"\0")
    if not separator:
        header, payload = compact_json(ASSERTION_HEADER), data
    key = assertion_key()
    check_assertion(es256_compact(key, header, payload))
    claims = laid_over(ASSERTION_CLAIMS, payload)
    fields = laid_over(ASSERTION_HEADER, header) if separator else None
    if claims is not None or fields is not None:
        check_assertion(es256_compact(key, fields or compact_json(ASSERTION_HEADER), claims or payload))
    check_assertion(data.decode("utf-8", "surrogateescape"))
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return
    check_jwks(value if isinstance(value, dict) and "keys" in value else {"keys": [value]})


# --- 11. the Authorization header's schemes -----------------------------------------------------------------------


def authorization_header(data: bytes) -> None:
    require(token_credentials(data) is None, "bytes (not a header value) read as credentials")
    value = data.decode("utf-8", "surrogateescape")
    try:
        bearer_reading: object = bearer_credentials(value)
    except MalformedAuthorization:
        bearer_reading = MalformedAuthorization
    try:
        found = token_credentials(value)
    except MalformedAuthorization:
        # Malformed Bearer credentials are malformed either way; malformed DPoP ones are no Bearer credentials.
        require(bearer_reading in (MalformedAuthorization, None), f"{value!r}: bearer_credentials {bearer_reading!r}")
        return
    if found is None:
        require(bearer_reading is None, f"{value!r}: no credentials, but bearer_credentials {bearer_reading!r}")
        return
    require(isinstance(found, tuple) and len(found) == 2, f"token_credentials returned {found!r}")
    scheme, token = found
    require(scheme in (BEARER, DPOP), f"the scheme {scheme!r}")
    require(isinstance(token, str) and B64TOKEN.fullmatch(token), f"{token!r} is not a b64token")
    require(token in value, f"{token!r} is not in the header {value!r}")
    require(value.strip(" \t")[:len(scheme)].lower() == scheme.lower(), f"{scheme} read from {value!r}")
    require(token_credentials(f"{scheme} {token}") == (scheme, token), f"{found!r} does not read back as itself")
    # (A separate statement: atheris's instrumentation of Python 3.11 mangles a conditional expression compared
    # inside a call's arguments.)
    expected = token if scheme == BEARER else None
    require(bearer_reading == expected, f"{value!r}: {found!r}, but bearer_credentials {bearer_reading!r}")


# --- the registry ----------------------------------------------------------------------------------------------

JSON_WORDS = (b"{", b"}", b"[", b"]", b'"', b":", b",", b"true", b"false", b"null", b"\\u", b"\\ud800", b"\\u0000",
              b"1e400", b"-0", b"0.5", b"NaN", b"Infinity", b"12345678901234567890")
JWS_WORDS = (b'"iss"', b'"sub"', b'"aud"', b'"exp"', b'"nbf"', b'"iat"', b'"jti"', b'"client_id"', b'"scope"',
             b'"azp"', b'"nonce"', b'"typ"', b'"alg"', b'"kid"', b'"crit"', b'"b64"', b'"at+jwt"', b'"JWT"',
             b'"application/at+jwt"', b'"ES256"', b'"none"', b'"HS256"', f'"{FUZZ_KID}"'.encode(),
             f'"{ISSUER}"'.encode(), f'"{AUDIENCE}"'.encode(), f'"{MCP_AUDIENCE}"'.encode(), b"4102444800")
EVENT_WORDS = (b'"version"', b'"2.0"', b'"routeKey"', b'"routeArn"', b'"methodArn"', b'"type"', b'"TOKEN"',
               b'"REQUEST"', b'"headers"', b'"multiValueHeaders"', b'"authorization"', b'"Authorization"',
               b'"authorizationToken"', b'"httpMethod"', b'"resource"', b"Bearer ", b"$TOKEN", b"$CLIENT_TOKEN",
               b"arn:aws:execute-api:eu-west-1:123456789012:api/prod/", b"GET /api/orders", b"/api/orders/{id}",
               b"/files/{proxy+}", b"DELETE", b"ANY", b'"requestContext"', b'"domainName"', b'"path"',
               b'"rawPath"', b'"DPoP"', b'"dpop"', b"DPoP ", b"$DPOP_TOKEN", b"$DPOP_PROOF",
               f'"{DPOP_DOMAIN}"'.encode(), f'"{DPOP_PATH}"'.encode(), b"GET /prod/api/orders", b"/prod")
FORM_WORDS = (b"=", b"&", b"%", b"%FF", b"%C3%28", b"%00", b"+", b";", b"grant_type", b"client_id",
              b"authorization_code")
MCP_WORDS = (b'"jsonrpc"', b'"2.0"', b'"id"', b'"method"', b'"params"', b'"initialize"', b'"ping"',
             b'"tools/list"', b'"tools/call"', b'"notifications/initialized"', b'"name"', b'"arguments"',
             b'"list_orders"', b'"whoami"', b'"status"', b'"protocolVersion"', b'"capabilities"', b'"clientInfo"',
             b'"cursor"', b'"result"', b'"error"', b"\0", b"POST", b"\nmcp-protocol-version: ", b"2025-03-26",
             b"2025-06-18", b"\naccept: ", b"\ncontent-type: ", b"application/json", b";q=0", b"*/*")
BEARER_WORDS = (b"Bearer ", b"bearer", b"\t", b"=", b"~", b"+/", b",", b"Basic ", b"eyJ")
DOCUMENT_WORDS = (b'"client_id"', b'"client_name"', b'"redirect_uris"', b'"grant_types"', b'"response_types"',
                  b'"token_endpoint_auth_method"', b'"application_type"', b'"native"', b'"web"', b'"none"',
                  b'"client_secret"', b'"client_secret_post"', b'"scope"', b'"logo_uri"', b'"client_uri"',
                  f'"{DOCUMENT_URL}"'.encode(), b'"http://127.0.0.1:3000/cb"', b'"cursor://a.b/cb"',
                  b'"javascript:x"', b'"authorization_code"', b'"refresh_token"', b"https://", b"\0", b"/..", b"#")
AUTHORIZE_WORDS = (b"response_type=code", b"response_type=token", b"client_id=web", b"client_id=native",
                   b"redirect_uri=https%3A%2F%2Fapp.example%2Fcb", b"redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
                   b"scope=openid+orders%3Aread", b"code_challenge=", b"code_challenge_method=S256", b"state=",
                   b"nonce=", b"prompt=none", b"max_age=", b"request=", b"request_uri=", b"claims=", b"acr_values=",
                   b"response_mode=form_post", b"resource=", b"eyJhbGciOiJub25lIn0.", b"&", b"%", b"=")

#: Shared by the two signed-JWT targets of the new client and proof code (header members, JWK members, algorithms).
KEY_WORDS = (b'"typ"', b'"alg"', b'"kid"', b'"jwk"', b'"jku"', b'"x5c"', b'"crit"', b'"b64"', b'"kty"', b'"crv"',
             b'"x"', b'"y"', b'"n"', b'"e"', b'"d"', b'"k"', b'"use"', b'"key_ops"', b'"sig"', b'"verify"', b'"EC"',
             b'"RSA"', b'"OKP"', b'"oct"', b'"P-256"', b'"P-384"', b'"Ed25519"', b'"ES256"', b'"RS256"',
             b'"EdDSA"', b'"PS256"', b'"HS256"', b'"none"', b'"AQAB"', b'"jti"', b'"iat"')
DPOP_WORDS = (b'"dpop+jwt"', b'"htm"', b'"htu"', b'"ath"', b'"nonce"', b'"GET"', b'"POST"', f'"{DPOP_URL}"'.encode(),
              f'"{DPOP_EXPECTED_NONCE}"'.encode(), f'"{token_hash(DPOP_ACCESS_TOKEN)}"'.encode(),
              str(DPOP_NOW).encode(), b"https://", b"http://", b"HTTPS://", b":443", b":0443", b"%2F", b"%7E", b"/./",
              b"/../", b"[::1]", b"@", b"?", b"#")
ASSERTION_WORDS = (b'"iss"', b'"sub"', b'"aud"', b'"exp"', b'"nbf"', b'"keys"', b'"JWT"',
                   b'"client-authentication+jwt"', b'"application/jwt"', f'"{ASSERTION_CLIENT}"'.encode(),
                   f'"{ASSERTION_KID}"'.encode(), b'"ed"',
                   *(f'"{audience}"'.encode() for audience in ASSERTION_AUDIENCES),
                   str(ASSERTION_NOW).encode(), str(ASSERTION_NOW + 300).encode())
AUTHORIZATION_WORDS = (b"Bearer ", b"DPoP ", b"dpop", b"DPOP", b"bearer", b"\t", b"=", b"~", b"+/", b",",
                       b"Basic ", b"eyJ", b"  ")


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    #: libFuzzer's -max_len: room for every shape the target parses (JSON nested past the recursion limit, an
    #: integer past Python's 4300-digit limit where the target parses JSON).
    max_len: int = 4096
    #: libFuzzer's -dict: the words the fuzzer would otherwise have to find byte by byte.
    words: tuple[bytes, ...] = ()
    #: The input is JSON (each part, around a NUL): tests.fuzz.mutator changes its values as well as its bytes.
    json: bool = False


TARGETS: dict[str, Target] = {target.name: target for target in (
    Target("jws_token", jws_token, words=(*JWS_WORDS, b".", b"eyJ", b"=", b"-", b"_")),
    Target("jws_signed", jws_signed, max_len=8192, words=JSON_WORDS + JWS_WORDS, json=True),
    Target("guard_event", guard_event, words=JSON_WORDS + EVENT_WORDS, json=True),
    Target("form", form, words=FORM_WORDS),
    Target("json_body", json_body, max_len=8192, words=JSON_WORDS, json=True),
    Target("mcp", mcp, words=JSON_WORDS + MCP_WORDS, json=True),
    Target("bearer", bearer, words=BEARER_WORDS),
    Target("client_document", client_document, max_len=8192, words=JSON_WORDS + DOCUMENT_WORDS, json=True),
    Target("authorization_request", authorization_request, max_len=8192, words=AUTHORIZE_WORDS),
    Target("dpop_proof", dpop_proof, max_len=8192, words=JSON_WORDS + KEY_WORDS + DPOP_WORDS, json=True),
    Target("client_assertion", client_assertion, max_len=8192, words=JSON_WORDS + KEY_WORDS + ASSERTION_WORDS,
           json=True),
    Target("authorization_header", authorization_header, words=AUTHORIZATION_WORDS),
)}
