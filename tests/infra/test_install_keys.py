"""The install-keys custom resource's handler, driven with CloudFormation's custom resource events (as the CDK
Provider framework passes them on) against the embedded Secrets Manager and DynamoDB, over HTTP."""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType, SimpleNamespace
from typing import Any

import botocore.session
import pytest
from passport.core.clients import PERSONAL_ACCESS
from passport.storage.repositories import DynamoClientStore

from tests.conftest import REPO
from tests.faults import routed_to
from tests.servers import running

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


# --- A failure, as the CDK Provider framework reports it to CloudFormation -------------------------------------
#
# The framework (aws-cdk-lib 2.275.0, custom-resources/lib/provider-framework/runtime/, in the aws_cdk package's
# jsii bundle) answers CloudFormation on a failure like this:
# - framework.js, invokeUserFunction: the function's error payload gives ``errorMessage``, and the framework
#   throws ``new Error([errorMessage, "", "Logs: /aws/lambda/<function name>", ""].join("\n"))``; its stack is
#   replaced only when the payload has a ``trace`` (the Node.js runtime's); the Python runtime sends
#   ``stackTrace``, so the stack stays Node's own: "Error: <message>" and up to Error.stackTraceLimit (10) frames.
# - cfn-response.js, safeHandler: ``reason`` is ``e.stack`` (``includeStackTraces`` is true); a Create with no
#   PhysicalResourceId gets the CREATE_FAILED marker.
# - cfn-response.js, submitResponse: the body is ``JSON.stringify({Status, Reason, StackId, RequestId,
#   PhysicalResourceId, LogicalResourceId, NoEcho, Data})`` (undefined members left out), its size
#   ``Buffer.byteLength(body, "utf8")``, PUT to the presigned URL; CloudFormation refuses it over 4,096 bytes.

CFN_RESPONSE_LIMIT = 4096
CREATE_FAILED = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
MISSING_PHYSICAL_ID = "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID"
#: The longest a Lambda function name can be (the framework names the log group after it).
FUNCTION_NAME = "PassportStack-InstallKeysHandler" + "x" * 32
#: A Node.js stack frame as long as the framework's get ("async Runtime.handler (/var/task/cfn-response.js:1:2862)"
#: is 57 characters), with room to spare.
NODE_FRAME = "async Runtime.handler (/var/task/" + "f" * 70 + ".js:1:2862)"
#: CloudFormation's longest logical id.
LONG_LOGICAL_ID = "InstallKeys" + "R" * 244


def framework_failure_response(event: dict[str, Any], error_message: str) -> bytes:
    """The body the Provider framework PUTs to CloudFormation when the function raised ``error_message``."""
    message = "\n".join([error_message, "", f"Logs: /aws/lambda/{FUNCTION_NAME}", ""])
    reason = "Error: " + message + "".join(f"\n    at {NODE_FRAME}" for _ in range(10))
    physical = event.get("PhysicalResourceId") or (
        CREATE_FAILED if event.get("RequestType") == "Create" else MISSING_PHYSICAL_ID
    )
    body = {
        "Status": "FAILED",
        "Reason": reason,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "PhysicalResourceId": physical,
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": None,
        "Data": event.get("Data"),
    }
    present = {name: value for name, value in body.items() if value is not None}
    return json.dumps(present, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def lambda_context() -> SimpleNamespace:
    """What the Lambda runtime passes (the attributes the handler reads)."""
    return SimpleNamespace(
        function_name=FUNCTION_NAME,
        log_group_name=f"/aws/lambda/{FUNCTION_NAME}",
        log_stream_name=f"2025/01/31/[$LATEST]{uuid.uuid4().hex}",
        aws_request_id=str(uuid.uuid4()),
    )


def failing(deployment: Deployment, event: dict[str, Any], caplog: pytest.LogCaptureFixture) -> Failure:
    """Send ``event``; the handler must raise its short error, and the framework's response must fit."""
    context = lambda_context()
    with caplog.at_level(logging.ERROR, logger="passport.install_keys"):
        with pytest.raises(deployment.handler.InstallKeysFailed) as raised:
            deployment.handler.handler(event, context)
    message = str(raised.value)
    response = framework_failure_response(event, message)
    assert len(response) < CFN_RESPONSE_LIMIT, (len(response), message[:300])
    assert "\n" not in message
    # Where the full detail is: the log group, stream and request id of this invocation.
    for value in (context.log_group_name, context.log_stream_name, context.aws_request_id):
        assert value in message
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "passport.install_keys"]
    assert logged and logged[-1]["request_id"] == context.aws_request_id
    return Failure(message, logged[-1], response)


@dataclass
class Failure:
    message: str
    log: dict[str, Any]
    response: bytes


def create_event(deployment: Deployment, **changes: Any) -> dict[str, Any]:
    return {**cfn_event("Create", deployment.properties), "LogicalResourceId": LONG_LOGICAL_ID, **changes}


def test_an_unknown_request_type_is_named_briefly_even_when_it_is_100_kb(deployment, caplog):
    failure = failing(deployment, create_event(deployment, RequestType="Upgrade"), caplog)
    assert failure.message.startswith("install-keys request failed: ValueError: unknown RequestType 'Upgrade'")
    huge = failing(deployment, create_event(deployment, RequestType="U" * 100_000), caplog)
    assert "ValueError: unknown RequestType 'UUU" in huge.message and len(huge.message) < 1200
    assert huge.log["detail_chars"] > 100_000  # the whole of it is in the log


