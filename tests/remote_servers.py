"""Pytest fixtures that run real object-store servers on loopback for storage tests.

* ``gcs_server`` (session): ``gcp-storage-emulator`` (in memory), reached through gcsfs.
* ``s3_server`` (session): moto's standalone server, reached through s3fs / botocore.

Each fixture starts its server once per session on a free 127.0.0.1 port, waits until it answers
HTTP, creates the bucket ``poseact-test`` and yields a :class:`RemoteServer` (``url_prefix``, e.g.
``gs://poseact-test``; ``endpoint``, e.g. ``http://127.0.0.1:PORT``).

The client configuration that points plain ``fsspec.open("gs://...")`` / ``fsspec.open("s3://...")``
at a server (environment variables, fsspec config, fsspec registry) is *not* left in place for the
whole session. It is applied only while a test that uses the server runs (the autouse fixture
``_remote_server_clients`` does that for every test whose fixture closure contains ``gcs_server``
or ``s3_server``) and restored afterwards, so it never leaks into other tests. Code that reaches a
server outside such a test (a module- or session-scoped fixture, or a fixture that obtains the
server through ``request.getfixturevalue``) wraps the access in ``with server.activated():``.

A missing server package skips the tests that need it; a server that is installed but does not
answer within ``STARTUP_TIMEOUT_S`` fails them, showing the server's captured output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BUCKET = "poseact-test"
STARTUP_TIMEOUT_S = 30.0
# Tries with a fresh port when the server process exits during start-up (e.g. another process took
# the port between picking it and the server binding it).
START_ATTEMPTS = 3
LOG_TAIL_CHARS = 6000


# --------------------------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"<could not read {path}: {error}>"
    if len(text) > LOG_TAIL_CHARS:
        text = "...\n" + text[-LOG_TAIL_CHARS:]
    return text or "<empty>"


def _answers(url: str) -> bool:
    """Whether `url` answers HTTP at all (any status code counts)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            response.read()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server process (this process's own child, by pid), killing it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def run_server(
    name: str,
    command: Callable[[int], list[str]],
    ready_path: str,
    workdir: Path,
    timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[tuple[str, Path]]:
    """Run `command(port)` on a free port until the context exits; yield (endpoint, log path).

    Fails the requesting test (not skip) when the server exits or stays silent past `timeout_s`.
    """
    failures: list[str] = []
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log_path = workdir / f"{name}-{attempt}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command(port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    failure = (
                        f"{name} exited with code {process.returncode} during start-up "
                        f"(port {port}, try {attempt}/{START_ATTEMPTS})"
                    )
                    break
                if _answers(endpoint + ready_path) and process.poll() is None:
                    yield endpoint, log_path
                    return
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{name} did not answer {endpoint}{ready_path} within {timeout_s:.0f} s\n"
                        f"command: {' '.join(command(port))}\n"
                        f"--- server output ({log_path}) ---\n{_log_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.1)
        finally:
            _stop(process)
        failures.append(f"{failure}\n--- server output ({log_path}) ---\n{_log_tail(log_path)}")
    pytest.fail(f"{name} could not be started:\n" + "\n".join(failures), pytrace=False)


def require_modules(server: str, *modules: str) -> None:
    """Skip the requesting test when a package that the server or its client needs is missing."""
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"{server} tests need the Python package(s) {', '.join(missing)}, not installed")


def clear_fsspec_instance_caches() -> None:
    """Forget cached gcsfs / s3fs instances, which keep the endpoint and credentials they were made with."""
    for module_name, class_names in (
        ("gcsfs.core", ("GCSFileSystem",)),
        ("gcsfs.extended_gcsfs", ("ExtendedGcsFileSystem",)),
        ("s3fs.core", ("S3FileSystem",)),
    ):
        module = sys.modules.get(module_name)
        for class_name in class_names:
            cls = getattr(module, class_name, None) if module else None
            if cls is not None:
                cls.clear_instance_cache()


# ---------------------------------------------------------------------------------------- server type


