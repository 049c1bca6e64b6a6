"""The Lambda runtime's Python on this machine, to compile the layer's bytecode without Docker.

Lambda mounts a layer read-only, so a layer without ``.pyc`` files makes every cold start compile every module it
imports. Bytecode is only used by the Python whose magic number it carries, and that number changes with every
minor version: the layer must be compiled by the runtime's own minor version (``passport.iam_manifest.LAMBDA_PYTHON``),
whatever Python runs the build. It is found, in this order:

1. ``python3.14`` on PATH, if it runs and is that version (PATH is not trusted: a pyenv shim for a version that is
   not installed exits 127, and a ``python3.14`` may be a link to another version);
2. a copy unpacked by an earlier build, in ``.build/python3.14-<arch>/``;
3. Debian's own build of that Python, from the Debian archive this machine's APT is configured with: the
   ``python3.14-minimal`` package and the libraries it runs on are downloaded by ``apt-get download`` (signatures
   checked against the archive keyring the configuration names) and unpacked into ``.build/``. Nothing is
   installed and nothing of the system changes: APT runs on a private list and cache folder, and the interpreter
   runs through the unpacked dynamic loader, on the unpacked C library, whatever this machine's own is. The
   suites searched are the archive's ``stable``, ``testing`` and ``unstable``, the newest package winning.

Anything else (no APT, no network, no such package) is one line on stderr saying what to do, and the layer ships
without bytecode: an optimization is lost, the deployment still works. Standard library only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Searched for the runtime's Python; the newest package among them is taken.
DEBIAN_SUITES = ("stable", "testing", "unstable")
#: What the full standard library needs beyond the minimal interpreter (the bench runs the functions on it);
#: compiling needs only the first five.
MINIMAL_PACKAGES = ("python{v}-minimal", "libpython{v}-minimal", "libc6", "zlib1g", "libexpat1")
STDLIB_PACKAGES = (
    "libpython{v}-stdlib", "libssl3t64", "libffi8", "libbz2-1.0", "liblzma5", "libzstd1", "libsqlite3-0",
    "libuuid1",
)
APT_TIMEOUT = 300
PROBE = (
    "import importlib.util, json, sys; print(json.dumps([sys.version.split()[0], "
    "importlib.util.MAGIC_NUMBER.hex(), sys.implementation.cache_tag]))"
)


class RuntimePythonUnavailable(RuntimeError):
    """The runtime's Python could not be found or unpacked; the message says why in one line."""


@dataclass(frozen=True)
class Interpreter:
    """A Python of the runtime's version and how to start it (``argv`` takes the interpreter's own options)."""

    argv: tuple[str, ...]
    version: str  # "3.14.8"
    magic: bytes  # importlib.util.MAGIC_NUMBER: the first four bytes of every .pyc it writes and reads
    cache_tag: str  # "cpython-314": __pycache__/<module>.<cache_tag>.pyc
    origin: str  # where it came from, for messages

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]


