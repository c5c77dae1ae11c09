"""Local and remote file access through fsspec (`gs://` via gcsfs, `s3://` via s3fs, any fsspec URL).

Beam has its own `FileSystems`, but it has no S3 support without extra packages and no general fsspec
bridge; fsspec covers local, GCS, S3 and every other protocol with one API, so all I/O goes through it.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator

import fsspec
from fsspec.core import url_to_fs


def filesystem(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem for `uri` and the path inside it."""
    return url_to_fs(uri)


def is_local(uri: str) -> bool:
    """True for plain paths and `file://` URLs."""
    return "://" not in uri or uri.startswith("file://")


def join(base: str, *parts: str) -> str:
    """Join path parts onto a local path or URL."""
    if is_local(base):
        return os.path.join(base, *parts)
    return posixpath.join(base, *parts)


def exists(uri: str) -> bool:
    """Whether a file or directory exists."""
    fs, path = filesystem(uri)
    return fs.exists(path)


def makedirs(uri: str) -> None:
    """Create a directory (a no-op on object stores)."""
    fs, path = filesystem(uri)
    fs.makedirs(path, exist_ok=True)


def read_bytes(uri: str) -> bytes:
    """Read a whole file."""
    with fsspec.open(uri, "rb") as handle:
        return handle.read()


def _local_path(uri: str) -> str:
    return uri[len("file://"):] if uri.startswith("file://") else uri


def _replace_local(path: str, write: Callable[[str], None]) -> None:
    """Call `write(tmp)` on a temporary name beside `path`, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def write_atomic(uri: str, data: bytes) -> None:
    """Write `data` so that readers see either the old file or the whole new one, never a part.

    Local files go to a temporary name in the same directory and are renamed into place. Object stores
    (GCS, S3) make an upload visible only when it completes, so a direct write is already atomic there.
    """
    if is_local(uri):
        def write(tmp: str) -> None:
            with open(tmp, "wb") as handle:
                handle.write(data)

        _replace_local(_local_path(uri), write)
        return
    # One call with all the data: a file handle's `__exit__` would commit whatever was buffered even
    # when a write inside the `with` failed, publishing a partial or corrupt object.
    fs, path = filesystem(uri)
    fs.pipe_file(path, data)


def upload_atomic(local_path: str, uri: str) -> None:
    """Copy a finished local file to `uri` atomically (see `write_atomic`)."""
    if is_local(uri):
        _replace_local(_local_path(uri), lambda tmp: shutil.copyfile(local_path, tmp))
        return
    fs, path = filesystem(uri)
    fs.put_file(local_path, path)


@contextlib.contextmanager
def local_copy(uri: str, suffix: str = "") -> Iterator[str]:
    """Yield a local path for `uri`: the file itself when local, else a staged temporary copy.

    Raises:
        FileNotFoundError: `uri` does not exist.
    """
    if is_local(uri):
        path = _local_path(uri)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such file: {uri}")
        yield path
        return
    fs, path = filesystem(uri)
    if not fs.isfile(path):
        raise FileNotFoundError(f"no such file: {uri}")
    fd, tmp = tempfile.mkstemp(suffix=suffix or os.path.splitext(path)[1], prefix="poseact-")
    os.close(fd)
    try:
        fs.get_file(path, tmp)
        yield tmp
    finally:
        _remove_quietly(tmp)


def _remove_quietly(path: str) -> None:
    """Delete a local file that may already be gone."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def list_files(uri: str) -> list[str]:
    """All files below a directory, as full URIs (or local paths), sorted."""
    fs, path = filesystem(uri)
    found = sorted(fs.find(path))
    if is_local(uri):
        return found
    protocol = uri.split("://", 1)[0]
    return [f"{protocol}://{p}" for p in found]
