"""Logs and metrics as a function runs on Lambda (docs/operations.md).

- Logs: every ``passport.*`` log line (the audit trail included) is one JSON object on stdout, in the structure
  Powertools' Logger writes (docs.aws.amazon.com/powertools/python/latest/core/logger/: ``level``, ``location``,
  ``message``, ``timestamp``, ``service``, ``cold_start``, ``function_name``, ``function_memory_size``,
  ``function_arn``, ``function_request_id``, ``correlation_id``, ``xray_trace_id``), so queries written for it
  work here; the service is ``POWERTOOLS_SERVICE_NAME`` (``passport-<function>``) and the correlation id API
  Gateway's request id. Events are never logged: they carry tokens. It is written here, in a few lines, rather
  than by Powertools' Logger, whose import (with jmespath and typing_extensions) cost every cold start of every
  function about 16 ms on Lambda's Python.
- Metrics, in CloudWatch's embedded metric format (EMF, docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
  CloudWatch_Embedded_Metric_Format_Specification.html: a JSON log line that CloudWatch turns into metrics, with
  no API call and no added latency), namespace ``POWERTOOLS_METRICS_NAMESPACE`` (``LambdaPassport``), the service
  a dimension of each: ``TokensIssued`` (dimension ``grant_type``) and ``GrantFailures`` (``error``) for every
  answer of the token endpoint; ``GuardDecisions`` (``decision``: allow, deny, unauthorized) and ``GuardCacheHits``
  from the guard, counted in memory and sent at most once a minute per container (a line per decision would cost
  more than the decision).
- Traces: Lambda's active tracing records every initialization and invocation. With ``[observability] tracer``
  on, Powertools' Tracer (X-Ray) also puts each invocation in a ``## handler`` subsegment annotated with the
  service and the cold start, and every AWS call (DynamoDB, Secrets Manager) in a subsegment of its own, in every
  function but the guard (see ``instrumented_guard``), whether botocore or the signed client of
  passport.aws_json makes it; off (the default), no cold start imports X-Ray's SDK.
  Neither the handler's answer nor the event is recorded (they carry tokens), and X-Ray's botocore patch records
  only table names and operations, never keys or items. botocore is patched when it is first imported (the first
  request that needs storage), not at cold start, so tracing adds no AWS SDK import to any function's start.

Outside Lambda (``passport serve``, the tests) handlers run bare: the console stays readable and no EMF is
printed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
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
    """The handler with JSON logs, metrics and (``tracing``; None: as ``[observability] tracer`` says) Powertools'
    Tracer around it on Lambda; the handler itself anywhere else.

    Without the Tracer there is no X-Ray SDK (nor wrapt, nor asyncio) to import at cold start and no subsegment
    per invocation; Lambda's active tracing still times every initialization and invocation.
    """
    if not on_lambda():
        return handler
    from passport.core.audit import observe

    formatter = LambdaJsonFormatter(os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined")
    output = logging.StreamHandler(sys.stdout)
    output.setFormatter(formatter)
    logger = logging.getLogger("passport")
    logger.handlers = [output]
    logger.setLevel(_log_level())
    logger.propagate = False  # Lambda's runtime puts a text handler on the root logger: one line, not two
    observe(_token_metrics)
    if tracing if tracing is not None else tracer_wanted():
        handler = tracer().capture_lambda_handler(handler, capture_response=False)
    traced = handler
    cold = [True]

    def logged(event: Any, context: Any) -> Any:
        formatter.invocation = _invocation(event, context, cold[0])
        cold[0] = False
        try:
            return traced(event, context)
        finally:
            formatter.invocation = {}

    return logged


#: Python's level names, as ``POWERTOOLS_LOG_LEVEL`` (or Lambda's ``AWS_LAMBDA_LOG_LEVEL``) may name one.
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "WARN": logging.WARNING,
           "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL, "FATAL": logging.CRITICAL}


def _log_level() -> int:
    for name in ("POWERTOOLS_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"):
        level = _LEVELS.get((os.environ.get(name) or "").upper())
        if level is not None:
            return level
    return logging.INFO


def _invocation(event: Any, context: Any, cold_start: bool) -> dict[str, Any]:
    """The fields of every line of one invocation: Lambda's context, and API Gateway's request id as the
    correlation id (``requestContext.requestId``, in REST and HTTP API events and REQUEST authorizer events)."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    correlation = request_context.get("requestId") if isinstance(request_context, dict) else None
    fields = {
        "cold_start": cold_start,
        "function_name": getattr(context, "function_name", None),
        "function_memory_size": getattr(context, "memory_limit_in_mb", None),
        "function_arn": getattr(context, "invoked_function_arn", None),
        "function_request_id": getattr(context, "aws_request_id", None),
        "correlation_id": correlation if isinstance(correlation, str) else None,
    }
    return {name: value for name, value in fields.items() if value is not None}


