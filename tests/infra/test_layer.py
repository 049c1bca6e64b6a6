"""The layer as Lambda gets it: every third-party package the functions import, built for Lambda's platform, and
each handler importing from nothing but the packaged assets."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import infra.layer
from infra import runtime_python
from infra.layer import (
    EXCLUDED_FROM_PACKAGE,
    LAMBDA_ARCH,
    LAMBDA_PYTHON,
    MACHINES,
    LayerBuildError,
    build_layer,
    runtime_interpreter,
    runtime_requirements,
    tree_digest,
)
from infra.runtime_python import RuntimePythonUnavailable
from tests.conftest import REPO

FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/handler.py"))
ELF_MACHINES = {183: "aarch64", 62: "x86_64"}  # e_machine: EM_AARCH64, EM_X86_64


@pytest.fixture(scope="module")
def layer(synthesized_without_demos) -> Path:
    """The layer folder the stack synthesized from the shipped passport.toml ships."""
    return Path(synthesized_without_demos.stack.layer.directory)


def third_party_imports(paths: list[Path]) -> set[str]:
    """Top-level modules imported anywhere in these files (lazy imports inside functions included), less the
    standard library and passport itself."""
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("passport", "__future__")}


def test_the_layer_is_the_passport_package_its_settings_and_the_declared_dependencies(layer):
    site = layer / "python"
    assert (layer / "passport.toml").read_bytes() == (REPO / "passport.toml").read_bytes()

    def files(root: Path) -> set[Path]:
        return {
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        }

    source = {p for p in files(REPO / "shared" / "passport") if p.parts[0] not in EXCLUDED_FROM_PACKAGE}
    assert files(site / "passport") == source  # the modules and their data (the page templates) alike
    assert not (site / "passport" / "local").exists()  # the local gateway and store stay home
    distributions = {p.name.split("-")[0].lower().replace("_", "-") for p in site.glob("*.dist-info")}
    for requirement in runtime_requirements():
        name = requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
        assert name.replace("_", "-") in distributions, requirement


def test_every_third_party_package_the_functions_import_is_in_the_layer(layer):
    site = layer / "python"
    sources = [*(site / "passport").rglob("*.py"), *(REPO / "functions").glob("*/handler.py")]
    imported = third_party_imports(sources)
    assert {"cryptography", "pynamodb", "botocore"} <= imported and "jwt" not in imported
    missing = [name for name in sorted(imported) if not (site / name).is_dir() and not (site / f"{name}.py").is_file()]
    assert missing == []


def _elf_machine(path: Path) -> str:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "unknown")


def test_the_layer_is_built_for_the_lambda_platform(layer):
    site = layer / "python"
    machine = MACHINES[LAMBDA_ARCH]
    extensions = list(site.rglob("*.so"))
    assert extensions, "cryptography and cffi ship compiled extensions"
    assert {_elf_machine(p) for p in extensions} == {machine}
    version = "cp" + LAMBDA_PYTHON.replace(".", "")
    for so in extensions:
        if ".cpython-" in so.name:
            assert f"cpython-{version[2:]}-{machine}-linux-gnu" in so.name, so
    for wheel in site.glob("*.dist-info/WHEEL"):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        for tag in tags:
            python, abi, platform = tag.split("-")
            assert platform == "any" or (platform.endswith(machine) and "manylinux" in platform), (wheel, tag)
            if platform != "any":
                assert python == version or (abi == "abi3" and int(python[3:]) <= int(version[3:])), (wheel, tag)


@pytest.fixture(scope="module")
def host_layer() -> Path:
    """The same requirements and package built for this machine and its Python: compiled extensions for Lambda's
    platform cannot load here, so the import test runs on this twin of the layer."""
    host = __import__("platform").machine()
    machine = {"x86_64": "x86_64", "aarch64": "arm64"}.get(host)
    # Lambda runs on these two; a machine of neither kind cannot prove the packaged imports, so it fails loudly.
    assert machine is not None, f"no manylinux wheels for {host}: run the infra tests on x86_64 or aarch64"
    return build_layer(machine, f"{sys.version_info.major}.{sys.version_info.minor}")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_imports_in_an_isolated_interpreter_that_sees_only_the_packaged_assets(
    host_layer, function, tmp_path
):
    """As Lambda loads it: the function's folder (/var/task) and the layer (/opt/python) on sys.path, and nothing
    else of this machine (no site-packages, no PYTHON* variables, no current directory)."""
    task = tmp_path / "task"
    shutil.copytree(REPO / "functions" / function, task, ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(task)!r}, {str(host_layer / 'python')!r}]\n"
        "import handler\n"
        "assert callable(handler.handler)\n"
        "import cryptography.hazmat.bindings._rust  # the compiled extension loads\n"
        "print(json.dumps({n: getattr(m, '__file__', None) for n, m in list(sys.modules.items())}))\n"
    )
    result = subprocess.run(
        [sys._base_executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={"PASSPORT_CONFIG": str(host_layer / "passport.toml"), "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    allowed = (host_layer.resolve(), task.resolve(), Path(sysconfig.get_path("stdlib")).resolve())
    for name, file in modules.items():
        if file:
            assert any(Path(file).resolve().is_relative_to(root) for root in allowed), (name, file)
    assert modules["handler"] == str(task / "handler.py")
    assert Path(modules["passport"]).is_relative_to(host_layer)


def test_the_layer_build_is_keyed_by_its_content(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = tree_digest(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    assert tree_digest(tmp_path / "pkg") == before  # bytecode of this machine does not count
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert tree_digest(tmp_path / "pkg") != before


def test_a_cached_layer_build_is_reused(layer):
    assert build_layer() == layer  # same sources, same requirements: the same folder, no pip run


# -- bytecode for the runtime's Python -------------------------------------------------------------------------
# Lambda mounts the layer read-only: without .pyc files of its own Python's magic number, every cold start compiles
# every module it imports. The build compiles with the runtime's Python from PATH or, failing that, Debian's build
# of it (infra.runtime_python); either way it finishes, and says so in one line when it cannot ship bytecode.

#: importlib.util.MAGIC_NUMBER of each Python Lambda runs, as CPython's Lib/importlib/_bootstrap_external.py lists
#: them: known here independently of the interpreter the build found.
RUNTIME_MAGIC = {"3.12": 3531, "3.13": 3571, "3.14": 3627}
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
CACHE_TAG = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"


def layer_zip(layer: Path, folder: Path) -> Path:
    """The layer zipped as the CDK's asset publisher zips a directory asset: its contents, paths relative."""
    archive = folder / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(layer.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(layer).as_posix())
    return archive


