"""``python -m bench``: measure, then print the table and how it was measured."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bench.counting import describe
from bench.report import ERROR, INFO, Row, markdown, render, summary, verdict, write_docs

if TYPE_CHECKING:
    from bench.deployment import Deployment
    from bench.figures import DpopFigures, GuardTimes, IssuanceTimes, RoundTrips
    from bench.issuance_processes import IssuanceRun
    from bench.load import LoadRun
    from bench.timing import Settling

GUARD_RATIO_TARGET = 1.0
#: Where the figures of a full run are written (between the markers of bench.report).
PERFORMANCE_DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
#: What the token handler may add to a bare sign, and its time against a minimal authlib endpoint's.
ISSUANCE_OVERHEAD_TARGET_US = 60.0
ISSUANCE_RATIO_TARGET = 1.0
#: A timed figure is measured again while its even and odd halves disagree by more than this.
GUARD_RATIO_TOLERANCE = 0.05
ISSUANCE_OVERHEAD_TOLERANCE_US = 10.0
ISSUANCE_RATIO_TOLERANCE = 0.05
#: A function's cold start (import and first request) over `import boto3` in the same interpreter.
COLD_START_TARGETS = {"guard": 1.2}
COLD_START_TARGET_DEFAULT = 1.6
TOKEN_CALLS_TARGET = 2
CODE_FLOW_CALLS_TARGET = 3  # code exchange and refresh
DEVICE_POLL_CALLS_TARGET = 1  # a poll while the user has not answered
LIFECYCLE_CALLS_TARGET = 2  # revoke 2, introspect 2 (1 for the caller's client)
GUARD_UNCACHED_CALLS_TARGET = 1
#: A DPoP call: the proof spent once, deployment-wide (RFC 9449 11.1), is one conditional write.
DPOP_GUARD_CALLS_TARGET = 1
#: A push: the client read, the proof spent, the request stored.
PAR_CALLS_TARGET = 3
#: The local server's token rate over the minimal authlib endpoint's under the same load (bench/load.py).
THROUGHPUT_RATIO_TARGET = 0.30

T = TypeVar("T")


def note(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine_facts() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        openssl = backend.openssl_version_text()
    except Exception:  # informational only
        openssl = "OpenSSL ?"
    versions = ", ".join(f"{name} {_version(name)}" for name in ("PyJWT", "cryptography", "boto3", "pynamodb"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {cpus} CPUs ({usable} usable), load {load:.2f}; {versions}; {openssl}"
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


def guard_halves(g: GuardTimes, path: str = "authorize") -> tuple[float, float]:
    timing = getattr(g, path)
    return (timing.halves[0] / g.raw_decode.halves[0], timing.halves[1] / g.raw_decode.halves[1])


def guard_spread(g: GuardTimes) -> float:
    """Both guard ratios must settle (the judged one and the one printed beside it)."""
    return max(abs(even - odd) for even, odd in (guard_halves(g, "authorize"), guard_halves(g, "decision")))


def issuance_halves(i: IssuanceTimes) -> tuple[float, float]:
    """What the handler adds to a bare sign, in µs, from the even and from the odd repeats."""
    return ((i.handler.halves[0] - i.sign.halves[0]) * 1e6, (i.handler.halves[1] - i.sign.halves[1]) * 1e6)


def issuance_ratio_halves(i: IssuanceTimes) -> tuple[float, float]:
    """The handler's time over the authlib endpoint's, from the even and from the odd repeats."""
    return (i.handler.halves[0] / i.authlib.halves[0], i.handler.halves[1] / i.authlib.halves[1])


def issuance_spread(i: IssuanceTimes) -> float:
    """How far apart both issuance figures came out from the two halves, in multiples of their tolerances (so
    both must settle: 1 is the limit)."""
    (even_us, odd_us), (even_x, odd_x) = issuance_halves(i), issuance_ratio_halves(i)
    return max(abs(even_us - odd_us) / ISSUANCE_OVERHEAD_TOLERANCE_US, abs(even_x - odd_x) / ISSUANCE_RATIO_TOLERANCE)


class Bench:
    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {
            "guard": [], "issuance": [], "imports": [], "round trips": [], "load": [],
        }
        self.notes: list[str] = []
        self.broken = False
        self.load_run: LoadRun | None = None

    def attempt(self, section: str, what: str, measure: Callable[[], T]) -> T | None:
        note(f"measuring {what}")
        started = time.perf_counter()
        try:
            result = measure()
        except Exception as exc:
            traceback.print_exc()
            self.rows[section].append(Row(what, f"{type(exc).__name__}: {exc}"[:100], "-", ERROR))
            self.broken = True
            return None
        note(f"  {what}: {time.perf_counter() - started:.1f} s")
        return result

    # -- the figures -------------------------------------------------------------------------------------

    def cold_starts(self, d: Deployment) -> None:
        from bench.cold_start import IMPORT_ONLY, TRACED, measure_cold_starts

        found = self.attempt("imports", "cold starts (runtime's Python, layer with and without bytecode)",
                             lambda: measure_cold_starts(d))
        if found is None:
            return
        rows = self.rows["imports"]
        rows.append(Row(
            "layer: modules with bytecode for the runtime's Python",
            f"{found.layer_bytecode} of {found.layer_files}", "all",
            verdict(found.layer_bytecode == found.layer_files),
        ))
        for name, cold in found.with_bytecode.items():
            target = COLD_START_TARGETS.get(name, COLD_START_TARGET_DEFAULT)
            ratio = cold.total / found.boto3
            without = found.without_bytecode[name]
            what = "import only: " + IMPORT_ONLY[name] if name in IMPORT_ONLY else \
                f"import {ms(cold.imported)} + first request {ms(cold.first)} ({cold.status})"
            rows.append(Row(
                f"cold start functions/{name} / import boto3",
                f"{ratio:.2f}x ({ms(cold.total)}: {what}; vs {ms(found.boto3)}); without bytecode "
                f"{ms(without.total)} ({without.total / cold.total:.1f}x)",
                f"<= {target}x",
                verdict(ratio <= target),
            ))
        plain = found.with_bytecode[TRACED]
        rows.append(Row(
            f"cold start functions/{TRACED} with [observability] tracer on (X-Ray's SDK)",
            f"{ms(found.traced.total)} (+{ms(found.traced.total - plain.total)}; "
            f"{found.traced.total / found.boto3:.2f}x import boto3)", "-", INFO,
        ))
        self.notes.append(
            f"cold starts ran on {found.interpreter}; import boto3 took {ms(found.boto3)} with the layer's bytecode, "
            f"{ms(found.boto3_without_bytecode)} without"
        )

    def wrappers(self) -> None:
        from bench.wrappers import measure_wrappers

        times = self.attempt("guard", "logs, metrics and tracing per invocation", measure_wrappers)
        if times is None:
            return
        self.rows["guard"] += [
            Row("on Lambda, per invocation: JSON logs + metrics wrapper (every function, the guard too)",
                us(times.logged), "-", INFO),
            Row("on Lambda, per invocation: + Tracer's ## handler subsegment ([observability] tracer on)",
                f"{us(times.traced)} (+{us(times.traced - times.logged)})", "-", INFO),
        ]

    def with_deployment(self) -> None:
        from bench.deployment import local_deployment
        from bench.figures import (
            measure_code_flow_round_trips,
            measure_dpop,
            measure_guard,
            measure_lifecycle_round_trips,
            measure_round_trips,
        )
        from bench.imports import count_import_calls
        from bench.issuance_processes import PROCESSES, measure_issuance_in_processes
        from bench.timing import settle

        note("starting the local stores on 127.0.0.1 (DynamoDB Local, moto for Secrets Manager)")
        with local_deployment() as d:
            issuance = self.attempt(
                "issuance", f"token issuance time ({PROCESSES} fresh processes)", measure_issuance_in_processes
            )
            if issuance is not None:
                self._issuance_rows(issuance)
            self.cold_starts(d)  # before this process's caches and threads are warm
            imported = self.attempt("round trips", "DynamoDB calls while importing each handler", count_import_calls)
            trips = self.attempt("round trips", "DynamoDB round trips", lambda: measure_round_trips(d))
            code_flow = self.attempt("round trips", "DynamoDB round trips of the code flow",
                                     lambda: measure_code_flow_round_trips(d))
            if code_flow is not None:
                self.rows["round trips"] += [
                    Row("DynamoDB calls: token (authorization_code exchange)", describe(code_flow.exchange),
                        f"<= {CODE_FLOW_CALLS_TARGET}", verdict(len(code_flow.exchange) <= CODE_FLOW_CALLS_TARGET)),
                    Row("DynamoDB calls: token (refresh_token, rotation)", describe(code_flow.refresh),
                        f"<= {CODE_FLOW_CALLS_TARGET}", verdict(len(code_flow.refresh) <= CODE_FLOW_CALLS_TARGET)),
                    Row("DynamoDB calls: token (device_code poll, pending)", describe(code_flow.device_pending),
                        f"<= {DEVICE_POLL_CALLS_TARGET}",
                        verdict(len(code_flow.device_pending) <= DEVICE_POLL_CALLS_TARGET)),
                    Row("DynamoDB calls: token (password grant)", describe(code_flow.password), "-", INFO),
                    Row("DynamoDB calls: userinfo (OpenID Connect)", describe(code_flow.userinfo), "-", INFO),
                ]
            if trips is not None:
                guard = self.attempt(
                    "guard",
                    "guard decision time",
                    lambda: settle(
                        lambda: measure_guard(d, trips.token, trips.guard_event), guard_spread, GUARD_RATIO_TOLERANCE
                    ),
                )
                if guard is not None:
                    self._guard_rows(*guard)
            if trips is not None:
                self._round_trip_rows(trips)
            dpop = self.attempt("guard", "a DPoP call against a Bearer call at the guard", lambda: measure_dpop(d))
            if dpop is not None:
                self._dpop_rows(dpop)
            if imported is not None:
                total = sum(len(ops) for ops in imported.values())
                self.rows["round trips"].append(
                    Row(
                        "DynamoDB calls while importing each handler (fresh interpreter)",
                        ", ".join(f"{name} {describe(ops)}" for name, ops in imported.items()),
                        "0 each",
                        verdict(total == 0),
                    )
                )
            lifecycle = self.attempt("round trips", "DynamoDB round trips of revoke and introspect",
                                     lambda: measure_lifecycle_round_trips(d))
            if lifecycle is not None:
                self.rows["round trips"] += [
                    Row("DynamoDB calls: introspect (access token)", describe(lifecycle.introspect),
                        f"<= {LIFECYCLE_CALLS_TARGET}", verdict(len(lifecycle.introspect) <= LIFECYCLE_CALLS_TARGET)),
                    Row("DynamoDB calls: revoke (access token)", describe(lifecycle.revoke),
                        f"<= {LIFECYCLE_CALLS_TARGET}", verdict(len(lifecycle.revoke) <= LIFECYCLE_CALLS_TARGET)),
                ]

    def load(self, *counts: int) -> None:
        from bench.load import run_load

        run = self.attempt("load", "bounded load run (local server and the authlib baseline)",
                           lambda: run_load(*counts))
        if run is not None:
            self.load_run = run
            self._load_rows(run)

    def _load_rows(self, run: LoadRun) -> None:
        from bench.load import ROUND_TOLERANCE, RSS_FLAT_FRACTION

        mb = 2**20
        phases = [p for p in (run.tokens, run.guard) if p is not None]
        done, errors = sum(p.done for p in phases), sum(p.errors for p in phases)
        planned = run.tokens.planned + run.decisions
        rows = self.rows["load"]
        for phase, what in ((run.tokens, "token requests (client_credentials)"),
                            (run.guard, "guard decisions (GET /api/orders, guard on every call)")):
            if phase is not None:
                first, last = phase.quarter_rates()
                rows.append(Row(
                    f"load: {what}, {len(phase.ends)} answers",
                    f"{phase.rate:.0f}/s in {phase.seconds:.1f} s (first/last quarter {first:.0f}/{last:.0f}/s); "
                    f"{phase.latency_text()}",
                    "-", INFO,
                ))
        rows.append(Row(
            "load: errors (answers other than 200, requests without an answer)",
            f"{errors} of {done}" + (f" ({'; '.join(p.name + ': ' + p.error_text() for p in phases)})"
                                     if errors else ""),
            "0", verdict(errors == 0 and done > 0),
        ))
        cut = f" (cut short: {run.cut})" if run.cut else ""
        rows.append(Row(
            "load: requests done before the deadline",
            f"{done} of {planned}{cut}; load part {run.seconds:.0f} s",
            f"all, < {run.deadline:.0f} s",
            verdict(run.cut is None and done == planned),
        ))
        rows.append(Row(
            "load: issued tokens without their record in the store",
            "not checked" if run.missing is None else f"{run.missing} of {run.issued}",
            "0", verdict(run.missing == 0),
        ))
        m = run.memory
        everything = [rss for _, _, rss in m.samples]
        if everything:
            warm = m.of("warm-up") or everything
            tokens = m.of("tokens")
            grew = f"; +{(tokens[-1] - tokens[0]) / mb:.0f} MB while issuing {run.tokens.done} tokens" if tokens else ""
            rows.append(Row(
                "load: server RSS: start / after warm-up / peak / end",
                f"{everything[0] / mb:.0f} / {warm[-1] / mb:.0f} / {max(everything) / mb:.0f} / "
                f"{everything[-1] / mb:.0f} MB{grew}",
                "-", INFO,
            ))
        try:
            first, last = m.quarters("guard")
        except RuntimeError as exc:
            rows.append(Row("load: server RSS growth over the guard phase", str(exc), "-", ERROR))
            self.broken = True
        else:
            growth = (last - first) / first
            rows.append(Row(
                "load: server RSS growth over the guard phase (first -> last quarter, medians)",
                f"{first / mb:.1f} -> {last / mb:.1f} MB ({growth:+.1%}, {(last - first) / mb:+.1f} MB)",
                f"< +{RSS_FLAT_FRACTION:.0%}", verdict(growth < RSS_FLAT_FRACTION),
            ))
        if run.token_cpu:
            ours, theirs = run.token_cpu, run.baseline_cpu
            store = f" + local store {ours['store']:.2f}" if "store" in ours else ""
            authlib = (f"; authlib: server {theirs['server']:.2f}, load generator {theirs['this']:.2f}"
                       if theirs else "")
            rows.append(Row(
                "load: CPU per token request, ms (server + its DynamoDB Local; the load generator; same for authlib)",
                f"server {ours['server']:.2f}{store}, load generator {ours['this']:.2f}{authlib}; "
                f"{os.cpu_count()} CPUs for all of it",
                "-", INFO,
            ))
        b = run.baseline
        if b is not None and b.rate:
            trouble = f"; authlib: {b.errors} errors ({b.error_text()})" if b.errors else ""
            ratio = run.tokens.rate / b.rate
            spread = ""
            noisy = False
            if run.round_ratios:
                low, high = min(run.round_ratios), max(run.round_ratios)
                spread = f"; rounds {low:.2f}x-{high:.2f}x"
                noisy = max(ratio - low, high - ratio) > ROUND_TOLERANCE * ratio
            rows.append(Row(
                "throughput: token endpoint, ours / minimal authlib server (same load, same run)",
                f"{ratio:.2f}x ({run.tokens.rate:.0f}/s vs {b.rate:.0f}/s; p50 "
                f"{run.tokens.percentile(50) * 1e3:.0f} ms vs {b.percentile(50) * 1e3:.0f} ms{spread}){trouble}",
                f">= {THROUGHPUT_RATIO_TARGET:.2f}x", verdict(ratio >= THROUGHPUT_RATIO_TARGET and not b.errors, noisy),
            ))
            if b.errors:
                self.notes.append(f"WARNING: the authlib baseline answered {b.errors} requests with errors "
                                  f"({b.error_text()}): its throughput is not comparable.")
        if run.baseline_checked:
            self.notes.append(f"{run.baseline_checked} of the authlib baseline's tokens (first, last) verified as RFC "
                              "9068 JWTs: typ at+jwt, RS256, iss, aud, exp, iat, jti, sub, client_id, scope")
        out = run.server
        common = "; ".join(f"{n}x {line!r}" for line, n in out.unusual.most_common(3))
        self.notes.append(
            f"the local server printed {out.access_lines} access lines, {out.audit_lines} audit lines and "
            f"{sum(out.unusual.values())} others" + (f": {common}" if common else "")
        )
        if any(line.startswith("Connection pool is full") for line in out.unusual):
            self.notes.append("(\"Connection pool is full\" is urllib3's: more store requests at once than the "
                              "server's DynamoDB client pools connections (20); it opens another and closes it after)")

    def _settling(self, figure: str, settling: Settling, unit: str) -> None:
        if settling.noisy:
            self.notes.append(
                f"WARNING: noisy machine: {figure} came out {settling.spread:.2f}{unit} apart from the even and the "
                f"odd repeats in each of {settling.attempts} attempts; its verdict is marked (noisy)."
            )
        elif settling.attempts > 1:
            self.notes.append(
                f"{figure} settled on attempt {settling.attempts} (halves {settling.spread:.2f}{unit} apart)"
            )

    def _guard_rows(self, g: GuardTimes, settling: Settling) -> None:
        raw = g.raw_decode
        decision = g.decision.best / raw.best
        full = g.authorize.best / raw.best
        halves = guard_halves(g)
        self.rows["guard"] += [
            Row(
                "guard warm decision: authenticate + permits / jwt.decode",
                f"{decision:.2f}x ({us(g.decision.best)} vs {us(raw.best)})",
                f"(<= {GUARD_RATIO_TARGET}x applies below)",
                INFO,
            ),
            Row(
                "guard warm decision: authorize(REST REQUEST event) / jwt.decode",
                f"{full:.2f}x ({us(g.authorize.best)} vs {us(raw.best)}; halves {halves[0]:.2f}x/{halves[1]:.2f}x)",
                f"<= {GUARD_RATIO_TARGET}x",
                verdict(full <= GUARD_RATIO_TARGET, settling.noisy),
            ),
        ]
        self._settling("the guard ratios", settling, "x")
        if g.calls_during:
            self.notes.append(
                f"WARNING: the timed guard loops sent {describe(g.calls_during)} DynamoDB requests: the revocation "
                "status was not cached throughout, so the guard times above are not warm decisions."
            )
        else:
            self.notes.append("the timed guard loops sent no DynamoDB request (revocation status cached throughout)")

    def _issuance_rows(self, runs: list[IssuanceRun]) -> None:
        median = runs[len(runs) // 2]  # runs come ordered by overhead
        i, settling = median.times, median.settling
        overhead = (i.handler.best - i.sign.best) * 1e6
        ratio = i.handler.best / i.authlib.best
        halves, ratio_halves = issuance_halves(i), issuance_ratio_halves(i)
        every = "/".join(f"{run.overhead * 1e6:+.1f}" for run in runs)
        self.rows["issuance"] += [
            Row(
                "token issuance: handler (event in, response out) - bare sign with our signer",
                f"{overhead:+.1f} µs ({us(i.handler.best)} vs {us(i.sign.best)}; "
                f"halves {halves[0]:+.1f}/{halves[1]:+.1f} µs; median of {len(runs)} processes: {every} µs)",
                f"<= +{ISSUANCE_OVERHEAD_TARGET_US:.0f} µs",
                verdict(overhead <= ISSUANCE_OVERHEAD_TARGET_US, settling.noisy),
            ),
            Row(
                "token issuance: handler / minimal authlib endpoint (in process)",
                f"{ratio:.2f}x ({us(i.handler.best)} vs {us(i.authlib.best)}; "
                f"halves {ratio_halves[0]:.2f}x/{ratio_halves[1]:.2f}x)",
                f"< {ISSUANCE_RATIO_TARGET}x",
                verdict(ratio < ISSUANCE_RATIO_TARGET, settling.noisy),
            ),
        ]
        self._settling("the issuance figures", settling, "x their tolerances")
        self.notes.append("the timed issuance loops sent no DynamoDB request (client and token stores in memory)")

    def _dpop_rows(self, f: DpopFigures) -> None:
        self.rows["guard"] += [
            Row("guard, DPoP call (proof checked, spent in DynamoDB Local) / Bearer call, whole handler",
                f"{f.dpop.best / f.bearer.best:.2f}x ({us(f.dpop.best)} vs {us(f.bearer.best)})", "-", INFO),
            Row("guard, DPoP call with the proof spent in memory / Bearer call: the proof's CPU",
                f"{f.dpop_memory.best / f.bearer.best:.2f}x ({us(f.dpop_memory.best)} vs {us(f.bearer.best)}; "
                f"+{(f.dpop_memory.best - f.bearer.best) * 1e6:.0f} µs)", "-", INFO),
        ]
        self.rows["round trips"] += [
            Row("DynamoDB calls: token (client_credentials with a DPoP proof)", describe(f.token_calls),
                f"<= {TOKEN_CALLS_TARGET + 1}", verdict(len(f.token_calls) <= TOKEN_CALLS_TARGET + 1)),
            Row("DynamoDB calls: par (a pushed authorization request with a DPoP proof)", describe(f.par_calls),
                f"<= {PAR_CALLS_TARGET}", verdict(len(f.par_calls) <= PAR_CALLS_TARGET)),
            Row("DynamoDB calls: guard, DPoP call, token status cached", describe(f.guard_calls),
                f"<= {DPOP_GUARD_CALLS_TARGET}", verdict(len(f.guard_calls) <= DPOP_GUARD_CALLS_TARGET)),
        ]

    def _round_trip_rows(self, t: RoundTrips) -> None:
        uncached = GUARD_UNCACHED_CALLS_TARGET
        self.rows["round trips"] += [
            Row(
                "DynamoDB calls: token (client_credentials), container's first request",
                describe(t.token_first),
                f"<= {TOKEN_CALLS_TARGET}",
                verdict(len(t.token_first) <= TOKEN_CALLS_TARGET),
            ),
            Row(
                "DynamoDB calls: token (client_credentials), later request",
                describe(t.token_later),
                f"<= {TOKEN_CALLS_TARGET}",
                verdict(len(t.token_later) <= TOKEN_CALLS_TARGET),
            ),
            Row(
                "DynamoDB calls: guard, fresh token, new container (uncached)",
                describe(t.guard_new_container),
                f"<= {uncached}",
                verdict(len(t.guard_new_container) <= uncached),
            ),
            Row(
                "DynamoDB calls: guard, fresh token, client status cached",
                describe(t.guard_client_cached),
                f"<= {uncached}",
                verdict(len(t.guard_client_cached) <= uncached),
            ),
            Row(
                "DynamoDB calls: guard, same token again (cached)",
                describe(t.guard_cached),
                "0",
                verdict(not t.guard_cached),
            ),
        ]


METHOD = """\
method:
- times are per call, the minimum over {repeats} repeats of a calibrated timeit loop (~{loop_ms:.0f} ms each, garbage
  collector off, candidates interleaved); ratios and differences compare figures taken in this same run.
  "halves" is the figure from the even and from the odd repeats alone; while they disagree (guard > {guard_tol}x,
  issuance > {issuance_tol:.0f} µs or > {issuance_ratio_tol}x) the figure is measured again, {attempts} times
  at most, and a verdict that never settled is marked (noisy).
