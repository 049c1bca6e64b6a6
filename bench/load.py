"""A bounded load run against the local server, and the same token load against a
minimal authlib token endpoint, in the same run, on 127.0.0.1 only.

The server is the real ``passport serve`` (DynamoDB Local, access log) in a subprocess on a fresh
folder, its client made with ``passport client create`` as a user makes one. 32 client threads, each on one
keep-alive ``http.client`` connection, send a fixed number of requests: client_credentials token requests,
then guard decisions (``GET /api/orders``) spread round-robin over every issued token. Every phase stops at a
hard deadline. The server's RSS is sampled from ``/proc/<pid>/status`` all along. Afterwards every issued
token's record is read back from the server's store (BatchGetItem, 100 keys a page). Beside the server,
:mod:`bench.authlib_baseline` runs in a subprocess of its own and takes the same token load, the two servers
taking it in turns (:data:`ROUNDS`).
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PASSPORT = Path(sys.executable).with_name("passport")
SCOPE = "orders:read"
API_PATH = "/api/orders"

#: The full-size variant is 5,000 token requests and 20,000 guard decisions. The token phase is cut to 1,000 to
#: keep the load part near a minute on a 2-core machine. ``python -m bench load 5000 20000`` runs the example.
TOKEN_REQUESTS = 1_000
GUARD_REQUESTS = 20_000
CLIENTS = 32
#: Not counted: loads every function's module, the keys, the connections.
WARM_UP_REQUESTS = 2 * CLIENTS
#: Token requests before the measured ones, also not counted: besides the above, DynamoDB Local's JVM compiles its
#: hot paths over the first few hundred (after 64, a 1,000-request phase ran 190/s in its first quarter and 295/s
#: in its last). The authlib baseline gets as many.
WARM_UP_TOKEN_REQUESTS = 16 * CLIENTS
#: The token load alternates between the local server and the authlib baseline in this many rounds each, both
#: running all along: a machine whose speed drifts over the run (other tenants, the CPU's clock: the same code
#: measured a minute apart differed by a third) then slows both alike, and the ratio measures the code.
ROUNDS = 4
#: The throughput ratio is marked noisy when a round's differs from the run's by more than this fraction of it.
ROUND_TOLERANCE = 0.15
#: Every phase stops here, whatever is left (then the run is a FAIL).
DEADLINE_SECONDS = 240.0
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
RSS_INTERVAL = 0.5
#: "Memory flat": while the guard phase runs (it writes nothing), the server's RSS may grow this much at most
#: from the median of its first quarter of samples to the median of its last.
RSS_FLAT_FRACTION = 0.10
#: The guard runs on every decision: API Gateway's authorizer result cache (60 s by default) is turned off, or
#: with one cached answer per token most decisions would never reach the guard.
SERVER_SETTINGS = {"PASSPORT_GUARD_AUTHORIZER_CACHE_SECONDS": "0"}

_ACCESS_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH|OPTIONS|HEAD) \S+ \d{3} [\d.]+ ms$")
_AUDIT_LINE = re.compile(r'^\{"at": \d+, "audit": ')


def note(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- the load generator ----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    planned: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # answered requests, seconds, sorted
    ends: list[float] = field(default_factory=list)  # when each answer came, seconds from the phase's start, sorted
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # no answer: exception type names

    @property
    def done(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def errors(self) -> int:
        return self.done - self.statuses[200]

    @property
    def finished(self) -> bool:
        return self.done == self.planned

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank."""
        if not self.latencies:
            return float("nan")
        rank = max(1, min(len(self.latencies), round(p / 100 * len(self.latencies) + 0.5)))
        return self.latencies[rank - 1]

    def quarter_rates(self) -> tuple[float, float]:
        """Answers per second over the first and over the last quarter of the answers (a server that slows
        down as its store fills shows it here)."""
        n = len(self.ends) // 4
        if n < 2:
            return float("nan"), float("nan")
        return n / self.ends[n - 1], n / (self.ends[-1] - self.ends[-n - 1])

    def latency_text(self) -> str:
        p = [self.percentile(x) * 1e3 for x in (50, 95, 99)]
        return f"p50 {p[0]:.0f} ms, p95 {p[1]:.0f} ms, p99 {p[2]:.0f} ms"

    def error_text(self) -> str:
        parts = [f"{n}x {status}" for status, n in sorted(self.statuses.items()) if status != 200]
        parts += [f"{n}x {name}" for name, n in self.failures.most_common()]
        return ", ".join(parts) or "none"


Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