def test_every_module_of_the_unzipped_layer_has_bytecode_for_the_runtimes_python(layer, tmp_path):
    unzipped = tmp_path / "opt"
    with zipfile.ZipFile(layer_zip(layer, tmp_path)) as archive:
        archive.extractall(unzipped)
    sources = sorted((unzipped / "python").rglob("*.py"))
    assert len(sources) > 500  # the SDK, cryptography's Python part, pynamodb, passport...
    missing, wrong = [], []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
        if not compiled.is_file():
            missing.append(source.relative_to(unzipped))
            continue
        header = compiled.read_bytes()[:8]
        # PEP 552: the magic number, then flags 0b01 (hash-based, source not checked): valid whatever mtime the
        # zip gives the sources.
        if header[:2] != RUNTIME_MAGIC[LAMBDA_PYTHON].to_bytes(2, "little") or header[2:4] != b"\r\n" or \
                int.from_bytes(header[4:8], "little") != 0b01:
            wrong.append(compiled.relative_to(unzipped))
    assert missing == [] and wrong == []
    # Nothing of another Python: this machine's bytecode would be dead weight in every cold start's download.
    assert [p for p in unzipped.rglob("*.pyc") if CACHE_TAG not in p.name] == []


def test_the_runtimes_python_runs_the_layers_bytecode_not_its_source(layer, tmp_path):
    """The proof that Lambda's Python uses the bytecode: a source changed after the build is not what runs."""
    interpreter = runtime_python.find(LAMBDA_PYTHON, infra.layer.BUILD_DIR)
    site = tmp_path / "python"
    shutil.copytree(layer / "python" / "passport", site / "passport")
    deploy = site / "passport" / "iam_manifest.py"
    deploy.write_text(deploy.read_text() + "\nraise SystemExit('the source was compiled at import')\n")
    script = f"import sys; sys.path.insert(0, {str(site)!r}); import passport.iam_manifest as d; print(d.LAMBDA_PYTHON)"
    result = subprocess.run(interpreter.command("-I", "-B", "-c", script), capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, LAMBDA_PYTHON, "")


def test_the_runtimes_python_is_the_declared_version_with_its_magic_number():
    interpreter = runtime_python.find(LAMBDA_PYTHON, infra.layer.BUILD_DIR)
    assert interpreter.version.startswith(f"{LAMBDA_PYTHON}.")
    assert interpreter.magic == RUNTIME_MAGIC[LAMBDA_PYTHON].to_bytes(2, "little") + b"\r\n"
    assert interpreter.cache_tag == CACHE_TAG


