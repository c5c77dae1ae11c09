"""An annotated copy of a lecture: skeletons, person ids and current actions drawn on every sampled frame.

Landmarks come from the per-chunk files the labelling job saves when `--overlay` is on (one chunk in
memory at a time), ids from the stitched mapping, actions from the segments.
"""

from __future__ import annotations

import bisect
import math
import os
import tempfile
from collections.abc import Sequence

import numpy as np

from poseact.common import storage
from poseact.label import privacy
from poseact.label.segments import Segment
from poseact.pose.video import VideoInfo, VideoLimits, iter_frames

# Upper-body skeleton edges (MediaPipe indices): face outline, shoulders, arms, torso.
_EDGES = ((0, 2), (0, 5), (2, 7), (5, 8), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24),
          (23, 24), (15, 17), (15, 19), (16, 18), (16, 20))
_PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212))


def action_at(segments: Sequence[Segment], person: int, t_s: float) -> Segment | None:
    """The person's segment covering time `t_s`, if any."""
    own = [s for s in segments if s.person == person]
    starts = [s.start_s for s in own]
    i = bisect.bisect_right(starts, t_s) - 1
    return own[i] if i >= 0 and own[i].start_s <= t_s < own[i].end_s else None


def draw(rgb: np.ndarray, people: dict[int, np.ndarray], segments: Sequence[Segment], t_s: float) -> np.ndarray:
    """Draw each person's skeleton, id and current action (in place; returns the frame)."""
    import cv2  # noqa: PLC0415

    height, width = rgb.shape[:2]
    for person, landmarks in sorted(people.items()):
        colour = _PALETTE[person % len(_PALETTE)]
        xy = (landmarks[:, :2] * [width, height]).astype(int)
        seen = landmarks[:, 3] >= 0.5
        for a, b in _EDGES:
            if seen[a] and seen[b]:
                cv2.line(rgb, tuple(map(int, xy[a])), tuple(map(int, xy[b])), colour, 2, cv2.LINE_AA)
        for i in np.flatnonzero(seen[:25]):
            cv2.circle(rgb, tuple(map(int, xy[i])), 3, colour, -1, cv2.LINE_AA)
        segment = action_at(segments, person, t_s)
        text = f"#{person} {segment.action} {segment.confidence:.2f}" if segment else f"#{person}"
        top = xy[:25][seen[:25]] if seen[:25].any() else xy[:25]
        x, y = int(top[:, 0].min()), max(12, int(top[:, 1].min()) - 8)
        cv2.putText(rgb, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(rgb, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    cv2.putText(rgb, f"{t_s:7.2f} s", (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return rgb


def render(uri: str, info: VideoInfo, work_dir: str, mapping: dict[tuple[int, int], int],
           segments: Sequence[Segment], fps: float, out_uri: str, blur_faces: bool = False) -> str:
    """Write `overlay.mp4`: the sampled frames of the video with everyone drawn (chunk by chunk).

    Args:
        uri: The lecture.
        info: Its probed header.
        work_dir: Folder of the `chunk-NNNNN.npz` landmark files of this video.
        mapping: (chunk, local track) -> person id, from `poseact.label.lecture.stitch`.
        segments: The video's segments.
        fps: Frame rate the landmarks were sampled at (also the overlay's).
        out_uri: Where the MP4 goes (local or remote; written atomically).
        blur_faces: Blur every drawn person's face (located from their face landmarks) before drawing.

    Returns:
        `out_uri`.
    """
    import cv2  # noqa: PLC0415

    chunk_files = sorted(u for u in storage.list_files(work_dir) if u.endswith(".npz"))
    fd, tmp = tempfile.mkstemp(suffix=".mp4", prefix="poseact-overlay-")
    os.close(fd)
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, (info.width, info.height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write mp4v video to {tmp}")
    try:
        with storage.local_copy(uri) as video:
            for chunk_uri in chunk_files:
                index = int(os.path.basename(chunk_uri)[len("chunk-"):-len(".npz")])
                with storage.local_copy(chunk_uri) as local, np.load(local) as data:
                    times = data["times_ms"]
                    tracks = {int(k[3:]): (data[k], data[f"det_{k[3:]}"]) for k in data.files if k.startswith("lm_")}
                if len(times) == 0:
                    continue
                span = (float(times[0]), float(times[-1]) + 0.5)
                frames = iter_frames(video, fps, VideoLimits(max_duration_s=math.inf), info=info, span_ms=span)
                for frame in frames:
                    i = int(np.argmin(np.abs(times - frame.timestamp_ms)))
                    people = {mapping[(index, t)]: lm[i] for t, (lm, det) in tracks.items()
                              if det[i] and (index, t) in mapping}
                    rgb = frame.rgb.copy()
                    if blur_faces:
                        faces = [privacy.face_box(lm, info.width, info.height) for lm in people.values()]
                        privacy.blur_regions(rgb, [f for f in faces if f is not None])
                    rgb = draw(rgb, people, segments, frame.timestamp_ms / 1000.0)
                    writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        writer.release()
        storage.upload_atomic(tmp, out_uri)
    finally:
        writer.release()
        os.unlink(tmp)
    return out_uri
