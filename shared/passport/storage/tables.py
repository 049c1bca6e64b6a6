"""Table set-up for the local store and the tests. Deployed tables come from the CDK stack, which reads the
same schema (:data:`passport.storage.models.TABLES`)."""

from __future__ import annotations

from pynamodb.models import Model

from passport.storage.errors import storage_call
from passport.storage.models import TABLES, TTL_ATTRIBUTE, TokenModel, bind


def ensure_tables(storage: object) -> list[str]:
    """Create whichever tables are missing (on-demand billing, TTL on ``ttl``); returns those created."""
    bind(storage)
    created = []
    for model in TABLES.values():
        with storage_call():
            if model.exists():
                continue
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            if model is TokenModel:
                model._get_connection().update_time_to_live(TTL_ATTRIBUTE)
        created.append(model.Meta.table_name)
    return created


def drop_tables(storage: object) -> None:
    bind(storage)
    model: type[Model]
    for model in TABLES.values():
        with storage_call():
            if model.exists():
                model.delete_table()
