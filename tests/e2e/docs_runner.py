"""Runs the commands the documentation quotes, as a reader would type them (tests/e2e/test_docs.py says the rules).

Parsing: a Markdown page becomes a list of fenced blocks and ``<!-- doc-test: ... -->`` directives, in page order.
A ``sh`` block becomes commands (backslash continuations joined); the comment after a command, on its line or on
the comment lines right below it, is its expectation: a status (``# 200``), an exit status (``# exit 1: ...``), a
header of a ``curl -i`` answer (``# header WWW-Authenticate: Bearer ...``) or an example of its JSON output
(``# {"client_id": "…", …}``).

Running: a :class:`Sandbox` is a fresh folder with the repository's ``passport.toml`` and its ``.venv``, where
``passport serve`` runs on a free port; commands run there with ``bash``, the URL ``http://127.0.0.1:8000``
replaced by the sandbox's, and placeholders (``CLIENT_ID``, ``ACCESS_TOKEN``...) replaced by the values the
commands before them printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import REPO, free_port

DOCS_URL = "http://127.0.0.1:8000"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(?P<body>.*?)\s*-->\s*$")
#: Tags of ``sh`` blocks that are checked without running: they need an AWS account, or minutes.
STATIC_TAGS = ("aws", "long")
#: JSON output key -> the placeholder the docs write for its value.
CAPTURED = {
    "client_id": "CLIENT_ID",
    "client_secret": "CLIENT_SECRET",
    "access_token": "ACCESS_TOKEN",
    "refresh_token": "REFRESH_TOKEN",
    "id_token": "ID_TOKEN",
    "token_id": "TOKEN_ID",
    "device_code": "DEVICE_CODE",
    "user_code": "USER_CODE",
    "kid": "KID",
    "registration_access_token": "REGISTRATION_ACCESS_TOKEN",
}
#: Placeholders that directives fill in.
DIRECTIVE_VALUES = ("CODE", "VERIFIER", "STATE")
PLACEHOLDERS = (*CAPTURED.values(), *DIRECTIVE_VALUES)
STATUS_MARK = re.compile(r"\n?@@status (\d{3})@@\n?$")
ELLIPSIS = "\u2026"


# -- parsing ---------------------------------------------------------------------------------------------------


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    tags: tuple[str, ...]
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang == "sh" and not any(t in STATIC_TAGS for t in self.tags)


@dataclass
class Directive:
    page: Path
    line: int
    name: str
    args: dict[str, str]
    words: list[str]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def parse_page(path: Path) -> list[Block | Directive]:
    items: list[Block | Directive] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence:
            marker, info = fence["fence"], fence["info"].split()
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not re.match(rf"^\s*{re.escape(marker[0])}{{{len(marker)},}}\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            lang = info[0] if info else ""
            items.append(Block(path, start, lang, tuple(info[1:]), "\n".join(body)))
        else:
            directive = DIRECTIVE.match(lines[i])
            if directive:
                words = shlex.split(directive["body"])
                args = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                items.append(Directive(path, i + 1, words[0], args, words[1:]))
        i += 1
    return items


def prose(path: Path) -> str:
    """The page without its fenced blocks (links and headings live here)."""
    out, inside = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        fence = FENCE.match(line)
        if inside is None and fence:
            inside = fence["fence"]
            continue
        if inside is not None:
            if re.match(rf"^\s*{re.escape(inside[0])}{{{len(inside)},}}\s*$", line):
                inside = None
            continue
        out.append(line)
    return "\n".join(out)


@dataclass
class Command:
    text: str
    line: int
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        for note in self.notes:
            found = re.match(r"(\d{3})\b", note)
            if found:
                return int(found[1])
        return None

    @property
    def exit_status(self) -> int:
        for note in self.notes:
            found = re.match(r"exit (\d+)\b", note)
            if found:
                return int(found[1])
        return 0

    @property
    def error_text(self) -> str | None:
        """What an ``# exit N: text`` note says the error line holds."""
        for note in self.notes:
            found = re.match(r"exit \d+:\s*(.+)$", note)
            if found:
                return found[1].strip()
        return None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """What ``# header Name: value`` notes say the answer's headers hold (a ``curl -i``): the header, and the
        start of its value."""
        found = []
        for note in self.notes:
            match = re.match(r"header ([A-Za-z0-9-]+):\s*(.+)$", note)
            if match:
                found.append((match[1], match[2].strip()))
        return found

    @property
    def example(self) -> str | None:
        for note in self.notes:
            if note.startswith(("{", "[")):
                return balanced(note)
        return None

    @property
    def uses_curl(self) -> bool:
        return bool(re.search(r"(^|[|;&]\s*)curl\s", self.text))