class LambdaJsonFormatter(logging.Formatter):
    """A record as one JSON line, in Powertools' Logger's structure (see the module's docstring)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        #: The current invocation's fields (set around each call by :func:`instrumented`).
        self.invocation: dict[str, Any] = {}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": _message(record),
            "timestamp": _timestamp(record.created),
            "service": self.service,
            **self.invocation,
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
            line["exception_name"] = record.exc_info[0].__name__
        trace = _xray_trace_id()
        if trace:
            line["xray_trace_id"] = trace
        return json.dumps(line, separators=(",", ":"), default=str, ensure_ascii=False)


def _message(record: logging.LogRecord) -> Any:
    """A dict message (an audit record) as an object; a text that is a JSON object, decoded (as Powertools does);
    anything else as its text."""
    if isinstance(record.msg, dict) and not record.args:
        return record.msg
    text = record.getMessage()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _timestamp(created: float) -> str:
    """Powertools' default: ``2026-12-07 07:13:14,724+0000`` (Lambda's clock is UTC)."""
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(created))},{int(created * 1000) % 1000:03d}+0000"


def _xray_trace_id() -> str | None:
    """The trace's root id from Lambda's ``_X_AMZN_TRACE_ID`` (``Root=1-...;Parent=...;Sampled=1``)."""
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    for part in header.split(";"):
        if part.startswith("Root="):
            return part[5:]
    return None


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
        from passport import aws_json

        aws_json.trace_calls(_aws_subsegments(traced.provider))
    return traced


def _aws_subsegments(recorder: Any) -> Any:
    """Each call of passport.aws_json's signed client in a subsegment as X-Ray's patch of botocore records one
    (aws_xray_sdk/ext/boto_utils.py): named for the service, in the ``aws`` namespace, with the operation, the
    region and the tables, never a key or an item; a failed call records its exception."""
    from contextlib import contextmanager

    @contextmanager
    def subsegment(service: str, operation: str, payload: dict[str, Any], region: str) -> Any:
        with recorder.in_subsegment(name=service, namespace="aws") as recorded:
            if recorded is not None:
                recorded.set_aws({"operation": operation, "region": region, **_tables(payload)})
            yield recorded

    return subsegment


def _tables(payload: dict[str, Any]) -> dict[str, Any]:
    """The table names a DynamoDB request names, as X-Ray's patch records them (``table_name``, or
    ``table_names`` for a batch or a transaction)."""
    if isinstance(payload.get("TableName"), str):
        return {"table_name": payload["TableName"]}
    names: list[str] = []
    if isinstance(payload.get("RequestItems"), dict):
        names = sorted(payload["RequestItems"])
    elif isinstance(payload.get("TransactItems"), list):
        names = sorted({t for item in payload["TransactItems"] if isinstance(item, dict)
                        for op in item.values() if isinstance(op, dict) and isinstance(t := op.get("TableName"), str)})
    return {"table_names": names} if names else {}


def emit(metric: str, value: float, dimensions: dict[str, str] | None = None) -> None:
    """One count as an EMF line on stdout: the given dimensions and the service (``POWERTOOLS_SERVICE_NAME``) as
    dimensions of the metric, in the namespace ``POWERTOOLS_METRICS_NAMESPACE``."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE_DEFAULT
    service = os.environ.get("POWERTOOLS_SERVICE_NAME")
    values = {**(dimensions or {}), **({"service": service} if service else {})}
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [list(values)],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        **values,
        metric: [float(value)],
    }
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")


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
