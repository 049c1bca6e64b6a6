"""tests/moto_store.py, the local store of earlier versions that the upgrade test recreates, keeps its data under
the data folder as those versions did: snapshots after writes and at shutdown, restored at start (moto alone keeps
everything in memory). The upgrade test (tests/e2e/test_quickstart.py) relies on these snapshots being what an
earlier `passport serve` left behind.

Each store runs in its own process, as `passport serve` ran it: moto's state is process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.moto_store import EmbeddedStore

SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import botocore.session
    from tests.moto_store import EmbeddedStore, SNAPSHOT_DELAY

    folder, action = Path(sys.argv[1]), sys.argv[2]
    store = EmbeddedStore(folder)
    store.start()
    def client(service):
        return botocore.session.get_session().create_client(service, endpoint_url=store.endpoint,
            region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    dynamodb = client("dynamodb")
    if action == "write":
        dynamodb.create_table(TableName="things", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        dynamodb.update_time_to_live(TableName="things",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        for i in range(30):
            dynamodb.put_item(TableName="things", Item={"pk": {"S": f"item{i}"}, "ttl": {"N": "99"}})
        client("secretsmanager").create_secret(Name="keys", SecretString='{"a": 1}')
        store.stop()
    elif action == "crash":
        dynamodb.put_item(TableName="things", Item={"pk": {"S": "late"}})
        time.sleep(SNAPSHOT_DELAY * 10)
        import os; os._exit(9)  # no clean shutdown
    else:
        ttl = dynamodb.describe_time_to_live(TableName="things")["TimeToLiveDescription"]
        secret = client("secretsmanager").get_secret_value(SecretId="keys")["SecretString"]
        keys = sorted(i["pk"]["S"] for i in dynamodb.scan(TableName="things")["Items"])
        print(json.dumps({"keys": keys, "ttl": ttl, "secret": json.loads(secret)}))
        store.stop()
""")


def run(folder: Path, action: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(folder), action], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow
def test_data_survives_a_restart_and_a_crash(tmp_path):
    assert run(tmp_path, "write").returncode == 0
    assert (tmp_path / "store.json").stat().st_mode & 0o777 == 0o600
    assert run(tmp_path, "crash").returncode == 9
    read = run(tmp_path, "read")
    assert read.returncode == 0, read.stderr
    state = json.loads(read.stdout)
    assert len(state["keys"]) == 31 and "late" in state["keys"]  # the write before the crash was snapshotted
    assert state["ttl"] == {"AttributeName": "ttl", "TimeToLiveStatus": "ENABLED"}
    assert state["secret"] == {"a": 1}


def test_one_embedded_store_per_process(store_endpoint):
    with pytest.raises(RuntimeError):
        EmbeddedStore().start()
