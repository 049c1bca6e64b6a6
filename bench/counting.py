"""DynamoDB round trips, counted through the signed client's observers (``passport.aws_json.REQUEST_OBSERVERS``:
the models' client and the guard's lookup wherever they can serve the environment) and botocore's ``before-send``
event on the process's botocore client (everywhere else).

Both fire once per HTTP request about to be sent, retries included; a handler that returns None lets the request
go on unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DynamoCalls:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, event_name: str = "", **_: object) -> None:
        self.operations.append(event_name.rsplit(".", 1)[-1])

    def signed(self, service: str, operation: str) -> None:
        if service == "dynamodb":
            self.operations.append(operation)

    @property
    def count(self) -> int:
        return len(self.operations)

    @contextmanager
    def span(self) -> Iterator[list[str]]:
        """The operations sent inside the block (the list fills when the block ends)."""
        start = len(self.operations)
        seen: list[str] = []
        try:
            yield seen
        finally:
            seen.extend(self.operations[start:])


@contextmanager
def counting() -> Iterator[DynamoCalls]:
    from passport.aws_json import REQUEST_OBSERVERS
    from passport.storage.connection import dynamodb_client

    calls = DynamoCalls()
    events = dynamodb_client().meta.events
    events.register("before-send.dynamodb", calls, unique_id="bench-dynamo-calls")
    REQUEST_OBSERVERS.append(calls.signed)
    try:
        yield calls
    finally:
        events.unregister("before-send.dynamodb", unique_id="bench-dynamo-calls")
        REQUEST_OBSERVERS.remove(calls.signed)


def describe(operations: list[str]) -> str:
    return f"{len(operations)}" + (f" ({', '.join(operations)})" if operations else "")
