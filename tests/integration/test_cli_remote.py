"""The CLI on a deployed stack: `passport --stack NAME ...` finds the stack's tables and key secret through its
outputs (CloudFormation, Secrets Manager and DynamoDB all reached over HTTP, as on AWS: moto and DynamoDB Local
stand in for them here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import botocore.session
from passport import admin

PASSPORT = str(Path(sys.executable).with_name("passport"))


def test_the_cli_targets_a_deployed_stack_by_name(env, stores, tmp_path):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoClientStore, DynamoUserStore

    secret_name = f"keys-{uuid.uuid4().hex[:8]}"
    env.reconfigure(PASSPORT_KEYS_SECRET_NAME=secret_name)
    admin.install(env.settings, DynamoClientStore())  # what the install-keys custom resource does on deploy
    settings()
    create_user(DynamoUserStore(), email="remote@example.com", name="Remote", password=None)
    storage = env.settings.storage
    outputs = {
        "ClientsTableName": storage.clients_table, "UsersTableName": storage.users_table,
        "TokensTableName": storage.tokens_table, "KeysSecretArn": secret_name,
        "IssuerUrl": "https://auth.example.com",
    }
    stack = f"passport-{uuid.uuid4().hex[:8]}"
    cloudformation = botocore.session.get_session().create_client("cloudformation", endpoint_url=stores.aws)
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }))

    environ = {k: v for k, v in os.environ.items() if not k.startswith("PASSPORT_")}
    environ["AWS_ENDPOINT_URL_CLOUDFORMATION"] = stores.aws

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PASSPORT, *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
                              timeout=60)

    made = cli("--stack", stack, "client", "create", "--client", "--name", "remote", "--json")
    assert made.returncode == 0, made.stderr
    client_id = json.loads(made.stdout)["client_id"]
    assert DynamoClientStore().get(client_id).name == "remote"  # written to the stack's table
    assert not (tmp_path / ".passport").exists()  # and no local store was started

    token = cli("--stack", stack, "token", "create", "--user", "remote@example.com", "--name", "ops", "--json")
    assert token.returncode == 0, token.stderr
    import jwt

    claims = jwt.decode(json.loads(token.stdout)["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "https://auth.example.com"

    missing = cli("--stack", "no-such-stack", "client", "list")
    assert missing.returncode == 1 and missing.stderr.startswith("passport: ") and "Traceback" not in missing.stderr
