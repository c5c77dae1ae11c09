"""The extraction pipeline on Beam's DaskRunner, for `poseact bench extract --dask`.

Each run gets a fresh local cluster (single-threaded worker processes on 127.0.0.1, as launch/dask.sh
starts them), warmed up by an untimed job of one clip per worker: a fresh worker spends about 20 s on
its first clip importing TensorFlow and MediaPipe, and a real cluster outlives many jobs. Cluster start
and warm-up are reported apart from the timed job.
"""

from __future__ import annotations

import contextlib
import csv
import resource
import time
from collections.abc import Iterator
from typing import Any

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def dask_flags(address: str) -> list[str]:
    """Beam flags for the Dask scheduler at `address`, as launch/dask.sh gives them."""
    return [f"--runner={DASK_RUNNER}", f"--dask_client_address={address}", "--dask_partition_size=1"]


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[str]:
    """A `distributed.LocalCluster` of single-threaded worker processes on 127.0.0.1; yields its address."""
    from distributed import LocalCluster  # noqa: PLC0415

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def close_runner_clients() -> int:
    """Close the Dask clients that the DaskRunner opened and left open; returns how many there were.

    The runner makes a default client per run and never closes it; once its cluster is gone, such a
    client tries to reconnect for 30 s, logging errors.
    """
    from distributed import default_client  # noqa: PLC0415

    closed = 0
    while True:
        try:
            client = default_client()
        except ValueError:
            return closed
        client.close()
        closed += 1


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _first_clips(manifest: str, count: int, path: str) -> str:
    from poseact.data.manifest import read_clips  # noqa: PLC0415

    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uri", "label", "group"])
        writer.writerows([spec.uri, spec.label, spec.group] for spec in read_clips(manifest)[:count])
    return path


def dask_run(manifest: str, output: str, model_path: str, fps: float, num_poses: int, workers: int) -> dict[str, Any]:
    """Run extraction on a fresh local cluster of `workers` processes.

    Returns:
        Frames, wall seconds and frames per second (end to end and steady state) of the timed job, the
        cluster's start-up and warm-up seconds, and each worker process's peak resident memory in MiB.
    """
    from distributed import Client  # noqa: PLC0415

    from pipelines import extract  # noqa: PLC0415

    def job(clips: str, out: str) -> dict[str, Any]:
        return extract.run(["--input", clips, "--output", out, "--pose-model", model_path, "--fps", str(fps),
                            "--num-poses", str(num_poses), "--no-progress", *dask_flags(address)])

    started = time.perf_counter()
    with local_cluster(workers) as address, Client(address, set_as_default=False) as client:
        client.wait_for_workers(workers)
        cluster_s = time.perf_counter() - started
        try:
            warm_up = job(_first_clips(manifest, workers, output + "-warm-up.csv"), output + "-warm-up")
            summary = job(manifest, output)
        finally:
            close_runner_clients()
        rss = sorted(round(v) for v in client.run(_peak_rss_mib).values())
    run = summary["run"]
    return {
        "workers": workers,
        "frames": summary["frames_kept"],
        "seconds": run["wall_seconds"],
        "fps": run["frames_per_second"],
        "steady_fps": run["steady_frames_per_second"],
        "clips_per_worker": run["clips_per_worker"],
        "cluster_start_s": round(cluster_s, 2),
        "warm_up_s": warm_up["run"]["wall_seconds"],
        "worker_peak_rss_mib": rss,
    }