- guard: the container's guard (passport.compose.guard()) on a client_credentials RS256 token whose
  revocation status it has cached, against jwt.decode of the same token with the verifier's own key object,
  algorithms, audience, issuer, leeway and required claims. The event is the REST REQUEST authorizer event the
  local gateway built for GET /api/orders. The bench sets guard.revocation_cache_seconds = {cache} so the
  status cannot expire mid-run.
- issuance: functions/token/handler.py's handler(event, context) on the REST proxy event the local gateway built
  for POST /oauth/token (client_credentials, client_secret_basic), with the client and access-token stores in
  memory through compose's storage seam (compose.using_storage; no DynamoDB request while timing): the event,
  form parsing, client authentication, the grant, signing, the audit line (built and logged; no handler here
  formats or writes it), the JSON answer. Against the product's signer alone (JwtSigner.sign) on the same claims
  and headers, and against a minimal authlib token endpoint in this process (bench/authlib_baseline.py's, the
  load run's baseline: client lookup, SHA-256 + compare_digest, an RFC 9068 JWT signed RS256 with a 2048-bit
  key, JSON) given the same Basic header and form body. Measured in {processes} fresh processes, each with a
  local deployment of its own (bench/issuance_processes.py: the same code measured the same way came out up
  to 20 µs apart from one process to the next); the figures are the median process's, every process's
  overhead beside them.