@dataclasses.dataclass
class RemoteServer:
    """A running storage server and the client settings that point fsspec at it.

    Attributes:
        name: "gcs" or "s3".
        protocol: URL scheme ("gs", "s3").
        endpoint: Base HTTP URL of the server, e.g. ``http://127.0.0.1:PORT``.
        bucket: The bucket created for the tests.
        url_prefix: ``{protocol}://{bucket}``.
        log_path: File that holds the server's stdout and stderr.
        env: Environment variables set while activated (None: unset while activated).
        fsspec_conf: Entries put into ``fsspec.config.conf`` while activated.
        implementations: fsspec protocol -> filesystem class, registered while activated.
    """

    name: str
    protocol: str
    endpoint: str
    bucket: str
    log_path: Path
    env: dict[str, str | None]
    fsspec_conf: dict[str, dict] = dataclasses.field(default_factory=dict)
    implementations: dict[str, type] = dataclasses.field(default_factory=dict)

    @property
    def url_prefix(self) -> str:
        return f"{self.protocol}://{self.bucket}"

    def url(self, *parts: str) -> str:
        """``url_prefix`` joined with `parts`."""
        return "/".join([self.url_prefix, *(part.strip("/") for part in parts)])

    @contextlib.contextmanager
    def activated(self) -> Iterator[RemoteServer]:
        """Point plain fsspec URLs of this protocol at the server until the block exits.

        Sets `env`, `fsspec_conf` and `implementations`, and clears the gcsfs / s3fs instance caches on
        entry and exit, so no filesystem object made for one configuration is reused in another.
        Nests (re-entering restores the outer state on exit).
        """
        import fsspec.config
        from fsspec.registry import _registry, register_implementation

        saved_conf = {key: fsspec.config.conf.get(key) for key in self.fsspec_conf}
        saved_impl = {key: _registry.get(key) for key in self.implementations}
        with pytest.MonkeyPatch.context() as patch:
            for key, value in self.env.items():
                if value is None:
                    patch.delenv(key, raising=False)
                else:
                    patch.setenv(key, value)
            try:
                for key, value in self.fsspec_conf.items():
                    fsspec.config.conf[key] = dict(value)
                for protocol, cls in self.implementations.items():
                    register_implementation(protocol, cls, clobber=True)
                clear_fsspec_instance_caches()
                yield self
            finally:
                for key, value in saved_conf.items():
                    if value is None:
                        fsspec.config.conf.pop(key, None)
                    else:
                        fsspec.config.conf[key] = value
                for protocol, cls in saved_impl.items():
                    if cls is None:
                        _registry.pop(protocol, None)
                    else:
                        _registry[protocol] = cls
                clear_fsspec_instance_caches()


# --------------------------------------------------------------------------------------------- GCS


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteServer]:
    """gcp-storage-emulator on loopback with bucket ``poseact-test``; see the module docstring."""
    require_modules("GCS", "gcp_storage_emulator", "gcsfs")
    workdir = tmp_path_factory.mktemp("gcs-emulator")
    command = lambda port: [  # noqa: E731
        sys.executable, "-m", "gcp_storage_emulator", "start",
        "--host", "127.0.0.1", "--port", str(port), "--in-memory",
    ]
    with run_server("gcp-storage-emulator", command, "/storage/v1/b", workdir) as (endpoint, log_path):
        # gcsfs reads GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT once, when first imported, and unless it is
        # false makes gcsfs.GCSFileSystem (what fsspec uses for gs://) the ExtendedGcsFileSystem. That
        # class asks the gRPC storage control API, which the emulator lacks, for each bucket's type and
        # retries for 60 s per call. Setting the variable now may be too late (and would change gcsfs
        # for the rest of the session), so the plain class is registered for gs:// while activated.
        import gcsfs.core

        core_fs = gcsfs.core.GCSFileSystem
        server = RemoteServer(
            name="gcs",
            protocol="gs",
            endpoint=endpoint,
            bucket=BUCKET,
            log_path=log_path,
            env={
                # gcsfs sends every request to this host instead of storage.googleapis.com.
                "STORAGE_EMULATOR_HOST": endpoint,
                "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
                # Keep gcsfs's default credential search off the GCE metadata server.
                "NO_GCE_CHECK": "true",
            },
            # Anonymous access: the emulator needs no credentials, and a developer's application
            # default credentials must never be used (or refreshed over the network) by tests.
            fsspec_conf={"gs": {"token": "anon"}, "gcs": {"token": "anon"}},
            # Even when gcsfs was imported earlier with the experimental class, use the plain one.
            implementations={"gs": core_fs, "gcs": core_fs},
        )
        with server.activated():
            core_fs(token="anon").mkdir(BUCKET)
        yield server


# ---------------------------------------------------------------------------------------------- S3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteServer]:
    """moto's S3 server on loopback with bucket ``poseact-test``; see the module docstring."""
    require_modules("S3", "moto", "flask", "flask_cors", "s3fs")
    workdir = tmp_path_factory.mktemp("moto-server")
    command = lambda port: [  # noqa: E731
        sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port),
    ]
    with run_server("moto_server", command, "/moto-api/", workdir) as (endpoint, log_path):
        server = RemoteServer(
            name="s3",
            protocol="s3",
            endpoint=endpoint,
            bucket=BUCKET,
            log_path=log_path,
            env={
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                # botocore (>= 1.31) reads the endpoint from these; s3fs passes no endpoint of its own.
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ENDPOINT_URL_S3": endpoint,
                # Nothing from the developer's AWS setup may take part.
                "AWS_SESSION_TOKEN": None,
                "AWS_SECURITY_TOKEN": None,
                "AWS_PROFILE": None,
                "AWS_DEFAULT_PROFILE": None,
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": None,
                "AWS_CONFIG_FILE": str(workdir / "aws-config-absent"),
                "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials-absent"),
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
        with server.activated():
            import s3fs

            s3fs.S3FileSystem().mkdir(BUCKET)
        yield server


# ------------------------------------------------------------------------------- per-test activation

SERVER_FIXTURES = ("gcs_server", "s3_server")


@pytest.fixture(autouse=True)
def _remote_server_clients(request: pytest.FixtureRequest) -> Iterator[None]:
    """Point fsspec at each server that the test's fixture closure names, for that test only."""
    names = [name for name in SERVER_FIXTURES if name in request.fixturenames]
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(request.getfixturevalue(name).activated())
        yield
