"""Every reference in the repository can be followed from it: code, comments, tests and docs cite an RFC or spec
section, or a page under docs/, never a planning document or a tracker entry a reader of the repository does not
have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: A planning document's section or a tracker's entry (the product specification by its upper-case short name, an
#: issue by its number): documents outside the repository. Spelt so that this file does not match itself.
OUTSIDE = re.compile(r"S[P]EC|[Ii]ssue [0-9]")
#: Binary and generated files hold no prose.
SKIPPED_SUFFIXES = {".png", ".jpg", ".ico", ".gz", ".zip", ".jar", ".whl", ".db"}


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name for name in listed.decode().split("\0") if name]


def test_no_file_points_at_a_document_outside_the_repository():
    found = []
    for path in tracked_files():
        if path.suffix in SKIPPED_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not found, "cite the RFC, the spec section or the page under docs/ instead:\n" + "\n".join(found)
