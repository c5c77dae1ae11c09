"""Decoding: container timestamps, sampling to a target rate, and the guards."""

import numpy as np
import pytest

from poseact import demo, video
from poseact.errors import ClipError


@pytest.fixture(scope="module")
def clip30(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("v") / "c.mp4")
    frames = [np.full((48, 64, 3), i * 8, np.uint8) for i in range(30)]
    demo.write_video(path, frames, fps=30.0)
    return path


def test_probe(clip30):
    info = video.probe(clip30)
    assert (info.width, info.height, info.frame_count) == (64, 48, 30)
    assert info.fps == pytest.approx(30.0) and info.duration_s == pytest.approx(1.0)


def test_all_frames_with_container_timestamps(clip30):
    stats = {}
    frames = list(video.iter_frames(clip30, None, stats=stats))
    assert len(frames) == 30 and stats["decoded"] == 30
    times = np.array([f.timestamp_ms for f in frames])
    assert np.all(np.diff(times) > 0)
    np.testing.assert_allclose(np.diff(times), 1000 / 30, atol=1.0)
    assert frames[0].rgb.shape == (48, 64, 3)


def test_sampling_to_target_fps(clip30):
    stats = {}
    frames = list(video.iter_frames(clip30, 10.0, stats=stats))
    assert len(frames) == 10 and stats["decoded"] == 30
    np.testing.assert_allclose(np.diff([f.timestamp_ms for f in frames]), 100.0, atol=1.0)


def test_guards(clip30):
    with pytest.raises(ClipError, match="exceeds the limit of 100 pixels"):
        video.probe(clip30, video.VideoLimits(max_pixels=100))
    with pytest.raises(ClipError, match="duration 1 s exceeds the limit of 0 s"):
        video.probe(clip30, video.VideoLimits(max_duration_s=0.5))


@pytest.mark.parametrize("content", [b"", b"plain text, not a video\n"])
def test_not_a_video(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(ClipError, match="cannot open") as info:
        list(video.iter_frames(str(path)))
    assert info.value.stage == "decode"