def test_a_missing_secret_name_is_named(deployment, caplog):
    deployment.env.monkeypatch.delenv("PASSPORT_KEYS_SECRET_NAME")
    deployment.env.reconfigure()
    failure = failing(deployment, create_event(deployment), caplog)
    assert "install-keys Create failed: RuntimeError: PASSPORT_KEYS_SECRET_NAME is not set" in failure.message
    assert json.loads(failure.response)["PhysicalResourceId"] == CREATE_FAILED


def test_a_storage_failure_is_named_and_a_retry_completes(deployment, caplog):
    tables = deployment.env.settings.storage.clients_table
    deployment.env.reconfigure(PASSPORT_STORAGE_CLIENTS_TABLE=f"missing-{uuid.uuid4().hex[:6]}")
    failure = failing(deployment, create_event(deployment), caplog)
    assert "failed: passport.core.errors.StorageUnavailable:" in failure.message
    assert "StorageUnavailable" in failure.log["detail"]  # the traceback, in the log
    key = deployment.secret()["current"]["kid"]  # the key was made before the clients failed
    deployment.env.reconfigure(PASSPORT_STORAGE_CLIENTS_TABLE=tables)
    answer = deployment.send("Create")
    assert answer["Data"]["Kid"] == key and len(deployment.clients()) == 1


def test_an_update_failure_keeps_its_physical_id_and_fits(deployment, caplog):
    deployment.physical_id = deployment.send("Create")["PhysicalResourceId"]
    deployment.env.reconfigure(PASSPORT_STORAGE_CLIENTS_TABLE=f"missing-{uuid.uuid4().hex[:6]}")
    event = {
        **cfn_event("Update", deployment.properties, physical_id=deployment.physical_id),
        "LogicalResourceId": LONG_LOGICAL_ID,
    }
    failure = failing(deployment, event, caplog)
    assert failure.message.startswith("install-keys Update failed:")
    assert json.loads(failure.response)["PhysicalResourceId"] == deployment.physical_id


def test_a_key_source_failure_is_named_and_no_private_key_reaches_the_log(deployment, caplog):
    """The secret holds something that is not a key document (here a bare PEM, not JSON)."""
    from passport.keys.material import generate, private_pem

    pem = private_pem(generate("RS256", 2048))
    deployment.secrets.put_secret_value(SecretId=deployment.secret_arn, SecretString=pem)
    failure = failing(deployment, create_event(deployment), caplog)
    assert "KeyMaterialError: the key secret is not JSON" in failure.message
    assert "PRIVATE KEY" not in json.dumps(failure.log) and "PRIVATE KEY" not in failure.message


class LongErrors(ThreadingHTTPServer):
    """A loopback stand-in for DynamoDB and Secrets Manager that refuses every call with AccessDenied and a
    description of ``size`` characters: an AWS error with a very long message, as botocore receives it."""

    def __init__(self, size: int) -> None:
        self.description = "".join(f"policy statement {n} does not allow this call. " for n in range(size // 44 + 1))
        self.description = self.description[:size]
        super().__init__(("127.0.0.1", 0), _LongErrorHandler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _LongErrorHandler(BaseHTTPRequestHandler):
    server: LongErrors
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {"__type": "com.amazon.coral.service#AccessDeniedException", "message": self.server.description}
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def long_errors(size: int) -> Iterator[LongErrors]:
    server = LongErrors(size)
    with running(server):
        yield server


def test_an_aws_error_with_a_100_kb_message_fits_and_is_logged_whole(deployment, stores, caplog):
    """Secrets Manager (the key source) and DynamoDB both answer AccessDenied with a 100 KB description; the
    handler reaches them over HTTP through botocore, as on AWS."""
    with long_errors(100_000) as server, routed_to(server.endpoint, deployment.env.monkeypatch, stores):
        failure = failing(deployment, create_event(deployment), caplog)
    assert "ClientError: An error occurred (AccessDeniedException) when calling the" in failure.message
    assert failure.message.count("policy statement") < 20
    assert server.description in failure.log["detail"]


def test_an_exception_with_a_100_kb_multiline_message_is_one_short_line(deployment, caplog):
    """Whatever the text (lines, control characters, quotes that JSON escapes, characters of 4 UTF-8 bytes)."""
    text = ('"\\\x00\U0001f511\n' * 25_000)[:100_000]
    event = create_event(deployment)

    def explode(_event):
        raise LookupError(text)

    deployment.handler.serve = explode  # the error path alone: what raised does not matter to it
    failure = failing(deployment, event, caplog)
    assert failure.message.startswith("install-keys Create failed: LookupError: ")
    assert failure.log["detail_chars"] > 100_000


def test_private_keys_are_redacted_from_any_text():
    from passport.custom_resource import redact

    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    document = json.dumps({"current": {"kid": "k1", "private_key": pem}})
    assert "MIIEv" not in redact(f"bad secret {document} and {pem} and a cut -----BEGIN RSA PRIVATE KEY---")
    assert redact(document).startswith('{"current": {"kid": "k1", "private_key": [redacted]')