- cold starts: bench/cold_start.py. For every function, a fresh `python3.14 -I -B` (Lambda's Python; this
  machine's architecture) with only functions/<name>/ and the unzipped layer on sys.path imports `handler` and
  answers the event API Gateway handed it on its first request (recorded from the local gateway; storage over
  loopback), with Lambda's environment (JSON logs and metrics on, Powertools' Tracer off as shipped; the keys in
  a Secrets Manager secret of the local store, as deployed) and once more for functions/token with
  `[observability] tracer` on (X-Ray's datagrams to a discard port). Times are taken inside the child
  (perf_counter around the import and the call), the minimum of {runs} runs with the layer's bytecode and of
  {runs_without} without it (children of every kind interleaved);
  `import boto3` in the same interpreter from the same layer, with its bytecode, is the yardstick.
- per invocation on Lambda: bench/wrappers.py, a handler that does nothing wrapped as passport.observability wraps
  every handler, in a child with Lambda's environment (X-Ray's datagrams to a discard port on 127.0.0.1).
- round trips: requests counted as the process's DynamoDB clients send them (passport.aws_json.REQUEST_OBSERVERS
  for the signed client the models and the guard use, botocore's before-send.dynamodb event for
  passport.storage.connection.dynamodb_client()), retries included; events and handlers as the local gateway
  runs them against DynamoDB Local on 127.0.0.1 (in memory, dropped at exit).
