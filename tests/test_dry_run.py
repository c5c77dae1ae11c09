"""`--runner=DataflowRunner --dry_run=True` from the commands builds the job with the network unreachable
and touches neither the output folder nor its bucket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import extract, label
from poseact.common import storage

REPO = Path(__file__).resolve().parents[1]
BUCKET = "gs://poseact-offline-bucket"
DATAFLOW_ENV = {"PROJECT": "poseact-demo", "REGION": "europe-west1", "TEMP_LOCATION": f"{BUCKET}/tmp",
                "IMAGE": "europe-west1-docker.pkg.dev/poseact-demo/poseact/worker:test"}
DATAFLOW_FLAGS = ["--runner=DataflowRunner", "--project=poseact-demo", "--region=europe-west1",
                  f"--temp_location={BUCKET}/tmp", f"--sdk_container_image={DATAFLOW_ENV['IMAGE']}",
                  "--dry_run=True"]
# Loaded into the command's Python (PYTHONPATH) so that any connection or name lookup fails at once.
NO_NETWORK = '''
import socket
def _refuse(*args, **kwargs):
    raise OSError(101, "network is unreachable (poseact dry-run test)")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
'''


@pytest.fixture
def offline(monkeypatch):
    """No network, and a record of every storage call on a remote URI (there must be none)."""
    def refuse(*args, **kwargs):
        raise OSError(101, "network is unreachable (test)")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    touched: list[str] = []
    original = storage.filesystem

    def watched(uri: str):
        if not storage.is_local(uri):
            touched.append(uri)
        return original(uri)

    monkeypatch.setattr(storage, "filesystem", watched)
    return touched


@pytest.fixture
def manifest(tmp_path) -> str:
    path = tmp_path / "manifest.csv"
    path.write_text("uri,label,group\n" + "".join(f"{BUCKET}/clips/{i}.mp4,{c},g{i}\n"
                                                  for i, c in enumerate(["read", "write"] * 3)))
    return str(path)


def test_extract_dry_run_builds_the_job_offline(offline, manifest, monkeypatch):
    monkeypatch.chdir(REPO)
    summary = extract.run(["--input", manifest, "--output", f"{BUCKET}/shards", "--no-progress", *DATAFLOW_FLAGS])
    assert summary["dry_run"] is True and summary["runner"] == "DataflowRunner" and summary["clips_in"] == 6
    assert summary["steps"] > 10
    assert offline == []


def test_label_dry_run_builds_the_job_offline(offline, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    listing = tmp_path / "lectures.txt"
    listing.write_text(f"{BUCKET}/lectures/a.mp4\n{BUCKET}/lectures/b.mp4\n")
    summary = label.run(["--input", str(listing), "--model", "rules", "--output", f"{BUCKET}/labels",
                         "--videos-per-job", "1", *DATAFLOW_FLAGS])
    assert summary["dry_run"] is True and summary["videos_in"] == 2 and summary["jobs"] == 2
    assert summary["steps"] > 10
    assert offline == []


def test_dry_run_needs_dataflow(manifest, tmp_path):
    with pytest.raises(ValueError, match="--runner=DataflowRunner"):
        extract.run(["--input", manifest, "--output", str(tmp_path / "out"), "--dry_run=True"])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("job", ["extract", "label"])
def test_dataflow_launcher_dry_run_works_offline(job, manifest, tmp_path):
    """launch/dataflow.sh extract|label ... --dry_run=True, in a process that cannot open any connection."""
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    listing = tmp_path / "lectures.txt"
    listing.write_text(f"{BUCKET}/lectures/a.mp4\n")
    flags = {"extract": ["--input", manifest, "--output", f"{BUCKET}/shards"],
             "label": ["--input", str(listing), "--model", "rules", "--output", f"{BUCKET}/labels"]}[job]
    env = {**os.environ, **DATAFLOW_ENV, "PYTHONPATH": str(tmp_path),
           "POSEACT": os.path.join(os.path.dirname(sys.executable), "poseact")}
    done = subprocess.run(["bash", str(REPO / "launch" / "dataflow.sh"), job, *flags, "--dry_run=True"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{job}: dry run on DataflowRunner: job built with" in done.stdout
    assert "network is unreachable" not in done.stdout + done.stderr
