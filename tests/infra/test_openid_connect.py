"""The OpenID Connect surface in the synthesized template: the UserInfo function (OpenID Connect Core 1.0 section
5.3) with its routes, its least-privilege role, its alarms and its dashboard lines; discovery (OpenID Connect
Discovery 1.0 section 4) and RP-initiated logout (RP-Initiated Logout 1.0 section 2) on the functions that serve
them; the pages' role reading the key secret for the id_token_hint, and writing nothing there."""

from __future__ import annotations

from passport import iam_manifest

from tests.infra.test_iam import DYNAMODB_WRITES, SECRET_WRITES, XRAY, grants, role_of
from tests.infra.test_monitoring import alarms_on, dashboard_body, function_ids
from tests.infra.test_stack import api_methods


def _grants(synthesized, name: str) -> set[tuple[str, str]]:
    """(action, table setting | "secret" | "logs" | "*") of every grant of the function's role."""
    tables = {synthesized.logical_id(t): s for s, t in synthesized.stack.tables.tables.items()}
    secret = synthesized.logical_id(synthesized.stack.keys.secret)
    role = role_of(synthesized, synthesized.stack.functions[name].function)
    found = set()
    for grant in grants(synthesized.template):
        if grant.role == role:
            where = tables.get(grant.resource) or ("secret" if grant.resource == secret else grant.resource)
            found.add((grant.action, "logs" if grant.action.startswith("logs:") else where))
    return found


def test_the_userinfo_function_serves_get_and_post_oauth_userinfo_and_nothing_else(synthesized, template):
    """Core 5.3.1: "The UserInfo Endpoint MUST support the use of the HTTP GET and HTTP POST methods"."""
    function = synthesized.logical_id(synthesized.stack.functions["userinfo"].function)
    methods = api_methods(template)
    served = {key for key, method in methods.items() if "Uri" in method["Integration"]  # not a mock preflight
              and {"Fn::GetAtt": [function, "Arn"]} in method["Integration"]["Uri"]["Fn::Join"][1]}
    assert served == {"GET /oauth/userinfo", "POST /oauth/userinfo"}
    for key in served:  # the access token is checked by the endpoint itself (RFC 6750 3), not by the guard
        assert methods[key]["AuthorizationType"] == "NONE" and methods[key]["Integration"]["Type"] == "AWS_PROXY"
    props = synthesized.resources[function]["Properties"]
    assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "passport-userinfo"


def test_discovery_is_served_by_the_metadata_function_and_logout_by_the_pages(synthesized, template):
    methods = api_methods(template)
    for key, name in (("GET /.well-known/openid-configuration", "metadata"), ("GET /oauth/logout", "authorize"),
                      ("POST /oauth/logout", "authorize")):
        function = synthesized.logical_id(synthesized.stack.functions[name].function)
        assert {"Fn::GetAtt": [function, "Arn"]} in methods[key]["Integration"]["Uri"]["Fn::Join"][1], key
        assert methods[key]["AuthorizationType"] == "NONE", key


def test_the_userinfo_role_reads_a_token_its_client_and_its_user_and_the_keys_and_writes_only_dpop_proofs(
    synthesized
):
    """A DPoP proof spent is its one write (a dpop# item: tests/infra/test_iam.py checks the condition)."""
    assert _grants(synthesized, "userinfo") == {
        ("dynamodb:BatchGetItem", "tokens_table"),
        ("dynamodb:PutItem", "tokens_table"),
        ("dynamodb:BatchGetItem", "clients_table"),
        ("dynamodb:GetItem", "users_table"),
        ("secretsmanager:GetSecretValue", "secret"),
        ("logs:CreateLogStream", "logs"),
        ("logs:PutLogEvents", "logs"),
        *((action, "*") for action in XRAY),
    }
    env = synthesized.resources[synthesized.logical_id(synthesized.stack.functions["userinfo"].function)][
        "Properties"]["Environment"]["Variables"]
    assert {k for k in env if k.startswith("PASSPORT_STORAGE_")} == {
        "PASSPORT_STORAGE_TOKENS_TABLE", "PASSPORT_STORAGE_CLIENTS_TABLE", "PASSPORT_STORAGE_USERS_TABLE"}
    assert "PASSPORT_KEYS_SECRET_NAME" in env


def test_the_pages_role_reads_the_key_secret_for_the_id_token_hint_and_never_writes_it(synthesized):
    """RP-Initiated Logout 1.0 section 2: the hint is checked against this server's keys. The shipped settings
    have the implicit grant off, so this read is the hint's."""
    assert not synthesized.stack.settings.grants.implicit
    pages = _grants(synthesized, "authorize")
    assert ("secretsmanager:GetSecretValue", "secret") in pages
    assert not {action for action, _ in pages if action in SECRET_WRITES}
    assert not {(a, t) for a, t in pages if a in DYNAMODB_WRITES and t == "users_table"}
    # Its one write to the clients table keeps a client ID metadata document's client (core/client_documents.py).
    assert {(a, t) for a, t in pages if a in DYNAMODB_WRITES and t == "clients_table"} == {
        ("dynamodb:UpdateItem", "clients_table")}


def test_the_userinfo_function_alarms_on_errors_and_throttles_and_is_on_the_dashboard(synthesized):
    userinfo = function_ids(synthesized)["userinfo"]
    for metric in ("Errors", "Throttles"):
        (alarm,) = alarms_on(synthesized, "AWS/Lambda", metric, FunctionName={"Ref": userinfo})
        assert alarm["AlarmName"].startswith(f"{synthesized.stack.stack_name}-"), metric
    body, parts = dashboard_body(synthesized)
    assert {"Ref": userinfo} in parts
    lines = [line for w in body["widgets"] if w["properties"].get("title", "").startswith("Other functions:")
             for line in w["properties"]["metrics"]]
    assert {line[-1].get("label") for line in lines if isinstance(line[-1], dict)} >= {"userinfo"}


def test_every_function_the_stack_builds_is_in_the_manifest_and_userinfo_is_one(synthesized):
    assert "userinfo" in synthesized.stack.functions
    assert set(synthesized.stack.functions) == set(iam_manifest.FUNCTIONS)
