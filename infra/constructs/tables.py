"""The DynamoDB tables, from the same schema the local store creates (``passport.storage.models.TABLES``):
on-demand, point-in-time recovery, encrypted with the AWS-managed key, TTL on ``ttl`` where the model has it."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from passport.storage.models import TABLES, TTL_ATTRIBUTE
from pynamodb.attributes import Attribute

from infra.constructs.common import removal_policy

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}


def _key(model: type, attribute: Attribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=attribute.attr_name, type=_TYPES[attribute.attr_type])


def key_schema(model: type) -> tuple[dynamodb.Attribute, dynamodb.Attribute | None]:
    attributes = model.get_attributes().values()
    hash_key = next(a for a in attributes if a.is_hash_key)
    range_key = next((a for a in attributes if a.is_range_key), None)
    return _key(model, hash_key), (_key(model, range_key) if range_key else None)


class PassportTables(Construct):
    """One table per entry of ``TABLES``, reachable by its setting name (``tables["clients_table"]``)."""

    def __init__(self, scope: Construct, id: str, *, retain: bool) -> None:
        super().__init__(scope, id)
        self.tables: dict[str, dynamodb.Table] = {}
        for setting, model in TABLES.items():
            partition, sort = key_schema(model)
            # Names are left to CloudFormation (so two stacks can share an account); functions get them from
            # their environment (PASSPORT_STORAGE_*), the CLI from the stack outputs.
            table = dynamodb.Table(
                self,
                setting.removesuffix("_table").title(),
                partition_key=partition,
                sort_key=sort,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=TTL_ATTRIBUTE if TTL_ATTRIBUTE in model.get_attributes() else None,
                removal_policy=removal_policy(retain),
                deletion_protection=retain,
            )
            for index in getattr(model, "_indexes", {}).values():
                keys = index.Meta.attributes.values()
                index_range = next((a for a in keys if a.is_range_key), None)
                table.add_global_secondary_index(
                    index_name=index.Meta.index_name,
                    partition_key=_key(model, next(a for a in keys if a.is_hash_key)),
                    sort_key=_key(model, index_range) if index_range else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.tables[setting] = table

    def __getitem__(self, setting: str) -> dynamodb.Table:
        return self.tables[setting]
