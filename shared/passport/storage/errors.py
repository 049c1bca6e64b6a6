"""Translate pynamodb's failures into the core's terms."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from passport.core.errors import PassportError, StorageUnavailable

P = ParamSpec("P")
T = TypeVar("T")

#: How often a write cancelled by a conflicting transaction is sent, at most, and the backoff before each resend:
#: random() * min(CONFLICT_BACKOFF * 2**i, CONFLICT_MAX_BACKOFF) seconds. The transaction it met commits in
#: milliseconds; five sends within about half a second let the loser read the winner's write.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF = 0.02
CONFLICT_MAX_BACKOFF = 0.2


class ConditionFailed(PassportError):
    """A conditional write lost: the rule it guards held, and nothing was written."""


class StorageRejected(PassportError):
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


class WriteConflict(StorageUnavailable):
    """DynamoDB cancelled a write because another transaction on one of its items was in flight (docs.aws.amazon
    .com/amazondynamodb/latest/developerguide/transaction-apis.html, "Transaction conflict handling"): a
    transaction's ``TransactionConflict`` cancellation reason, or a single write's
    ``TransactionConflictException``. Nothing was written. :func:`retried_on_conflict` sends the write again; if it
    keeps meeting conflicts, it is a 503 like any storage that keeps failing."""


def _conflict(error: PynamoDBException) -> bool:
    return _failed_with(error, "TransactionConflictException", "TransactionConflict")


def _failed_with(error: PynamoDBException, code: str, reason: str) -> bool:
    """Whether DynamoDB answered with the error ``code``, or cancelled a transaction for one of its items with
    the cancellation reason ``reason`` (a single write's ``ConditionalCheckFailedException`` is a transaction's
    ``ConditionalCheckFailed``)."""
    if _response_code(error) == code:
        return True
    if isinstance(error, TransactWriteError) and error.cancellation_reasons:
        return any(r is not None and r.code == reason for r in error.cancellation_reasons)
    return False


def _rejected(error: PynamoDBException) -> bool:
    """A request DynamoDB will refuse however often it is sent: ``ValidationException``, or a transaction
    cancelled because one of its items failed validation (the reason code ``ValidationError``)."""
    return _failed_with(error, "ValidationException", "ValidationError")


def _lost_condition(error: PynamoDBException) -> bool:
    return _failed_with(error, "ConditionalCheckFailedException", "ConditionalCheckFailed")


@contextmanager
def storage_call() -> Iterator[None]:
    """Run DynamoDB calls: a lost condition becomes :class:`ConditionFailed`; a write cancelled by a conflicting
    transaction, :class:`WriteConflict`; a request DynamoDB refuses as invalid, :class:`StorageRejected`
    (permanent, a 500); throttling, timeouts, refused access and an unreachable endpoint all mean the same to a
    caller, :class:`StorageUnavailable` (a 503: try again)."""
    try:
        yield
    except PynamoDBException as error:
        if _lost_condition(error):  # a condition that did not hold decides, whatever else met a conflict
            raise ConditionFailed(str(error)) from error
        if _conflict(error):
            raise WriteConflict(f"{type(error).__name__}: a conflicting transaction was in flight") from error
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


def retried_on_conflict(write: Callable[P, T]) -> Callable[P, T]:
    """``write`` (an adapter method whose writes are conditional, so that sending it again after a conflict
    decides afresh: a code spent meanwhile by the winner now fails its condition), sent again after a jittered
    backoff while DynamoDB cancels it for a conflicting transaction, :data:`CONFLICT_ATTEMPTS` times at most;
    then :class:`WriteConflict` (a 503)."""

    @functools.wraps(write)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(CONFLICT_ATTEMPTS - 1):
            try:
                return write(*args, **kwargs)
            except WriteConflict:
                time.sleep(random.random() * min(CONFLICT_BACKOFF * 2**attempt, CONFLICT_MAX_BACKOFF))
        return write(*args, **kwargs)

    return retrying
