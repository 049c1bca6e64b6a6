"""AWS's JSON protocol on the standard library alone, signed with SigV4: the few calls a cold start must not pay
botocore for.

Why it exists: cold starts. Importing botocore and building a client cost a function on Python 3.14 about a
hundred milliseconds, more than the rest of its start. The guard makes one DynamoDB call (its revocation lookup,
``BatchGetItem``) and every function that signs or verifies reads the key secret once (Secrets Manager's
``GetSecretValue``); this module makes those calls as botocore makes them, on http.client:

- AWS's JSON protocol (DynamoDB's low-level API, docs.aws.amazon.com/amazondynamodb/latest/developerguide/
  Programming.LowLevelAPI.html; Secrets Manager's API, docs.aws.amazon.com/secretsmanager/latest/apireference/):
  ``POST /`` with the operation in ``X-Amz-Target`` (``DynamoDB_20120810.BatchGetItem``,
  ``secretsmanager.GetSecretValue``), request and answer JSON objects (``application/x-amz-json-1.0`` or ``-1.1``,
  as the service's model says), an error's code in the answer's ``__type``, and, where the service sends one, the
  answer's CRC32 in ``x-amz-crc32``, checked as botocore checks DynamoDB's (a mismatch is retried).
- Signed with AWS Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html), over the
  headers botocore signs for these services (content-type, host, x-amz-date, x-amz-security-token when there is
  a session token, x-amz-target) and the body's SHA-256. botocore sends no ``x-amz-content-sha256`` to them (only
  S3 needs it), so neither does this.
- Configured as botocore configures itself on Lambda, from the environment alone: the credentials Lambda sets
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), the endpoint
  (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, docs.aws.amazon.com/sdkref/latest/guide/
  feature-ss-endpoints.html), the region. Wherever botocore would do something this module does not (a shared
  config file or a profile, FIPS, dual-stack or account-ID endpoints, a proxy, a partition other than aws, aws-cn
  and aws-us-gov), :meth:`SignedClient.configured` answers None and the caller uses botocore instead.
- Retried as botocore's standard retry mode retries (docs.aws.amazon.com/sdkref/latest/guide/
  feature-retry-behavior.html; botocore/retries/standard.py): connection errors, timeouts, 5xx, throttling and
  the other transient error codes, with jittered exponential backoff, shorter than botocore's (an authorizer
  that waits a second on a throttle holds the API call it guards; failing closed sooner is the better answer).
  ``[storage] timeout_seconds`` and ``retries`` bound it as they bound botocore (passport.storage.connection).

Every failure, an error answer included, ends as :class:`passport.core.errors.StorageUnavailable` (an error
answer not worth retrying as its subclass :class:`ServiceError`, with the code) with a short cause; neither
credentials nor request bodies are ever logged or put in a message.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from passport.core.errors import PassportError, StorageUnavailable

#: Secrets Manager's answers are a few KB (a secret value is at most 64 KB); anything past this is not its answer.
MAX_ANSWER_BYTES = 1 << 20
#: DynamoDB's largest answer: a BatchGetItem returns up to 16 MB of items (docs.aws.amazon.com/amazondynamodb/
#: latest/APIReference/API_BatchGetItem.html), which the JSON encoding makes larger still.
MAX_DYNAMODB_ANSWER_BYTES = 32 << 20
#: Connection timeout, at most: the same as passport.storage.connection's (not importable without pynamodb).
CONNECT_TIMEOUT = 2
#: Idle keep-alive connections kept (a function runs one call at a time; the local gateway many at once): the
#: size of the connection pool passport.storage.connection gives botocore.
MAX_IDLE = 20

#: botocore's standard retry mode (botocore/retries/standard.py): throttling error codes (its
#: ThrottledRetryableChecker), backed off longer than the rest.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
})
#: Its transient error codes, and the one DynamoDB's service model marks retryable.
TRANSIENT_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "ReplicatedWriteConflictException",
})
#: Its transient statuses (InternalServerError is a 500) and its throttling status.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_STATUSES = frozenset({429})

#: Backoff before retry i (0-based): random() * min(base * 2**i, MAX_BACKOFF). botocore's bases for DynamoDB are
#: 25 ms (transient) and 1 s (throttling), capped at 20 s; the transient base is kept, the rest shortened.
TRANSIENT_BACKOFF = 0.025
THROTTLING_BACKOFF = 0.1
MAX_BACKOFF = 0.25

#: Partitions whose endpoints are ``https://<service>.<region>.<suffix>`` for both services (botocore/data/
#: endpoints.json and partitions.json; docs.aws.amazon.com/general/latest/gr/ddb.html and .../asm.html). Any other
#: region, DynamoDB local's "local" among them, is left to botocore's endpoint rules.
_PARTITIONS = (
    (re.compile(r"(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+", re.ASCII), "amazonaws.com"),
    (re.compile(r"us-gov-\w+-\d+", re.ASCII), "amazonaws.com"),
    (re.compile(r"cn-\w+-\d+", re.ASCII), "amazonaws.com.cn"),
)
#: A DNS name as botocore accepts one in an endpoint URL (botocore.utils.is_valid_endpoint_url).
_HOSTNAME = re.compile(r"((?!-)[a-z\d-]{1,63}(?<!-)\.)*(?!-)[a-z\d-]{1,63}(?<!-)", re.ASCII)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Service:
    """What differs between the JSON-protocol services called here (each one's botocore model: its metadata)."""

    name: str  # the endpoint prefix and SigV4's service name
    title: str  # for messages
    target_prefix: str  # X-Amz-Target is <target_prefix>.<Operation>
    json_version: str  # Content-Type application/x-amz-json-<json_version>
    endpoint_variable: str  # AWS_ENDPOINT_URL_<endpoint_variable>, the service-specific endpoint setting
    max_answer_bytes: int = MAX_ANSWER_BYTES
    #: (operation, its member that the model marks ``idempotencyToken``): botocore fills it with a fresh UUID when
    #: the caller leaves it out, so that its own retries of a call that did happen are not applied twice.
    idempotency_tokens: tuple[tuple[str, str], ...] = ()

    @property
    def content_type(self) -> str:
        return f"application/x-amz-json-{self.json_version}"


DYNAMODB = Service(
    "dynamodb", "DynamoDB", "DynamoDB_20120810", "1.0", "DYNAMODB", MAX_DYNAMODB_ANSWER_BYTES,
    # The item operations' idempotency tokens in DynamoDB's model (botocore/data/dynamodb/2012-08-10/service-2.json).
    (("TransactWriteItems", "ClientRequestToken"), ("ExecuteTransaction", "ClientRequestToken")),
)
SECRETS_MANAGER = Service("secretsmanager", "Secrets Manager", "secretsmanager", "1.1", "SECRETS_MANAGER")


class ServiceError(StorageUnavailable):
    """The service answered with an error not worth retrying (a missing table or secret, access denied, a condition
    that did not hold...): its code, HTTP status, the error's JSON object (``{}`` when it sent none: DynamoDB's
    ``TransactionCanceledException`` carries ``CancellationReasons`` there) and how many attempts were made."""

    def __init__(
        self, message: str, code: str | None, status: int = 0, document: dict[str, Any] | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.document = document or {}
        self.attempts = attempts


class Unsupported(PassportError):
    """This environment asks for something only botocore does; the message names it (never a secret)."""


class StorageSettings(Protocol):
    """What is read of ``[storage]`` (passport.config.Storage): the region (empty: the environment's) and the
    limits of every call."""

    region: str
    timeout_seconds: int
    retries: int


@dataclass(frozen=True)
class Credentials:
    """AWS credentials, the secret parts kept out of every repr."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Endpoint:
    """Where requests go, and the Host header SigV4 signs for it."""

    scheme: str  # "https" or "http"
    host: str  # what to connect to (an IPv6 address without brackets)
    port: int
    host_header: str  # the Host header sent and signed, as botocore derives it from the URL

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """An endpoint URL that is plain ``http(s)://host[:port]`` with an empty or ``/`` path; anything else
        (a path, a query, user info, a host botocore would refuse) is left to botocore."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise Unsupported("an endpoint URL that is not a plain URL") from None
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise Unsupported("an endpoint URL with more than a scheme, host and port")
        if parts.username is not None or parts.password is not None:
            raise Unsupported("an endpoint URL with user info")
        default = 443 if parts.scheme == "https" else 80
        # botocore's Host: the lowercased host name, IPv6 in brackets, the port unless it is the scheme's own.
        if parts.netloc.startswith("["):
            if not _ipv6(host):
                raise Unsupported("an endpoint URL whose host is not a valid name or address")
            named = f"[{host}]"
        elif len(host) <= 255 and _HOSTNAME.fullmatch(host):
            named = host
        else:
            raise Unsupported("an endpoint URL whose host is not a valid name or address")
        port = default if port is None else port
        return cls(parts.scheme, host, port, named if port == default else f"{named}:{port}")


def _ipv6(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6, host)
    except (OSError, ValueError):
        return False
    return True


def _true(environ: Mapping[str, str], name: str) -> bool:
    """botocore's reading of a boolean setting (botocore.utils.ensure_boolean)."""
    return environ.get(name, "").lower() == "true"


@dataclass(frozen=True)
class Configuration:
    """Everything one client needs, resolved once from the environment and the settings."""

    endpoint: Endpoint
    region: str
    credentials: Credentials
    timeout_seconds: float
    retries: int
    ca_bundle: str | None = None

    @classmethod
    def from_environment(
        cls, service: Service, storage: StorageSettings, environ: Mapping[str, str] | None = None
    ) -> Configuration:
        """What botocore would use in this environment, or :class:`Unsupported` where it would do more."""
        env = os.environ if environ is None else environ
        if env.get("AWS_PROFILE"):
            raise Unsupported("a named profile (AWS_PROFILE)")
        config_file = os.path.expanduser(env.get("AWS_CONFIG_FILE") or "~/.aws/config")
        if os.path.isfile(config_file):
            # It may set an endpoint, FIPS or dual-stack endpoints, a CA bundle...: botocore reads it.
            raise Unsupported("a shared config file")
        # botocore's environment provider: both keys or none; a session token, or its legacy name.
        access_key, secret_key = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not access_key or not secret_key:
            raise Unsupported("no credentials in the environment")
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
        # The storage setting is the region botocore is given; else its own variable, else Lambda's.
        region = storage.region or env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or ""
        if not region:
            raise Unsupported("no region")
        if _true(env, "AWS_USE_FIPS_ENDPOINT") or _true(env, "AWS_USE_DUALSTACK_ENDPOINT"):
            raise Unsupported("FIPS or dual-stack endpoints")
        configured = None
        if not _true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
            configured = env.get(f"AWS_ENDPOINT_URL_{service.endpoint_variable}") or env.get("AWS_ENDPOINT_URL") or None
        if configured is not None:
            endpoint = Endpoint.parse(configured)
        else:
            endpoint = Endpoint.parse(f"https://{service.name}.{region}.{_dns_suffix(region)}")
            mode = env.get("AWS_ACCOUNT_ID_ENDPOINT_MODE", "").lower()
            if mode == "required" or (env.get("AWS_ACCOUNT_ID") and mode != "disabled"):
                raise Unsupported("account-ID endpoints")
        proxies = ("https_proxy", "HTTPS_PROXY") if endpoint.scheme == "https" else ("http_proxy", "HTTP_PROXY")
        if any(env.get(name) for name in proxies):
            raise Unsupported("a proxy")
        return cls(
            endpoint=endpoint,
            region=region,
            credentials=Credentials(access_key, secret_key, token),
            timeout_seconds=storage.timeout_seconds,
            retries=storage.retries,
            ca_bundle=env.get("AWS_CA_BUNDLE") or None,
        )


def _dns_suffix(region: str) -> str:
    for pattern, suffix in _PARTITIONS:
        if pattern.fullmatch(region):
            return suffix
    raise Unsupported("a region outside the aws, aws-cn and aws-us-gov partitions")


# -- AWS Signature Version 4 -----------------------------------------------------------------------------------


def amz_date(epoch_seconds: float) -> str:
    """SigV4's timestamp: ISO 8601 basic format, UTC, whole seconds."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch_seconds))


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """SigV4's derived key: HMAC-SHA256 chained over the date, region, service and "aws4_request"."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def authorization(
    headers: Mapping[str, str], body: bytes, credentials: Credentials, region: str, key: bytes | None = None,
    *, service: str, method: str = "POST", path: str = "/",
) -> str:
    """The ``Authorization`` header of a request with no query string whose every header in ``headers`` is
    signed (``X-Amz-Date`` among them). ``key``: :func:`signing_key` of its date, when the caller keeps it."""
    # Canonical headers: lowercased names, sorted; values with runs of spaces made one and trimmed.
    canonical = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    when = canonical["x-amz-date"]
    names = sorted(canonical)
    signed = ";".join(names)
    request = "\n".join(
        [method, path, "", *(f"{name}:{canonical[name]}" for name in names), "", signed,
         hashlib.sha256(body).hexdigest()]
    )
    scope = f"{when[:8]}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{when}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
    key = key or signing_key(credentials.secret_key, when[:8], region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    credential = f"{credentials.access_key}/{scope}"
    return f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={signature}"


# -- the client -------------------------------------------------------------------------------------------------

_log = logging.getLogger("passport.aws_json")


class _Failure(Exception):
    def __init__(
        self, cause: str, *, retryable: bool, throttled: bool = False, answered: bool = False, code: str | None = None,
        status: int = 0, document: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retryable = retryable
        self.throttled = throttled
        self.answered = answered  # the service answered with an error (``code``), not a broken exchange
        self.code = code
        self.status = status
        self.document = document


#: Called with (service, operation) before every request is sent, retries included, as botocore's ``before-send``
#: event is: how ``make bench`` counts round trips whichever client makes them.
REQUEST_OBSERVERS: list[Callable[[str, str], None]] = []

#: (service, operation, payload, region) -> a context each call runs in, its attempts included; None: none.
CallTracer = Callable[[str, str, dict[str, Any], str], AbstractContextManager[Any]]
_call_tracer: CallTracer | None = None


def trace_calls(tracer: CallTracer | None) -> None:
    """Run every call inside ``tracer(...)`` from now on (passport.observability, with ``[observability] tracer``
    on: an X-Ray subsegment per call, as X-Ray's patch of botocore records botocore's)."""
    global _call_tracer
    _call_tracer = tracer


class SignedClient:
    """One service's JSON protocol over keep-alive connections, SigV4-signed; safe to share between threads."""

    def __init__(
        self,
        service: Service,
        configuration: Configuration,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.service = service
        self.configuration = configuration
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._read_timeout = float(configuration.timeout_seconds)
        self._connect_timeout = min(float(CONNECT_TIMEOUT), self._read_timeout)
        self._attempts = 1 + max(0, configuration.retries)
        self._ssl: ssl.SSLContext | None = None
        self._key: tuple[str, bytes] = ("", b"")  # (date, its signing key): derived once a day
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def configured(
        cls, service: Service, storage: StorageSettings, environ: Mapping[str, str] | None = None, **options: Any
    ) -> SignedClient | None:
        """The client of ``service`` for this environment, or None where only botocore can serve it as botocore
        would."""
        try:
            return cls(service, Configuration.from_environment(service, storage, environ), **options)
        except Unsupported:
            return None

    def request_headers(self, operation: str, body: bytes) -> dict[str, str]:
        """The headers of one attempt at ``operation`` with ``body``, signed now."""
        config = self.configuration
        headers = {
            "Host": config.endpoint.host_header,
            "Content-Type": self.service.content_type,
            "X-Amz-Date": amz_date(self._clock()),
            "X-Amz-Target": f"{self.service.target_prefix}.{operation}",
        }
        if config.credentials.token:
            headers["X-Amz-Security-Token"] = config.credentials.token
        date = headers["X-Amz-Date"][:8]
        if self._key[0] != date:
            self._key = (date, signing_key(config.credentials.secret_key, date, config.region, self.service.name))
        headers["Authorization"] = authorization(
            headers, body, config.credentials, config.region, self._key[1], service=self.service.name
        )
        return headers

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The service's answer to ``operation`` (``"BatchGetItem"``) with ``payload``: a JSON object, or
        :class:`StorageUnavailable` once the retries are spent, :class:`ServiceError` for an error answer that is
        not one to retry."""
        if _call_tracer is None:
            return self._call(operation, payload)
        with _call_tracer(self.service.name, operation, payload, self.configuration.region):
            return self._call(operation, payload)

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        for named, member in self.service.idempotency_tokens:
            if named == operation and member not in payload:
                import uuid  # here: only transactions need it, and the guard never sends one

                payload = {**payload, member: str(uuid.uuid4())}  # one token for every attempt, as botocore's
        body = json.dumps(payload).encode()
        failure = _Failure("no attempt", retryable=False)
        attempt = 0
        while attempt < self._attempts:
            if attempt:
                base = THROTTLING_BACKOFF if failure.throttled else TRANSIENT_BACKOFF
                self._sleep(self._jitter() * min(base * 2 ** (attempt - 1), MAX_BACKOFF))
            attempt += 1
            try:
                return self._attempt(operation, body)
            except _Failure as error:
                failure = error
                if not error.retryable:
                    break
        tries = f" after {attempt} attempts" if attempt > 1 else ""
        message = f"{self.service.title} {operation} failed: {failure.cause}{tries}"
        if failure.answered and not failure.retryable:
            raise ServiceError(message, failure.code, failure.status, failure.document, attempt)
        raise StorageUnavailable(message)

    def close(self) -> None:
        """Close the idle connections (a connection in use is closed by its call)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # -- one attempt ---------------------------------------------------------------------------------------------

    def _attempt(self, operation: str, body: bytes) -> dict[str, Any]:
        headers = self.request_headers(operation, body)
        if _log.isEnabledFor(logging.DEBUG):
            # What botocore logs at DEBUG of each request: the body (DynamoDB's carries hashes and identifiers,
            # never a secret; Secrets Manager's, the secret's id). Never the headers (the signature) nor an answer
            # (the key secret's is a private key).
            _log.debug("Making request for %s.%s with body: %s", self.service.name, operation, body.decode())
        for observer in REQUEST_OBSERVERS:
            observer(self.service.name, operation)
        try:
            connection = self._take()
        except (OSError, http.client.HTTPException) as error:
            raise _Failure(_cause(error), retryable=True) from None
        try:
            status, crc32, data, reusable = _exchange(connection, headers, body, self.service.max_answer_bytes)
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise _Failure(_cause(error), retryable=True) from None
        except BaseException:
            connection.close()
            raise
        if reusable:
            self._give(connection)
        else:
            connection.close()
        return _answer(status, crc32, data)

    def _take(self) -> _Connection:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if _still_open(connection.sock):
                    return connection
                connection.close()
        return self._open()

    def _give(self, connection: _Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _open(self) -> _Connection:
        endpoint = self.configuration.endpoint
        # TCP and TLS within the connect timeout; then each read within the read one.
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=self._connect_timeout)
        try:
            # As http.client and urllib3 do: a request leaves at once, whatever was sent before it.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if endpoint.scheme == "https":
                sock = self._tls().wrap_socket(sock, server_hostname=endpoint.host)
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            # Certificates and host names verified; AWS_CA_BUNDLE, as botocore honours it, else the system's.
            self._ssl = ssl.create_default_context(cafile=self.configuration.ca_bundle)
        return self._ssl


class _Connection:
    """One keep-alive connection to the service. A request goes out in one write, its head and body together:
    http.client writes them apart, which wakes the server twice per request (measured under the local token
    load: about a tenth more CPU per request, on both sides). The answer is read by http.client's own parser."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock

    def send(self, headers: Mapping[str, str], body: bytes) -> http.client.HTTPResponse:
        """POST ``body`` to ``/`` with ``headers`` (the signed ones; Host among them) and read the answer's head."""
        if self.sock is None:
            raise http.client.NotConnected()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.sock.sendall(
            b"POST / HTTP/1.1\r\n" + head.encode("latin-1")
            + b"Content-Length: %d\r\nAccept-Encoding: identity\r\n\r\n" % len(body) + body
        )
        response = http.client.HTTPResponse(self.sock, method="POST")
        response.begin()  # the status line and headers; BadStatusLine, LineTooLong... on a malformed head
        return response

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def _still_open(sock: socket.socket | None) -> bool:
    """An idle keep-alive connection has nothing to read; if it has, the server closed it (urllib3's check
    before reuse). Checked without waiting."""
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():  # TLS bytes already read and not asked for
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (AttributeError, OSError, ValueError):
        return False


def _exchange(
    connection: _Connection, headers: dict[str, str], body: bytes, limit: int
) -> tuple[int, str | None, bytes, bool]:
    """Send one request; (status, x-amz-crc32, body, whether the connection can carry another)."""
    response = connection.send(headers, body)
    if response.length is not None:
        if response.length > limit:
            raise _Failure("the answer is too large", retryable=False)
        data = response.read()  # IncompleteRead when the connection ends before Content-Length bytes
    else:
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _Failure("the answer is too large", retryable=False)
        data = b"".join(chunks)
    reusable = not response.will_close and connection.sock is not None
    return response.status, response.getheader("x-amz-crc32"), data, reusable


def _answer(status: int, crc32: str | None, data: bytes) -> dict[str, Any]:
    """The answer's JSON object, or the :class:`_Failure` it means."""
    # botocore retries DynamoDB answers whose CRC32 does not match (botocore/retries/special.py).
    if crc32 is not None and (not (crc32.isascii() and crc32.isdigit()) or int(crc32) != zlib.crc32(data) & 0xFFFFFFFF):
        raise _Failure("the answer's CRC32 does not match", retryable=True)
    document = _json_object(data)
    if 200 <= status < 300:
        if document is None:
            raise _Failure("the answer is not a JSON object", retryable=False)
        return document
    code = _error_code(document)
    throttled = code in THROTTLING_CODES or status in THROTTLING_STATUSES
    retryable = throttled or code in TRANSIENT_CODES or status in TRANSIENT_STATUSES
    raise _Failure(f"{code or 'an error'} (HTTP {status})", retryable=retryable, throttled=throttled, answered=True,
                   code=code, status=status, document=document)


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(data)
    except ValueError:  # UnicodeDecodeError included
        return None
    return document if isinstance(document, dict) else None


def _error_code(document: dict[str, Any] | None) -> str | None:
    """The error code of a JSON protocol error: ``__type`` without its namespace (``...#Code``) and any
    ``:``-suffix, as botocore reads it; None when there is none that looks like a code."""
    raw = document.get("__type") if document else None
    if not isinstance(raw, str):
        return None
    code = raw.split(":", 1)[0].rsplit("#", 1)[-1]
    return code if _ERROR_CODE.fullmatch(code) else None


def _cause(error: BaseException) -> str:
    return "timed out" if isinstance(error, TimeoutError) else type(error).__name__