- nothing leaves 127.0.0.1; PASSPORT_* variables of the calling shell are ignored (shipped settings)."""


USAGE = """usage: python -m bench [load [TOKENS [DECISIONS]]]
  load: only the bounded load run and the authlib comparison, optionally with other counts
  (the full-size variant, 5000 20000, takes several minutes on a 2-core machine)"""


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = sys.argv[1:] if argv is None else argv
    only_load = args[:1] == ["load"]
    try:
        counts = [int(a) for a in args[1:]] if only_load else []
    except ValueError:
        counts = [0]
    if (args and not only_load) or len(counts) > 2 or any(n < 1 for n in counts):
        print(USAGE, file=sys.stderr)
        return 2
    from bench.cold_start import RUNS, RUNS_WITHOUT_BYTECODE
    from bench.deployment import REVOCATION_CACHE_SECONDS
    from bench.issuance_processes import PROCESSES as ISSUANCE_PROCESSES
    from bench.load import method as load_method
    from bench.timing import ATTEMPTS, REPEAT_SECONDS, REPEATS

    bench = Bench()
    facts = machine_facts()
    if not only_load:
        bench.wrappers()
        try:
            bench.with_deployment()
        except Exception as exc:
            traceback.print_exc()
            bench.rows["round trips"].append(
                Row("local deployment", f"{type(exc).__name__}: {exc}"[:100], "-", ERROR))
            bench.broken = True
    bench.load(*counts)  # last: the local server and the baseline get the machine to themselves

    rows = [row for section in bench.rows.values() for row in section]
    print(facts)
    print()
    print(render(rows))
    print(summary(rows))
    print()
    if only_load:
        print("method:")
    else:
        print(
            METHOD.format(
                cache=REVOCATION_CACHE_SECONDS,
                runs=RUNS,
                runs_without=RUNS_WITHOUT_BYTECODE,
                repeats=REPEATS,
                loop_ms=REPEAT_SECONDS * 1e3,
                guard_tol=GUARD_RATIO_TOLERANCE,
                issuance_tol=ISSUANCE_OVERHEAD_TOLERANCE_US,
                issuance_ratio_tol=ISSUANCE_RATIO_TOLERANCE,
                attempts=ATTEMPTS,
                processes=ISSUANCE_PROCESSES,
            )
        )
    print(load_method(bench.load_run))
    for line in bench.notes:
        print(f"- {line}")
    print(f"- this run took {time.perf_counter() - started:.1f} s")
    if not only_load:
        # Every figure of docs/performance.md comes from this run: the docs never carry a hand-copied number.
        section = markdown(rows, facts, datetime.date.today().isoformat(), summary(rows))
        if write_docs(PERFORMANCE_DOC, section):
            note(f"wrote this run's figures into {PERFORMANCE_DOC.relative_to(PERFORMANCE_DOC.parents[1])}")
    return 1 if bench.broken else 0