def split_comment(line: str) -> tuple[str, str | None]:
    """A shell line into its code and its trailing comment (a ``#`` outside quotes, after a space)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), None


def commands(block: Block) -> list[Command]:
    out: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("#"):
            if out:
                out[-1].notes.append(stripped[1:].strip())
            i += 1
            continue
        start, parts = i, [lines[i]]
        while parts[-1].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            parts.append(lines[i])
        joined = " ".join(p.rstrip().removesuffix("\\").strip() for p in parts)
        code, comment = split_comment(joined)
        out.append(Command(code, block.line + start, [comment] if comment else []))
        i += 1
    return out


def balanced(text: str) -> str:
    """The JSON example at the start of ``text``, up to its matching bracket (prose may follow it)."""
    depth, quote, escaped = 0, False, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return text[: i + 1]
    raise AssertionError(f"unbalanced JSON example: {text}")


# -- JSON examples ---------------------------------------------------------------------------------------------

ANY = object()
_ANY, _MORE = "\u2026any", "\u2026more"


@dataclass
class Partial:
    """A container the example elides with a bare ``…``: it names some of the keys or items, not all."""

    value: Any


def read_example(text: str) -> Any:
    """A JSON example into a value. A bare ``…`` (outside a string) in place of a value matches anything; in place
    of a member or an item it makes its object or list partial. A string with ``…`` matches any string that starts
    with what comes before it."""
    out: list[str] = []
    stack: list[str] = []
    quote = False
    for i, ch in enumerate(text):
        if quote:
            out.append(ch)
            if ch == '"' and text[i - 1] != "\\":
                quote = False
        elif ch == '"':
            quote = True
            out.append(ch)
        elif ch == ELLIPSIS:
            before = "".join(out).rstrip()
            if before.endswith(":"):
                out.append(f'"{_ANY}"')
            else:
                out.append(f'"{_MORE}": null' if stack and stack[-1] == "{" else f'"{_MORE}"')
        else:
            if ch in "{[":
                stack.append(ch)
            elif ch in "}]" and stack:
                stack.pop()
            out.append(ch)
    try:
        raw = json.loads("".join(out))
    except json.JSONDecodeError as exc:
        raise AssertionError(f"the example is not JSON (with … for what varies): {text}\n{exc}") from None

    def convert(value: Any) -> Any:
        if value == _ANY:
            return ANY
        if isinstance(value, dict):
            inner = {k: convert(v) for k, v in value.items() if k != _MORE}
            return Partial(inner) if _MORE in value else inner
        if isinstance(value, list):
            inner = [convert(v) for v in value if v != _MORE]
            return Partial(inner) if _MORE in value else inner
        return value

    return convert(raw)


def mismatch(example: Any, actual: Any, path: str = "$") -> str | None:
    """Why ``actual`` does not match the example, or None."""
    if example is ANY:
        return None
    partial = isinstance(example, Partial)
    wanted = example.value if partial else example
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        missing = set(wanted) - set(actual)
        if missing:
            return f"{path}: missing {sorted(missing)} (has {sorted(actual)})"
        if not partial and set(actual) - set(wanted):
            return f"{path}: undocumented {sorted(set(actual) - set(wanted))}; elide with … if meant"
        for key, value in wanted.items():
            why = mismatch(value, actual[key], f"{path}.{key}")
            if why:
                return why
        return None
    if isinstance(wanted, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {actual!r}"
        if partial:
            for i, item in enumerate(wanted):
                if all(mismatch(item, candidate) for candidate in actual):
                    return f"{path}[{i}]: no item matches {item!r} in {actual!r}"
            return None
        if len(wanted) != len(actual):
            return f"{path}: expected {len(wanted)} items, got {len(actual)}: {actual!r}"
        for i, (item, candidate) in enumerate(zip(wanted, actual, strict=True)):
            why = mismatch(item, candidate, f"{path}[{i}]")
            if why:
                return why
        return None
    if isinstance(wanted, str) and ELLIPSIS in wanted:
        prefix = wanted.split(ELLIPSIS, 1)[0]
        if not isinstance(actual, str) or not actual.startswith(prefix):
            return f"{path}: expected a string starting {prefix!r}, got {actual!r}"
        return None
    if wanted != actual or type(wanted) is not type(actual):
        return f"{path}: expected {wanted!r}, got {actual!r}"
    return None


# -- running -----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    command: Command
    text: str
    returncode: int
    stdout: str
    stderr: str
    status: int | None

    def describe(self) -> str:
        return (f"{self.text}\nexit {self.returncode}, HTTP {self.status}\n--- stdout\n{self.stdout[-3000:]}"
                f"\n--- stderr\n{self.stderr[-3000:]}")


def base_environment() -> dict[str, str]:
    """The runner's environment without what would reach past the sandbox (settings, AWS credentials)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PASSPORT_", "AWS_", "PYTEST_"))}