def drive(
    port: int, name: str, count: int, request: Callable[[int], Request], deadline: float,
    keep: list[bytes | None] | None = None,
) -> Phase:
    """Send ``request(i)`` for i in range(count) from :data:`CLIENTS` threads, each on its own keep-alive
    connection; a thread stops when the numbers run out or the deadline passes. ``keep[i]`` gets the i-th
    answer's body when given."""
    numbers = itertools.count()  # next() on it is atomic under the GIL
    origin = 0.0
    lock = threading.Lock()
    phase = Phase(name, count)

    def client() -> None:
        latencies: list[float] = []
        ends: list[float] = []
        statuses: Counter[int] = Counter()
        failures: Counter[str] = Counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while time.monotonic() < deadline:
                i = next(numbers)
                if i >= count:
                    break
                method, path, headers, body = request(i)
                started = time.perf_counter()
                try:
                    connection.request(method, path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                except (OSError, http.client.HTTPException) as exc:
                    failures[type(exc).__name__] += 1
                    connection.close()  # reconnects on the next request
                    continue
                ended = time.perf_counter()
                latencies.append(ended - started)
                ends.append(ended - origin)
                statuses[answer.status] += 1
                if keep is not None:
                    keep[i] = data
        finally:
            connection.close()
            with lock:
                phase.latencies += latencies
                phase.ends += ends
                phase.statuses.update(statuses)
                phase.failures.update(failures)

    threads = [threading.Thread(target=client, name=f"load-{name}-{n}", daemon=True) for n in range(CLIENTS)]
    started = origin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 1)
    phase.seconds = time.perf_counter() - started
    phase.latencies.sort()
    phase.ends.sort()
    return phase


def joined(phases: list[Phase]) -> Phase:
    """One phase of several run one after another: their answers, their times added, each answer's end counted
    from the first phase's start as if no other load ran between them."""
    whole = Phase(phases[0].name, sum(p.planned for p in phases))
    for phase in phases:
        whole.ends += [whole.seconds + end for end in phase.ends]
        whole.seconds += phase.seconds
        whole.latencies += phase.latencies
        whole.statuses.update(phase.statuses)
        whole.failures.update(phase.failures)
    whole.latencies.sort()
    return whole


