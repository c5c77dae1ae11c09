"""A real portable run here, and no credentials in outputs or logs.

Beam's Python job service (`local_job_service_main`) hands the job to a Python SDK worker pool
(`worker_pool_main`) over gRPC: the EXTERNAL environment protocol that a Flink task manager speaks to the
worker pool beside it. Flink's own job server cannot be had here (its jar comes from Maven Central), so
this is as close to Flink as runs offline; launch/flink.sh drives both.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poseact.demo import clips as demo

from .remote_servers import free_port

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 900
FAKE_SECRET = "FAKE-SECRET-7d1e4c"
FAKE_ENV_SECRET = "FAKE-ENV-SECRET-91ab"
FAKE_URL_PASSWORD = "FAKE-URL-PW-55c2"
SECRETS = (FAKE_SECRET, FAKE_ENV_SECRET, FAKE_URL_PASSWORD)
# Credentials as a careless user would pass them, beside an option that must be recorded (the control).
SECRET_FLAGS = [
    f"--s3_secret_access_key={FAKE_SECRET}",
    f"--s3_session_token={FAKE_SECRET}",
    f"--s3_endpoint_url=http://poseact:{FAKE_URL_PASSWORD}@127.0.0.1:9",
    "--job_name=visible-marker-3f2",
]
SECRET_ENV = {"AWS_SECRET_ACCESS_KEY": FAKE_ENV_SECRET, "GOOGLE_OAUTH_ACCESS_TOKEN": FAKE_ENV_SECRET}


@dataclasses.dataclass
class Service:
    """A gRPC server process of ours on loopback."""

    address: str
    log: Path


@contextlib.contextmanager
def grpc_service(name: str, command: Callable[[int], list[str]], workdir: Path) -> Iterator[Service]:
    """Run `command(port)` until the context exits; yield once a gRPC channel to it is ready.

    The process gets a session of its own, so that stopping it also stops the SDK workers it started.
    """
    import grpc

    port = free_port()
    log = workdir / f"{name}.log"
    # The worker pool starts each SDK worker as `python ...` from PATH: this interpreter's.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    with open(log, "wb") as handle:
        process = subprocess.Popen(command(port), stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=REPO, env=env, start_new_session=True)
    try:
        channel = grpc.insecure_channel(f"localhost:{port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            pytest.fail(f"{name} did not serve on port {port} within {START_TIMEOUT_S:.0f} s:\n"
                        f"{log.read_text()[-4000:]}")
        finally:
            channel.close()
        yield Service(f"localhost:{port}", log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def worker_pool(tmp_path_factory) -> Iterator[Service]:
    """The Python SDK worker pool that a Flink EXTERNAL environment talks to."""
    command = [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main"]
    with grpc_service("worker-pool", lambda port: [*command, f"--service_port={port}"],
                      tmp_path_factory.mktemp("pool")) as service:
        yield service


@pytest.fixture(scope="module")
def job_service(tmp_path_factory) -> Iterator[Service]:
    """Beam's Python job service: runs submitted jobs with the portable FnApiRunner."""
    command = [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main"]
    with grpc_service("job-service", lambda port: [*command, f"--port={port}"],
                      tmp_path_factory.mktemp("jobs")) as service:
        yield service


def test_worker_pool_answers_the_external_environment_protocol(worker_pool):
    import grpc
    from apache_beam.portability.api import beam_fn_api_pb2, beam_fn_api_pb2_grpc

    with grpc.insecure_channel(worker_pool.address) as channel:
        stub = beam_fn_api_pb2_grpc.BeamFnExternalWorkerPoolStub(channel)
        response = stub.StopWorker(beam_fn_api_pb2.StopWorkerRequest(worker_id="no-such-worker"), timeout=30)
    assert response.error == ""


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> str:
    """Two demo clips of two classes and one missing file (a dead letter)."""
    root = tmp_path_factory.mktemp("clips")
    with open(demo.make_demo_dataset(str(root / "demo"), sessions=1, seed=3, seconds=1.4)) as handle:
        rows = list(csv.DictReader(handle))
    rows = [next(r for r in rows if r["label"] == label) for label in demo.CLASSES[:2]]
    rows.append({"uri": str(root / "missing.mp4"), "label": demo.CLASSES[0], "group": "nowhere"})
    path = root / "manifest.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["uri", "label", "group"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def launch(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `launch/<script>` for real, as a user would, output captured."""
    proc = subprocess.run(["bash", str(REPO / "launch" / script), *args], check=False, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S, env={**os.environ, **SECRET_ENV, **env}, cwd=REPO)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc


def outputs(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but summary.json (whose `run` section differs between runs) and the
    command's log (timestamps, and each runner's own chatter)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "summary.json" and p.suffix != ".log"}


def assert_no_secret(texts: dict[str, str]) -> None:
    for where, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, f"a credential appears in {where}"


@pytest.fixture(scope="module")
def direct_run(manifest, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("direct") / "out"
    proc = launch("direct.sh", {}, "extract", "--input", manifest, "--output", str(out), "--no-progress",
                  *SECRET_FLAGS)
    return out, proc


@pytest.mark.slow
def test_credentials_appear_in_no_output_or_log(direct_run):
    out, proc = direct_run
    files = {name: data.decode(errors="replace") for name, data in outputs(out).items()}
    summary_text = (out / "summary.json").read_text()
    assert_no_secret({"stdout": proc.stdout, "stderr": proc.stderr, "summary.json": summary_text, **files})
    options = json.loads(summary_text)["run"]["options"]
    assert options["job_name"] == "visible-marker-3f2", "options are recorded: the filter keeps secrets out"
    assert options["s3_endpoint_url"] == "http://<redacted>@127.0.0.1:9"
    assert not {"s3_secret_access_key", "s3_session_token"} & set(options)


@pytest.mark.slow
def test_extraction_runs_on_the_worker_pool_with_the_same_outputs(manifest, worker_pool, job_service, direct_run,
                                                                  tmp_path):
    out = tmp_path / "out"
    started = time.time()
    proc = launch("flink.sh", {"JOB_ENDPOINT": job_service.address, "ENVIRONMENT_CONFIG": worker_pool.address},
                  "extract", "--input", manifest, "--output", str(out), *SECRET_FLAGS)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["runner"] == "PortableRunner"
    assert (summary["clips_written"], summary["clips_failed"]) == (2, 1)
    assert outputs(out) == outputs(direct_run[0]), "shards and dead letters must not depend on the runner"
    pool_log, jobs_log = worker_pool.log.read_text(), job_service.log.read_text()
    assert "Starting worker with command" in pool_log, "the SDK worker must come from the worker pool"
    assert f"Requesting worker at {worker_pool.address}" in jobs_log
    assert_no_secret({"stdout": proc.stdout, "stderr": proc.stderr, "worker pool log": pool_log,
                      "job service log": jobs_log, "summary.json": (out / "summary.json").read_text()})
    print(f"portable extraction of 3 clips: {time.time() - started:.1f} s")
