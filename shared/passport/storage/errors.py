"""Translate pynamodb's failures into the core's terms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from passport.core.errors import StorageUnavailable


class ConditionFailed(Exception):
    """A conditional write lost: the rule it guards held, and nothing was written."""


def _lost_condition(error: PynamoDBException) -> bool:
    if error.cause_response_code == "ConditionalCheckFailedException":
        return True
    if isinstance(error, TransactWriteError) and error.cancellation_reasons:
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons)
    return False


@contextmanager
def storage_call() -> Iterator[None]:
    """Run DynamoDB calls: a lost condition becomes :class:`ConditionFailed`; throttling, timeouts and an
    unreachable endpoint all mean the same to a caller, :class:`StorageUnavailable` (a 503)."""
    try:
        yield
    except PynamoDBException as error:
        if _lost_condition(error):
            raise ConditionFailed(str(error)) from error
        raise StorageUnavailable(f"{type(error).__name__}: {error.cause_response_code or error.msg}") from error
