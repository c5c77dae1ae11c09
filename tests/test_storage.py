"""poseact.common.storage against a local directory and real GCS / S3 servers on loopback (see remote_servers)."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from fsspec.registry import _registry as _fsspec_registry

from poseact.common import storage

BACKENDS = ["local", "gcs", "s3"]

# Settings that the server fixtures apply while a test uses them, as they were before any test ran.
_SERVER_ENV = (
    "STORAGE_EMULATOR_HOST", "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "NO_GCE_CHECK", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
)
_ENV_AT_IMPORT = {name: os.environ.get(name) for name in _SERVER_ENV}
_GS_IMPL_AT_IMPORT = {p: _fsspec_registry.get(p) for p in ("gs", "gcs")}


@pytest.fixture(params=BACKENDS)
def root(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty directory: a local path, or a unique prefix in the GCS / S3 test bucket."""
    if request.param == "local":
        yield str(tmp_path / "root")
        return
    server = request.getfixturevalue(f"{request.param}_server")
    with server.activated():
        yield server.url(f"{request.node.name.split('[')[0]}-{uuid.uuid4().hex[:8]}")


def _is_remote(uri: str) -> bool:
    return not storage.is_local(uri)


def test_join(root):
    joined = storage.join(root, "a", "b.npz")
    if _is_remote(root):
        assert joined == f"{root}/a/b.npz"
    else:
        assert joined == os.path.join(root, "a", "b.npz")


def test_write_atomic_then_read_bytes(root):
    uri = storage.join(root, "nested", "deeper", "clip.bin")
    storage.write_atomic(uri, b"first\x00\xff")
    assert storage.read_bytes(uri) == b"first\x00\xff"

    storage.write_atomic(uri, b"second, longer than the first")
    assert storage.read_bytes(uri) == b"second, longer than the first"

    storage.write_atomic(uri, b"")
    assert storage.read_bytes(uri) == b""

    # Only the target is left: no temporary files beside it.
    assert storage.list_files(root) == [uri]


def test_write_atomic_large_object(root):
    data = os.urandom(3 * 2**20 + 17)
    uri = storage.join(root, "big.bin")
    storage.write_atomic(uri, data)
    assert storage.read_bytes(uri) == data


def test_write_atomic_failure_keeps_old_file_and_no_temporaries(tmp_path):
    uri = str(tmp_path / "out" / "manifest.json")
    storage.write_atomic(uri, b"old")
    with pytest.raises(TypeError):
        storage.write_atomic(uri, "not bytes")  # type: ignore[arg-type]
    assert storage.read_bytes(uri) == b"old"
    assert os.listdir(tmp_path / "out") == ["manifest.json"]


def test_write_atomic_file_url(tmp_path):
    uri = "file://" + str(tmp_path / "a" / "b.txt")
    storage.write_atomic(uri, b"via file url")
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"via file url"
    assert storage.read_bytes(uri) == b"via file url"
    assert storage.exists(uri)


def test_upload_atomic(root, tmp_path):
    source = tmp_path / "source.npz"
    source.write_bytes(b"payload " * 1000)
    uri = storage.join(root, "up", "source.npz")
    storage.upload_atomic(str(source), uri)
    assert storage.read_bytes(uri) == source.read_bytes()

    source.write_bytes(b"replaced")
    storage.upload_atomic(str(source), uri)
    assert storage.read_bytes(uri) == b"replaced"
    assert source.read_bytes() == b"replaced"  # the source is left alone
    assert storage.list_files(root) == [uri]


def test_upload_atomic_missing_source(root, tmp_path):
    uri = storage.join(root, "up", "never.npz")
    with pytest.raises(FileNotFoundError):
        storage.upload_atomic(str(tmp_path / "absent.npz"), uri)
    assert not storage.exists(uri)
    assert storage.list_files(root) == []


def test_local_copy(root):
    uri = storage.join(root, "videos", "clip.mp4")
    data = os.urandom(4096)
    storage.write_atomic(uri, data)

    with storage.local_copy(uri) as path:
        assert os.path.isabs(path) or not _is_remote(root)
        assert os.path.isfile(path)
        with open(path, "rb") as handle:
            assert handle.read() == data
        if _is_remote(root):
            assert "://" not in path
            assert path.endswith(".mp4")  # keeps the extension for readers that sniff it
        else:
            assert path == uri
    if _is_remote(root):
        assert not os.path.exists(path), "the staged copy must be deleted afterwards"
    else:
        assert os.path.isfile(path), "a local file is used in place and must be kept"
    assert storage.read_bytes(uri) == data


def test_local_copy_suffix_and_cleanup_on_error(root):
    uri = storage.join(root, "model")
    storage.write_atomic(uri, b"weights")
    with pytest.raises(RuntimeError, match="boom"):
        with storage.local_copy(uri, suffix=".tflite") as path:
            if _is_remote(root):
                assert path.endswith(".tflite")
            raise RuntimeError("boom")
    assert os.path.exists(path) == (not _is_remote(root))


