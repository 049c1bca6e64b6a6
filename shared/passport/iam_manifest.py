"""What each Lambda function reaches when deployed: the tables, the DynamoDB actions on each, and the key secret.

The CDK stack grants exactly this and nothing more (least privilege), and gives each function the names of only
these tables. ``tests/infra`` checks both directions: the template grants no more than this manifest, and each
function's real calls (made against DynamoDB Local and moto over HTTP) need exactly that. A function that
starts making a new call must say so here, or it fails on AWS with AccessDenied and in the tests before that.

Tables are named by their setting in ``[storage]`` (``clients_table``...); actions are IAM actions without the
``dynamodb:`` prefix (a TransactWriteItems call needs PutItem/UpdateItem/... for each item it holds).
Standard library only: the layer carries it, and the CDK app imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The authorizer and the CloudFormation custom resource: functions that serve no route of the route table.
GUARD = "guard"
INSTALL_KEYS = "install_keys"

#: What the functions run on (the layer is built for it, and every function, a guard of your own too, must match
#: it). ARM_64 (Graviton): about 20 % cheaper per GB-second than x86_64 for the same work, and every dependency
#: ships aarch64 wheels. Python 3.14: the newest Lambda runtime (Amazon Linux 2023).
LAMBDA_ARCH = "arm64"
LAMBDA_PYTHON = "3.14"

#: The AWS services the functions call, and so the only ones whose models (botocore's data) the layer carries: DynamoDB
#: (the tables) and Secrets Manager (the key secret), as the manifest below grants.
AWS_SERVICES = ("dynamodb", "secretsmanager")

#: What a secret access level allows (without the ``secretsmanager:`` prefix).
SECRET_ACTIONS: dict[str, tuple[str, ...]] = {
    "": (),
    # Read the key document (keys.keyring.load_from_secret).
    "read": ("GetSecretValue",),
    # Read it and put a new version (keys.secret.create_keys_in_secret): never create, delete or re-policy it.
    "write": ("GetSecretValue", "PutSecretValue"),
}


@dataclass(frozen=True)
class FunctionNeeds:
    """What one function reaches when deployed: tables, actions on each, the key secret."""

    description: str
    #: table setting -> DynamoDB actions on that table
    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: "" (none), "read" or "write": access to the key secret
    secret: str = ""
    #: table setting -> actions allowed only on items whose partition key starts with a prefix: (action, prefix)
    #: pairs, granted under the ``dynamodb:LeadingKeys`` condition (a read-only function spending DPoP proofs may
    #: put ``dpop#`` items and nothing else).
    prefixed: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def secret_actions(self) -> tuple[str, ...]:
        return SECRET_ACTIONS[self.secret]

    def merged(self, extra: FunctionNeeds) -> FunctionNeeds:
        tables = {setting: tuple(actions) for setting, actions in self.tables.items()}
        for setting, actions in extra.tables.items():
            tables[setting] = tuple(dict.fromkeys((*tables.get(setting, ()), *actions)))
        secret = max(self.secret, extra.secret, key=list(SECRET_ACTIONS).index)
        prefixed = {setting: tuple(pairs) for setting, pairs in self.prefixed.items()}
        for setting, pairs in extra.prefixed.items():
            prefixed[setting] = tuple(dict.fromkeys((*prefixed.get(setting, ()), *pairs)))
        return FunctionNeeds(f"{self.description} {extra.description}", tables, secret, prefixed)

    def unconditioned(self, setting: str) -> tuple[str, ...]:
        """The actions on ``setting``'s table granted on every item: those not limited to a key prefix."""
        limited = {action for action, _ in self.prefixed.get(setting, ())}
        return tuple(a for a in self.tables.get(setting, ()) if a not in limited)


