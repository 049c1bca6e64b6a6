"""How DynamoDB's failures, as pynamodb raises them, read to the core (passport.storage.errors)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from passport.core.errors import StorageUnavailable
from passport.storage import errors
from passport.storage.errors import ConditionFailed, StorageRejected, WriteConflict, retried_on_conflict, storage_call
from pynamodb.exceptions import CancellationReason, PutError, TransactWriteError, VerboseClientError


def cancelled(*codes: str) -> TransactWriteError:
    """A TransactionCanceledException with one reason per item ("None": the item was fine)."""
    error = TransactWriteError("cancelled")
    error.cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}, "TransactWriteItems", {},
        cancellation_reasons=[None if c == "None" else CancellationReason(code=c) for c in codes],
    )
    return error


def single(code: str) -> PutError:
    error = PutError("failed")
    error.cause = ClientError({"Error": {"Code": code, "Message": "no"}}, "PutItem")
    return error


def raised_by(error: Exception) -> type[BaseException]:
    with pytest.raises(Exception) as caught:
        with storage_call():
            raise error
    return type(caught.value)


@pytest.mark.parametrize(("error", "meaning"), [
    (cancelled("None", "TransactionConflict"), WriteConflict),
    (single("TransactionConflictException"), WriteConflict),
    # a condition that did not hold decides, whatever else met a conflict
    (cancelled("TransactionConflict", "ConditionalCheckFailed"), ConditionFailed),
    (single("ConditionalCheckFailedException"), ConditionFailed),
    (cancelled("ValidationError"), StorageRejected),
    (single("ProvisionedThroughputExceededException"), StorageUnavailable),
], ids=["transaction-conflict", "single-write-conflict", "condition-and-conflict", "condition", "validation",
        "throttled"])
def test_each_failure_reads_as_what_it_means(error, meaning):
    assert raised_by(error) is meaning
    assert issubclass(WriteConflict, StorageUnavailable)  # a conflict that never ends is a 503


def test_a_write_that_meets_conflicts_is_sent_again_with_backoff_and_a_bounded_number_of_times(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(errors.time, "sleep", sleeps.append)
    sent: list[int] = []

    @retried_on_conflict
    def write(outcome: list[BaseException | None]) -> str:
        sent.append(1)
        failure = outcome.pop(0)
        if failure is not None:
            raise failure
        return "written"

    assert write([WriteConflict("x"), WriteConflict("x"), None]) == "written" and len(sent) == 3
    assert len(sleeps) == 2 and all(0 <= s <= errors.CONFLICT_MAX_BACKOFF for s in sleeps)
    sent.clear()
    with pytest.raises(WriteConflict):
        write([WriteConflict("x")] * errors.CONFLICT_ATTEMPTS)
    assert len(sent) == errors.CONFLICT_ATTEMPTS
    sent.clear()
    with pytest.raises(ConditionFailed):  # anything else is not sent again
        write([ConditionFailed("lost")])
    assert len(sent) == 1
