"""A model trained on real MediaPipe landmark sequences, brought in with `poseact import`, beats chance
on a grouped test split: the demo clips are extracted with MediaPipe, their raw landmarks written as
.npy files as another tool would, imported, and trained on."""

import numpy as np
import pytest

from pipelines import extract, importer
from poseact.data import schema
from poseact.demo import clips as demo
from poseact.learn import hparams, train


@pytest.mark.slow
def test_imported_mediapipe_landmarks_train_well_above_chance(tmp_path):
    manifest = demo.make_demo_dataset(str(tmp_path / "demo"), sessions=8, seed=3)
    summary = extract.run(["--input", manifest, "--output", str(tmp_path / "shards"), "--no-progress",
                           "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert summary["clips_failed"] == 0
    examples = schema.read_examples([str(tmp_path / "shards" / s) for s in summary["shards"]])
    rows = ["uri,label,group"]
    for i, (label, group) in enumerate(zip(examples[schema.LABEL][:, 0], examples[schema.GROUP][:, 0])):
        frames = examples[schema.LANDMARKS][i].reshape(-1, 33, 5)
        path = tmp_path / "npy" / f"clip{i:03d}.npy"
        path.parent.mkdir(exist_ok=True)
        np.save(path, frames[:, :, :4])  # x, y, z, visibility: the common export layout
        rows.append(f"{path},{label.decode()},{group.decode()}")
    (tmp_path / "npy" / "manifest.csv").write_text("\n".join(rows) + "\n")
    imported = importer.run(["--input", str(tmp_path / "npy" / "manifest.csv"), "--output", str(tmp_path / "imp"),
                             "--source-fps", "15", "--width", "384", "--height", "384", "--no-progress",
                             "--test-fraction", "0.25", "--val-fraction", "0.25"])
    assert imported["clips_written"] == summary["clips_written"] == 48
    # Batch 8 rather than the paper's 32: 24 training clips would give one step per epoch.
    metrics = train.run(str(tmp_path / "imp"), str(tmp_path / "model"), hparams.HParams(epochs=60, batch_size=8))
    print("real MediaPipe landmarks, imported:", {k: metrics[k]["accuracy"] for k in ("train", "val", "test")})
    assert metrics["test"]["n"] >= 12
    # Chance is 1/3. Seen: 0.58 and 0.67 (before training order stopped depending on paths); the demo
    # motions are subtle next to MediaPipe's guesses for the out-of-view arms.
    assert metrics["test"]["accuracy"] >= 0.5, metrics["test"]
