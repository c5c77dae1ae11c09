"""Extraction on the real clips of ../shared/data (skipped cleanly where that folder is absent)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from pipelines import extract
from poseact.data import schema

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clips"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"no real clips at {DATA}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    rows = ["uri,label,group"]
    for clip in sorted((DATA / "asl_gestures").glob("*.mkv")):
        rows.append(f"{clip},{clip.stem},asl")  # one signer: one group
    for name in ("seated_hand_raise_to_face.mp4", "two_people_table.mp4", "torso_no_head.mp4"):
        rows.append(f"{DATA / name},{name.split('.')[0]},{name}")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    summary = extract.run(["--input", str(manifest), "--output", str(root / "out"), "--no-progress",
                           "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    examples = schema.read_examples([str(root / "out" / s) for s in summary["shards"]])
    rates = {
        os.path.basename(uri.decode()): float(np.mean(det))
        for uri, det in zip(examples[schema.URI][:, 0], examples[schema.DETECTED])
    }
    print("detection rates:", json.dumps(rates, indent=1))
    return summary, rates, root / "out"


@pytest.mark.slow
def test_every_real_clip_is_written(extracted):
    summary, rates, out = extracted
    assert summary["clips_failed"] == 0, (out / "errors.jsonl").read_text()
    assert summary["clips_written"] == summary["clips_in"] == len(rates)


@pytest.mark.slow
def test_detection_rates_on_real_people(extracted):
    _, rates, _ = extracted
    asl = [r for name, r in rates.items() if name.endswith(".mkv")]
    assert len(asl) == 20 and min(asl) >= 0.9
    assert rates["seated_hand_raise_to_face.mp4"] >= 0.9
    assert rates["two_people_table.mp4"] >= 0.5
    # The head is out of frame: 88 of MediaPipe's 98 poses stood on their head (a face on the open palm, the
    # hips above it) and are refused (`poseact.pose.upright.upside_down`); 0.81 of the frames were "found" before.
    assert rates["torso_no_head.mp4"] < 0.2