@pytest.fixture
def fake_deps(tmp_path, monkeypatch) -> Path:
    """A built dependency folder of one module, in place of pip's (the precompile step is under test, not pip)."""
    deps = tmp_path / "deps"
    (deps / "python" / "dep").mkdir(parents=True)
    (deps / "python" / "dep" / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.setattr(infra.layer, "build_dependencies", lambda *args, **kwargs: deps)
    return deps


def fake_path(folder: Path, monkeypatch, scripts: dict[str, str]) -> Path:
    """PATH of one folder holding these executable scripts (name -> body): no apt-get, so no Debian build either."""
    folder.mkdir()
    for name, body in scripts.items():
        script = folder / name
        script.write_text(body)
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    return folder


def bytecode(layer: Path) -> list[Path]:
    return list((layer / "python").rglob("*.pyc"))


PYENV_SHIM = (
    "#!/bin/sh\n"
    "echo \"pyenv: python$0: command not found\" >&2\n"
    "echo \"The \\`python3.14' command exists in these Python versions: ...\" >&2\n"
    "exit 127\n"
)


def test_a_shim_that_exits_127_and_no_apt_give_a_layer_without_bytecode_and_one_line_saying_what_to_do(
    fake_deps, tmp_path, monkeypatch, capsys
):
    fake_path(tmp_path / "bin", monkeypatch, {f"python{LAMBDA_PYTHON}": PYENV_SHIM})
    built = build_layer(settings_file=REPO / "passport.toml", build_dir=tmp_path / "build")
    assert (built / "python" / "dep" / "__init__.py").is_file() and (built / "python" / "passport").is_dir()
    assert bytecode(built) == []
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "exits 127" in lines[0] and "no APT" in lines[0] and "without bytecode" in lines[0]
    assert f"python{LAMBDA_PYTHON} on PATH" in lines[0]


def test_no_runtime_python_anywhere_gives_a_layer_without_bytecode_and_one_line(
    fake_deps, tmp_path, monkeypatch, capsys
):
    fake_path(tmp_path / "bin", monkeypatch, {})
    built = build_layer(settings_file=REPO / "passport.toml", build_dir=tmp_path / "build")
    assert (built / "python" / "passport").is_dir()
    assert bytecode(built) == []
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "without bytecode" in lines[0], lines


def test_a_broken_debian_download_is_one_line_not_a_traceback(fake_deps, tmp_path, monkeypatch, capsys):
    """apt-get that fails (no network, no such package): the layer still builds, without bytecode."""
    failing_apt = "#!/bin/sh\necho 'E: Failed to fetch the package lists' >&2\nexit 100\n"
    fake_path(tmp_path / "bin", monkeypatch, {"apt-get": failing_apt, "dpkg-deb": "#!/bin/sh\nexit 2\n"})
    built = build_layer(settings_file=REPO / "passport.toml", build_dir=tmp_path / "build")
    assert bytecode(built) == []
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Failed to fetch the package lists" in lines[0] and "without bytecode" in lines[0]


def test_an_interpreter_of_another_version_under_the_runtimes_name_is_not_used(tmp_path, monkeypatch):
    """Bytecode of another Python would be ignored by Lambda's: a ``python3.14`` that is not 3.14 is refused."""
    fake_path(tmp_path / "bin", monkeypatch, {f"python{LAMBDA_PYTHON}": f"#!/bin/sh\nexec {sys.executable} \"$@\"\n"})
    with pytest.raises(RuntimePythonUnavailable, match=f"is Python {HOST_PYTHON}"):
        runtime_python.on_path(LAMBDA_PYTHON)
    assert runtime_interpreter(LAMBDA_PYTHON, tmp_path / "build") is None


def test_a_working_runtime_python_on_path_precompiles_the_layer(fake_deps, tmp_path, monkeypatch, capsys):
    """The counterpart: the same build with an interpreter of the version asked for ships bytecode."""
    fake_path(tmp_path / "bin", monkeypatch, {f"python{HOST_PYTHON}": f"#!/bin/sh\nexec {sys.executable} \"$@\"\n"})
    built = build_layer(python=HOST_PYTHON, settings_file=REPO / "passport.toml", build_dir=tmp_path / "build")
    assert bytecode(built)
    assert capsys.readouterr().err == ""


def test_an_interpreter_without_pip_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    """pip runs with this interpreter, never one from PATH; a virtualenv made without pip is the one way to lose it."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    with pytest.raises(LayerBuildError) as raised:
        infra.layer.build_dependencies(LAMBDA_ARCH, LAMBDA_PYTHON, requirements=["six"], build_dir=tmp_path / "build")
    message = str(raised.value)
    assert "\n" not in message and "has no pip" in message and "ensurepip" in message


def test_make_synth_reports_a_layer_build_error_in_one_line_not_a_traceback(tmp_path):
    """``app.py`` (what ``make synth`` runs through the CDK CLI) with a failing layer build: its message, exit 1."""
    script = (
        "import sys, infra.app, infra.layer\n"
        "def fail(**options):\n"
        "    raise infra.layer.LayerBuildError('layer: the reason, and what to do')\n"
        "infra.app.build_app = fail\n"
        "infra.app.main()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "layer: the reason, and what to do"


#: Regions of every partition whose endpoints differ: the commercial one, China, GovCloud and an opt-in region.
PARTITION_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "me-south-1", "cn-north-1", "us-gov-west-1")
_RESOLVE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import botocore, botocore.session
session = botocore.session.get_session()
found = {"botocore": botocore.__file__, "services": sorted(session.get_available_services())}
for service in sys.argv[2].split(","):
    for region in sys.argv[3].split(","):
        client = session.create_client(service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
        found[f"{service} {region}"] = [client.meta.endpoint_url, client.meta.region_name,
                                        client.meta.service_model.signing_name, client.meta.partition]
    model = session.get_service_model(service)

    def shape(s, depth=0):
        if s is None or depth > 6:
            return None
        members = getattr(s, "members", None) or {}
        return [s.type_name, s.serialization, sorted(getattr(s, "required_members", [])),
                {name: shape(m, depth + 1) for name, m in members.items()}]

    found[f"{service} model"] = [model.metadata, sorted(model.operation_names), {
        op: [shape(model.operation_model(op).input_shape), shape(model.operation_model(op).output_shape),
             sorted(e.name for e in model.operation_model(op).error_shapes)]
        for op in model.operation_names}]
print(json.dumps(found))
"""


def _resolved(python: list[str], path: Path | str, services: tuple[str, ...]) -> dict:
    out = subprocess.run([*python, "-I", "-c", _RESOLVE, str(path), ",".join(services), ",".join(PARTITION_REGIONS)],
                         capture_output=True, text=True, timeout=120, check=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def test_the_trimmed_botocore_resolves_every_kept_service_in_every_partition_as_the_whole_one(tmp_path):
    """botocore's data cut to the functions' services (infra.layer.trim_botocore_data) gives each of them the
    endpoint, region, signing name and partition that the whole of botocore gives, in every partition, and the
    same model (operations, their input, output and error shapes) less its documentation."""
    import botocore
    from passport.iam_manifest import AWS_SERVICES

    whole = Path(botocore.__file__).parent
    site = tmp_path / "site"
    shutil.copytree(whole, site / "botocore", ignore=shutil.ignore_patterns("__pycache__"))
    infra.layer.trim_botocore_data(site)
    trimmed = _resolved([sys.executable], site, AWS_SERVICES)
    assert trimmed.pop("botocore") == str(site / "botocore" / "__init__.py")
    assert trimmed.pop("services") == sorted(AWS_SERVICES)
    reference = _resolved([sys.executable], whole.parent, AWS_SERVICES)
    assert len(reference.pop("services")) > 300 and reference.pop("botocore") == botocore.__file__
    assert trimmed == reference
    assert (site / "botocore" / "data" / "endpoints.json").stat().st_size < 100_000
    model = site / "botocore" / "data" / "dynamodb" / "2012-08-10" / "service-2.json"
    assert model.is_file() and not model.with_name("service-2.json.gz").exists()
    assert '"documentation":"' not in model.read_text() and model.stat().st_size < 200_000


def test_the_layer_carries_the_models_of_the_services_the_functions_are_granted_alone(layer):
    """What passport.iam_manifest grants (the tables, the key secret) is what the layer can call, and nothing more: the
    layer's botocore under Lambda's Python creates a client of each in every partition."""
    from passport.iam_manifest import AWS_SERVICES, FUNCTIONS, SECRET_ACTIONS

    data = layer / "python" / "botocore" / "data"
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == sorted(AWS_SERVICES)
    granted = {"dynamodb" if needs.tables else None for needs in FUNCTIONS.values()}
    granted |= {"secretsmanager" if SECRET_ACTIONS[needs.secret] else None for needs in FUNCTIONS.values()}
    assert granted - {None} == set(AWS_SERVICES)
    interpreter = runtime_python.find(LAMBDA_PYTHON, infra.layer.BUILD_DIR, stdlib=True)
    found = _resolved(interpreter.command(), layer / "python", AWS_SERVICES)
    assert found.pop("services") == sorted(AWS_SERVICES)
    assert found["dynamodb cn-north-1"][0] == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    assert found["secretsmanager us-gov-west-1"][0] == "https://secretsmanager.us-gov-west-1.amazonaws.com"
