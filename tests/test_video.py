"""Decoding: container timestamps, sampling to a target rate, and the guards."""

import numpy as np
import pytest

from poseact.common.errors import ClipError
from poseact.demo import clips as demo
from poseact.pose import video


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


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """12 s at 30 fps, each frame's brightness encoding its index (mp4v puts a key frame every 12 frames)."""
    path = str(tmp_path_factory.mktemp("long") / "long.mp4")
    frames = (np.full((32, 32, 3), (i * 2) % 256, np.uint8) for i in range(360))
    demo.write_video(path, frames, fps=30.0)
    return path


def test_spans_seek_and_share_one_sampling_grid(long_clip):
    whole = [f.timestamp_ms for f in video.iter_frames(long_clip, 10.0)]
    info = video.probe(long_clip)
    first = [f for f in video.iter_frames(long_clip, 10.0, info=info, span_ms=(0.0, 6500.0))]
    second = [f for f in video.iter_frames(long_clip, 10.0, info=info, span_ms=(5000.0, np.inf))]
    # Every span keeps exactly the frames the whole-video pass keeps in it, so overlapping spans agree.
    assert [f.timestamp_ms for f in first] == [t for t in whole if t < 6500.0]
    assert [f.timestamp_ms for f in second] == [t for t in whole if t >= 5000.0]
    assert len(whole) == 120 and second[0].timestamp_ms == pytest.approx(5000.0, abs=1.0)
    # The seek lands on the right picture: brightness encodes the frame index (t * 30 / 1000).
    index = round(second[0].timestamp_ms * 30 / 1000)
    assert abs(int(second[0].rgb.mean()) - (index * 2) % 256) <= 3
