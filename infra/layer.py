"""Build the Lambda layer without Docker: the runtime dependencies, as wheels for the Lambda platform, plus the
``passport`` package and the settings file.

    python -m infra.layer [--arch arm64|x86_64] [--python 3.14]    # prints the layer folder

``pip install --platform ... --only-binary=:all: --python-version ... --implementation cp --target`` picks the
wheels Lambda's Linux (Amazon Linux 2023, glibc 2.34) and Python need, whatever this machine is. The layer
ships every dependency that ``pyproject.toml`` declares, the AWS SDK included: one consistent, tested set, never
half the SDK from the layer and half (urllib3, dateutil, jmespath) from the runtime's own copy.

botocore's data is cut to the services the functions call (``passport.iam_manifest.AWS_SERVICES``): a client's creation
lists every service folder and parses ``endpoints.json`` whole, which for botocore's four hundred services costs
every cold start that reaches DynamoDB about 35 ms (and the layer 29 MB). The models of the services kept are
botocore's own less their documentation strings and examples (which only docstrings and help read), and their
entries in ``endpoints.json`` are untouched.

Every module ships with bytecode compiled by the runtime's own Python (:mod:`infra.runtime_python` finds it or
unpacks Debian's build of it): Lambda mounts layers read-only, so the bytecode cannot be written at cold start.

Layout, as Lambda mounts a layer at ``/opt``::

    python/             on sys.path: the dependencies and passport/
    passport.toml       PASSPORT_CONFIG=/opt/passport.toml

Builds are cached in ``.build/`` (git-ignored) by a hash of what goes in: the dependencies by requirement set,
platform and Python version (pip runs only when those change); the layer by that plus the package sources and
the settings file. A lock makes concurrent builds (parallel test workers, two shells) wait for each other.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# What the functions run on: passport.iam_manifest holds it, so that passport_cdk (installed without this checkout) and
# the layer built here agree.
from passport.iam_manifest import AWS_SERVICES, LAMBDA_ARCH, LAMBDA_PYTHON

from infra import runtime_python
from infra.runtime_python import Interpreter, RuntimePythonUnavailable, build_lock

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "shared" / "passport"
SETTINGS_FILE = REPO / "passport.toml"
BUILD_DIR = REPO / ".build"

#: Bump when the layout or the build steps change: every cached build is then redone.
FORMAT = 3
#: Lambda architecture name -> the machine name in wheel platform tags.
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
#: Wheel platforms Lambda's Amazon Linux 2023 (glibc 2.34) runs, most specific first.
MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux2014")
#: Folders of the package that never run in Lambda: the local gateway and store (httptools, a Java child process).
EXCLUDED_FROM_PACKAGE = ("local",)
#: Dropped from the installed dependencies: console scripts and bytecode of this machine's Python.
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")

LAYER_CONFIG = "passport.toml"


class LayerBuildError(RuntimeError):
    """pip could not install the dependencies for the Lambda platform."""


def runtime_requirements(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The project's own dependencies (``[project].dependencies``): what the functions import."""
    return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])


def pip_platform_args(arch: str, python: str) -> list[str]:
    if arch not in MACHINES:
        raise ValueError(f"unknown architecture {arch!r}; use one of {', '.join(MACHINES)}")
    args = []
    for tag in MANYLINUX:
        args += ["--platform", f"{tag}_{MACHINES[arch]}"]
    return [*args, "--only-binary=:all:", "--python-version", python, "--implementation", "cp"]


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def tree_digest(root: Path, skip: Sequence[str] = ()) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix == ".pyc" or rel.parts[0] in skip:
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def is_built(target: Path) -> bool:
    """A finished build (the marker sits beside the folder, so the folder is exactly what ships)."""
    return target.with_name(target.name + ".complete").exists()


def _cached(target: Path) -> bool:
    if not is_built(target):
        return False
    os.utime(target)  # most recently used: pruned last
    return True


