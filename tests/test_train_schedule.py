"""Training schedules: the step-to-epoch logic, and the paper's small-data regime end to end.

The regime: 120 clips of noisy kinematic landmarks (20 subjects, grouped 70/15/15 split, 84 training
clips), batch 32, so 3 optimiser steps per epoch, as with the paper's 120 clips. The default `steps`
schedule must fit and generalise there run to run; the paper's callbacks stop after a few dozen steps
with the training set not yet fit, as they did on 90 real landmark sequences.
"""

import json

import numpy as np
import pytest

from pipelines import importer
from poseact.data.training_data import load_shards
from poseact.learn import hparams, train
from poseact.pose.landmarks import PoseLandmark
from tests.kinematics import ACTIONS, sequence

# Landmark noise in shoulder widths. MediaPipe's landmarks shake from frame to frame (jitter), and its
# guesses for occluded or blurred joints are off by a steady amount for a whole clip (offset) that
# wanders slowly (drift). Missed detections give all-zero frames, as MediaPipe exports do.
JITTER, OFFSET, DRIFT, MISSED = 0.1, 0.3, 0.03, 0.2
AMPLITUDE = (0.3, 1.0)  # of the kinematic motion: people act bigger or smaller


def noisy_sequence(action: str, subject_rng: np.random.Generator, clip_rng: np.random.Generator) -> np.ndarray:
    """One clip of `tests.kinematics`, made as untidy as MediaPipe landmarks of a real video.

    Args:
        action: One of `tests.kinematics.ACTIONS`.
        subject_rng: Generator of the subject's body (the same for all their clips).
        clip_rng: Generator of this clip's speed, length, amplitude and noise.

    Returns:
        (frames, 33, 4) x, y, z, visibility; 30-60 frames, some of them all zeros.
    """
    clip = sequence(action, subject_rng, clip_rng, frames=int(clip_rng.integers(30, 61)))
    xy = clip[:, :, :2]
    width = float(np.linalg.norm(xy[0, PoseLandmark.LEFT_SHOULDER] - xy[0, PoseLandmark.RIGHT_SHOULDER]))
    # People do the same action bigger or smaller: scale the motion about the clip's mean pose.
    mean = xy.mean(axis=0, keepdims=True)
    xy = mean + clip_rng.uniform(*AMPLITUDE) * (xy - mean)
    xy = (xy + clip_rng.normal(0, OFFSET * width, size=(1, 33, 2))
          + np.cumsum(clip_rng.normal(0, DRIFT * width, size=xy.shape), axis=0)
          + clip_rng.normal(0, JITTER * width, size=xy.shape))
    clip[:, :, :2] = xy
    clip[:, :, 3] = np.clip(clip_rng.normal(0.8, 0.15, size=clip.shape[:2]), 0.05, 1.0)
    clip[clip_rng.random(len(clip)) < MISSED] = 0.0
    return clip.astype(np.float32)


