"""Table set-up for the local store and the tests. Deployed tables come from the CDK stack, which reads the
same schema (:data:`passport.storage.models.TABLES`)."""

from __future__ import annotations

from pynamodb.models import Model

from passport.storage.connection import dynamodb_client, table_connection, table_schema
from passport.storage.errors import storage_call
from passport.storage.models import TABLES, TTL_ATTRIBUTE, TokenModel, bind


def ensure_tables(storage: object) -> list[str]:
    """Create whichever tables are missing (on-demand billing, TTL on ``ttl``); returns those created."""
    bind(storage)
    created = []
    for model in TABLES.values():
        with storage_call():
            if model.exists():
                _add_missing_indexes(model)
                continue
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            if model is TokenModel:
                table_connection(model).update_time_to_live(TTL_ATTRIBUTE)
        created.append(model.Meta.table_name)
    return created


def _add_missing_indexes(model: type[Model]) -> None:
    """A local table made by an older version gains the indexes added since (data kept)."""
    schema = table_schema(model)
    if not schema["global_secondary_indexes"]:
        return
    client = dynamodb_client(model.Meta.region)
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        keys = sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH")  # HASH first
        client.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=[
                {"AttributeName": k["AttributeName"], "AttributeType": definitions[k["AttributeName"]]} for k in keys
            ],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": index["index_name"], "KeySchema": keys,
                "Projection": {"ProjectionType": index["projection"]["ProjectionType"]},
            }}],
        )


def drop_tables(storage: object) -> None:
    bind(storage)
    model: type[Model]
    for model in TABLES.values():
        with storage_call():
            if model.exists():
                model.delete_table()
