"""Shared media and a small model for the labelling tests."""

from __future__ import annotations

import os

from poseact.data import schema
from poseact.data.normalize import NORMALIZATION_VERSION
from poseact.demo import clips as demo
from poseact.learn import export

TEST_FPS = 5.0


def make_model(out_dir: str, fps: float = TEST_FPS, seed: int = 0) -> str:
    """Export a paper-model folder (untrained, seeded weights) with a real card: the labelling machinery
    (windows, RunInference, segments) is the same whatever the weights; accuracy is the training tests' job."""
    import keras

    from poseact.learn.hparams import HParams
    from poseact.learn.models import build_paper_model

    keras.utils.set_random_seed(seed)
    model = build_paper_model(len(demo.CLASSES), HParams())
    card = {"classes": list(demo.CLASSES), "max_frames": schema.max_frames(), "fps": fps,
            "normalization_version": NORMALIZATION_VERSION, "schema_hash": schema.schema_hash(), "model": "paper"}
    export.export_all(model, out_dir, card)
    return out_dir


def make_lecture(path: str, seconds: float, seed: int = 0, students: int = 4) -> str:
    """A demo lecture at the test frame rate (see `poseact.demo.clips.make_demo_lecture`)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    demo.make_demo_lecture(path, seconds=seconds, fps=TEST_FPS, students=students, seed=seed)
    return path