class Sandbox:
    """A fresh folder as a new user's clone would have it, and ``passport serve`` running in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "passport.toml", root / "passport.toml")
        (root / ".venv").symlink_to(Path(sys.executable).parents[1])
        (root / ".curl").mkdir()
        # curl reads $CURL_HOME/.curlrc: every curl the docs quote reports its status, as they are written.
        (root / ".curl" / ".curlrc").write_text('write-out = "\\n@@status %{http_code}@@\\n"\n')
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.overrides: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.log = root / "serve.log"

    def environment(self) -> dict[str, str]:
        env = base_environment()
        env["PATH"] = f"{self.root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["CURL_HOME"] = str(self.root / ".curl")
        env.update(self.overrides)
        return env

    # -- the server

    def start(self) -> None:
        env = self.environment()
        env["PORT"] = str(self.port)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([str(self.root / ".venv" / "bin" / "passport"), "serve"], cwd=self.root,
                                            env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "Press Ctrl-C to stop" in self.log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError("passport serve did not start:\n" + self.log.read_text())

    def ensure_started(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        """The end of a page: the folder is thrown away, so the server need not save its store."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self, overrides: dict[str, str] | None = None) -> None:
        self.stop()
        if overrides is not None:
            self.overrides = dict(overrides)
        self.start()

    # -- commands

    def substitute(self, text: str, where: str) -> str:
        text = text.replace(DOCS_URL, self.url)
        for name in PLACEHOLDERS:
            if re.search(rf"\b{name}\b", text):
                if name not in self.values:
                    raise AssertionError(f"{where}: {name} is used before any command or step gave it")
                text = re.sub(rf"\b{name}\b", lambda _m, n=name: self.values[n], text)
        return text

    def run(self, command: Command, where: str) -> Result:
        text = self.substitute(command.text, where)
        done = subprocess.run(["bash", "-c", "set -o pipefail\n" + text], cwd=self.root, env=self.environment(),
                              capture_output=True, text=True, timeout=90)
        stdout, status = done.stdout, None
        if command.uses_curl:
            found = STATUS_MARK.search(stdout)
            if found:
                status, stdout = int(found[1]), stdout[: found.start()]
        return Result(command, text, done.returncode, stdout, done.stderr, status)

    def capture(self, payload: Any) -> None:
        if isinstance(payload, dict):
            for key, name in CAPTURED.items():
                if isinstance(payload.get(key), str) and payload[key]:
                    self.values[name] = payload[key]


