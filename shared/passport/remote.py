"""Pointing the CLI at a deployed stack (``passport --stack PassportStack ...``): the stack's outputs name its
tables, key secret and issuer; AWS credentials and region come from the usual chain."""

from __future__ import annotations

import os
from collections.abc import Mapping

from passport.core.errors import PassportError

#: stack output -> the environment variable that overrides the matching setting
OUTPUT_SETTINGS = {
    "ClientsTableName": "PASSPORT_STORAGE_CLIENTS_TABLE",
    "UsersTableName": "PASSPORT_STORAGE_USERS_TABLE",
    "TokensTableName": "PASSPORT_STORAGE_TOKENS_TABLE",
    "KeysSecretArn": "PASSPORT_KEYS_SECRET_NAME",
    "IssuerUrl": "PASSPORT_ISSUER",
}


class StackNotFound(PassportError, RuntimeError):
    pass


def stack_outputs(stack_name: str) -> dict[str, str]:
    import botocore.session

    client = botocore.session.get_session().create_client("cloudformation")
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except client.exceptions.ClientError as error:
        raise StackNotFound(f"cannot read the stack {stack_name}: {error}") from None
    if not stacks:
        raise StackNotFound(f"no stack named {stack_name}")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def target_stack(stack_name: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Set the settings the stack's outputs give; returns what was set. Missing outputs are an error: a
    half-pointed CLI would write to local names on AWS."""
    outputs = stack_outputs(stack_name)
    missing = [name for name in OUTPUT_SETTINGS if name not in outputs]
    if missing:
        raise StackNotFound(f"the stack {stack_name} lacks the output(s) {', '.join(missing)}: is it a passport stack?")
    chosen = {variable: outputs[name] for name, variable in OUTPUT_SETTINGS.items()}
    target = os.environ if environ is None else environ
    target.update(chosen)  # type: ignore[attr-defined]
    return chosen
