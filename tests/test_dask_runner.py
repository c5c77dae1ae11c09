"""Extraction on Beam's DaskRunner, on a real Dask cluster of worker processes on 127.0.0.1.

The cluster is started here (`distributed.LocalCluster`, two single-threaded worker processes); the
launcher test starts its own with `dask scheduler` / `dask worker` through launch/dask.sh. Outputs must
equal the DirectRunner's byte for byte (summary.json but its `run` section).
"""

import csv
import json
import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import extract, routing
from pipelines.bench_dask import DASK_RUNNER, close_runner_clients, dask_flags, local_cluster
from poseact.demo import clips as demo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as address:
        yield address
        close_runner_clients()


def _write_manifest(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["uri", "label", "group"])
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Six demo clips, a corrupt one and a missing one."""
    root = tmp_path_factory.mktemp("dask-data")
    manifest = demo.make_demo_dataset(str(root / "demo"), sessions=1, seed=5, seconds=1.4)
    with open(manifest) as handle:
        rows = list(csv.DictReader(handle))
    demo.make_corrupt_clip(str(root / "corrupt.mp4"))
    rows.append({"uri": str(root / "corrupt.mp4"), "label": demo.CLASSES[0], "group": "bad-0"})
    rows.append({"uri": str(root / "missing.mp4"), "label": demo.CLASSES[1], "group": "bad-1"})
    return _write_manifest(root / "manifest.csv", rows), rows


def _run(manifest, out, *extra):
    return extract.run(["--input", manifest, "--output", str(out), "--no-progress", *extra])


def _files(out):
    return {name: (out / name).read_bytes() for name in sorted(os.listdir(out)) if name != "summary.json"}


def _without_run(summary):
    return {k: v for k, v in summary.items() if k != "run"}


class _Parity(beam.DoFn):
    def setup(self):
        self.ready = True

    def process(self, x):
        assert self.ready
        yield x if x % 2 == 0 else beam.pvalue.TaggedOutput("odd", x)


def _read_text(path):
    with open(path) as handle:
        return handle.read()


def _dump(path):
    def write(value):
        with open(path, "w") as handle:
            json.dump(sorted(value) if isinstance(value, list) else value, handle)
        return path
    return write


def test_routing_transforms_on_dask(cluster, tmp_path):
    """Each gap's workaround (pipelines/routing.py) gives the DirectRunner's result on Dask."""
    paths = {name: str(tmp_path / f"{name}.json") for name in ("even", "odd", "none", "after")}
    with beam.Pipeline(options=PipelineOptions(dask_flags(cluster))) as p:
        out = p | "Numbers" >> beam.Create(range(7)) | routing.TaggedParDo(_Parity(), "odd", main="even")
        even = out["even"] | "CollectEven" >> routing.CollectAll() | "WriteEven" >> beam.Map(_dump(paths["even"]))
        odd = out["odd"] | "CollectOdd" >> routing.CollectAll() | "WriteOdd" >> beam.Map(_dump(paths["odd"]))
        none = (p | "Nothing" >> beam.Create([]) | "CollectNone" >> routing.CollectAll()
                | "WriteNone" >> beam.Map(_dump(paths["none"])))
        # Three branches, one final step: on Dask only the last step and its inputs run.
        _ = (p | "Done" >> beam.Create(["done"]) | routing.After(even, odd, none)
             | "WriteAfter" >> beam.Map(_dump(paths["after"])))
    got = {name: json.loads(_read_text(path)) for name, path in paths.items()}
    assert got == {"even": [0, 2, 4, 6], "odd": [1, 3, 5], "none": [], "after": "done"}


def test_spread_fans_one_element_out_over_both_workers(cluster, tmp_path):
    """What one element fans out into stays in its Dask task after Reshuffle, but not after Spread."""
    path = str(tmp_path / "pids.json")
    with beam.Pipeline(options=PipelineOptions(dask_flags(cluster))) as p:
        _ = (p | beam.Create(["lecture"]) | beam.FlatMap(lambda key: [(key, i) for i in range(16)])
             | routing.Spread(lambda task: task, slots=16) | beam.Map(lambda _: os.getpid())
             | routing.CollectAll() | beam.Map(_dump(path)))
    assert len(set(json.loads(_read_text(path)))) == 2


@pytest.mark.slow
def test_extraction_on_dask_matches_the_direct_runner(cluster, dataset, tmp_path):
    manifest, rows = dataset
    direct = _run(manifest, tmp_path / "direct")
    dask = _run(manifest, tmp_path / "dask", *dask_flags(cluster))
    assert _files(tmp_path / "dask") == _files(tmp_path / "direct")
    assert _without_run(dask) == _without_run(direct)
    errors = [json.loads(line) for line in (tmp_path / "dask" / "errors.jsonl").read_text().splitlines()]
    assert {os.path.basename(e["uri"]): e["stage"] for e in errors} == {"corrupt.mp4": "decode", "missing.mp4": "read"}
    assert (dask["clips_in"], dask["clips_written"], dask["clips_failed"]) == (len(rows), len(rows) - 2, 2)
    assert dask["run"]["runner"] == DASK_RUNNER
    # Both worker processes took clips, and their progress markers reached the launcher's disk.
    assert len(dask["run"]["clips_per_worker"]) == 2 and sum(dask["run"]["clips_per_worker"]) == len(rows)
    assert dask["run"]["steady_frames_per_second"] > 0


def _launch(env_extra, *args):
    env = {**os.environ, **env_extra, "POSEACT": os.path.join(os.path.dirname(sys.executable), "poseact"),
           "DASK": os.path.join(os.path.dirname(sys.executable), "dask")}
    return subprocess.run(["bash", os.path.join(REPO, "launch", "dask.sh"), *args], env=env, check=False,
                          capture_output=True, text=True, timeout=900)


def test_launcher_passes_the_scheduler_address():
    done = _launch({"PRINT_ONLY": "1", "DASK_SCHEDULER": "tcp://10.0.0.5:8786"}, "extract", "--input", "m.csv")
    bad_usage = _launch({}, "train")  # fails before starting any cluster
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[1:] == ["extract", f"--runner={DASK_RUNNER}", "--dask_partition_size=1",
                         "--dask_client_address=tcp://10.0.0.5:8786", "--input", "m.csv"]
    from apache_beam.runners.dask import dask_runner  # noqa: F401, PLC0415 (declares the --dask_* options)

    options = PipelineOptions(lines[2:5])
    assert set(options.get_all_options(retain_unknown_options=True)) == set(options.get_all_options())
    assert bad_usage.returncode == 2 and "usage:" in bad_usage.stderr


@pytest.mark.slow
def test_launcher_runs_extraction_on_a_local_cluster(dataset, tmp_path):
    _, rows = dataset
    small = _write_manifest(tmp_path / "small.csv", [rows[0], rows[-1]])  # one clip and the missing file
    logs = tmp_path / "logs"
    done = _launch({"WORKERS": "2", "DASK_LOG_DIR": str(logs)}, "extract", "--input", small,
                   "--output", str(tmp_path / "out"), "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["clips_written"], summary["clips_failed"]) == (1, 1)
    assert summary["run"]["runner"] == DASK_RUNNER
    assert summary["run"]["options"]["scheduler_file"] == str(logs / "scheduler.json")
    # The scheduler saw two workers arrive, and both it and the workers were stopped after the job.
    assert (logs / "workers.log").read_text().count("Registered to:") == 2
    assert "End scheduler" in (logs / "scheduler.log").read_text()


def _tree(root):
    return {os.path.relpath(os.path.join(folder, name), root): _read_bytes(os.path.join(folder, name))
            for folder, _, names in os.walk(root) for name in names}


def _read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.mark.slow
def test_labelling_on_dask_matches_the_direct_runner(cluster, tmp_path):
    from pipelines import label  # noqa: PLC0415
    from tests.label_support import make_lecture, make_model  # noqa: PLC0415

    model = make_model(str(tmp_path / "model"))
    make_lecture(str(tmp_path / "videos" / "lecture.mp4"), seconds=12.0, students=2)
    listing = tmp_path / "lectures.txt"
    listing.write_text("videos/lecture.mp4\nvideos/missing.mp4\n")
    flags = ["--input", str(listing), "--model", model, "--chunk-seconds", "4", "--stride", "2", "--no-progress"]
    direct = label.run([*flags, "--output", str(tmp_path / "direct")])
    dask = label.run([*flags, "--output", str(tmp_path / "dask"), *dask_flags(cluster)])
    expected = _tree(tmp_path / "direct")
    got = _tree(tmp_path / "dask")
    assert sorted(got) == sorted(expected) and any(name.endswith("segments.parquet") for name in got)
    assert {n: v for n, v in got.items() if n != "run.json"} == {n: v for n, v in expected.items() if n != "run.json"}
    assert _without_run(dask) == _without_run(direct)
    assert (dask["videos_labelled"], dask["videos_failed"]) == (1, 1)
    # The lecture's three chunks left the task that planned them and ran on both workers.
    assert len(dask["run"]["chunks_per_worker"]) == 2 and sum(dask["run"]["chunks_per_worker"]) == 3