def basic(client_id: str, secret: str) -> str:
    """HTTP Basic as RFC 6749 2.3.1 writes it (these ids and secrets are URL-safe already)."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_requests(client_id: str, secret: str) -> Callable[[int], Request]:
    headers = {
        "Authorization": basic(client_id, secret),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "passport-bench-load",
    }
    body = f"grant_type=client_credentials&scope={SCOPE}".encode()
    return lambda i: ("POST", "/oauth/token", headers, body)


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def tokens_of(bodies: list[bytes | None]) -> list[str]:
    tokens = []
    for body in bodies:
        if body is None:
            continue
        with suppress(ValueError, KeyError, TypeError):  # an error answer, counted by its status
            tokens.append(json.loads(body)["access_token"])
    return tokens


# -- the server's memory -----------------------------------------------------------------------------------


@dataclass
class Memory:
    """The server's resident set size, sampled every :data:`RSS_INTERVAL` seconds."""

    pid: int
    samples: list[tuple[float, str, int]] = field(default_factory=list)  # (time, phase, bytes)
    phase: str = "start"
    _stop: threading.Event = field(default_factory=threading.Event)

    def rss(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def sample(self) -> None:
        with suppress(OSError, RuntimeError):  # the process is gone
            self.samples.append((time.monotonic(), self.phase, self.rss()))

    def mark(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()

    @contextmanager
    def sampling(self) -> Iterator[Memory]:
        def loop() -> None:
            while not self._stop.wait(RSS_INTERVAL):
                self.sample()

        self.sample()
        thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self.sample()

    def of(self, phase: str) -> list[int]:
        return [rss for _, name, rss in self.samples if name == phase]

    def quarters(self, phase: str) -> tuple[float, float]:
        """Median RSS of the first and of the last quarter of a phase's samples."""
        values = self.of(phase)
        if len(values) < 4:
            raise RuntimeError(f"only {len(values)} RSS samples in the {phase} phase")
        quarter = len(values) // 4
        return statistics.median(values[:quarter]), statistics.median(values[-quarter:])


# -- CPU ----------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far, all its threads (``/proc/<pid>/stat`` fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_pid(server_pid: int) -> int | None:
    """The DynamoDB Local child of ``passport serve``, if it runs one."""
    for children in Path(f"/proc/{server_pid}/task").glob("*/children"):
        for child in children.read_text().split():
            with suppress(OSError):
                if b"DynamoDBLocal" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return int(child)
    return None


@dataclass
class CpuMeter:
    """CPU seconds each process spent over a phase: ``this`` is the bench process (the load generator's
    threads)."""

    pids: dict[str, int]
    spent: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measuring(self) -> Iterator[CpuMeter]:
        def now() -> dict[str, float]:
            times = os.times()
            return {"this": times.user + times.system} | {name: cpu_seconds(pid) for name, pid in self.pids.items()}

        before = now()
        yield self
        after = now()
        for name in before:  # added up over every measuring() of this meter
            self.spent[name] = self.spent.get(name, 0.0) + after[name] - before[name]

    def per_request(self, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request, by process."""
        return {name: seconds / requests * 1000 for name, seconds in self.spent.items()} if requests else {}


# -- the local server ---------------------------------------------------------------------------------------


def _child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The calling shell's environment without PASSPORT_* or AWS_* (shipped settings, never AWS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSPORT_", "AWS_"))}
    env.update(extra)
    return env


class OutputReader:
    """A child's merged stdout/stderr, written to a file rather than a pipe: nothing in this process wakes for
    each access or audit line while the load runs (a reader thread here took CPU from the machine the servers
    share). :meth:`wait_for` reads it until the child says it is ready; :meth:`join`, once the child has
    stopped, counts access and audit lines and keeps the others (warnings, tracebacks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unusual: Counter[str] = Counter()
        self.access_lines = 0
        self.audit_lines = 0
        self._offset = 0  # where wait_for stopped reading: what follows is the run's

    def file(self) -> Any:
        """The file to hand the child as its stdout and stderr (its handle is the caller's to close)."""
        return open(self.path, "w")

    def wait_for(self, marker: str, timeout: float, process: subprocess.Popen[str]) -> str:
        deadline = time.monotonic() + timeout
        while True:
            with open(self.path) as output:
                text = output.read()
            at = text.find(marker)
            end = text.find("\n", at) if at >= 0 else -1
            if end >= 0:  # the marker's line is whole
                self._offset = end + 1
                return text[:self._offset]
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + text[-2000:])
            time.sleep(0.02)

    def join(self) -> None:
        with open(self.path) as output:
            output.read(self._offset)
            for line in output:
                line = line.rstrip("\n")
                if _ACCESS_LINE.match(line):
                    self.access_lines += 1
                elif _AUDIT_LINE.match(line):
                    self.audit_lines += 1
                elif line.strip() and not line.startswith("Stopped; data saved"):
                    self.unusual[line[:200]] += 1


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalServer:
    folder: Path
    port: int
    process: subprocess.Popen[str]
    output: OutputReader
    client_id: str
    secret: str

    @property
    def store_endpoint(self) -> str:
        return json.loads((self.folder / ".passport" / "server.json").read_text())["store"]


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """``passport serve`` on a fresh copy of the shipped passport.toml, and a client_credentials client."""
    with tempfile.TemporaryDirectory(prefix="passport-load-") as name:
        folder = Path(name)
        shutil.copy(REPO / "passport.toml", folder / "passport.toml")
        port = _free_port()
        env = _child_environment({"HOST": "127.0.0.1", "PORT": str(port), **SERVER_SETTINGS})
        output = OutputReader(folder / "server.log")
        with output.file() as log:
            process = subprocess.Popen(
                [str(PASSPORT), "serve"], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )
        try:
            output.wait_for("Press Ctrl-C to stop", START_TIMEOUT, process)
            created = subprocess.run(
                [str(PASSPORT), "client", "create", "--client", "--name", "load", "--scope", SCOPE, "--json"],
                cwd=folder, env=env, capture_output=True, text=True, timeout=START_TIMEOUT,
            )
            if created.returncode != 0:
                raise RuntimeError(f"passport client create failed: {created.stderr.strip()[-500:]}")
            client = json.loads(created.stdout)
            yield LocalServer(folder, port, process, output, client["client_id"], client["client_secret"])
        finally:
            _stop(process)
            output.join()


def missing_records(endpoint: str, folder: Path, jtis: list[str], client_id: str) -> int:
    """How many of these tokens have no record (``access#<jti>``, issued to this client) in the server's store:
    read with BatchGetItem, 100 keys a page, unprocessed keys asked again."""
    import botocore.session
    from passport.config import load_settings
    from passport.local.dynamodb_local import access_key as store_key
    from passport.local.store import STORE_FOLDER
    from passport.storage.models import access_key

    settings = load_settings(folder / "passport.toml", environ={})
    table = settings.storage.tokens_table
    dynamodb = botocore.session.get_session().create_client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        # DynamoDB Local files the server's data under its store's key id (passport.local.dynamodb_local)
        aws_access_key_id=store_key(settings.data_path / STORE_FOLDER), aws_secret_access_key="local",
    )
    found: dict[str, str] = {}
    keys = [{"pk": {"S": access_key(jti)}} for jti in dict.fromkeys(jtis)]
    for start in range(0, len(keys), 100):
        pending: list[dict[str, Any]] = keys[start:start + 100]
        for _ in range(10):
            if not pending:
                break
            answer = dynamodb.batch_get_item(RequestItems={table: {"Keys": pending, "ConsistentRead": True}})
            for item in answer["Responses"].get(table, []):
                found[item["pk"]["S"]] = item.get("client_id", {}).get("S", "")
            pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return sum(1 for jti in jtis if found.get(access_key(jti)) != client_id)


# -- the authlib baseline ---------------------------------------------------------------------------------


@dataclass
class Baseline:
    port: int
    client_id: str
    secret: str
    public_key: str
    url: str
    pid: int


@contextmanager
def authlib_server() -> Iterator[Baseline]:
    folder = Path(tempfile.mkdtemp(prefix="passport-authlib-"))
    output = OutputReader(folder / "baseline.log")
    with output.file() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.authlib_baseline"], cwd=REPO, env=_child_environment({}),
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    try:
        info = json.loads(output.wait_for('"client_secret"', START_TIMEOUT, process).splitlines()[-1])
        port = int(info["url"].rsplit(":", 1)[1])
        yield Baseline(port, info["client_id"], info["client_secret"], info["public_key"], info["url"], process.pid)
    finally:
        _stop(process, signal.SIGTERM)
        output.join()
        shutil.rmtree(folder, ignore_errors=True)
        if output.unusual:
            note("authlib baseline said: " + " | ".join(list(output.unusual)[:5]))


def check_baseline_token(b: Baseline, token: str) -> None:
    """The comparison is fair only if the baseline issues what it claims: an RFC 9068 JWT, RS256, verifiable."""
    import jwt

    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt" or header.get("alg") != "RS256":
        raise RuntimeError(f"the authlib baseline issued an unexpected token header {header}")
    decoded = jwt.decode(token, b.public_key, algorithms=["RS256"], audience=f"{b.url}/api", issuer=b.url,
                         options={"require": ["exp", "iat", "jti", "sub", "client_id"]})
    if decoded["client_id"] != b.client_id or decoded.get("scope") != SCOPE:
        raise RuntimeError(f"the authlib baseline issued unexpected claims {decoded}")


# -- the run ----------------------------------------------------------------------------------------------


@dataclass
class LoadRun:
    tokens: Phase
    guard: Phase | None
    baseline: Phase | None
    issued: int  # distinct tokens the server issued (warm-up included)
    missing: int | None  # of those, without a record of their client in the store (None: not checked)
    memory: Memory
    cut: str | None  # what the deadline cut short, if anything
    seconds: float
    server: OutputReader
    baseline_checked: int  # baseline tokens verified as RFC 9068 JWTs
    decisions: int  # guard decisions planned
    deadline: float  # seconds from the start
    token_cpu: dict[str, float] = field(default_factory=dict)  # ms of CPU per token request: server, store, this
    baseline_cpu: dict[str, float] = field(default_factory=dict)  # the same for the authlib baseline: server, this
    round_ratios: list[float] = field(default_factory=list)  # our token rate over the baseline's, round by round


def deadline_for(tokens: int, decisions: int) -> float:
    """:data:`DEADLINE_SECONDS` for the default counts, more for larger ones (15 minutes at most)."""
    return min(900.0, DEADLINE_SECONDS * max(1.0, tokens / TOKEN_REQUESTS, decisions / GUARD_REQUESTS))


def run_load(tokens: int = TOKEN_REQUESTS, decisions: int = GUARD_REQUESTS) -> LoadRun:
    started = time.monotonic()
    limit = deadline_for(tokens, decisions)
    deadline = started + limit
    guard: Phase | None = None
    missing: int | None = None
    cut: str | None = None
    checked = 0

    note(f"  starting `passport serve` on 127.0.0.1 ({', '.join(f'{k}={v}' for k, v in SERVER_SETTINGS.items())})"
         " and the authlib baseline")
    with local_server() as server, authlib_server() as b:
        memory = Memory(server.process.pid)
        ask_token = token_requests(server.client_id, server.secret)
        ask_baseline = token_requests(b.client_id, b.secret)
        with memory.sampling():
            memory.mark("warm-up")
            warm_bodies: list[bytes | None] = [None] * WARM_UP_TOKEN_REQUESTS
            warm = drive(server.port, "warm-up", WARM_UP_TOKEN_REQUESTS, ask_token, deadline, warm_bodies)
            warm_tokens = tokens_of(warm_bodies)
            if warm.errors or not warm_tokens:
                raise RuntimeError(f"warm-up token requests failed: {warm.error_text()}")
            drive(server.port, "warm-up", WARM_UP_REQUESTS,
                  lambda i: ("GET", API_PATH, {"Authorization": f"Bearer {warm_tokens[i % len(warm_tokens)]}"}, b""),
                  deadline)
            drive(b.port, "warm-up", WARM_UP_TOKEN_REQUESTS, ask_baseline, deadline)

            note(f"  {tokens} token requests from {CLIENTS} clients to each, alternating in {ROUNDS} rounds")
            memory.mark("tokens")
            bodies: list[bytes | None] = []
            baseline_bodies: list[bytes | None] = []
            found = store_pid(server.process.pid)
            meter = CpuMeter({"server": server.process.pid} | ({"store": found} if found else {}))
            baseline_meter = CpuMeter({"server": b.pid})
            ours: list[Phase] = []
            theirs: list[Phase] = []

            def our_round(count: int) -> None:
                kept: list[bytes | None] = [None] * count
                with meter.measuring():
                    ours.append(drive(server.port, "tokens", count, ask_token, deadline, kept))
                bodies.extend(kept)

            def their_round(count: int) -> None:
                kept: list[bytes | None] = [None] * count
                with baseline_meter.measuring():
                    theirs.append(drive(b.port, "authlib", count, ask_baseline, deadline, kept))
                baseline_bodies.extend(kept)

            for n, count in enumerate(rounds(tokens)):
                # Each goes first in every other round, so what one leaves running (a store's log checkpoint, a JIT
                # compile) falls on both alike too.
                for take in (our_round, their_round) if n % 2 == 0 else (their_round, our_round):
                    take(count)
            token_phase, baseline = joined(ours), joined(theirs)
            round_ratios = [o.rate / t.rate for o, t in zip(ours, theirs, strict=True) if t.rate]
            token_cpu = meter.per_request(token_phase.done)
            baseline_cpu = baseline_meter.per_request(baseline.done)
            issued = tokens_of(bodies)
            note(f"  tokens: {token_phase.rate:.0f}/s, errors: {token_phase.error_text()}")
            note(f"  authlib: {baseline.rate:.0f}/s, errors: {baseline.error_text()}")
            if not token_phase.finished:
                cut = "token requests"
            elif not baseline.finished:
                cut = "authlib baseline"
            elif issued:
                note(f"  {decisions} guard decisions (GET {API_PATH}) over {len(issued)} tokens, round-robin")
                memory.mark("guard")
                bearers = [{"Authorization": f"Bearer {token}"} for token in issued]
                guard = drive(server.port, "guard", decisions,
                              lambda i: ("GET", API_PATH, bearers[i % len(bearers)], b""), deadline)
                memory.mark("after")
                note(f"  guard: {guard.rate:.0f}/s, errors: {guard.error_text()}")
                if not guard.finished:
                    cut = "guard decisions"
        sample = tokens_of(baseline_bodies)
        for token in sample[:1] + sample[-1:]:
            check_baseline_token(b, token)
            checked += 1
        jtis = [claims(token)["jti"] for token in warm_tokens + issued]
        if time.monotonic() < deadline:
            missing = missing_records(server.store_endpoint, server.folder, jtis, server.client_id)
        else:
            cut = cut or "store check"
        note("  stopping the servers")

    return LoadRun(token_phase, guard, baseline, len(set(jtis)), missing, memory, cut,
                   time.monotonic() - started, server.output, checked, decisions, limit, token_cpu, baseline_cpu,
                   round_ratios)


def rounds(total: int) -> list[int]:
    """``total`` requests in :data:`ROUNDS` rounds as even as can be."""
    return [total // ROUNDS + (1 if n < total % ROUNDS else 0) for n in range(ROUNDS)]


LOAD_METHOD = """\
- load: the real `passport serve` in a subprocess on a fresh folder, shipped
  passport.toml and {settings} (API Gateway's authorizer result cache off: every
  decision runs the guard), its client made with `passport client create`. {clients} threads, one keep-alive
  http.client connection each, on 127.0.0.1: {warm_tokens} warm-up token requests (DynamoDB Local's JVM compiles
  its hot paths over the first few hundred) and {warm} guard decisions (not counted), then {tokens}
  client_credentials token requests (the full-size variant is 5000: `python -m bench load 5000 20000`), then
  {decisions} GET {api} spread round-robin over every issued token (a token's first use reads its revocation
  status from the store; the guard caches it {revocation} s). Every phase stops by itself {deadline:.0f} s after
  the server started. Latency is per request, client side; rates are answers / phase time. Errors: any answer
  but 200, and any request without an answer. Issued tokens: every jti's record (access#<jti>, its client_id)
  read back with BatchGetItem, 100 keys a page, from the server's store. Memory: the server's VmRSS every
  {interval} s, judged on the guard phase (it writes nothing): the median of its last quarter of samples against
  its first. CPU: user + system time over the token phase, from /proc/<pid>/stat, of the server, of its
  DynamoDB Local child and of this process (the load generator's threads), per answered request.
- authlib baseline: bench/authlib_baseline.py in its own process: authlib's framework-independent
  AuthorizationServer, client_credentials, client_secret_basic (a SHA-256 of the secret, compared in constant
  time), RFC 9068 JWTs (typ at+jwt) signed RS256-2048 with a key parsed once, the client in memory, served by
  the gateway's own HTTP server class, running beside the local server; the same {clients} threads send it the
  same {warm_tokens} + {tokens} requests, the {tokens} alternating with the local server's in {rounds} rounds, each
  server first in every other (a drift of the machine's speed over the run falls on both alike). Ours does more
  per token: two DynamoDB requests to the local store (client lookup, token record; AWS's DynamoDB Local in a
  process of its own, each write synced to disk before it answers), an API Gateway proxy event and a Lambda
  handler, audit and access log lines; authlib's stores nothing. The ratio is judged noisy when a round's
  differs from the run's by more than {tolerance:.0%}."""


def method(run: LoadRun | None = None) -> str:
    from passport.config import load_settings

    shipped = load_settings(REPO / "passport.toml", environ={})
    return LOAD_METHOD.format(
        settings=", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items()), clients=CLIENTS, warm=WARM_UP_REQUESTS,
        warm_tokens=WARM_UP_TOKEN_REQUESTS,
        tokens=run.tokens.planned if run else TOKEN_REQUESTS, decisions=run.decisions if run else GUARD_REQUESTS,
        api=API_PATH, revocation=shipped.guard.revocation_cache_seconds, interval=RSS_INTERVAL,
        deadline=run.deadline if run else DEADLINE_SECONDS, rounds=ROUNDS,
        tolerance=ROUND_TOLERANCE,
    )