def _publish(staging: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    target.with_name(target.name + ".complete").write_text("ok\n")
    return target


#: Builds of one kind kept in .build/: each is tens of megabytes, and a build still in use by another synth
#: (another settings file, a test) must not vanish under it.
KEEP = 2


def _prune(build_dir: Path, prefix: str, keep: Path) -> None:
    """Drop the oldest builds of the same kind beyond the newest ``KEEP``."""
    builds = sorted(
        (p for p in build_dir.glob(f"{prefix}*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP - 1 :]:
        old.with_name(old.name + ".complete").unlink(missing_ok=True)
        shutil.rmtree(old, ignore_errors=True)


def build_dependencies(
    arch: str, python: str, *, requirements: Sequence[str] | None = None, build_dir: Path = BUILD_DIR
) -> Path:
    """The dependencies for the Lambda platform in ``<folder>/python``, pip-installed once per requirement set."""
    requirements = sorted(requirements if requirements is not None else runtime_requirements())
    platform = pip_platform_args(arch, python)
    prefix = f"deps-{arch}-py{python.replace('.', '')}-"
    target = build_dir / f"{prefix}{_digest(FORMAT, requirements, platform)}"
    if _cached(target):
        return target
    with build_lock(build_dir, ".lock"):
        if _cached(target):
            return target
        staging = build_dir / f".staging-{uuid.uuid4().hex}"
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(staging / "python"),
            *platform,
            *requirements,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise LayerBuildError(_pip_failure(result.stderr))
        site = staging / "python"
        shutil.rmtree(site / "bin", ignore_errors=True)
        for cache in list(site.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        trim_botocore_data(site)
        published = _publish(staging, target)
        _prune(build_dir, prefix, published)
        return published


def trim_botocore_data(site: Path, services: Sequence[str] = AWS_SERVICES) -> None:
    """Keep botocore's models of ``services`` alone, and their entries alone in ``endpoints.json`` (every partition's
    own data kept whole), so that creating a client neither lists four hundred folders nor parses 1.2 MB of JSON."""
    data = site / "botocore" / "data"
    if not data.is_dir():
        return
    for folder in data.iterdir():
        if folder.is_dir() and folder.name not in services:
            shutil.rmtree(folder)
    for model in data.glob("*/*/*.json*"):
        _strip_documentation(model)
    endpoints_file = data / "endpoints.json"
    if endpoints_file.is_file():
        endpoints = json.loads(endpoints_file.read_text(encoding="utf-8"))
        for partition in endpoints.get("partitions", []):
            partition["services"] = {
                name: entry for name, entry in partition.get("services", {}).items() if name in services
            }
        endpoints_file.write_text(json.dumps(endpoints, indent=1), encoding="utf-8")


def _strip_documentation(model: Path) -> None:
    """One of a kept service's data files, without what only documents it: its examples go, and its model and
    rules lose their ``documentation`` strings (three quarters of DynamoDB's model, which botocore parses, into
    ordered dicts, at every client's creation) and are stored as plain JSON, which botocore reads first."""
    if model.name.startswith("examples-"):
        model.unlink()
        return
    raw = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
    plain = model.with_name(model.name.removesuffix(".gz"))
    plain.write_text(json.dumps(_undocumented(json.loads(raw)), separators=(",", ":")), encoding="utf-8")
    if plain != model:
        model.unlink()


def _undocumented(value: Any) -> Any:
    """``value`` without any ``documentation`` (or ``documentationUrl``) string; a shape member of that name (a
    dict) stays."""
    if isinstance(value, dict):
        return {key: _undocumented(item) for key, item in value.items()
                if not (key in ("documentation", "documentationUrl") and isinstance(item, str))}
    if isinstance(value, list):
        return [_undocumented(item) for item in value]
    return value


def _pip_failure(stderr: str) -> str:
    # pip runs with this interpreter (never one from PATH); a virtualenv made without pip is the one way it is absent.
    if "No module named pip" in stderr:
        return (f"layer: {sys.executable} has no pip: run `{sys.executable} -m ensurepip --upgrade` "
                "(or `make install`), then build again")
    return f"pip could not install the layer's dependencies:\n{stderr.strip()}"


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def runtime_interpreter(python: str, build_dir: Path = BUILD_DIR) -> Interpreter | None:
    """The runtime's own Python (:mod:`infra.runtime_python`: PATH, else Debian's build unpacked in ``build_dir``),
    or None after one line on stderr saying why and what to do: the layer then ships without bytecode."""
    try:
        return runtime_python.find(python, build_dir)
    except RuntimePythonUnavailable as error:
        _warn(f"layer: {error}; the layer ships without bytecode (cold starts compile what they import). "
              f"Put a working python{python} on PATH to ship bytecode.")
        return None


def _precompile(site: Path, interpreter: Interpreter | None) -> bool:
    """Compile the layer's modules with the runtime's Python: Lambda mounts layers read-only, so without bytecode in
    the layer every cold start compiles every module it imports. Hash-based, unchecked bytecode stays valid whatever
    timestamps the asset zip gives the sources (PEP 552)."""
    if interpreter is None:
        return False
    command = interpreter.command("-I", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(site))
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        _warn(f"layer: {interpreter.origin} -m compileall failed ({type(error).__name__}); the layer ships without "
              "bytecode")
        return False
    if result.returncode != 0:
        # Bytecode is an optimization: what compiled ships, the rest compiles at cold start.
        last = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1:] or ["no output"]
        _warn(f"layer: {interpreter.origin} -m compileall exited {result.returncode} ({last[0]}); some modules ship "
              "without bytecode")
    return True


def build_layer(
    arch: str = LAMBDA_ARCH,
    python: str = LAMBDA_PYTHON,
    *,
    settings_file: Path | None = None,
    requirements: Sequence[str] | None = None,
    build_dir: Path = BUILD_DIR,
) -> Path:
    """The layer folder (``python/`` + ``passport.toml``), built unless an identical build is cached."""
    settings_file = Path(settings_file or SETTINGS_FILE)
    deps = build_dependencies(arch, python, requirements=requirements, build_dir=build_dir)
    interpreter = runtime_interpreter(python, build_dir)
    prefix = f"layer-{arch}-py{python.replace('.', '')}-"
    key = _digest(
        FORMAT,
        deps.name,
        tree_digest(PACKAGE, EXCLUDED_FROM_PACKAGE),
        hashlib.sha256(settings_file.read_bytes()).hexdigest(),
        interpreter and interpreter.magic.hex(),  # with bytecode (of which Python) or without: different layers
    )
    target = build_dir / f"{prefix}{key}"
    if _cached(target):
        return target
    with build_lock(build_dir, ".lock"):
        if _cached(target):
            return target
        staging = build_dir / f".staging-{uuid.uuid4().hex}"
        shutil.copytree(deps / "python", staging / "python", ignore=_JUNK)
        shutil.copytree(
            PACKAGE,
            staging / "python" / "passport",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *EXCLUDED_FROM_PACKAGE),
        )
        shutil.copy2(settings_file, staging / LAYER_CONFIG)
        _precompile(staging / "python", interpreter)
        published = _publish(staging, target)
        _prune(build_dir, prefix, published)
        return published


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.layer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default=LAMBDA_ARCH, choices=sorted(MACHINES))
    parser.add_argument("--python", default=LAMBDA_PYTHON, help="the Python version to build for")
    args = parser.parse_args(argv)
    try:
        print(build_layer(args.arch, args.python))
    except LayerBuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
