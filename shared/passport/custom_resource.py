"""Telling CloudFormation why a custom resource failed, within its limits.

CloudFormation refuses a custom resource response over 4,096 bytes ("Response object is too long"), and the CDK
Provider framework (aws-cdk-lib ``custom-resources/lib/provider-framework/runtime/framework.js``,
``invokeUserFunction``, and ``cfn-response.js``, ``submitResponse``) puts the function's ``errorMessage`` in the
``Reason`` as it is, with the log group and a Node.js stack added. So the message a custom resource raises is
one bounded line: the cause's type and the start of its text, and where the full log is; the full detail goes to
the log first, with any private key taken out. Standard library only: the install-keys function imports it at
cold start.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from typing import Any

REQUEST_TYPES = ("Create", "Update", "Delete")

#: The most the raised message takes once JSON-encoded as UTF-8, as the framework sends it. What else the
#: response holds (its ids, the framework's "Logs:" line and Node.js stack) is about 1.5 KB at most: see
#: tests/infra/test_install_keys.py, which builds the response as the framework does.
MESSAGE_BYTES = 1200
#: The start of the cause's text that goes into the message (the rest is in the log).
SUMMARY_CHARS = 400
#: Each Lambda context value quoted in the message (a Lambda log group name is at most 76 characters and a
#: stream name about 60; the bound is for a context that is not Lambda's).
CONTEXT_CHARS = 160
#: CloudWatch Logs takes events of up to 256 KB: a longer detail is cut rather than lost with its event.
LOG_DETAIL_CHARS = 200_000

# A PEM private key, or a JSON "private_key" member: what a cause could carry from the key secret.
_PRIVATE_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_PRIVATE_MEMBER = re.compile(r"""(["']?private_key["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2?""", re.S | re.I)


def redact(text: str) -> str:
    """``text`` without private keys: a cause may quote the key secret, and neither a log nor a stack event may."""
    text = _PRIVATE_PEM.sub("[private key redacted]", text)
    return _PRIVATE_MEMBER.sub(r"\1[redacted]", text)


def type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def one_line(text: str, limit: int) -> str:
    """``text`` on one line of printable characters (CloudFormation shows the reason as one line), cut at
    ``limit`` characters."""
    # Only the start is looked at: a cause of megabytes costs no more than one of a line.
    flat = " ".join("".join(c if c.isprintable() else " " for c in text[: limit * 4]).split())
    if len(flat) <= limit and len(text) <= limit * 4:
        return flat
    return flat[: limit - 3] + "..."


def json_bytes(text: str) -> int:
    """The size of ``text`` as a JSON string in UTF-8, as ``JSON.stringify`` and ``Buffer.byteLength`` count it."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def fit(text: str, limit: int) -> str:
    """``text``, cut (with "...") so that :func:`json_bytes` of it is at most ``limit``."""
    if json_bytes(text) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that still fits with the marker
        middle = (low + high + 1) // 2
        if json_bytes(text[:middle] + "...") <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "..."


def log_location(context: Any) -> str:
    """Where this invocation's log is, from the Lambda context object (its log group, stream and request id)."""
    if context is None:
        return "see this function's log"
    parts = (
        ("log group", getattr(context, "log_group_name", None)),
        ("stream", getattr(context, "log_stream_name", None)),
        ("request id", getattr(context, "aws_request_id", None)),
    )
    found = [f"{label} {one_line(str(value), CONTEXT_CHARS)}" for label, value in parts if value]
    return ", ".join(found) or "see this function's log"


def failure_message(event: Any, context: Any, error: BaseException) -> str:
    """One line for CloudFormation: what failed, why (bounded), and where the full log is."""
    request = event.get("RequestType") if isinstance(event, dict) else None
    action = request if request in REQUEST_TYPES else "request"
    cause = one_line(redact(str(error)), SUMMARY_CHARS) or "(no message)"
    where = log_location(context)
    # The log location goes last and is kept whole: cut the cause, never the pointer to the detail.
    head = fit(f"install-keys {action} failed: {one_line(type_name(error), 120)}: {cause}", MESSAGE_BYTES // 2)
    return fit(f"{head} (full log: {where})", MESSAGE_BYTES)


def log_failure(log: logging.Logger, event: Any, context: Any, error: BaseException) -> None:
    """The full detail, before the short message goes out: type, text and traceback, private keys removed."""
    request = event.get("RequestType") if isinstance(event, dict) else None
    detail = redact("".join(traceback.format_exception(error)))
    log.error(
        json.dumps(
            {
                "request": one_line(str(request), 80),
                "logical_resource_id": one_line(str((event or {}).get("LogicalResourceId")), 300)
                if isinstance(event, dict)
                else None,
                "error": type_name(error),
                "request_id": str(getattr(context, "aws_request_id", None)),
                "detail": detail[:LOG_DETAIL_CHARS],
                "detail_chars": len(detail),
            }
        )
    )