def json_body(result: Result) -> Any:
    """The command's output as JSON (the body, after any ``curl -i`` headers), or None."""
    text = result.stdout.strip()
    if text.startswith("HTTP/"):
        text = re.split(r"\r?\n\r?\n", text, maxsplit=1)[-1].strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


NEEDS_SERVER = re.compile(r"\bpassport\s+(?:--\S+\s+)*(?:client|user|token|purge|install)\b")
SERVE = re.compile(r"^(make serve|(?:\.venv/bin/)?passport serve)\b(.*)$")


def run_command(sandbox: Sandbox, command: Command, where: str) -> Result | None:
    """Run one quoted command and check what its comment says it does."""
    served = SERVE.match(command.text)
    if served:
        if "passport serve" in served[1]:
            from passport.cli import parse

            parse(["serve", *shlex.split(served[2])])  # the flags as written must parse
        sandbox.ensure_started()  # `make serve` runs exactly `passport serve` (test_docs checks the Makefile)
        return None
    if command.text.strip() == "make test":
        return None  # the whole suite: this test is part of it
    if command.text.startswith("make "):
        raise AssertionError(f"{where}: `{command.text}` in a block that runs: tag the block `sh long` or `sh aws`")
    if DOCS_URL in command.text or NEEDS_SERVER.search(command.text):
        # The docs say "with make serve running"; commands that need no store run without it, as they may.
        sandbox.ensure_started()
    result = sandbox.run(command, where)
    context = f"{where}: {result.describe()}"
    assert result.returncode == command.exit_status, context
    if command.error_text:
        assert command.error_text in result.stderr, f"{where}: stderr does not say {command.error_text!r}\n{context}"
    if command.uses_curl:
        assert result.status is not None, context
        expected = command.status
        if expected is None:
            assert result.status < 400, f"{where}: HTTP {result.status} but no status is documented\n{context}"
        else:
            assert result.status == expected, f"{where}: HTTP {result.status}, the docs say {expected}\n{context}"
    if command.headers:
        head = re.split(r"\r?\n\r?\n", result.stdout, maxsplit=1)[0] if result.stdout.startswith("HTTP/") else ""
        assert head, f"{where}: the docs show headers: use curl -i\n{context}"
        answered = [line.split(":", 1) for line in head.splitlines()[1:] if ":" in line]
        for name, start in command.headers:
            start = start.replace(DOCS_URL, sandbox.url)
            values = [value.strip() for key, value in answered if key.strip().lower() == name.lower()]
            assert any(v.startswith(start) for v in values), f"{where}: no {name} header starting {start!r}\n{context}"
    body = json_body(result)
    if command.example is not None:
        example = command.example.replace(DOCS_URL, sandbox.url)
        assert body is not None, f"{where}: the docs show JSON, the output is not\n{context}"
        why = mismatch(read_example(example), body)
        assert why is None, f"{where}: the output differs from the example: {why}\n{context}"
    sandbox.capture(body)
    return result


# -- directives: what a reader does in the browser -----------------------------------------------------------


