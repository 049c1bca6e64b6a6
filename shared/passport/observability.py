"""Logs and metrics as a function runs on Lambda (docs/operations.md), with Powertools.

- Logs: Powertools' Logger writes every ``passport.*`` log line (the audit trail included) as one JSON object
  with the service (``POWERTOOLS_SERVICE_NAME``, ``passport-<function>``), the cold-start flag, the Lambda
  request id and the correlation id (API Gateway's request id). Events are never logged: they carry tokens.
- Metrics, in CloudWatch's embedded metric format (EMF: a JSON log line that CloudWatch turns into metrics, with
  no API call and no added latency), namespace ``POWERTOOLS_METRICS_NAMESPACE`` (``LambdaPassport``):
  ``TokensIssued`` (dimension ``grant_type``) and ``GrantFailures`` (``error``) for every answer of the token
  endpoint; ``GuardDecisions`` (``decision``: allow, deny, unauthorized) and ``GuardCacheHits`` from the guard,
  counted in memory and sent at most once a minute per container (a line per decision would cost more than
  the decision).
- Traces: Lambda's active tracing records every initialization and invocation. With ``[observability] tracer``
  on, Powertools' Tracer (X-Ray) also puts each invocation in a ``## handler`` subsegment annotated with the
  service and the cold start, and every AWS call (DynamoDB, Secrets Manager) in a subsegment of its own, in every
  function but the guard (see ``instrumented_guard``); off (the default), no cold start imports X-Ray's SDK.
  Neither the handler's answer nor the event is recorded (they carry tokens), and X-Ray's botocore patch records
  only table names and operations, never keys or items. botocore is patched when it is first imported (the first
  request that needs storage), not at cold start, so tracing adds no AWS SDK import to any function's start.

Outside Lambda (``passport serve``, the tests) handlers run bare: the console stays readable and no EMF is
printed. Powertools is imported only on Lambda, at cold start, with the handler.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from passport.guard.tally import TALLY

Handler = Callable[[Any, Any], Any]

NAMESPACE_DEFAULT = "LambdaPassport"
#: Seconds between two flushes of the guard's counts (per container).
GUARD_FLUSH_SECONDS = 60.0
_TOKEN_EVENTS = {"token_issued": ("TokensIssued", "grant_type"), "token_refreshed": ("TokensIssued", "grant_type"),
                 "token_refused": ("GrantFailures", "error")}


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def instrumented(handler: Handler, *, tracing: bool | None = None) -> Handler:
    """The handler with logging, metrics and (``tracing``; None: as ``[observability] tracer`` says) Powertools'
    Tracer around it on Lambda; the handler itself anywhere else.

    Without the Tracer there is no X-Ray SDK (nor wrapt, nor asyncio) to import at cold start and no subsegment
    per invocation; Lambda's active tracing still times every initialization and invocation.
    """
    if not on_lambda():
        return handler
    import logging

    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    from passport.core.audit import observe

    logger = Logger(log_uncaught_exceptions=False)
    logging.getLogger("passport")  # registered, so the copy below reaches it and every passport.* child
    copy_config_to_registered_loggers(source_logger=logger, include={"passport"})
    observe(_token_metrics)
    if tracing if tracing is not None else tracer_wanted():
        handler = tracer().capture_lambda_handler(handler, capture_response=False)
    return logger.inject_lambda_context(
        handler, correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False, clear_state=True
    )


def tracer_wanted() -> bool:
    """``[observability] tracer``. Settings that cannot be read leave it off: the function's requests answer for
    them (a clear 500 in the endpoint's style), where failing here would fail every cold start instead."""
    from passport.config import ConfigError, load_settings

    try:
        return load_settings().observability.tracer
    except (ConfigError, OSError, ValueError):
        return False


def tracer() -> Any:
    """Powertools' Tracer for this function, with botocore patched once it is imported.

    X-Ray's patch imports botocore's client (the SDK, a third of a second) to wrap it; a post-import hook defers
    that to the moment passport.storage imports it for its first call, so functions start as fast as untraced.
    The hook waits for ``botocore.session`` (every client is made by one), which is imported after
    ``botocore.client`` is complete: hooked on the client itself, the patch would run while it is half-imported.
    """
    import wrapt
    from aws_lambda_powertools import Tracer

    traced = Tracer(auto_patch=False)
    if not traced.disabled:
        wrapt.register_post_import_hook(lambda _module: traced.patch(["botocore"]), "botocore.session")
    return traced


def emit(metric: str, value: float, dimensions: dict[str, str] | None = None) -> None:
    """One metric as an EMF line (Powertools' single_metric), with the service as a dimension."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE_DEFAULT
    with single_metric(name=metric, unit=MetricUnit.Count, value=value, namespace=namespace) as recorded:
        for name, dimension in (dimensions or {}).items():
            recorded.add_dimension(name=name, value=dimension)


def _token_metrics(event: str, record: dict[str, Any]) -> None:
    found = _TOKEN_EVENTS.get(event)
    if found is not None:
        metric, dimension = found
        emit(metric, 1, {dimension: str(record.get(dimension) or "none")})


class GuardMetrics:
    """Sends the guard's counts (passport.guard.tally) once they are a minute old."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = clock()

    def maybe_flush(self) -> None:
        now = self._clock()
        if now - self._last < GUARD_FLUSH_SECONDS:
            return
        self._last = now
        decisions, hits = TALLY.take()
        for decision, count in decisions.items():
            emit("GuardDecisions", count, {"decision": decision})
        if hits:
            emit("GuardCacheHits", hits)


def instrumented_guard(handler: Handler) -> Handler:
    """The guard's handler: logs as every function's and its counts flushed at most once a minute, without a
    Tracer. It runs before every API call, so a subsegment per invocation (about 90 µs: X-Ray's segment, its JSON
    and a UDP send) would cost more than a warm decision, and importing X-Ray's SDK would cost every cold start of
    every API tens of milliseconds, for one DynamoDB read per uncached decision that its own signed call makes
    (not botocore, which X-Ray's patch would trace)."""
    if not on_lambda():
        return handler
    flusher = GuardMetrics()
    inner = instrumented(handler, tracing=False)

    def guarded(event: Any, context: Any) -> Any:
        try:
            return inner(event, context)
        finally:
            flusher.maybe_flush()

    return guarded
