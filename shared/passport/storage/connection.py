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
READ_TIMEOUT = 4
RETRIES = 2


def dynamodb_client(region: str | None = None) -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import botocore.config
                import botocore.session

                _client = botocore.session.get_session().create_client(
                    "dynamodb",
                    region_name=region or None,
                    config=botocore.config.Config(
                        parameter_validation=False,  # pynamodb's own choice: its requests are well-formed
                        connect_timeout=CONNECT_TIMEOUT,
                        read_timeout=READ_TIMEOUT,
                        retries={"total_max_attempts": 1 + RETRIES, "mode": "standard"},
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
