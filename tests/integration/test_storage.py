"""Storage rules that hold whatever DynamoDB's TTL sweeper has or has not done yet."""

from __future__ import annotations

import time
import uuid

import pytest
from passport.aws_json import REQUEST_OBSERVERS
from passport.core.models import AccessTokenRecord, User
from passport.core.users import EmailTaken
from passport.storage.connection import SignedItems, dynamodb_client, forget_client, item_client
from passport.storage.models import TTL_ATTRIBUTE, AccessTokenModel
from passport.storage.repositories import DynamoAccessTokenStore, DynamoUserStore, access_item
from passport.storage.revocation import DynamoRevocationLookup


def record(expires_at: int, client_id: str) -> AccessTokenRecord:
    now = int(time.time())
    return AccessTokenRecord(jti=uuid.uuid4().hex, client_id=client_id, scopes=(), issued_at=now - 10,
                             expires_at=expires_at, grant_type="client_credentials")


def test_an_expired_token_the_ttl_sweeper_has_not_removed_reads_as_absent(env, client):
    store = DynamoAccessTokenStore()
    expired = record(int(time.time()) - 1, client.client_id)
    store.save(expired)
    assert store.get(expired.jti) is None
    assert DynamoRevocationLookup().lookup(expired.jti, client.client_id) == (False, True)


def test_a_live_token_reads_back(env, client):
    store = DynamoAccessTokenStore()
    live = record(int(time.time()) + 60, client.client_id)
    store.save(live)
    assert store.get(live.jti) == live
    assert DynamoRevocationLookup().lookup(live.jti, None) == (True, None)


def test_the_tokens_table_expires_items_by_ttl(env):
    description = dynamodb_client().describe_time_to_live(
        TableName=env.settings.storage.tokens_table
    )["TimeToLiveDescription"]
    assert description == {"AttributeName": TTL_ATTRIBUTE, "TimeToLiveStatus": "ENABLED"}


def test_a_token_id_is_never_written_twice(env, client):
    from passport.storage.errors import ConditionFailed

    store = DynamoAccessTokenStore()
    first = record(int(time.time()) + 60, client.client_id)
    store.save(first)
    with pytest.raises(ConditionFailed):
        store.save(first)


def test_two_users_can_never_share_an_email(env):
    users = DynamoUserStore()
    users.create(User(str(uuid.uuid4()), "lin@example.com", "Lin"))
    with pytest.raises(EmailTaken):
        users.create(User(str(uuid.uuid4()), "LIN@example.com", "Lin again"))
    assert users.find_by_email("Lin@Example.com").name == "Lin"


@pytest.mark.parametrize("signed", [True, False], ids=["signed-client", "botocore"])
def test_the_models_use_the_signed_client_where_it_serves_the_environment_and_botocore_elsewhere(
    env, client, monkeypatch, tmp_path, signed
):
    if not signed:
        # A shared config file may say what only botocore reads (passport.aws_json declines it).
        (tmp_path / "config").write_text("")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    forget_client()
    seen: list[str] = []
    REQUEST_OBSERVERS.append(lambda service, operation: seen.append(operation))
    try:
        store = DynamoAccessTokenStore()
        live = record(int(time.time()) + 60, client.client_id)
        store.save(live)
        assert store.get(live.jti) == live
        with pytest.raises(Exception, match="ConditionalCheckFailed"):  # a jti is written once, whichever client
            access_item(live).save(condition=AccessTokenModel.pk.does_not_exist())
        assert DynamoRevocationLookup().lookup(live.jti, client.client_id) == (True, True)
    finally:
        REQUEST_OBSERVERS.clear()
        forget_client()
    assert isinstance(item_client(), SignedItems) is signed
    assert seen == (["PutItem", "GetItem", "PutItem", "BatchGetItem"] if signed else [])