def run_directive(sandbox: Sandbox, directive: Directive) -> None:
    where = directive.where
    if directive.name == "restart":
        overrides = {w.split("=", 1)[0]: w.split("=", 1)[1] for w in directive.words if "=" in w}
        sandbox.restart(overrides)
        return
    if directive.name not in ("authorize", "device-approve"):
        raise AssertionError(f"{where}: unknown directive {directive.name!r}")
    sandbox.ensure_started()
    from tests.integration.browser import Browser, forms, pkce_pair, query_of

    # An argument may name the server's URL (resource=http://127.0.0.1:8000/mcp): the sandbox's, as in commands.
    directive = Directive(directive.page, directive.line, directive.name,
                          {k: v.replace(DOCS_URL, sandbox.url) for k, v in directive.args.items()}, directive.words)

    browser = Browser(sandbox.url)
    signed_in = browser.login(directive.args["user"], directive.args["password"])
    assert signed_in.status_code == 303, f"{where}: sign-in failed: {signed_in.status_code} {signed_in.text[:500]}"
    if directive.name == "authorize":
        verifier, challenge = pkce_pair()
        state = "docs-" + str(time.monotonic_ns())
        # Any other argument (nonce, prompt, max_age...) is a parameter of the request, as written.
        extra = {k: v for k, v in directive.args.items() if k not in ("user", "password", "redirect_uri", "scope")}
        page = browser.authorize(
            response_type="code", client_id=sandbox.values["CLIENT_ID"], redirect_uri=directive.args["redirect_uri"],
            scope=directive.args.get("scope", ""), state=state, code_challenge=challenge,
            code_challenge_method="S256", **extra,
        )
        if page.status_code == 200:  # the consent page (a first-party client skips it)
            approve, _deny = browser.consent_forms(page)
            page = browser.submit(approve)
        assert page.status_code in (302, 303), f"{where}: no redirect: {page.status_code} {page.text[:500]}"
        location = page.headers["Location"]
        answer = query_of(location)
        # Back at the redirect URI with code, state and iss (RFC 9207), as the page says.
        assert location.startswith(directive.args["redirect_uri"] + "?"), f"{where}: {location}"
        assert answer.get("state") == state and answer.get("iss") == sandbox.url and "code" in answer, location
        sandbox.values.update(CODE=answer["code"], VERIFIER=verifier, STATE=state)
    elif directive.name == "device-approve":
        confirm = browser.get("/oauth/device/authorize", user_code=sandbox.values["USER_CODE"])
        assert confirm.status_code == 200, f"{where}: {confirm.status_code} {confirm.text[:500]}"
        approve = next(f for f in forms(confirm.text) if f.action == "/oauth/device/authorize"
                       and "_method" not in f.fields)
        approved = browser.submit(approve)
        assert approved.status_code == 200, f"{where}: {approved.status_code} {approved.text[:500]}"


def run_page(sandbox: Sandbox, path: Path) -> int:
    """Every runnable command and directive of the page, in order; returns how many commands ran."""
    ran = 0
    for item in parse_page(path):
        if isinstance(item, Directive):
            run_directive(sandbox, item)
        elif item.runs:
            for command in commands(item):
                run_command(sandbox, command, f"{item.page.relative_to(REPO)}:{command.line}")
                ran += 1
    return ran


# -- static checks: commands that need AWS (or minutes) --------------------------------------------------------

#: Options the AWS CLI takes for every operation.
AWS_GLOBAL_OPTIONS = {"region", "profile", "output", "query", "no-cli-pager", "endpoint-url", "debug",
                      "no-paginate", "cli-input-json", "no-verify-ssl", "color"}
#: Options the AWS CLI renames (awscli's argrename customizations): (service, operation, option) -> the member.
AWS_CLI_RENAMES = {("sns", "subscribe", "notification-endpoint"): "endpoint"}
#: Commands of the AWS CLI that are its own (not an API operation), with their options.
AWS_CLI_COMMANDS = {("logs", "tail"): {"follow", "since", "format", "filter-pattern", "log-stream-names",
                                       "log-stream-name-prefix"}}


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return {m[1] for m in re.finditer(r"^([A-Za-z][\w-]*):", text, re.M)}


def dummy_placeholders(text: str) -> str:
    for name in PLACEHOLDERS:
        text = re.sub(rf"\b{name}\b", "x", text)
    return text


