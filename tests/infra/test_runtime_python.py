"""Where the layer build takes Debian's build of the runtime's Python from: APT's own configuration, read without
changing it (infra.runtime_python)."""

from __future__ import annotations

from pathlib import Path

from infra.runtime_python import apt_options, debian_archive

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def apt_etc(tmp_path: Path, *, one_line: str = "", sources: dict[str, str] | None = None) -> Path:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text(one_line)
    for name, text in (sources or {}).items():
        (etc / "sources.list.d" / name).write_text(text)
    return etc


def test_the_main_archive_of_a_deb822_sources_file_is_found_and_security_and_updates_are_not(tmp_path):
    etc = apt_etc(tmp_path, sources={"debian.sources": (
        "Types: deb\n"
        "URIs: http://mirror.invalid/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        f"Signed-By: {KEYRING}\n"
        "\n"
        "# the main archive\n"
        "Types: deb deb-src\n"
        "URIs: http://mirror.invalid/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main contrib\n"
        f"Signed-By: {KEYRING}\n"
    )})
    assert debian_archive(etc) == ("http://mirror.invalid/debian", KEYRING)


def test_a_one_line_entry_with_options_is_found(tmp_path):
    etc = apt_etc(tmp_path, one_line=(
        "# a comment\n"
        "deb http://mirror.invalid/debian-security bookworm-security main\n"
        f"deb [arch=amd64 signed-by={KEYRING}] http://mirror.invalid/debian bookworm main non-free\n"
    ))
    assert debian_archive(etc) == ("http://mirror.invalid/debian", KEYRING)


def test_disabled_entries_other_components_and_no_sources_at_all_give_none(tmp_path):
    etc = apt_etc(tmp_path, one_line="deb http://mirror.invalid/debian bookworm contrib\n", sources={
        "off.sources": "Enabled: no\nTypes: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n"
                       "Components: main\n",
    })
    assert debian_archive(etc) is None
    assert debian_archive(tmp_path / "nothing") is None


def test_an_inline_key_block_leaves_the_keyring_to_apt(tmp_path):
    etc = apt_etc(tmp_path, sources={"debian.sources": (
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: stable\nComponents: main\n"
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n"
    )})
    assert debian_archive(etc) == ("http://mirror.invalid/debian", None)


def test_apt_runs_on_a_private_state_and_never_on_the_machines(tmp_path):
    options = apt_options(tmp_path, "http://mirror.invalid/debian", KEYRING)
    settings = dict(options[i + 1].split("=", 1) for i, option in enumerate(options) if option == "-o")
    assert settings["Dir::Etc::SourceList"] == str(tmp_path / "sources.list")
    assert settings["Dir::Etc::SourceParts"] == "/nonexistent"
    assert settings["Dir::State::Lists"].startswith(str(tmp_path))
    assert settings["Dir::Cache"].startswith(str(tmp_path))
    assert settings["Dir::State::Status"] == "/dev/null"
    sources = (tmp_path / "sources.list").read_text().splitlines()
    assert sources == [f"deb [signed-by={KEYRING}] http://mirror.invalid/debian {suite} main"
                       for suite in ("stable", "testing", "unstable")]
