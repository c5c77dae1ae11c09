"""The demo data set and test media, checked with the real MediaPipe pose landmarker on the CPU.

Clips go through the project's own decoding (`video`), tracking (`pose`) and normalisation (`normalize`),
so these tests show what extraction and training will see.
"""

from __future__ import annotations

import csv
import os

import cv2
import numpy as np
import pytest

from poseact import demo, normalize, pose, pose_model, storage, video

# Model landmarks 0-11 are MediaPipe's 1-12: eyes, ears, mouth and shoulders.
_VISIBLE = slice(0, 12)


def _read_frames(path: str) -> tuple[list[np.ndarray], list[float]]:
    """Decodable RGB frames of a clip and their timestamps (ms) by plain OpenCV; none if it cannot open."""
    capture = cv2.VideoCapture(path)
    frames, stamps = [], []
    try:
        while capture.isOpened():
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC))
    finally:
        capture.release()
    return frames, stamps


@pytest.fixture(scope="module")
def model() -> pose.PoseLandmarkerModel:
    """The production landmarker settings on the project's `full` model, shared by the module."""
    # No skip: the offline bundle must always be obtainable from the package index.
    return pose.PoseLandmarkerModel(str(pose_model.resolve("full").path))


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    manifest = demo.make_demo_dataset(str(tmp_path_factory.mktemp("demo")), sessions=2, seed=0)
    with open(manifest, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo_poses(demo_rows, model) -> dict[str, pose.ClipPose]:
    # Tracked once for the module: MediaPipe's first import alone takes about 20 s.
    return {row["uri"]: model.track_clip(video.iter_frames(row["uri"])) for row in demo_rows}


def _clip_feature(clip: pose.ClipPose) -> np.ndarray:
    """Mean and std over time of the normalised face and shoulder landmarks.

    The arms of both photos are out of view: MediaPipe guesses them, and the guesses jitter more than the
    `still` clips move, so a plain nearest-neighbour check uses the landmarks that can be seen.
    """
    model_input, _ = normalize.normalize(
        clip.landmarks, clip.detected, aspect=clip.width / clip.height, max_frames=clip.num_frames
    )
    xy = model_input[:, _VISIBLE, :2]
    return np.concatenate([xy.mean(axis=0).ravel(), xy.std(axis=0).ravel()])


def test_write_video_rejects_no_frames(tmp_path):
    path = tmp_path / "empty.mp4"
    with pytest.raises(ValueError, match="no frames"):
        demo.write_video(str(path), [], demo.FPS)
    assert not path.exists()


def test_write_video_rejects_frames_of_another_size(tmp_path):
    frames = [np.zeros((64, 64, 3), np.uint8), np.zeros((32, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match="differs"):
        demo.write_video(str(tmp_path / "mixed.mp4"), frames, demo.FPS)


def test_write_video_round_trip_keeps_frames_colours_and_timing(tmp_path):
    photo = demo.person_photos()["astronaut"]
    frames = demo.animate(photo, "tilt", np.random.default_rng(3))
    path = str(tmp_path / "clip.mp4")
    demo.write_video(path, frames, demo.FPS)
    decoded, stamps = _read_frames(path)
    assert len(decoded) == len(frames) == round(demo.FPS * demo.SECONDS)
    # A red/blue swap would drop this far below 30 dB on the orange space suit.
    assert min(cv2.PSNR(a, b) for a, b in zip(frames, decoded, strict=True)) > 30.0
    assert np.allclose(np.diff(stamps), 1000.0 / demo.FPS, atol=1.0)
    assert cv2.VideoCapture(path).get(cv2.CAP_PROP_FPS) == pytest.approx(demo.FPS)


def test_animate_is_deterministic_for_a_seed():
    photo = demo.person_photos()["hopper"]
    for action in demo.CLASSES:
        first = demo.animate(photo, action, np.random.default_rng(7))
        again = demo.animate(photo, action, np.random.default_rng(7))
        other = demo.animate(photo, action, np.random.default_rng(8))
        assert len(first) == 30
        assert all(f.shape == (384, 384, 3) and f.dtype == np.uint8 for f in first)
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
        assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_animate_rejects_unknown_actions_and_photos():
    photo = demo.person_photos()["astronaut"]
    with pytest.raises(ValueError, match="unknown action"):
        demo.animate(photo, "dance", np.random.default_rng(0))
    with pytest.raises(ValueError, match="HxWx3"):
        demo.animate(photo[..., 0], "still", np.random.default_rng(0))


def test_demo_dataset_layout(demo_rows):
    assert len(demo_rows) == 2 * 2 * len(demo.CLASSES)  # photos x sessions x classes
    groups = {row["group"] for row in demo_rows}
    assert groups == {"astronaut-s0", "astronaut-s1", "hopper-s0", "hopper-s1"}
    for group in groups:
        assert sorted(r["label"] for r in demo_rows if r["group"] == group) == sorted(demo.CLASSES)
    for row in demo_rows:
        assert os.path.isabs(row["uri"]) and os.path.isfile(row["uri"])
        assert os.path.basename(os.path.dirname(row["uri"])) == row["label"]


def test_demo_dataset_clips_do_not_depend_on_the_other_clips(demo_rows, tmp_path):
    manifest = demo.make_demo_dataset(str(tmp_path), sessions=1, seed=0)
    with open(manifest, newline="") as handle:
        smaller = list(csv.DictReader(handle))
    assert len(smaller) == 2 * len(demo.CLASSES)
    for row in smaller:
        [same] = [r["uri"] for r in demo_rows if os.path.basename(r["uri"]) == os.path.basename(row["uri"])]
        new, old = _read_frames(row["uri"])[0], _read_frames(same)[0]
        assert len(new) == len(old) and all(np.array_equal(a, b) for a, b in zip(new, old, strict=True))


def test_demo_dataset_writes_to_fsspec_urls():
    out = "memory://poseact-demo-test"
    try:
        manifest = demo.make_demo_dataset(out, sessions=1, seed=0, seconds=0.2)
        rows = list(csv.DictReader(storage.read_bytes(manifest).decode().splitlines()))
        assert len(rows) == 2 * len(demo.CLASSES)
        assert all(row["uri"].startswith(out) and storage.exists(row["uri"]) for row in rows)
    finally:
        fs, path = storage.filesystem(out)
        fs.rm(path, recursive=True)


def test_a_person_is_found_in_nearly_every_frame(demo_rows, demo_poses):
    rates = {row["uri"]: float(demo_poses[row["uri"]].detected.mean()) for row in demo_rows}
    assert min(rates.values()) >= 0.9, rates
    assert all(demo_poses[row["uri"]].num_frames == 30 for row in demo_rows)


def test_classes_are_separable_after_normalisation(demo_rows, demo_poses):
    features = np.stack([_clip_feature(demo_poses[row["uri"]]) for row in demo_rows])
    labels = np.array([row["label"] for row in demo_rows])
    sessions = np.array([row["group"].rsplit("-", 1)[1] for row in demo_rows])
    correct = 0
    # 1-nearest neighbour, leaving one session out; both photos stay on both sides, as people would.
    for held_out in np.unique(sessions):
        train, test = sessions != held_out, sessions == held_out
        for feature, label in zip(features[test], labels[test], strict=True):
            nearest = np.argmin(np.linalg.norm(features[train] - feature, axis=1))
            correct += labels[train][nearest] == label
    accuracy = correct / len(labels)
    assert accuracy >= 0.8, f"leave-one-session-out 1-NN accuracy {accuracy:.2f} (chance 0.33)"


def test_nobody_clip_has_no_person(tmp_path, model):
    clip = model.track_clip(video.iter_frames(demo.make_nobody_clip(str(tmp_path / "nobody.mp4"))))
    assert clip.num_frames == 15
    assert clip.detected.sum() <= 1


def test_single_frame_clip_has_one_frame_with_a_person(tmp_path, model):
    path = demo.make_single_frame_clip(str(tmp_path / "one.mp4"))
    assert len(_read_frames(path)[0]) == 1
    assert model.track_clip(video.iter_frames(path)).detected.tolist() == [1]


def test_corrupt_clip_yields_no_frames(tmp_path):
    path = demo.make_corrupt_clip(str(tmp_path / "corrupt.mp4"))
    with open(path, "rb") as handle:
        assert handle.read(12)[4:] == b"ftypisom"
    assert _read_frames(path)[0] == []


def test_two_person_frame_holds_one_person_in_each_half(model):
    frame = demo.make_two_person_frame()
    assert frame.shape == (384, 768, 3) and frame.dtype == np.uint8
    for half in (frame[:, :384], frame[:, 384:]):
        clip = model.track_clip([video.Frame(0, 0.0, np.ascontiguousarray(half))])
        assert clip.detected.tolist() == [1] and clip.people.tolist() == [1]
