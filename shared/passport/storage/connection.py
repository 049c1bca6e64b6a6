"""The DynamoDB client of the process, shared by every model; the one module that knows how pynamodb holds it.

pynamodb builds a botocore session and client per model class; each costs about 140 ms (botocore loads and
parses the DynamoDB service model per session). A function touching three models would pay three times on
every cold start. Every model here uses one client instead.

That client is, wherever it can serve the environment as botocore would, :class:`SignedItems`: the item
operations over :mod:`passport.aws_json` (the same signed standard-library client the guard uses), which costs a
cold start a few milliseconds where building botocore's DynamoDB client and sending its first request cost
about twenty. Elsewhere (a profile, a config file, FIPS...: ``SignedClient.configured`` says None) it is
botocore's client, configured as pynamodb configures its own. Either way a model's table connection holds it in
``Connection._client``, which pynamodb reads through its ``client`` property and calls as
``client._make_api_call(operation, parameters)``: that seam is pynamodb's, used here and nowhere else. So are
the other pynamodb internals the storage layer needs (a model's cached connection, its table schema): the
functions at the end of this module.

:func:`dynamodb_client` stays botocore's client, for what only the administration tools do (creating tables,
paging a scan: ``passport.storage.tables``, ``passport.storage.purge``).
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from botocore.exceptions import ClientError
from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from passport.aws_json import DYNAMODB, ServiceError, SignedClient, StorageSettings

_lock = threading.RLock()
_client: Any = None
_items: Any = None

CONNECT_TIMEOUT = 2
#: The defaults of ``[storage] timeout_seconds`` and ``retries``; :func:`configure` applies the settings.
READ_TIMEOUT = 4
RETRIES = 2


class _Limits(NamedTuple):
    """``[storage]`` as last configured: the region (empty: the environment's) and the limits of every call."""

    region: str = ""
    timeout_seconds: int = READ_TIMEOUT
    retries: int = RETRIES


_limits = _Limits()


def configure(storage: StorageSettings) -> None:
    """Use ``[storage]``'s region and limits (``timeout_seconds``, ``retries``) for DynamoDB calls; the clients
    are rebuilt when they change."""
    global _client, _items, _limits
    wanted = _Limits(storage.region, storage.timeout_seconds, storage.retries)
    with _lock:
        if wanted != _limits:
            _limits = wanted
            _client = _items = None


def dynamodb_client(region: str | None = None) -> Any:
    """botocore's DynamoDB client, one per process."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import botocore.config
                import botocore.session

                read_timeout, retries = _limits.timeout_seconds, _limits.retries
                _client = botocore.session.get_session().create_client(
                    "dynamodb",
                    region_name=region or None,
                    config=botocore.config.Config(
                        parameter_validation=False,  # pynamodb's own choice: its requests are well-formed
                        connect_timeout=min(CONNECT_TIMEOUT, read_timeout),
                        read_timeout=read_timeout,
                        retries={"total_max_attempts": 1 + retries, "mode": "standard"},
                        max_pool_connections=20,
                    ),
                )
    return _client


class SignedItems:
    """:class:`passport.aws_json.SignedClient` in the shape of the botocore client pynamodb calls: its answers
    are botocore's parsed answers (DynamoDB's JSON as it came: no model here has a binary attribute, the only kind
    botocore would decode), and an error answer is botocore's ``ClientError`` with what pynamodb and
    :mod:`passport.storage.errors` read of it: the code and message, ``CancellationReasons``, and the retries
    made (``ResponseMetadata.RetryAttempts``)."""

    #: pynamodb rebuilds a client whose request signer has lost its credentials; this one has no such signer.
    _request_signer = None

    def __init__(self, signed: SignedClient) -> None:
        self.signed = signed

    def call(self, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """DynamoDB's answer to ``operation`` (``"GetItem"``), or botocore's ``ClientError`` for an error answer
        (:class:`passport.core.errors.StorageUnavailable` when the service could not be reached or kept
        throttling: what every caller makes of it anyway)."""
        if parameters.get("ReturnConsumedCapacity") == "TOTAL":
            # pynamodb asks every item call for its consumed capacity, only to log it at DEBUG; nothing here reads
            # it, and DynamoDB Local computes it on every call (a seventh of its CPU per token request).
            parameters = {name: value for name, value in parameters.items() if name != "ReturnConsumedCapacity"}
        try:
            return self.signed.call(operation, parameters)
        except ServiceError as error:
            raise ClientError(_error_response(error), operation) from error

    _make_api_call = call  # the name pynamodb's Connection calls


def _error_response(error: ServiceError) -> dict[str, Any]:
    """An error answer as botocore's JSON parser gives it (botocore/parsers.py: BaseJSONParser)."""
    document = error.document
    message = document.get("message", document.get("Message", ""))
    response: dict[str, Any] = {
        "Error": {"Code": error.code or "", "Message": message if isinstance(message, str) else ""},
        "ResponseMetadata": {"HTTPStatusCode": error.status, "RetryAttempts": error.attempts - 1},
    }
    reasons = document.get("CancellationReasons")
    if isinstance(reasons, list) and all(isinstance(r, dict) and isinstance(r.get("Code"), str) for r in reasons):
        response["CancellationReasons"] = reasons
    return response


