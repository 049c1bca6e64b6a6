"""The install-keys custom resource's handler, driven with CloudFormation's custom resource events (as the CDK
Provider framework passes them on) against the embedded Secrets Manager and DynamoDB, over HTTP."""

from __future__ import annotations

import importlib.util
import json
import uuid
from types import ModuleType
from typing import Any

import botocore.session
import pytest
from passport.core.clients import PERSONAL_ACCESS
from passport.core.errors import StorageUnavailable
from passport.storage.repositories import DynamoClientStore

from tests.conftest import REPO

ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/PassportStack/5a1c3e80-ae2d-11ef-8d4b-0affd3c1e5a1"
SERVICE_TOKEN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:PassportStack-InstallKeysProviderframeworko-Qx1zT0"


def load_handler() -> ModuleType:
    path = REPO / "functions" / "install_keys" / "handler.py"
    spec = importlib.util.spec_from_file_location(f"install_keys_handler_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cfn_event(
    request_type: str,
    properties: dict[str, str],
    *,
    physical_id: str | None = None,
    old_properties: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A CloudFormation custom resource request as the Provider framework hands it to the handler (the
    framework keeps the presigned ResponseURL to itself)."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": "...",
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "InstallKeysB35AA84D",
        "ResourceType": "Custom::PassportInstallKeys",
        "ResourceProperties": {"ServiceToken": SERVICE_TOKEN, **properties},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = {"ServiceToken": SERVICE_TOKEN, **(old_properties or properties)}
    return event


class Deployment:
    """The stack's secret (created empty, as the template creates it) and tables, and the handler."""

    def __init__(self, env) -> None:
        self.env = env
        self.secrets = botocore.session.get_session().create_client("secretsmanager")
        self.secret_arn = self.secrets.create_secret(Name=f"PassportKeys-{uuid.uuid4().hex[:8]}")["ARN"]
        env.reconfigure(PASSPORT_KEYS_SECRET_NAME=self.secret_arn)
        self.handler = load_handler()
        self.physical_id: str | None = None

    @property
    def properties(self) -> dict[str, str]:
        s = self.env.settings
        return {
            "KeysSecret": self.secret_arn,
            "ClientsTable": s.storage.clients_table,
            "Algorithm": s.keys.algorithm,
            "RsaBits": str(s.keys.rsa_bits),
            "PasswordGrant": str(s.grants.password).lower(),
        }

    def send(self, request_type: str, **kwargs: Any) -> dict[str, Any]:
        if request_type != "Create":
            kwargs.setdefault("physical_id", self.physical_id)
        answer = self.handler.handler(cfn_event(request_type, self.properties, **kwargs), None)
        json.dumps(answer)  # the framework sends it to CloudFormation as JSON
        return answer

    def secret(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.secrets.get_secret_value(SecretId=self.secret_arn)["SecretString"])
        except self.secrets.exceptions.ResourceNotFoundException:
            return None

    def clients(self) -> list[tuple[str, str, tuple[str, ...], bool]]:
        return [(c.client_id, c.name, c.grant_types, c.revoked) for c in DynamoClientStore().all()]


@pytest.fixture
def deployment(env) -> Deployment:
    return Deployment(env)


def test_create_puts_a_key_in_the_empty_secret_and_creates_the_default_clients(deployment):
    assert deployment.secret() is None and deployment.clients() == []
    answer = deployment.send("Create")
    document = deployment.secret()
    assert document["current"]["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert document["current"]["alg"] == "RS256" and document["previous"] == []
    ((client_id, name, grants, revoked),) = deployment.clients()
    assert name == "Personal Access Client" and grants == (PERSONAL_ACCESS,) and not revoked
    assert answer["Data"] == {"Kid": document["current"]["kid"], "CreatedClients": client_id}
    assert answer["PhysicalResourceId"] == f"passport-install-keys:{deployment.secret_arn}"
    # Nothing secret goes back to CloudFormation (its attributes are readable by anyone who can read the stack).
    assert "PRIVATE" not in json.dumps(answer) and "secret" not in json.dumps(answer["Data"]).lower()


def test_a_second_create_and_an_update_change_nothing(deployment):
    first = deployment.send("Create")
    deployment.physical_id = first["PhysicalResourceId"]
    keys, clients = deployment.secret(), deployment.clients()
    again = deployment.send("Create")
    update = deployment.send("Update", old_properties={**deployment.properties, "RsaBits": "4096"})
    assert deployment.secret() == keys and deployment.clients() == clients
    for answer in (again, update):
        assert answer["Data"] == {"Kid": keys["current"]["kid"], "CreatedClients": ""}
    assert update["PhysicalResourceId"] == deployment.physical_id  # the same resource: no replacement


def test_an_update_creates_what_is_missing_and_never_replaces_the_key(deployment):
    deployment.physical_id = deployment.send("Create")["PhysicalResourceId"]
    keys = deployment.secret()
    deployment.env.reconfigure(PASSPORT_GRANTS_PASSWORD="true")
    answer = deployment.send("Update", old_properties={**deployment.properties, "PasswordGrant": "false"})
    assert deployment.secret() == keys
    names = sorted(name for _, name, _, _ in deployment.clients())
    assert names == ["Password Grant Client", "Personal Access Client"]
    assert len(answer["Data"]["CreatedClients"].split(",")) == 1


def test_delete_keeps_the_keys_and_the_clients(deployment):
    """Whether they stay is the removal policy of the secret and the tables in the template (retained by
    default, see test_stack); the custom resource's own Delete never destroys them, also because CloudFormation
    deletes a replaced resource after creating its replacement."""
    deployment.physical_id = deployment.send("Create")["PhysicalResourceId"]
    keys, clients = deployment.secret(), deployment.clients()
    answer = deployment.send("Delete")
    assert answer == {"PhysicalResourceId": deployment.physical_id}
    assert deployment.secret() == keys and deployment.clients() == clients


def test_a_failure_is_raised_for_cloudformation_not_swallowed_and_a_retry_completes(deployment):
    tables = deployment.env.settings.storage.clients_table
    deployment.env.reconfigure(PASSPORT_STORAGE_CLIENTS_TABLE=f"missing-{uuid.uuid4().hex[:6]}")
    with pytest.raises(StorageUnavailable):
        deployment.send("Create")
    key = deployment.secret()["current"]["kid"]  # the key was made before the clients failed
    deployment.env.reconfigure(PASSPORT_STORAGE_CLIENTS_TABLE=tables)
    answer = deployment.send("Create")
    assert answer["Data"]["Kid"] == key and len(deployment.clients()) == 1


def test_a_request_it_cannot_serve_is_raised(deployment):
    with pytest.raises(ValueError, match="RequestType"):
        deployment.handler.handler({**cfn_event("Create", deployment.properties), "RequestType": "Upgrade"}, None)
    deployment.env.monkeypatch.delenv("PASSPORT_KEYS_SECRET_NAME")
    deployment.env.reconfigure()
    with pytest.raises(RuntimeError, match="PASSPORT_KEYS_SECRET_NAME"):
        deployment.send("Create")
