"""The extraction pipeline end to end on the DirectRunner, with every kind of bad input."""

import csv
import json
import os
import shutil

import pytest

from pipelines import extract
from poseact.common import storage
from poseact.data import schema
from poseact.data.manifest import ManifestError
from poseact.demo import clips as demo

BAD = {
    "corrupt.mp4": "decode",
    "empty.mp4": "decode",
    "text.mp4": "decode",
    "missing.mp4": "read",
    "nobody.mp4": "pose",
    "single.mp4": "decode",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    manifest = demo.make_demo_dataset(str(root / "demo"), sessions=1, seed=5, seconds=1.4)
    with open(manifest) as handle:
        rows = list(csv.DictReader(handle))
    bad = root / "bad"
    bad.mkdir()
    demo.make_corrupt_clip(str(bad / "corrupt.mp4"))
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "text.mp4").write_text("this is not a video\n")
    demo.make_nobody_clip(str(bad / "nobody.mp4"))
    demo.make_single_frame_clip(str(bad / "single.mp4"))
    for i, name in enumerate(sorted(BAD)):
        rows.append({"uri": str(bad / name), "label": demo.CLASSES[i % 3], "group": f"bad-{i}"})
    path = root / "manifest.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["uri", "label", "group"])
        writer.writeheader()
        writer.writerows(rows)
    return str(path), len(rows)


def _run(manifest, out, *extra):
    return extract.run(["--input", manifest, "--output", str(out), "--no-progress", *extra])


def _files(out):
    return {name: (out / name).read_bytes() for name in sorted(os.listdir(out)) if name != "summary.json"}


@pytest.fixture(scope="module")
def first_run(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return _run(dataset[0], out), out


@pytest.mark.slow
def test_every_input_is_accounted_for(dataset, first_run):
    summary, out = first_run
    _, total = dataset
    assert summary["clips_in"] == total
    assert summary["clips_written"] + summary["clips_failed"] == total
    assert summary["clips_failed"] == len(BAD)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {os.path.basename(e["uri"]): e["stage"] for e in errors} == BAD
    assert all(e["reason"] for e in errors)
    reasons = {os.path.basename(e["uri"]): e["reason"] for e in errors}
    assert "nobody detected" in reasons["nobody.mp4"]
    assert "1 decodable frame" in reasons["single.mp4"]
    assert "no such file" in reasons["missing.mp4"]
    assert summary["detection_rate"] > 0.8
    assert sum(v["written"] for v in summary["per_class"].values()) == summary["clips_written"]


@pytest.mark.slow
def test_shards_read_back_with_the_committed_schema(first_run):
    summary, out = first_run
    assert (out / "schema.pbtxt").read_text() == schema.schema_text()
    shards = sorted(str(out / name) for name in summary["shards"])
    assert all(os.path.exists(s) for s in shards)
    examples = schema.read_examples(shards, schema.load_schema())
    n = len(examples[schema.CLIP_ID])
    assert n == summary["clips_written"]
    assert examples[schema.POSE].shape == (n, 48, 24, 3)
    assert examples[schema.FRAME_MASK].sum(axis=1).min() >= 2
    classes = json.loads((out / "classes.json").read_text())
    labels = [label.decode() for label in examples[schema.LABEL][:, 0]]
    assert [classes[i] for i in examples[schema.LABEL_ID][:, 0]] == labels
    for i in range(n):
        T = int(examples[schema.NUM_FRAMES][i, 0])
        assert examples[schema.LANDMARKS][i].shape == (T * 33 * 5,)
        assert examples[schema.WORLD_LANDMARKS][i].shape == (T * 33 * 3,)
        assert (examples[schema.TIMESTAMPS_MS][i][1:] > examples[schema.TIMESTAMPS_MS][i][:-1]).all()
    groups = {}
    for group, split in zip(examples[schema.GROUP][:, 0], examples[schema.SPLIT][:, 0]):
        assert groups.setdefault(group, split) == split


@pytest.mark.slow
def test_rerun_with_two_worker_processes_gives_identical_bytes(dataset, first_run, tmp_path):
    _, out = first_run
    _run(dataset[0], tmp_path, "--direct_num_workers=2", "--direct_running_mode=multi_processing")
    assert _files(tmp_path) == _files(out)


def test_bad_manifest_fails_before_any_work(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("uri,label\na.mp4,write\na.mp4,read\n")
    with pytest.raises(ManifestError, match="appears 2 times"):
        _run(str(manifest), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_class_folder_input(dataset, tmp_path):
    manifest, _ = dataset
    src = os.path.join(os.path.dirname(manifest), "demo", "clips")
    summary = _run(src, tmp_path / "out", "--classes", ",".join(demo.CLASSES), "--num-shards", "2")
    assert summary["clips_failed"] == 0 and summary["clips_written"] == len(demo.CLASSES) * 2
    assert sorted(f for f in os.listdir(tmp_path / "out") if f.endswith(".tfrecord")) == sorted(summary["shards"])
    assert len(summary["shards"]) == 6


@pytest.mark.slow
@pytest.mark.parametrize("server_name", ["gcs_server", "s3_server"])
def test_remote_input_and_output(dataset, server_name, request, tmp_path):
    server = request.getfixturevalue(server_name)
    manifest, _ = dataset
    with open(manifest) as handle:
        local = [r for r in csv.DictReader(handle) if "/demo/" in r["uri"]][:2]
    with server.activated():
        prefix = server.url(f"extract-{tmp_path.name}")
        lines = ["uri,label,group"]
        for row in local:
            uri = storage.join(prefix, "clips", os.path.basename(row["uri"]))
            storage.upload_atomic(row["uri"], uri)
            lines.append(f"clips/{os.path.basename(row['uri'])},{row['label']},{row['group']}")
        lines.append("clips/absent.mp4,still,nowhere")
        storage.write_atomic(storage.join(prefix, "manifest.csv"), ("\n".join(lines) + "\n").encode())
        summary = _run(storage.join(prefix, "manifest.csv"), storage.join(prefix, "out"))
        assert (summary["clips_written"], summary["clips_failed"]) == (2, 1)
        local_out = tmp_path / "copy"
        local_out.mkdir()
        for name in summary["shards"]:
            with storage.local_copy(storage.join(prefix, "out", name)) as path:
                shutil.copy(path, local_out / name)
        errors = storage.read_bytes(storage.join(prefix, "out", "errors.jsonl")).decode()
    examples = schema.read_examples([str(local_out / n) for n in summary["shards"]])
    assert len(examples[schema.CLIP_ID]) == 2
    assert all(u.decode().startswith(server.url_prefix) for u in examples[schema.URI][:, 0])
    assert "absent.mp4" in errors and '"stage": "read"' in errors
