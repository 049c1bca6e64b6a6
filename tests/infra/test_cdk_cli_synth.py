"""``make synth`` on a clean copy of the repository (the files a clone has), with no AWS credentials anywhere in
its environment: the pinned npm CDK CLI runs ``app.py`` and writes the template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def clean_copy(target: Path) -> Path:
    """Tracked and untracked-but-not-ignored files: what a clone of the work would hold. The virtual
    environment, the CDK CLI and the layer cache are shared (a clone would install and build them)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (REPO / ".build").mkdir(exist_ok=True)  # one layer cache (and its lock) for the copy and this run
    for shared in (".venv", "node_modules", ".build"):
        if (REPO / shared).exists():
            (target / shared).symlink_to(REPO / shared)
    return target


#: Where this machine's TLS trust comes from; none of them can hold an AWS credential.
TRUST_VARIABLES = ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "NPM_CONFIG_CAFILE", "npm_config_cafile")


def test_make_synth_needs_no_aws_credentials(tmp_path):
    repo = clean_copy(tmp_path / "clone")
    assert not (repo / "cdk.out").exists()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        # Nowhere to find credentials: no variables, no files, no instance metadata.
        "AWS_CONFIG_FILE": str(tmp_path / "missing-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # The machine's trust store (a registry behind a TLS proxy): npm needs it to fetch the CDK CLI.
        **{name: os.environ[name] for name in TRUST_VARIABLES if name in os.environ},
    }
    # The virtual environment is the shared one: do not let make reinstall it into the copy.
    result = subprocess.run(
        ["make", "-o", ".venv/.installed-stamp", "synth"],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "node_modules/.bin/cdk synth" in result.stdout  # the pinned npm CLI, not a global one
    template = json.loads((repo / "cdk.out" / "PassportStack.template.json").read_text())
    assert "Custom::PassportInstallKeys" in {r["Type"] for r in template["Resources"].values()}
    manifest = json.loads((repo / "cdk.out" / "manifest.json").read_text())
    assert manifest["artifacts"]["PassportStack"]["environment"] == "aws://unknown-account/unknown-region"
    report = json.loads((repo / "cdk.out" / "validation-report.json").read_text())
    assert report["pluginReports"] == []
