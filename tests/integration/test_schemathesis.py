"""Schemathesis against the product's own OpenAPI document (``GET /openapi.json``), through the local gateway on
a real socket (docs/operations.md: the OpenAPI document of the HTTP interface; docs/http.md: never a 500).

Every operation of the document gets generated requests, valid by the document (positive) and invalid
(negative). Every answer must not be a server error; valid requests' answers must also match the document:
a documented status code, a documented content type, and the documented response schema. A mismatch means
the document misdescribes the product (fix :mod:`passport.openapi`) or the product misbehaves.
"""

from __future__ import annotations

import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_client
from tests.fuzzing import fuzz
from tests.integration.browser import Browser

pytestmark = [pytest.mark.slow, pytest.mark.passport_config(
    # Registration open (RFC 7591), as the shipped passport.toml has it: the document's 201 is reachable.
    "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n[registration]\npolicy = \"open\"\n"
)]

PASSWORD = "correct horse battery staple"
#: Examples per operation and mode: about 30 operations, each example a real request.
POSITIVE_EXAMPLES = 6
NEGATIVE_EXAMPLES = 4
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def signed_in(env, server) -> dict[str, str]:
    """Headers that make the JSON API and the guarded demo API answer for real: a session with its XSRF
    token (the signed-in user's API) and a bearer token with every scope (the demo API)."""
    from passport import admin
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoClientStore, DynamoUserStore

    settings()
    admin.install(env.settings, DynamoClientStore())
    user = create_user(DynamoUserStore(), email=f"s{uuid.uuid4().hex[:8]}@example.com", name="Schema",
                       password=PASSWORD)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    made = browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "schemathesis",
                             "scopes": ["orders:read", "orders:write"]},
                             headers={"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]})
    assert made.status_code == 201, made.text
    return {
        "Cookie": f"passport_session={browser.http.cookies['passport_session']}",
        "X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"],
        "Authorization": f"Bearer {made.json()['access_token']}",
    }


def operations(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 30, "the document lists every route"
    return found


def negatable(operation) -> bool:
    """Whether the document gives Schemathesis anything to break: parameters, a JSON body, or required form
    fields. (A form of optional strings cannot be made invalid; tests/integration/test_fuzz.py sends those
    endpoints hostile forms instead.)"""
    raw = operation.definition.raw
    content = raw.get("requestBody", {}).get("content", {})
    form = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
    return bool(raw.get("parameters")) or "application/json" in content or bool(form.get("required"))


def run_operation(operation, mode: GenerationMode, base: str, headers: dict[str, str], checks: list,
                  max_examples: int) -> str | None:
    """One operation, one generation mode: None, or the first failure's report."""
    http = requests.Session()

    @settings(fuzz(max_examples), suppress_health_check=[*fuzz(1).suppress_health_check, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        # Authentication the document cannot generate: the generated case's own headers win.
        sent = {**headers, **(case.headers or {})}
        response = case.call(base_url=base, session=http, headers=sent, allow_redirects=False, timeout=30)
        case.validate_response(response, checks=checks, headers=sent)
        assert "Traceback" not in response.text and 'File "' not in response.text, response.text[:500]

    try:
        check()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameters, every body field an optional string).
        return None if mode is GenerationMode.NEGATIVE else f"{operation.label}: no valid request can be generated"
    except (Exception, FailureGroup) as error:  # every operation's failure is collected, then all reported
        return f"{operation.label} [{mode.value}]: {type(error).__name__}: {error}"[:3000]
    finally:
        http.close()
    return None


def test_valid_requests_to_every_operation_get_documented_answers_and_never_a_server_error(server, signed_in):
    """docs/operations.md (the OpenAPI document) and docs/http.md (never a 500): for requests the document says are
    valid, each answer's status code, content type and body are the ones the document describes."""
    failures = [failure for operation in operations(server)
                if (failure := run_operation(operation, GenerationMode.POSITIVE, server.url, signed_in, CONFORMANCE,
                                             POSITIVE_EXAMPLES))]
    assert not failures, "\n\n".join(failures)


def test_invalid_requests_to_every_operation_never_get_a_server_error(server, env):
    """docs/http.md (errors, "Anywhere"): requests that break the document (wrong types, missing required parts,
    unexpected methods' bodies) are refused, never answered with a 5xx."""
    client = make_client(env)
    headers = {"Authorization": requests.auth._basic_auth_str(client.client_id, client.secret)}
    failures = [failure for operation in operations(server) if negatable(operation)
                and (failure := run_operation(operation, GenerationMode.NEGATIVE, server.url, headers,
                                             [not_a_server_error], NEGATIVE_EXAMPLES))]
    assert not failures, "\n\n".join(failures)
