"""Least privilege, read from the synthesized template: every policy of every role, parsed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from passport import iam_manifest

from tests.infra.conftest import Synthesized, dump, resolve_ref

#: DynamoDB actions that change data (or could, as PartiQL statements).
DYNAMODB_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:ExecuteStatement",
    "dynamodb:BatchExecuteStatement",
    "dynamodb:ExecuteTransaction",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:RestoreTableToPointInTime",
}
#: What active X-Ray tracing grants every function (CDK adds it with the tracing). AWS defines no resource type for
#: these two actions, so their only form is ``Resource: *``: the one wildcard a passport function has.
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SECRET_WRITES = {
    "secretsmanager:PutSecretValue",
    "secretsmanager:CreateSecret",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:RotateSecret",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:CancelRotateSecret",
}


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str  # a logical id (Ref/GetAtt), or the literal
    role: str
    raw: Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource(value: Any) -> str:
    ref = resolve_ref(value)
    if ref is not None:
        return ref
    if isinstance(value, dict) and "Fn::Join" in value:
        refs = [resolve_ref(part) for part in value["Fn::Join"][1] if resolve_ref(part)]
        return "+".join(refs) if refs else dump(value)
    return value if isinstance(value, str) else dump(value)


def grants(template: dict) -> Iterator[Grant]:
    """Every (action, resource) any role is allowed, from inline and attached policies."""
    resources = template["Resources"]
    documents: list[tuple[str, dict]] = []
    for name, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                documents.append((name, policy["PolicyDocument"]))
        elif resource["Type"] == "AWS::IAM::Policy":
            for role in resource["Properties"]["Roles"]:
                documents.append((resolve_ref(role), resource["Properties"]["PolicyDocument"]))
    for role, document in documents:
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    yield Grant(action, _resource(resource), role, resource)


def role_of(synthesized: Synthesized, function: Any) -> str:
    props = synthesized.resources[synthesized.logical_id(function)]["Properties"]
    return resolve_ref(props["Role"])


@pytest.fixture(scope="module")
def all_grants(synthesized) -> list[Grant]:
    return list(grants(synthesized.template))


def grants_of(synthesized: Synthesized, all_grants: list[Grant], name: str) -> list[Grant]:
    role = role_of(synthesized, synthesized.stack.functions[name].function)
    return [g for g in all_grants if g.role == role]


@pytest.mark.parametrize("name", list(iam_manifest.FUNCTIONS))
def test_each_function_is_granted_exactly_what_the_manifest_lists(synthesized, all_grants, name):
    function = synthesized.stack.functions[name]
    needs = iam_manifest.needs(name, synthesized.stack.settings)
    assert function.needs == needs
    expected = {
        ("logs:CreateLogStream", synthesized.logical_id(function.log_group)),
        ("logs:PutLogEvents", synthesized.logical_id(function.log_group)),
    }
    for setting, actions in needs.tables.items():
        table = synthesized.logical_id(synthesized.stack.tables[setting])
        expected |= {(f"dynamodb:{action}", table) for action in actions}
    secret = synthesized.logical_id(synthesized.stack.keys.secret)
    expected |= {(f"secretsmanager:{action}", secret) for action in needs.secret_actions}
    expected |= {(action, "*") for action in XRAY}
    assert {(g.action, g.resource) for g in grants_of(synthesized, all_grants, name)} == expected


def test_no_passport_function_has_a_managed_policy_or_a_wildcard_beyond_x_ray(synthesized, all_grants):
    for name, function in synthesized.stack.functions.items():
        role = synthesized.resources[role_of(synthesized, function.function)]
        assert "ManagedPolicyArns" not in role["Properties"], name
        wildcards = set()
        for grant in grants_of(synthesized, all_grants, name):
            assert "*" not in grant.action, (name, grant)
            if grant.resource != "*" or grant.action not in XRAY:
                assert "*" not in grant.resource, (name, grant)
            else:
                wildcards.add(grant.action)
        assert wildcards == XRAY, name  # exactly X-Ray's two actions, and nothing else, on Resource: *


def statements_of(synthesized, function) -> list[dict]:
    """The statements of a function's role's inline policies, as synthesized."""
    role = synthesized.resources[role_of(synthesized, function.function)]
    return [statement for policy in role["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("name", [iam_manifest.GUARD, "mcp", "userinfo"])
def test_the_guard_and_the_resources_that_guard_themselves_write_only_dpop_proofs(synthesized, all_grants, name):
    """With DPoP on (the default) each proof is spent once by a put in the tokens table (RFC 9449 11.1): the only
    write of these read-only roles, and only of items whose key starts with dpop# (IAM's dynamodb:LeadingKeys), so
    a guard that is compromised still cannot forge or revoke a token record."""
    function = grants_of(synthesized, all_grants, name)
    writes = [g for g in function if g.action in DYNAMODB_WRITES or "Write" in g.action.removeprefix("dynamodb:")]
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    assert {(g.action, tables[g.resource]) for g in writes} == {("dynamodb:PutItem", "tokens_table")}
    puts = [st for st in statements_of(synthesized, synthesized.stack.functions[name])
            if "dynamodb:PutItem" in _as_list(st["Action"])]
    assert len(puts) == 1 and _as_list(puts[0]["Action"]) == ["dynamodb:PutItem"]
    assert puts[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["dpop#*"]}}
    assert not [g for g in function if g.action in SECRET_WRITES]


def test_the_guard_reads_only_the_revocation_state(synthesized, all_grants):
    guard = grants_of(synthesized, all_grants, iam_manifest.GUARD)
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    reads = {(g.action, tables[g.resource]) for g in guard
             if g.action.startswith("dynamodb:") and g.action not in DYNAMODB_WRITES}
    assert reads == {("dynamodb:BatchGetItem", "tokens_table"), ("dynamodb:BatchGetItem", "clients_table")}


def test_introspection_writes_only_the_client_assertions_it_spends(synthesized, all_grants):
    """RFC 7662 only reads; its one write is a private_key_jwt client's assertion spent once (RFC 7523 3 point 7),
    a put in the tokens table: never the clients or the users table, never an update or a delete."""
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    introspect = grants_of(synthesized, all_grants, "introspect")
    writes = {(g.action, tables[g.resource]) for g in introspect if g.action in DYNAMODB_WRITES}
    assert writes == {("dynamodb:PutItem", "tokens_table")}


def test_the_token_function_cannot_touch_the_users_table(synthesized, all_grants):
    users = synthesized.logical_id(synthesized.stack.tables["users_table"])
    token = grants_of(synthesized, all_grants, "token")
    assert token and not [g for g in token if g.resource == users]


def test_the_par_function_reads_clients_and_stores_pushed_requests_and_nothing_else(synthesized, all_grants):
    """RFC 9126 2: it authenticates the client (a client ID metadata document's kept, its fetch counted) and
    stores the pushed request; it reads no user and no key."""
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    par = grants_of(synthesized, all_grants, "par")
    dynamodb = {(g.action, tables[g.resource]) for g in par if g.action.startswith("dynamodb:")}
    assert dynamodb == {("dynamodb:GetItem", "clients_table"), ("dynamodb:UpdateItem", "clients_table"),
                        ("dynamodb:PutItem", "tokens_table"), ("dynamodb:UpdateItem", "tokens_table")}
    assert not [g for g in par if g.action.startswith("secretsmanager:")]


def test_only_install_keys_can_write_the_key_secret(synthesized, all_grants):
    install_keys = role_of(synthesized, synthesized.stack.install_keys.handler.function)
    writers = {g.role for g in all_grants if g.action in SECRET_WRITES or g.action == "secretsmanager:*"}
    assert writers == {install_keys}
    assert {g.action for g in all_grants if g.role == install_keys and g.action in SECRET_WRITES} == {
        "secretsmanager:PutSecretValue"
    }


def test_no_role_outside_the_functions_reaches_the_data(synthesized, all_grants):
    """The Provider framework and API Gateway's CloudWatch role touch neither the tables nor the secret."""
    passport_roles = {role_of(synthesized, f.function) for f in synthesized.stack.functions.values()}
    for grant in all_grants:
        if grant.role not in passport_roles:
            assert not grant.action.startswith(("dynamodb:", "secretsmanager:")), grant