def test_local_copy_tolerates_caller_removing_the_copy(root):
    uri = storage.join(root, "scratch.bin")
    storage.write_atomic(uri, b"x")
    with storage.local_copy(uri) as path:
        if _is_remote(root):
            os.unlink(path)


def test_local_copy_missing_file(root):
    with pytest.raises(FileNotFoundError):
        with storage.local_copy(storage.join(root, "absent.mp4")):
            pytest.fail("must not yield for a missing file")
    # A "directory" (a prefix with objects under it) is not a file either.
    storage.write_atomic(storage.join(root, "dir", "inside.txt"), b"x")
    with pytest.raises(FileNotFoundError):
        with storage.local_copy(storage.join(root, "dir")):
            pytest.fail("must not yield for a directory")


def test_list_files(root):
    names = ["b/2.txt", "a.txt", "b/1.txt", "c/d/e.txt", "b10/x.txt"]
    for name in names:
        storage.write_atomic(storage.join(root, *name.split("/")), name.encode())

    found = storage.list_files(root)
    expected = sorted(storage.join(root, *name.split("/")) for name in names)
    assert found == expected
    assert found == sorted(found)
    if _is_remote(root):
        assert all(uri.startswith(root + "/") for uri in found)  # full URIs with the scheme
    for uri, name in zip(found, sorted(names)):
        assert storage.read_bytes(uri) == name.encode()

    # A sub-directory lists only what is below it, not siblings that share its name as a prefix.
    assert storage.list_files(storage.join(root, "b")) == [
        storage.join(root, "b", "1.txt"),
        storage.join(root, "b", "2.txt"),
    ]
    assert storage.list_files(storage.join(root, "missing")) == []


def test_exists(root):
    uri = storage.join(root, "sub", "file.txt")
    assert not storage.exists(uri)
    storage.write_atomic(uri, b"here")
    assert storage.exists(uri)
    assert storage.exists(storage.join(root, "sub"))
    assert not storage.exists(storage.join(root, "sub", "other.txt"))
    assert not storage.exists(storage.join(root, "su"))


def test_makedirs(root):
    directory = storage.join(root, "made", "here")
    storage.makedirs(directory)
    storage.makedirs(directory)  # idempotent
    if not _is_remote(root):
        assert os.path.isdir(directory)
    uri = storage.join(directory, "f.txt")
    storage.write_atomic(uri, b"ok")
    assert storage.read_bytes(uri) == b"ok"


def test_is_local():
    assert storage.is_local("/tmp/x")
    assert storage.is_local("relative/x")
    assert storage.is_local("file:///tmp/x")
    assert not storage.is_local("gs://bucket/x")
    assert not storage.is_local("s3://bucket/x")


# ----------------------------------------------------------------------- the fixtures themselves


def test_server_fixtures_reach_servers_with_plain_fsspec_urls(gcs_server, s3_server):
    import fsspec

    assert gcs_server.url_prefix == "gs://poseact-test"
    assert s3_server.url_prefix == "s3://poseact-test"
    for server in (gcs_server, s3_server):
        assert server.endpoint.startswith("http://127.0.0.1:")
        uri = f"{server.url_prefix}/fixture-check/{uuid.uuid4().hex}.txt"
        with fsspec.open(uri, "wb") as handle:
            handle.write(b"plain fsspec")
        with fsspec.open(uri, "rb") as handle:
            assert handle.read() == b"plain fsspec"
    assert os.environ["STORAGE_EMULATOR_HOST"] == gcs_server.endpoint
    assert os.environ["AWS_ENDPOINT_URL"] == s3_server.endpoint


def test_server_settings_do_not_leak_into_other_tests():
    """Runs after tests that used both servers: their settings must be gone again."""
    import fsspec.config

    assert {name: os.environ.get(name) for name in _SERVER_ENV} == _ENV_AT_IMPORT
    assert "token" not in fsspec.config.conf.get("gs", {})
    assert {p: _fsspec_registry.get(p) for p in ("gs", "gcs")} == _GS_IMPL_AT_IMPORT


def test_run_server_fails_with_output_when_server_never_answers(tmp_path):
    from .remote_servers import run_server

    command = lambda port: [sys.executable, "-c", "print('listening soon', flush=True); import time; time.sleep(60)"]  # noqa: E731
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"(?s)did not answer.*listening soon"):
        with run_server("silent", command, "/", tmp_path, timeout_s=1.0):
            pytest.fail("must not yield")
    assert time.monotonic() - started < 15


def test_run_server_fails_with_output_when_server_exits(tmp_path):
    from .remote_servers import START_ATTEMPTS, run_server

    command = lambda port: [sys.executable, "-c", f"import sys; print('cannot bind {port}'); sys.exit(3)"]  # noqa: E731
    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited with code 3.*cannot bind") as failure:
        with run_server("crashing", command, "/", tmp_path, timeout_s=10.0):
            pytest.fail("must not yield")
    assert str(failure.value).count("exited with code 3") == START_ATTEMPTS


def test_missing_server_package_skips():
    from .remote_servers import require_modules

    with pytest.raises(pytest.skip.Exception, match="no_such_package_for_poseact"):
        require_modules("Nothing", "os", "no_such_package_for_poseact")
