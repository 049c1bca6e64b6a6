"""The README's walk-through, as a new user runs it: `passport serve` in one shell, the CLI in another, curl.

Runs the real command-line programs in subprocesses on a fresh folder: the server creates its keys and
default clients on first start, the CLI finds the running server's store with no extra flags, tokens work
through the guard, and everything survives a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, free_port

PASSPORT = str(Path(sys.executable).with_name("passport"))

pytestmark = pytest.mark.slow


class Serve:
    def __init__(self, folder: Path, port: int, extra: dict[str, str] | None = None) -> None:
        self.folder, self.port, self.extra = folder, port, extra or {}
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.output = ""

    def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSPORT_", "AWS_"))}
        env["PORT"] = str(self.port)
        env.update(self.extra)
        self.process = subprocess.Popen(
            [PASSPORT, "serve"], cwd=self.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                return "".join(lines)
        self.stop()
        raise AssertionError("server did not start:\n" + "".join(lines))

    def stop(self) -> str:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                rest, _ = self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                rest, _ = self.process.communicate()
            return rest or ""
        return ""


def cli(folder: Path, *args: str, stdin: str | None = None,
        extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSPORT_", "AWS_"))} | (extra or {})
    return subprocess.run([PASSPORT, *args], cwd=folder, env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def fresh_folder(tmp_path: Path) -> Path:
    shutil.copy(REPO / "passport.toml", tmp_path / "passport.toml")
    return tmp_path


def test_serve_then_cli_then_curl_then_restart(fresh_folder: Path):
    server = Serve(fresh_folder, free_port())
    banner = server.start()
    try:
        assert server.url in banner and "Personal Access Client" in banner and "client create" in banner
        keys = fresh_folder / ".passport" / "keys"
        assert (keys / "oauth-private.key").stat().st_mode & 0o777 == 0o600

        created = cli(fresh_folder, "client", "create", "--client", "--name", "svc", "--scope", "orders:read",
                      "--json")
        assert created.returncode == 0, created.stderr
        client = json.loads(created.stdout)
        assert {"client_id", "client_secret", "name", "redirect_uris", "grant_types", "scopes", "public",
                "first_party", "revoked"} <= set(client)

        token_response = requests.post(
            f"{server.url}/oauth/token", auth=(client["client_id"], client["client_secret"]),
            data={"grant_type": "client_credentials", "scope": "orders:read"},
        )
        assert token_response.status_code == 200, token_response.text
        token = token_response.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{server.url}/api/ping", headers=bearer).status_code == 200
        assert requests.get(f"{server.url}/api/orders", headers=bearer).status_code == 200
        assert requests.get(f"{server.url}/api/user", headers=bearer).status_code == 403
        missing = requests.get(f"{server.url}/api/ping")
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        refused = requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {tampered}"})
        assert refused.status_code == 401

        user = cli(fresh_folder, "user", "create", "--email", "ada@example.com", "--name", "Ada", "--password-stdin",
                   "--json", stdin="correct horse battery\n")
        assert user.returncode == 0, user.stderr
        assert set(json.loads(user.stdout)) >= {"id", "email", "name"}
        pat = cli(fresh_folder, "token", "create", "--user", "ada@example.com", "--name", "laptop", "--scope",
                  "orders:read", "--json")
        assert pat.returncode == 0, pat.stderr
        personal = json.loads(pat.stdout)
        assert set(personal) >= {"access_token", "token_id", "name", "scopes", "expires_at"}
        me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {personal['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
        duplicate = cli(fresh_folder, "user", "create", "--email", "ADA@example.com", "--name", "Ada",
                        "--password-stdin", stdin="another password\n")
        assert duplicate.returncode == 1 and duplicate.stderr.count("\n") == 1 and "Traceback" not in duplicate.stderr
    finally:
        stopped = server.stop()
    assert "data saved" in stopped

    # Data survives a restart, and a second start creates nothing new.
    again = Serve(fresh_folder, server.port)
    banner = again.start()
    try:
        assert "Created client" not in banner and "Created signing keys" not in banner
        listed = cli(fresh_folder, "client", "list", "--json")
        assert client["client_id"] in {c["client_id"] for c in json.loads(listed.stdout)}
        assert requests.get(f"{again.url}/api/orders", headers=bearer).status_code == 200
        revoked = cli(fresh_folder, "client", "revoke", client["client_id"], "--json")
        assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked"] is True
        # The authorizer cache (60 s by default) may still hold the answer; a new token is refused outright.
        refused = requests.post(f"{again.url}/oauth/token", auth=(client["client_id"], client["client_secret"]),
                                data={"grant_type": "client_credentials"})
        assert refused.status_code == 401
    finally:
        again.stop()


def test_cli_without_a_running_server_works_on_the_saved_store(fresh_folder: Path):
    created = cli(fresh_folder, "client", "create", "--client", "--name", "offline", "--json")
    assert created.returncode == 0, created.stderr
    client_id = json.loads(created.stdout)["client_id"]
    shown = cli(fresh_folder, "client", "show", client_id, "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["name"] == "offline"
    assert "client_secret" not in json.loads(shown.stdout)


def test_cli_errors_are_one_line_with_status_1(fresh_folder: Path):
    for args in (["client", "show", "no-such-client"],
                 ["client", "create", "--name", "x", "--grant", "magic"],
                 ["client", "create", "--name", "x", "--redirect-uri", "http://evil.example/cb"]):
        result = cli(fresh_folder, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("passport: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_scopes_and_keys_commands(fresh_folder: Path):
    scopes = cli(fresh_folder, "scopes", "--json")
    assert {"name": "orders:read", "description": "Read your orders", "default": False} in json.loads(scopes.stdout)
    for alg in ("ES256", "EdDSA"):
        made = cli(fresh_folder, "keys", "--force", "--alg", alg, "--json")
        assert made.returncode == 0 and json.loads(made.stdout)["created"] is True
    kept = cli(fresh_folder, "keys", "--json")
    assert json.loads(kept.stdout)["created"] is False
    rotated = cli(fresh_folder, "keys", "rotate", "--json")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["rotated"] is True


def test_client_create_shortcuts_set_the_grants(fresh_folder: Path):
    expected = {
        "--device": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        "--client": ["client_credentials"],
        "--personal": ["personal_access"],
        "--password": ["password", "refresh_token"],
    }
    for flag, grants in expected.items():
        extra = ["--public"] if flag == "--device" else []
        made = cli(fresh_folder, "client", "create", "--name", flag.strip("-"), flag, *extra, "--json")
        assert made.returncode == 0, made.stderr
        client = json.loads(made.stdout)
        assert client["grant_types"] == grants
    device = json.loads(cli(fresh_folder, "client", "list", "--json").stdout)
    assert any(c["public"] and "client_secret" not in c for c in device)
    confidential = next(c for c in device if not c["public"])
    rotated = cli(fresh_folder, "client", "rotate-secret", confidential["client_id"], "--json")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["client_secret"]
    public = next(c for c in device if c["public"])
    refused = cli(fresh_folder, "client", "rotate-secret", public["client_id"])
    assert refused.returncode == 1 and "public" in refused.stderr


def test_client_update_changes_only_what_it_is_given(fresh_folder: Path):
    made = json.loads(cli(fresh_folder, "client", "create", "--name", "web", "--redirect-uri",
                          "https://app.example/cb", "--scope", "orders:read", "--json").stdout)
    changed = cli(fresh_folder, "client", "update", made["client_id"], "--name", "web app", "--first-party",
                  "--redirect-uri", "https://app.example/cb", "--redirect-uri", "http://127.0.0.1/cb", "--json")
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(cli(fresh_folder, "client", "show", made["client_id"], "--json").stdout)
    assert shown["name"] == "web app" and shown["first_party"] is True
    assert shown["redirect_uris"] == ["https://app.example/cb", "http://127.0.0.1/cb"]
    assert shown["scopes"] == ["orders:read"] and shown["grant_types"] == made["grant_types"]
    bad = cli(fresh_folder, "client", "update", made["client_id"], "--redirect-uri", "http://evil.example/cb")
    assert bad.returncode == 1 and "redirect URI" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    undefined = cli(fresh_folder, "client", "update", made["client_id"], "--scope", "nope")
    assert undefined.returncode == 1 and "undefined scope" in undefined.stderr
    gone = cli(fresh_folder, "client", "update", "00000000-0000-0000-0000-000000000000", "--name", "x")
    assert gone.returncode == 1 and "no client" in gone.stderr


def test_a_kill_9_right_after_a_token_loses_nothing_the_server_acknowledged(fresh_folder: Path):
    """The local store is DynamoDB Local: what it acknowledged is on disk before the answer goes out. Killed
    with SIGKILL within milliseconds of its last 200, the server starts again with the client, the user and the
    token it issued (the guard finds the token's record)."""
    server = Serve(fresh_folder, free_port())
    server.start()
    try:
        created = json.loads(cli(fresh_folder, "client", "create", "--client", "--name", "svc", "--scope",
                                 "orders:read", "--json").stdout)
        user = cli(fresh_folder, "user", "create", "--email", "kim@example.com", "--name", "Kim",
                   "--password-stdin", "--json", stdin="correct horse battery\n")
        assert user.returncode == 0, user.stderr
        tokens = []
        for _ in range(5):
            answer = requests.post(f"{server.url}/oauth/token", auth=(created["client_id"], created["client_secret"]),
                                   data={"grant_type": "client_credentials", "scope": "orders:read"}, timeout=10)
            assert answer.status_code == 200, answer.text
            tokens.append(answer.json()["access_token"])
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    finally:
        server.stop()
    again = Serve(fresh_folder, server.port)
    again.start()
    try:
        for token in tokens:
            guarded = requests.get(f"{again.url}/api/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert guarded.status_code == 200, guarded.text
        listed = json.loads(cli(fresh_folder, "client", "list", "--json").stdout)
        assert created["client_id"] in {c["client_id"] for c in listed}
        pat = cli(fresh_folder, "token", "create", "--user", "kim@example.com", "--name", "laptop", "--json")
        assert pat.returncode == 0, pat.stderr
    finally:
        again.stop()


#: The local store of earlier versions: moto's embedded server (now tests/moto_store.py), snapshotted to
#: .passport/store.json. Run in a child
#: (moto keeps its tables in module globals, and the test process has its own store).
_LEGACY = """
import json, sys
from passport.config import load_settings
from passport.core.clients import new_client
from tests.moto_store import EmbeddedStore, activate
from passport.storage.repositories import DynamoClientStore
from passport.storage.tables import ensure_tables
settings = load_settings()
with EmbeddedStore(settings.data_path) as store:
    activate(store.endpoint)
    ensure_tables(settings.storage)
    made = new_client(name="from before", grant_types=("client_credentials",), defined_scopes=("orders:read",),
                      scopes=("orders:read",))
    DynamoClientStore().create(made.client)
print(json.dumps({"client_id": made.client.client_id, "client_secret": made.secret}))
"""


def test_an_earlier_versions_store_is_imported_once_and_its_clients_still_get_tokens(fresh_folder: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSPORT_", "AWS_"))}
    env["PYTHONPATH"] = str(REPO)  # tests.moto_store: the old store lives on only as this test's scaffolding
    made = subprocess.run([sys.executable, "-c", _LEGACY], cwd=fresh_folder, env=env, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    old = json.loads(made.stdout.strip().splitlines()[-1])
    assert (fresh_folder / ".passport" / "store.json").is_file()
    server = Serve(fresh_folder, free_port())
    banner = server.start()
    try:
        assert "Imported the earlier local store" in banner
        answer = requests.post(f"{server.url}/oauth/token", auth=(old["client_id"], old["client_secret"]),
                               data={"grant_type": "client_credentials", "scope": "orders:read"}, timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        server.stop()
    assert not (fresh_folder / ".passport" / "store.json").exists()
    assert (fresh_folder / ".passport" / "store.json.imported").is_file()  # kept aside, not deleted
    again = Serve(fresh_folder, server.port)
    assert "Imported" not in again.start()
    again.stop()


@pytest.mark.parametrize("how", ["AWS_ENDPOINT_URL_DYNAMODB", "PASSPORT_LOCAL_DYNAMODB_ENDPOINT"])
def test_serve_and_the_cli_use_a_dynamodb_the_user_already_runs(fresh_folder: Path, how: str):
    """The standard variable, or [local] dynamodb_endpoint, points passport serve and the CLI at a DynamoDB the
    user runs (here a DynamoDB Local of their own), with the environment's credentials: no store of ours."""
    import botocore.session
    from passport.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as theirs:
        extra = {how: theirs.endpoint, "AWS_ACCESS_KEY_ID": theirs.access_key, "AWS_SECRET_ACCESS_KEY": "theirs",
                 "AWS_DEFAULT_REGION": "us-east-1"}
        server = Serve(fresh_folder, free_port(), extra)
        server.start()
        try:
            made = cli(fresh_folder, "client", "create", "--client", "--name", "svc", "--scope", "orders:read",
                       "--json", extra=extra)
            assert made.returncode == 0, made.stderr
            client = json.loads(made.stdout)
            answer = requests.post(f"{server.url}/oauth/token", auth=(client["client_id"], client["client_secret"]),
                                   data={"grant_type": "client_credentials", "scope": "orders:read"}, timeout=10)
            assert answer.status_code == 200, answer.text
        finally:
            stopped = server.stop()
        assert theirs.endpoint in stopped
        tables = botocore.session.get_session().create_client(
            "dynamodb", endpoint_url=theirs.endpoint, region_name="us-east-1",
            aws_access_key_id=theirs.access_key, aws_secret_access_key="theirs",
        ).list_tables()["TableNames"]
        assert {"passport-clients", "passport-users", "passport-tokens"} <= set(tables)
    assert not (fresh_folder / ".passport" / "dynamodb").exists()
