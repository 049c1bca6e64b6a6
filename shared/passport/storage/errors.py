"""Translate pynamodb's failures into the core's terms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from passport.core.errors import StorageUnavailable


class ConditionFailed(Exception):
    """A conditional write lost: the rule it guards held, and nothing was written."""


class StorageRejected(Exception):
    """DynamoDB refused the request itself (``ValidationException``: an item over 400 KB, a key over its size
    limit or empty, a malformed expression). Deliberately *not* :class:`StorageUnavailable`: that is a 503 with
    ``Retry-After``, which tells a client the same request will work later, and this one never will.
    Nor is it the client's 400: the core bounds everything it stores (``core/clients.py``), so an invalid
    request reaching DynamoDB is this server's bug, whatever input led to it. It is left to propagate as an
    unexpected error: the endpoint answers 500 ``server_error`` and the trace goes to the log, where the bug
    can be seen and fixed."""


def _response_code(error: PynamoDBException) -> str | None:
    """The AWS error code behind ``error``. (pynamodb's ``cause_response_code`` raises AttributeError when the
    cause is a timeout: botocore's ReadTimeoutError carries ``response=None``.)"""
    response = getattr(error.cause, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _rejected(error: PynamoDBException) -> bool:
    """A request DynamoDB will refuse however often it is sent: ``ValidationException``, or a transaction
    cancelled because one of its items failed validation (the reason code ``ValidationError``)."""
    if _response_code(error) == "ValidationException":
        return True
    if isinstance(error, TransactWriteError) and error.cancellation_reasons:
        return any(r is not None and r.code == "ValidationError" for r in error.cancellation_reasons)
    return False


def _lost_condition(error: PynamoDBException) -> bool:
    if _response_code(error) == "ConditionalCheckFailedException":
        return True
    if isinstance(error, TransactWriteError) and error.cancellation_reasons:
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons)
    return False


@contextmanager
def storage_call() -> Iterator[None]:
    """Run DynamoDB calls: a lost condition becomes :class:`ConditionFailed`; a request DynamoDB refuses as
    invalid, :class:`StorageRejected` (permanent, a 500); throttling, timeouts, refused access and an unreachable
    endpoint all mean the same to a caller, :class:`StorageUnavailable` (a 503: try again)."""
    try:
        yield
    except PynamoDBException as error:
        if _lost_condition(error):
            raise ConditionFailed(str(error)) from error
        if _rejected(error):
            raise StorageRejected(f"{type(error).__name__}: {_response_code(error) or error.msg}") from error
        raise StorageUnavailable(f"{type(error).__name__}: {_response_code(error) or error.msg}") from error


@contextmanager
def fresh_item() -> Iterator[None]:
    """Put an item under a new random key (128 or 256 random bits) on condition that the key is free.

    The condition lost on a retried attempt was lost to this very put: an earlier attempt was written but its
    answer was lost (a dropped connection, a timeout) and botocore sent it again. The item is there, as
    asked. Lost on the first attempt, it is a real clash, and raises :class:`ConditionFailed`."""
    try:
        with storage_call():
            yield
    except ConditionFailed as error:
        if not _retried(error.__cause__):
            raise


def _retried(error: BaseException | None) -> bool:
    """Whether botocore sent the call behind ``error`` more than once. (pynamodb's own ClientError keeps only
    the error code; botocore's, with the retry count, is its ``__cause__``.)"""
    cause = getattr(error, "cause", None)
    for candidate in (cause, getattr(cause, "__cause__", None)):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict) and response.get("ResponseMetadata", {}).get("RetryAttempts"):
            return True
    return False