def write_noisy_dataset(root, subjects: int = 20, clips_per_action: int = 2, seed: int = 0) -> str:
    """`root/<action>/<action>-s<subject>-<n>.npy` and `root/manifest.csv` (uri, label, group).

    File names are unique without their folder: training order sorts clips by group and file name,
    so the runs do not depend on where pytest's temporary folder is.

    Returns:
        The manifest's path.
    """
    rows = ["uri,label,group"]
    for s in range(subjects):
        for a, action in enumerate(ACTIONS):
            (root / action).mkdir(parents=True, exist_ok=True)
            for n in range(clips_per_action):
                clip = noisy_sequence(action, np.random.default_rng([seed, s]), np.random.default_rng([seed, s, a, n]))
                name = f"{action}/{action}-s{s}-{n}.npy"
                np.save(root / name, clip)
                rows.append(f"{name},{action},subject{s}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return str(root / "manifest.csv")


# --- step-to-epoch logic ----------------------------------------------------------------------------


def test_steps_per_epoch_counts_the_partial_batch():
    assert hparams.steps_per_epoch(63, 32) == 2
    assert hparams.steps_per_epoch(64, 32) == 2
    assert hparams.steps_per_epoch(65, 32) == 3
    assert hparams.steps_per_epoch(5, 32) == 1
    with pytest.raises(ValueError, match="train_clips >= 1"):
        hparams.steps_per_epoch(0, 32)


def test_steps_to_epochs_rounds_up_to_whole_epochs():
    assert hparams.steps_to_epochs(200, 2) == 100
    assert hparams.steps_to_epochs(200, 3) == 67  # 201 steps: callbacks act at epoch ends only
    assert hparams.steps_to_epochs(0, 3) == 0


def test_paper_schedule_is_the_papers_callbacks():
    schedule = hparams.resolve_schedule(hparams.HParams(schedule="paper"), 63)
    assert (schedule.batch_size, schedule.steps_per_epoch, schedule.epochs) == (32, 2, 100)
    assert (schedule.early_stopping_start_epoch, schedule.early_stopping_patience) == (0, 3)
    assert (schedule.lr_start_epoch, schedule.lr_patience) == (0, 2)


def test_steps_schedule_on_paper_size_data_waits_for_200_steps():
    # The 90 real sequences' training split: 63 clips, 2 steps per epoch.
    schedule = hparams.resolve_schedule(hparams.HParams(), 63)
    assert schedule.steps_per_epoch == 2
    assert (schedule.early_stopping_start_epoch, schedule.lr_start_epoch) == (100, 100)
    assert (schedule.early_stopping_patience, schedule.lr_patience) == (30, 20)
    assert schedule.epochs == 200  # 100 epochs would end where the warm-up does
    steps = schedule.to_dict()
    assert (steps["early_stopping_start_step"], steps["max_steps"]) == (200, 400)
    assert (steps["early_stopping_patience_steps"], steps["lr_patience_steps"]) == (60, 40)


def test_steps_schedule_on_edunet_size_data_is_the_papers_plus_a_short_warmup():
    # About 5,500 training clips: 172 steps per epoch, so step counts are fractions of an epoch and
    # the paper's epoch patience wins.
    schedule = hparams.resolve_schedule(hparams.HParams(), 5500)
    assert schedule.steps_per_epoch == 172 and schedule.epochs == 100
    assert (schedule.early_stopping_start_epoch, schedule.lr_start_epoch) == (2, 2)
    assert (schedule.early_stopping_patience, schedule.lr_patience) == (3, 2)


def test_explicit_values_win_where_they_ask_for_more():
    hp = hparams.HParams(epochs=40, early_stopping_start_epoch=150, early_stopping_patience=50, lr_patience=1)
    schedule = hparams.resolve_schedule(hp, 63)
    assert schedule.epochs == 40  # an explicit budget is kept, even if the warm-up outlasts it
    assert schedule.early_stopping_start_epoch == 150 and schedule.lr_start_epoch == 100
    assert (schedule.early_stopping_patience, schedule.lr_patience) == (50, 20)
    small_batches = hparams.resolve_schedule(hparams.HParams(batch_size=8), 63)
    assert small_batches.steps_per_epoch == 8 and small_batches.early_stopping_start_epoch == 25


def test_bad_schedule_values_rejected():
    with pytest.raises(ValueError, match="unknown schedule 'epochs'; choices: steps, paper"):
        hparams.HParams(schedule="epochs")
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        hparams.HParams(warmup_steps=-1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        hparams.HParams(epochs=0)


# --- the small-data regime, end to end ----------------------------------------------------------------


@pytest.fixture(scope="module")
def regime(tmp_path_factory):
    """Imported shards of the noisy 120-clip set and its splits."""
    root = tmp_path_factory.mktemp("regime")
    manifest = write_noisy_dataset(root / "npy")
    importer.run(["--input", manifest, "--output", str(root / "shards"), "--no-progress",
                  "--test-fraction", "0.15", "--val-fraction", "0.15"])
    clips, classes = load_shards(str(root / "shards"))
    parts = train._splits(clips)
    assert {name: len(part) for name, part in parts.items()} == {"train": 84, "val": 18, "test": 18}
    assert 2 <= hparams.steps_per_epoch(len(parts["train"]), hparams.HParams().batch_size) <= 4
    return root / "shards", parts, classes


def _accuracies(model, parts) -> dict[str, float]:
    return {name: float(np.mean(train.predict(model, clips) == clips.label_id)) for name, clips in parts.items()}


def _fits_and_generalises(accuracy: dict[str, float]) -> bool:
    # Train 0.98 (at most one of 84 clips wrong) rather than the 0.95: the paper's callbacks
    # reached 0.95 in 2 of 4 runs here, and only the training set's fit tells the schedules apart.
    return accuracy["train"] >= 0.98 and accuracy["test"] >= 0.90


@pytest.mark.slow
def test_default_schedule_fits_and_generalises_on_small_noisy_data(regime, tmp_path):
    data, parts, classes = regime
    metrics = train.run(str(data), str(tmp_path / "model"), hparams.HParams())
    accuracy = {name: metrics[name]["accuracy"] for name in ("train", "val", "test")}
    print("steps schedule, seed 0:", accuracy, metrics["epochs_run"], "epochs", metrics["steps_run"], "steps")
    # Seen (seeds 0, 1, 2): train 1.00, test 1.00, 264-285 steps.
    assert _fits_and_generalises(accuracy), accuracy
    schedule = metrics["schedule"]
    assert schedule["name"] == "steps" and schedule["steps_per_epoch"] == 3
    assert schedule["early_stopping_start_epoch"] == schedule["lr_start_epoch"] == 67
    assert metrics["steps_run"] == 3 * metrics["epochs_run"] >= schedule["early_stopping_start_step"]
    np.testing.assert_allclose(metrics["history"]["learning_rate"][:67], 1e-3)  # untouched in warm-up
    card = json.loads((tmp_path / "model" / "model_card.json").read_text())
    assert card["schedule"] == json.loads((tmp_path / "model" / "metrics.json").read_text())["schedule"]


@pytest.mark.slow
def test_default_schedule_is_as_good_with_another_seed(regime):
    _, parts, classes = regime
    model, history, _, _ = train.fit(parts["train"], parts["val"], len(classes), hparams.HParams(seed=1))
    accuracy = _accuracies(model, parts)
    print("steps schedule, seed 1:", accuracy, len(history["loss"]), "epochs")
    assert _fits_and_generalises(accuracy), accuracy


@pytest.mark.slow
def test_paper_schedule_stops_early_with_the_training_set_not_fit(regime):
    _, parts, classes = regime
    model, history, _, schedule = train.fit(parts["train"], parts["val"], len(classes),
                                            hparams.HParams(schedule="paper"))
    accuracy = _accuracies(model, parts)
    steps = len(history["loss"]) * schedule.steps_per_epoch
    print("paper schedule:", accuracy, len(history["loss"]), "epochs", steps, "steps")
    # Seen (seeds 0-3): 33-45 steps, learning rate halved, train 0.86-0.95, test 0.78-0.89. The
    # default schedule's warm-up alone is 201 steps.
    assert steps < 100 and min(history["learning_rate"]) < 1e-3
    assert not _fits_and_generalises(accuracy), accuracy
