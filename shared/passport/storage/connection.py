"""One DynamoDB client per process, shared by every model.

pynamodb builds a botocore session and client per model class; each costs about 140 ms (botocore loads and
parses the DynamoDB service model per session). A function touching three models would pay three times on
every cold start. Every model here uses this one client instead, configured as pynamodb configures its own.
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.connection import Connection

_lock = threading.Lock()
_client: Any = None

CONNECT_TIMEOUT = 2
#: The defaults of ``[storage] timeout_seconds`` and ``retries``; :func:`configure` applies the settings.
READ_TIMEOUT = 4
RETRIES = 2
_limits = (READ_TIMEOUT, RETRIES)


def configure(timeout_seconds: int, retries: int) -> None:
    """Use these limits for DynamoDB calls (``[storage] timeout_seconds`` and ``retries``); the client is
    rebuilt when they change."""
    global _client, _limits
    with _lock:
        if (timeout_seconds, retries) != _limits:
            _limits = (timeout_seconds, retries)
            _client = None


def dynamodb_client(region: str | None = None) -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import botocore.config
                import botocore.session

                read_timeout, retries = _limits
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


def share_client(connection: Connection, region: str | None = None) -> Connection:
    """Make a pynamodb connection use the process's client (pynamodb keeps it in ``_client``)."""
    connection._client = dynamodb_client(region)
    return connection


def shared_connection(region: str | None = None) -> Connection:
    return share_client(Connection(region=region), region)


def forget_client() -> None:
    """Drop the client (tests that point the process at another endpoint)."""
    global _client
    with _lock:
        _client = None