def probe(argv: Sequence[str], python: str, timeout: float = 60) -> Interpreter:
    """Start ``argv`` and ask it what it is; refuse it unless it is Python ``python`` (``"3.14"``)."""
    try:
        result = subprocess.run([*argv, "-I", "-c", PROBE], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimePythonUnavailable(f"{argv[-1]} does not start ({type(error).__name__})") from None
    if result.returncode != 0:
        raise RuntimePythonUnavailable(f"{argv[-1]} does not run Python {python} (it exits {result.returncode})")
    try:
        version, magic, cache_tag = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimePythonUnavailable(f"{argv[-1]} does not answer as a Python does") from None
    if ".".join(version.split(".")[:2]) != python:
        raise RuntimePythonUnavailable(f"{argv[-1]} does not run Python {python} (it is Python {version})")
    return Interpreter(tuple(argv), version, bytes.fromhex(magic), cache_tag, argv[-1])


def on_path(python: str) -> Interpreter | None:
    """``python3.14`` from PATH; None when there is none, an error when there is one that does not work."""
    found = shutil.which(f"python{python}")
    return None if found is None else probe([found], python)


# -- Debian's build, unpacked ----------------------------------------------------------------------------------


def find(python: str, build_dir: Path, *, stdlib: bool = False) -> Interpreter:
    """The runtime's Python: from PATH, else unpacked in ``build_dir`` (unpacking it first if need be).

    ``stdlib``: the whole standard library, not only what compiling needs (the bench runs the functions on it).
    Raises :class:`RuntimePythonUnavailable` with a one-line reason."""
    path_error = None
    try:
        found = on_path(python)
    except RuntimePythonUnavailable as error:
        found, path_error = None, error
    if found is not None:
        return found
    try:
        return unpacked(python, build_dir, stdlib=stdlib)
    except RuntimePythonUnavailable as error:
        raise RuntimePythonUnavailable(f"{path_error}; {error}" if path_error else str(error)) from None


def unpacked(python: str, build_dir: Path, *, stdlib: bool = False) -> Interpreter:
    """Debian's Python ``python``, unpacked under ``build_dir`` once (a lock makes concurrent builds wait)."""
    target = build_dir / f"python{python}-{_machine()}"
    with build_lock(build_dir):
        if not (target / ".complete").exists() or (stdlib and not (target / ".stdlib").exists()):
            _unpack(python, target, stdlib=stdlib)
        return probe(_argv(target, python), python)


def _machine() -> str:
    return os.uname().machine


@contextlib.contextmanager
def build_lock(build_dir: Path, name: str = ".python-lock") -> Iterator[None]:
    """Hold ``build_dir/name`` exclusively: concurrent builds (parallel test workers, two shells) wait in turn."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / name, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _argv(root: Path, python: str) -> tuple[str, ...]:
    """Run the unpacked interpreter through the unpacked loader and C library, never this machine's."""
    loaders = sorted(root.glob("usr/lib*/**/ld-linux*.so*")) + sorted(root.glob("usr/lib*/ld-linux*.so*"))
    libc = sorted(root.glob("usr/lib/*/libc.so.6"))
    if not loaders or not libc:
        raise RuntimePythonUnavailable(f"{root} holds no C library to run Python {python} on")
    return (str(loaders[0]), "--library-path", str(libc[0].parent), str(root / "usr" / "bin" / f"python{python}"))


def _unpack(python: str, target: Path, *, stdlib: bool) -> None:
    apt_get, dpkg_deb = shutil.which("apt-get"), shutil.which("dpkg-deb")
    if apt_get is None or dpkg_deb is None:
        raise RuntimePythonUnavailable(f"no python{python} on PATH and no APT to take Debian's build from")
    archive = debian_archive()
    if archive is None:
        raise RuntimePythonUnavailable(f"no python{python} on PATH and no Debian archive in APT's sources")
    uri, keyring = archive
    packages = [p.format(v=python) for p in MINIMAL_PACKAGES + (STDLIB_PACKAGES if stdlib else ())]
    staging = target.with_name(f".staging-{uuid.uuid4().hex}")
    try:
        with tempfile.TemporaryDirectory(prefix="passport-apt-") as state:
            apt = apt_options(Path(state), uri, keyring)
            _apt(apt_get, [*apt, "update"], "could not read the Debian archive's package lists")
            debs = Path(state) / "debs"
            debs.mkdir()
            _apt(apt_get, [*apt, "download", *packages], f"could not download {' '.join(packages)}", cwd=debs)
            for deb in sorted(debs.glob("*.deb")):
                subprocess.run([dpkg_deb, "-x", str(deb), str(staging)], check=True, capture_output=True,
                               timeout=APT_TIMEOUT)
        (staging / ".complete").write_text("ok\n")
        if stdlib:
            (staging / ".stdlib").write_text("ok\n")
        _compile_stdlib(staging, python)
        probe(_argv(staging, python), python)  # it runs, and is that version, before it is kept
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except subprocess.SubprocessError as error:
        raise RuntimePythonUnavailable(f"could not unpack Debian's python{python} ({type(error).__name__})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _compile_stdlib(root: Path, python: str) -> None:
    """Debian's packages ship the standard library as source and compile it when installed; unpacked, it is
    compiled here, once, so that this Python starts as an installed one (and as Lambda's) does."""
    command = [*_argv(root, python), "-I", "-m", "compileall", "-q", str(root / "usr" / "lib" / f"python{python}")]
    subprocess.run(command, capture_output=True, timeout=APT_TIMEOUT, stdin=subprocess.DEVNULL)  # best effort


def apt_options(state: Path, uri: str, keyring: str | None) -> list[str]:
    """APT on a private sources list, package lists and cache: nothing of the machine's APT state is touched."""
    (state / "lists" / "partial").mkdir(parents=True)
    (state / "cache" / "archives" / "partial").mkdir(parents=True)
    signed = f" [signed-by={keyring}]" if keyring else ""
    (state / "sources.list").write_text(
        "".join(f"deb{signed} {uri} {suite} main\n" for suite in DEBIAN_SUITES)
    )
    return [
        "-q", "-o", f"Dir::Etc::SourceList={state / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/nonexistent",
        "-o", f"Dir::State::Lists={state / 'lists'}", "-o", f"Dir::Cache={state / 'cache'}",
        "-o", "Dir::State::Status=/dev/null", "-o", "Debug::NoLocking=1",
        "-o", "APT::Sandbox::User=root" if os.geteuid() == 0 else "APT::Sandbox::User=",
    ]


def _apt(apt_get: str, args: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        result = subprocess.run([apt_get, *args], capture_output=True, text=True, timeout=APT_TIMEOUT, cwd=cwd,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimePythonUnavailable(f"{what}: apt-get took over {APT_TIMEOUT} s") from None
    except OSError as error:
        raise RuntimePythonUnavailable(f"{what}: {error.strerror}") from None
    errors = [line for line in result.stderr.splitlines() if line.startswith("E:")]
    if result.returncode != 0 or errors:
        reason = (errors or result.stderr.strip().splitlines() or [f"apt-get exited {result.returncode}"])[-1]
        raise RuntimePythonUnavailable(f"{what}: {reason.removeprefix('E: ')}")


# -- where this machine's APT takes Debian's packages from ---------------------------------------------------

_MAIN_SUITE = re.compile(r"^[a-z]+$")  # "bookworm", "stable": not "bookworm-updates" or "bookworm-security"


def debian_archive(etc: Path = Path("/etc/apt")) -> tuple[str, str | None] | None:
    """(URI, keyring) of the first Debian main archive in APT's sources (deb822 ``.sources`` or one-line
    ``.list``), or None. Security and update suites are skipped: they carry no Python of another version."""
    for entry in _source_entries(etc):
        types, uris, suites, components, keyring = entry
        if "deb" in types and "main" in components and any(_MAIN_SUITE.match(s) for s in suites):
            for uri in uris:
                if "security" not in uri:
                    return uri, keyring
    return None


_Entry = tuple[list[str], list[str], list[str], list[str], str | None]


def _source_entries(etc: Path) -> Iterator[_Entry]:
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in files:
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                yield from _one_line_entry(line)
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        with contextlib.suppress(OSError):
            yield from _deb822_entries(path.read_text(encoding="utf-8", errors="replace"))


def _one_line_entry(line: str) -> Iterator[_Entry]:
    words = line.split("#", 1)[0].split()
    if len(words) < 3 or words[0] not in ("deb", "deb-src"):
        return
    options, rest = {}, words[1:]
    if rest[0].startswith("["):
        closing = next((i for i, w in enumerate(rest) if w.endswith("]")), len(rest) - 1)
        for option in " ".join(rest[: closing + 1]).strip("[]").split():
            key, _, value = option.partition("=")
            options[key] = value
        rest = rest[closing + 1 :]
    if len(rest) >= 2:
        yield [words[0]], [rest[0]], [rest[1]], rest[2:], options.get("signed-by")


def _deb822_entries(text: str) -> Iterator[_Entry]:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no" or "uris" not in fields:
            continue
        keyring = fields.get("signed-by")
        if keyring and "\n" in keyring:  # an inline key block: let APT use its default keyrings instead
            keyring = None
        yield (fields.get("types", "").split(), fields["uris"].split(), fields.get("suites", "").split(),
               fields.get("components", "").split(), keyring)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.runtime_python [--stdlib]``: print how to start the runtime's Python (unpacked if need be)."""
    from passport.iam_manifest import LAMBDA_PYTHON

    from infra.layer import BUILD_DIR

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        found = find(LAMBDA_PYTHON, BUILD_DIR, stdlib="--stdlib" in args)
    except RuntimePythonUnavailable as error:
        print(f"runtime python: {error}", file=sys.stderr)
        return 1
    print(" ".join(found.argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