def item_client(region: str | None = None) -> Any:
    """The client every model and transaction uses: :class:`SignedItems` where it serves this environment, else
    :func:`dynamodb_client`."""
    global _items
    if _items is None:
        with _lock:
            if _items is None:
                signed = SignedClient.configured(DYNAMODB, _limits._replace(region=region or _limits.region))
                _items = SignedItems(signed) if signed is not None else dynamodb_client(region)
    return _items


def call(operation: str, parameters: dict[str, Any], region: str | None = None) -> dict[str, Any]:
    """One DynamoDB call on the models' client (``call("BatchGetItem", {"RequestItems": ...})``)."""
    client = item_client(region)
    if isinstance(client, SignedItems):
        return client.call(operation, parameters)
    from botocore import xform_name

    return getattr(client, xform_name(operation))(**parameters)


def share_client(connection: Connection, region: str | None = None) -> Connection:
    """Make a pynamodb connection use the process's client (pynamodb keeps it in ``_client``)."""
    connection._client = item_client(region)
    return connection


def uses_shared_client(connection: Connection, region: str | None = None) -> bool:
    return connection._client is item_client(region)


def shared_connection(region: str | None = None) -> Connection:
    return share_client(Connection(region=region), region)


def forget_client() -> None:
    """Drop the clients (tests that point the process at another endpoint)."""
    global _client, _items
    with _lock:
        _client = _items = None


# -- pynamodb's internals, for the storage layer (nowhere else reaches them) -----------------------------------


class SharedClientModel(Model):
    """The base of every model: its table connection uses the process's one client (pynamodb would build a
    botocore session and client per model class)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        if not uses_shared_client(table.connection, cls.Meta.region):
            share_client(table.connection, cls.Meta.region)
        return table


def forget_connection(model: type[Model]) -> None:
    """Make a model build its table connection again (after its table name or region changed): pynamodb caches it
    in the class's ``_connection``."""
    model._connection = None


def table_connection(model: type[Model]) -> Any:
    """A model's table connection (pynamodb's ``_get_connection``), for what models do not offer: TTL set-up."""
    return model._get_connection()


def table_schema(model: type[Model]) -> dict[str, Any]:
    """A model's key schema, attribute definitions and indexes as pynamodb would create them
    (``_get_schema``: ``attribute_definitions``, ``key_schema``, ``global_secondary_indexes``...)."""
    return model._get_schema()


def index_names(model: type[Model]) -> tuple[str, ...]:
    """The names of a model's global secondary indexes."""
    return tuple(index["index_name"] for index in table_schema(model).get("global_secondary_indexes", []))
