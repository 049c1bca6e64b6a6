"""The FAPI 2.0 Security Profile's flow run by a certified strict client library, oauth4webapi (npm, on node): a
client held to the ``fapi2`` profile pushes its authorization request (RFC 9126) authenticated with
``private_key_jwt`` (RFC 7523), the user approves in Chromium, the code is exchanged and refreshed with DPoP proofs
(RFC 9449), and the demo API is called through the guard with a DPoP-bound token, and userinfo too. The calls a
thief or a confused client would make next (the token as Bearer, a replayed proof, a proof for another URL or
method, by another key, an hour old) are each refused: with API Gateway's one 401 through the guard, with RFC 9449's
own errors at userinfo."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
import jwt
import pytest

from tests.e2e.chromium import serve_callback
from tests.e2e.node_clients import SCRIPTS, converse, oauth4webapi
from tests.e2e.test_mcp_oauth import chromium_approval
from tests.integration import conftest as integration

user = integration.user
#: The demo API's routes and one that takes POST, so that a proof made for GET can be sent to a POST.
FAPI_SERVER = """
security_profile = "baseline"
[[demo_api.routes]]
method = "GET"
path = "/api/orders"
scopes = ["orders:read"]
[[demo_api.routes]]
method = "GET"
path = "/api/ping"
[[demo_api.routes]]
method = "POST"
path = "/api/orders"
scopes = ["orders:read"]
"""


@pytest.fixture
def callback():
    with serve_callback(b"You may close this window.") as record:
        yield record


def fapi_client(env, public_jwk: dict[str, Any], redirect_uri: str) -> str:
    """A client held to the FAPI 2.0 profile (its own ``profile``, on a baseline server), authenticating with the
    key oauth4webapi made."""
    from passport import compose
    from passport.core.clients import new_client, validate_client_keys
    from passport.storage.repositories import DynamoClientStore

    keys = validate_client_keys(json.dumps({"keys": [public_jwk]}))
    made = new_client(name="FAPI client", grant_types=("authorization_code", "refresh_token"),
                      redirect_uris=(redirect_uri,), scopes=("orders:read",), defined_scopes=env.settings.scopes,
                      keys=keys, application_type="native")
    from dataclasses import replace

    client = replace(made.client, profile="fapi2")
    compose.bind_storage()
    DynamoClientStore().create(client)
    return client.client_id


@pytest.mark.timeout(90)
@pytest.mark.passport_config(FAPI_SERVER)
def test_oauth4webapi_runs_the_fapi2_flow_and_every_misuse_of_the_dpop_token_is_refused(
    env, server, user, callback
):
    library = oauth4webapi()

    def answer(message: dict[str, Any]) -> dict[str, Any] | None:
        if "jwk" in message:
            return {"client_id": fapi_client(env, message["jwk"], callback.url)}
        query, _ = anyio.run(chromium_approval, message["authorize"], server.url, callback, user)
        landed = [hit for hit in callback.hits if hit.startswith("/callback?")][-1]
        assert query["iss"] == server.url  # RFC 9207, FAPI 2.0 5.3.2.2 point 11
        return {"callback": callback.url.removesuffix("/callback") + landed}

    outcome = converse([str(SCRIPTS / "fapi_client.mjs"), str(library), server.url, callback.url,
                        f"{server.url}/api/orders", f"{server.url}/api/ping"], answer, seconds=80)
    assert "result" in outcome, outcome.get("error")
    result = outcome["result"]

    assert result["parExpiresIn"] > 0
    assert result["tokenType"].lower() == "dpop" and result["refreshedTokenType"].lower() == "dpop"
    assert result["hasRefresh"] and set(result["scope"].split()) == {"openid", "offline_access", "orders:read"}
    claims = jwt.decode(result["accessToken"], options={"verify_signature": False})
    assert set(claims["cnf"]) == {"jkt"}
    assert result["callStatus"] == 200 and result["orders"]["orders"]
    assert result["userinfoStatus"] == 200 and result["userinfoSub"] == user.id

    # Through the guard (API Gateway's REST authorizer): 401, both schemes offered, invalid_token in each (an
    # authorizer cannot choose its 401's headers: docs/security.md, "Sender-constrained tokens (DPoP)").
    through_guard = result["refusals"]
    assert through_guard["firstUse"]["status"] == 200
    for name in ("asBearer", "replayed", "anotherUrl", "anotherMethod"):
        refused = through_guard[name]
        assert refused["status"] == 401, (name, refused)
        assert 'DPoP error="invalid_token"' in refused["challenge"], (name, refused)
    for name in ("anotherKey", "stale"):
        refused = through_guard[name]
        assert refused["status"] == 401, (name, refused)
        assert {"scheme": "dpop", "error": "invalid_token"} in refused["challenges"], (name, refused)

    # At a resource that guards itself (userinfo): RFC 9449 7.1's own error for each, in the DPoP challenge.
    at_userinfo = result["userinfoRefusals"]
    assert at_userinfo["firstUse"]["status"] == 200
    expected = {"asBearer": "invalid_token", "replayed": "invalid_dpop_proof", "anotherUrl": "invalid_dpop_proof",
                "anotherMethod": "invalid_dpop_proof"}
    for name, error in expected.items():
        refused = at_userinfo[name]
        assert refused["status"] == 401, (name, refused)
        assert dpop_error(refused["challenge"]) == error, (name, refused)
    for name in ("anotherKey", "stale"):
        refused = at_userinfo[name]
        assert refused["status"] == 401, (name, refused)
        assert {"scheme": "dpop", "error": "invalid_dpop_proof"} in refused["challenges"], (name, refused)


def dpop_error(challenge: str) -> str | None:
    """The error of the DPoP challenge in a WWW-Authenticate value (RFC 9449 7.1), None without one."""
    match = re.search(r'(?:^|,\s*)DPoP\s+(?:[^,]*,\s*)*?error="([^"]+)"', challenge)
    return match.group(1) if match else None