def check_static(command: Command, where: str, files: set[str] = frozenset()) -> list[str]:
    """Check a command that is not run, each program of a pipeline; returns the programs' kinds. ``files`` are
    the Python files the page itself gives (a ``python FILE`` block)."""
    kinds = []
    for segment in re.split(r"\s\|\s", dummy_placeholders(command.text)):
        kinds.append(_check_program(shlex.split(segment), command.text, where, files))
    return kinds


def _check_program(words: list[str], text: str, where: str, files: set[str]) -> str:
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)
    assert words, f"{where}: an empty command"
    program = words[0]
    if program == "echo":
        return "echo"
    if program == "make":
        targets = [w for w in words[1:] if "=" not in w]
        assert targets and set(targets) <= makefile_targets(), f"{where}: {targets} not all in the Makefile"
        return "make"
    if program in ("passport", ".venv/bin/passport"):
        from passport.cli import parse

        try:
            parse(words[1:])
        except SystemExit:
            raise AssertionError(f"{where}: `{text}` does not parse") from None
        return "passport"
    if program in ("python", "python3", ".venv/bin/python"):
        assert len(words) > 1 and words[1] in files, f"{where}: {words[1:2]} is not a file this page gives"
        return "python"
    if program == "aws":
        check_aws(words[1:], where)
        return "aws"
    if program == "curl":
        assert any(w.startswith(("http://", "https://", "ISSUER_URL")) for w in words), f"{where}: no URL"
        return "curl"
    raise AssertionError(f"{where}: no static check for `{program}`: run it, or teach docs_runner to check it")


def check_aws(argv: list[str], where: str) -> None:
    import botocore.session
    from botocore import xform_name

    assert len(argv) >= 2, f"{where}: aws needs a service and an operation"
    service, operation, rest = argv[0], argv[1], argv[2:]
    given = [a[2:].split("=", 1)[0] for a in rest if a.startswith("--")]
    given = [AWS_CLI_RENAMES.get((service, operation, g), g) for g in given]
    if (service, operation) in AWS_CLI_COMMANDS:
        unknown = set(given) - AWS_CLI_COMMANDS[service, operation] - AWS_GLOBAL_OPTIONS
        assert not unknown, f"{where}: aws {service} {operation} has no option(s) {sorted(unknown)}"
        return
    session = botocore.session.get_session()
    try:
        model = session.get_service_model(service)
    except Exception:
        raise AssertionError(f"{where}: no AWS service {service!r}") from None
    if operation == "wait":
        waiters = session.get_waiter_model(service)
        names = {xform_name(n, "-"): n for n in waiters.waiter_names}
        assert rest and rest[0] in names, f"{where}: aws {service} wait has no waiter {rest[:1]}"
        operation_name = waiters.get_waiter(names[rest[0]]).operation
    else:
        names = {xform_name(n, "-"): n for n in model.operation_names}
        assert operation in names, f"{where}: aws {service} has no operation {operation!r}"
        operation_name = names[operation]
    shape = model.operation_model(operation_name).input_shape
    members = {xform_name(m, "-") for m in (shape.members if shape else {})}
    allowed = members | {f"no-{m}" for m in members} | AWS_GLOBAL_OPTIONS
    unknown = set(given) - allowed
    assert not unknown, f"{where}: aws {service} {operation} has no option(s) {sorted(unknown)}"
    required = {xform_name(m, "-") for m in (shape.required_members if shape else [])}
    missing = required - set(given)
    assert not missing, f"{where}: aws {service} {operation} needs {sorted(missing)}"


def python_files(path: Path) -> dict[str, str]:
    """The page's ``python FILE`` blocks: the file name and its whole text."""
    return {b.tags[0]: b.text for b in parse_page(path) if isinstance(b, Block) and b.lang == "python" and b.tags}


def static_commands(paths: list[Path]) -> Iterator[tuple[str, Command, set[str]]]:
    for path in paths:
        files = set(python_files(path))
        for item in parse_page(path):
            if isinstance(item, Block) and item.lang == "sh" and not item.runs:
                for command in commands(item):
                    yield f"{path.relative_to(REPO)}:{command.line}", command, files