FUNCTIONS: dict[str, FunctionNeeds] = {
    "metadata": FunctionNeeds(
        "Discovery (RFC 8414) and the JWKS: reads the published keys, no table.",
        secret="read",
    ),
    "token": FunctionNeeds(
        "The token endpoint: reads the client (and keeps a client ID metadata document's client when it fetched "
        "the document again); spends codes, rotates refresh tokens and records access tokens (transactions of "
        "puts and conditional updates); spends a private_key_jwt client's assertion (a conditional put); signs "
        "with the private key.",
        {"clients_table": ("GetItem", "UpdateItem"),
         "tokens_table": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem")},
        secret="read",
    ),
    "authorize": FunctionNeeds(
        "The browser pages: the client (a client ID metadata document's kept when fetched), the user signing in; "
        "sessions, consent, the login throttle, pushed authorization requests (read, their decision started and "
        "spent by conditional updates) and "
        "authorization codes in the tokens table; reads the published keys to check the id_token_hint of "
        "OpenID Connect logout and sign-in. Signs nothing.",
        {
            "clients_table": ("GetItem", "UpdateItem"),
            "users_table": ("GetItem",),
            "tokens_table": ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"),
        },
        secret="read",
    ),
    "par": FunctionNeeds(
        "Pushed authorization requests (RFC 9126): reads the client (and keeps a client ID metadata document's "
        "client when it fetched the document again, counting the fetch per address: a conditional increment in the "
        "tokens table); stores the pushed request (a conditional put). Never a key.",
        {"clients_table": ("GetItem", "UpdateItem"), "tokens_table": ("PutItem", "UpdateItem")},
    ),
    "device": FunctionNeeds(
        "The device authorization endpoint (RFC 8628): reads the client (spends a private_key_jwt client's "
        "assertion: a conditional put), stores the device and user codes.",
        {"clients_table": ("GetItem",), "tokens_table": ("PutItem",)},
    ),
    "account": FunctionNeeds(
        "The signed-in user's JSON API: the session and its user; personal access tokens issued through the "
        "personal access client (found by a scan, once per container), listed through the owner index, revoked; "
        "the apps the user authorized (families, through the owner index) revoked with their consent; the user's "
        "own clients (the user index) made, changed, revoked; signs with the private key.",
        {
            "clients_table": ("Scan", "Query", "GetItem", "PutItem", "UpdateItem"),
            "users_table": ("GetItem",),
            "tokens_table": ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
        },
        secret="read",
    ),
    "revoke": FunctionNeeds(
        "Token revocation (RFC 7009): the calling client (a client ID metadata document's kept when fetched); the "
        "access token's record, or the refresh token and its family, revoked together with the family's access "
        "tokens (a transaction); spends a private_key_jwt client's assertion (a conditional put); reads the "
        "published keys.",
        {"clients_table": ("GetItem", "UpdateItem"), "tokens_table": ("BatchGetItem", "UpdateItem", "PutItem")},
        secret="read",
    ),
    "introspect": FunctionNeeds(
        "Token introspection (RFC 7662): the calling client; the token's record and its client in one read, or "
        "the refresh token and its family; spends a private_key_jwt client's assertion (a conditional put); reads "
        "the published keys.",
        {"clients_table": ("GetItem", "BatchGetItem"), "tokens_table": ("BatchGetItem", "PutItem")},
        secret="read",
    ),
    "register": FunctionNeeds(
        "Dynamic client registration (RFC 7591/7592): creates, reads, replaces and revokes registered clients; "
        "counts registrations per address (a conditional increment in the tokens table). Never a key.",
        {"clients_table": ("GetItem", "PutItem", "UpdateItem"), "tokens_table": ("UpdateItem",)},
    ),
    "mcp": FunctionNeeds(
        "The demo MCP server, a protected resource of its own: its in-process guard reads the token's record and "
        "its client in one read, and the published keys; then it answers from the demo data. Writes nothing.",
        {"tokens_table": ("BatchGetItem",), "clients_table": ("BatchGetItem",)},
        secret="read",
    ),
    "userinfo": FunctionNeeds(
        "OpenID Connect's UserInfo endpoint: the access token's record and its client in one read, then its user; "
        "reads the published keys.",
        {"tokens_table": ("BatchGetItem",), "clients_table": ("BatchGetItem",), "users_table": ("GetItem",)},
        secret="read",
    ),
    "api": FunctionNeeds(
        "The demo protected API: reads the token's user for /api/user.",
        {"users_table": ("GetItem",)},
    ),
    GUARD: FunctionNeeds(
        "The guard: one BatchGetItem reads the token record and its client (storage.revocation).",
        {"tokens_table": ("BatchGetItem",), "clients_table": ("BatchGetItem",)},
        secret="read",
    ),
    INSTALL_KEYS: FunctionNeeds(
        "The install-keys custom resource: the keys into the secret, the default clients (admin.install).",
        {"clients_table": ("Scan", "PutItem")},
        secret="write",
    ),
}


#: What an optional grant adds to a function when ``[grants]`` turns it on: (grant, function) -> the extra.
WHEN_ENABLED: dict[tuple[str, str], FunctionNeeds] = {
    ("password", "token"): FunctionNeeds(
        "With the password grant: the user's password, throttled as the sign-in page is.",
        {"users_table": ("GetItem",), "tokens_table": ("BatchGetItem", "UpdateItem", "DeleteItem")},
    ),
    ("implicit", "authorize"): FunctionNeeds(
        "With the implicit grant: it signs access tokens and records them.",
        {"tokens_table": ("PutItem",)},
    ),
}


#: What accepting DPoP-bound tokens (``[dpop] enabled``, RFC 9449 7) adds to a protected resource: each proof is
#: spent once, deployment-wide, by a conditional put in the tokens table (storage.ledger). The token function puts
#: already.
WHEN_DPOP: dict[str, FunctionNeeds] = {
    name: FunctionNeeds("With DPoP: each proof spent once (a conditional put of a dpop# item, nothing else).",
                        {"tokens_table": ("PutItem",)}, prefixed={"tokens_table": (("PutItem", "dpop#"),)})
    for name in (GUARD, "mcp", "userinfo")
}


def needs(function: str, settings: Any = None) -> FunctionNeeds:
    """What ``function`` needs; with ``settings``, including what the optional grants it turns on add."""
    try:
        found = FUNCTIONS[function]
    except KeyError:
        raise KeyError(
            f"passport.iam_manifest.FUNCTIONS has no entry for the function {function!r}: say which tables, actions "
            "and secret access it needs"
        ) from None
    grants = getattr(settings, "grants", None)
    for (grant, name), extra in WHEN_ENABLED.items():
        if name == function and getattr(grants, grant, False):
            found = found.merged(extra)
    dpop = getattr(settings, "dpop", None)
    if function in WHEN_DPOP and (settings is None or getattr(dpop, "enabled", False)):
        found = found.merged(WHEN_DPOP[function])
    return found
