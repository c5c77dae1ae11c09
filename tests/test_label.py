"""`poseact label` end to end on generated multi-person lectures and bad inputs (real MediaPipe, real Beam)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipelines import label
from poseact.demo import clips as demo
from tests.label_support import make_lecture, make_model

pytestmark = pytest.mark.slow
# 20 s lectures at 5 fps in 8 s chunks: three chunks, so every student crosses two chunk boundaries.
FLAGS = ["--chunk-seconds", "8", "--stride", "2", "--no-progress"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    return make_model(str(tmp_path_factory.mktemp("model")))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("lectures")
    videos = root / "videos"
    videos.mkdir()
    lecture = make_lecture(str(videos / "lecture.mp4"), seconds=20.0)
    demo.make_nobody_clip(str(videos / "empty_room.mp4"), seconds=2.0, fps=5.0)
    demo.make_corrupt_clip(str(videos / "corrupt.mp4"))
    (videos / "zero.mp4").write_bytes(b"")
    listing = root / "lectures.txt"
    listing.write_text("\n".join(["videos/lecture.mp4", "videos/empty_room.mp4", "videos/corrupt.mp4",
                                  "videos/zero.mp4", "videos/missing.mp4"]) + "\n")
    small = make_lecture(str(root / "small" / "small.mp4"), seconds=8.0, students=2, seed=3)
    return {"list": str(listing), "lecture": lecture, "root": str(root), "small": small}


@pytest.fixture(scope="module")
def labelled(inputs, model_dir, tmp_path_factory) -> tuple[str, dict]:
    out = str(tmp_path_factory.mktemp("out"))
    run = label.run(["--input", inputs["list"], "--model", model_dir, "--output", out, "--overlay", *FLAGS])
    return out, run


def _table(path: str):
    return pq.read_table(path).to_pandas()


def test_every_input_is_labelled_or_a_dead_letter(labelled, inputs):
    out, run = labelled
    assert run["videos_in"] == 5 and run["videos_labelled"] == 2 and run["videos_failed"] == 3
    errors = [json.loads(line) for line in open(os.path.join(out, "errors.jsonl"))]
    by_name = {os.path.basename(e["uri"]): e for e in errors}
    assert sorted(by_name) == ["corrupt.mp4", "missing.mp4", "zero.mp4"]
    assert by_name["missing.mp4"]["stage"] == "read" and "no such file" in by_name["missing.mp4"]["reason"]
    assert all(e["reason"] for e in errors)
    done = sorted(os.listdir(os.path.join(out, "lectures")))
    assert len(done) == 2 and all(os.path.exists(os.path.join(out, "lectures", d, "done.json")) for d in done)


def test_four_students_tracked_across_chunk_boundaries(labelled, inputs):
    out, _ = labelled
    tracks = _table(os.path.join(out, "tracks.parquet"))
    lecture = tracks[tracks.video == inputs["lecture"]]
    # One id per student for the whole lecture, although the video was cut into three chunks.
    assert len(lecture) == 4, lecture
    assert (lecture.first_s <= 0.5).all() and (lecture.last_s >= 19.0).all()
    assert (lecture.frames_seen >= 0.9 * 100).all()  # 20 s x 5 fps, each student found in most frames
    # Each student has its own seat: mean boxes in the four cells of the 2 x 2 layout.
    cells = sorted(zip(((lecture.box_y0 + lecture.box_y1) / 2 > 360).astype(int),
                       ((lecture.box_x0 + lecture.box_x1) / 2 > 640).astype(int)))
    assert cells == [(0, 0), (0, 1), (1, 0), (1, 1)]
    key = label.video_key(inputs["lecture"])
    summary = json.load(open(os.path.join(out, "lectures", key, "summary.json")))
    assert summary["persons"] == 4 and summary["chunks"] == 3
    assert summary["people_per_frame"]["mean"] >= 3.6
    # Four students are no class (`--finder auto`): MediaPipe's landmarker found them in every chunk.
    assert summary["class_chunks"] == 0 and summary["finder_boxes"] == {"posed": 0, "held": 0}
    assert sorted(summary["per_person"]) == ["0", "1", "2", "3"]


def test_segments_tables_timeline_and_overlay(labelled, inputs, model_dir):
    out, _ = labelled
    segments = _table(os.path.join(out, "segments.parquet"))
    assert list(segments.columns) == list(label.SEGMENT_COLUMNS)
    lecture = segments[segments.video == inputs["lecture"]]
    assert sorted(lecture.person.unique()) == [0, 1, 2, 3]
    assert set(lecture.action) <= set(demo.CLASSES) | {"unknown"}
    for _, rows in lecture.groupby("person"):
        rows = rows.sort_values("start_s")
        assert rows.start_s.iloc[0] == pytest.approx(0.0, abs=0.5) and rows.end_s.iloc[-1] >= 19.0
        assert np.all(rows.start_s.values[1:] >= rows.end_s.values[:-1] - 1e-6)
    assert (lecture.model.str.startswith("paper@")).all()
    csv_text = open(os.path.join(out, "segments.csv")).read().splitlines()
    assert csv_text[0].replace('"', "") == ",".join(label.SEGMENT_COLUMNS) and len(csv_text) == len(segments) + 1
    empty_key = label.video_key(os.path.join(os.path.dirname(inputs["lecture"]), "empty_room.mp4"))
    empty = json.load(open(os.path.join(out, "lectures", empty_key, "summary.json")))
    assert empty["persons"] == 0 and empty["segments"] == 0
    key = label.video_key(inputs["lecture"])
    folder = os.path.join(out, "lectures", key)
    assert open(os.path.join(folder, "timeline.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    import cv2

    overlay = cv2.VideoCapture(os.path.join(folder, "overlay.mp4"))
    assert int(overlay.get(cv2.CAP_PROP_FRAME_COUNT)) == 100 and int(overlay.get(cv2.CAP_PROP_FRAME_WIDTH)) == 1280
    assert not os.path.exists(os.path.join(out, ".work", key))  # landmark scratch files cleaned up


def test_reports_index_the_lectures_and_show_each_person(labelled, inputs):
    out, _ = labelled
    index = open(os.path.join(out, "report.html")).read()
    key = label.video_key(inputs["lecture"])
    assert f'href="lectures/{key}/report.html">lecture.mp4</a>' in index
    assert "2 lecture(s) labelled, 3 failed" in index and "missing.mp4" in index
    page = open(os.path.join(out, "lectures", key, "report.html")).read()
    assert page.count('class="card"') == 4  # the four students
    assert page.count('class="thumb"') == 4  # a picture of each, cut from the video
    assert '<a id="overlay" href="overlay.mp4">' in page and "paper@" in page
    assert "http://" not in page and "https://" not in page  # nothing to load: it reads offline


def test_no_images_writes_no_picture_of_anyone(inputs, model_dir, tmp_path):
    with pytest.raises(ValueError, match="--no-images"):
        label.run(["--input", inputs["small"], "--model", model_dir, "--output", str(tmp_path / "x"), "--overlay",
                   "--no-images", *FLAGS])
    out = tmp_path / "out"
    run = label.run(["--input", inputs["small"], "--model", model_dir, "--output", str(out), "--no-images", *FLAGS])
    assert run["videos_labelled"] == 1
    page = (out / "lectures" / label.video_key(inputs["small"]) / "report.html").read_text()
    assert page.count('class="card"') == 2 and "<img" not in page and "base64" not in page
    assert not list(out.rglob("*.mp4")) and not list(out.rglob("*.jp*g"))


def test_rerun_skips_done_videos_and_force_gives_identical_bytes(labelled, inputs, model_dir):
    out, _ = labelled
    names = ("segments.parquet", "segments.csv", "tracks.parquet")
    before = {n: open(os.path.join(out, n), "rb").read() for n in names}
    key = label.video_key(inputs["lecture"])
    per_video = {n: open(os.path.join(out, "lectures", key, n), "rb").read()
                 for n in ("segments.parquet", "tracks.parquet", "summary.json", "timeline.png", "report.html")}
    again = label.run(["--input", inputs["list"], "--model", model_dir, "--output", out, "--overlay", *FLAGS])
    assert again["videos_skipped"] == 2 and again["videos_failed"] == 3 and again["videos_labelled"] == 0
    forced = label.run(["--input", inputs["lecture"], "--model", model_dir, "--output", out, "--overlay", "--force",
                        *FLAGS, "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert forced["videos_labelled"] == 1 and forced["videos_skipped"] == 0
    assert {n: open(os.path.join(out, n), "rb").read() for n in names} == before
    assert {n: open(os.path.join(out, "lectures", key, n), "rb").read() for n in per_video} == per_video
    # The failed videos of the earlier run are still listed: they are neither labelled nor retried here.
    assert len(open(os.path.join(out, "errors.jsonl")).read().splitlines()) == 3


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "GLOG_minloglevel": "2"}


def test_killed_run_resumes_without_redoing_finished_lectures(inputs, model_dir, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a", "b"):
        shutil.copy(inputs["small"], videos / f"{name}.mp4")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "poseact.cli", "label", "--input", str(videos), "--model", model_dir,
           "--output", str(out), "--videos-per-job", "1", *FLAGS]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    first = out / "lectures" / label.video_key(str(videos / "a.mp4")) / "done.json"
    deadline = time.time() + 600
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    assert first.exists(), "the first lecture never finished"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    second = out / "lectures" / label.video_key(str(videos / "b.mp4")) / "done.json"
    assert not second.exists(), "the run finished before it could be killed"
    done_before = first.read_bytes()
    run = label.run(["--input", str(videos), "--model", model_dir, "--output", str(out), *FLAGS])
    assert run["videos_skipped"] == 1 and run["videos_labelled"] == 1
    assert first.read_bytes() == done_before and second.exists()
    assert len(_table(str(out / "tracks.parquet"))) == 4  # two students in each of two videos


def test_watch_mode_labels_videos_as_they_land(inputs, model_dir, tmp_path):
    watched = tmp_path / "incoming"
    watched.mkdir()
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "poseact.cli", "label", "--watch", str(watched), "--model", model_dir,
           "--output", str(out), "--poll", "1", "--max-idle", "600", *FLAGS]
    log = open(tmp_path / "watch.log", "w+")  # a file, not a pipe: Beam's logs would fill a pipe and block the child
    proc = subprocess.Popen(cmd, env=_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        for name in ("first", "second"):
            shutil.copy(inputs["small"], watched / f"{name}.mp4")
            done = out / "lectures" / label.video_key(str(watched / f"{name}.mp4")) / "done.json"
            deadline = time.time() + 400
            while not done.exists() and proc.poll() is None and time.time() < deadline:
                time.sleep(0.5)
            assert done.exists(), f"{name}.mp4 was not labelled"
        (watched / "notes.txt").write_text("not a video")  # ignored
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    log.seek(0)
    output = log.read()
    assert proc.returncode == 0, output[-3000:]
    assert "label --watch: 2 batch(es), 2 videos labelled, 0 failed" in output, output[-3000:]
    assert len(_table(str(out / "tracks.parquet"))) == 4


REAL = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "clips", "two_people_table.mp4")


@pytest.mark.skipif(not os.path.exists(REAL), reason="no ../shared/data clips")
@pytest.mark.parametrize("finder", ["classroom", "landmarker"])
def test_real_two_person_clip(tmp_path, finder):
    """Two people arm wrestling at a table (real video, 340x256, hand-held), children in the background.

    Looked at frame by frame (docs/labelling.md, docs/people.md): with either finder the left wrestler (in the
    frame's left half throughout) is found over most of the clip and labelled (under several ids with the
    classroom finder); nobody is a bottle on the table (MediaPipe's landmarker posed it upside down and that pose
    is refused; the classroom finder never boxes it). The classroom finder also finds the children in the
    background and, at times, the right wrestler seen from behind, and follows a phantom on the clasped hands
    (a known fault)."""
    if finder == "classroom":
        from poseact.people import finder_model

        try:
            finder_model.resolve()
        except finder_model.FinderModelError as err:
            pytest.skip(f"the finder model cannot be fetched here: {err}")
    model = make_model(str(tmp_path / "model"), fps=15.0)
    out = str(tmp_path / "out")
    run = label.run(["--input", os.path.abspath(REAL), "--model", model, "--output", out, "--no-progress",
                     "--finder", finder])
    assert run["videos_labelled"] == 1
    summary = json.load(open(os.path.join(out, "lectures", label.video_key(os.path.abspath(REAL)), "summary.json")))
    print(finder, "two_people_table people per frame:", summary["people_per_frame"], "persons:", summary["persons"],
          "frames seen:", summary["frames_seen_per_person"])
    tracks = _table(os.path.join(out, "tracks.parquet"))
    centre_x = (tracks.box_x0 + tracks.box_x1) / 2
    centre_y = (tracks.box_y0 + tracks.box_y1) / 2
    left = tracks[centre_x < 170]  # the left half of the 340 px frame, where the left wrestler stays
    # The left wrestler over most of the clip: under one id with the default finder; the classroom finder's ids break
    # on this hand-held clip (its crops move only on detection passes), so there it is the frames of all his tracks.
    seen = left.frames_seen.max() if finder == "landmarker" else left.frames_seen.sum()
    assert len(left) >= 1 and seen >= 0.5 * summary["frames"], left
    labelled = set(_table(os.path.join(out, "segments.parquet")).person)
    assert int(left.sort_values("frames_seen").person.iloc[-1]) in labelled
    on_bottle = (centre_x > 230) & (centre_x < 275) & (centre_y > 70) & (centre_y < 125)
    assert not on_bottle.any(), tracks[on_bottle]
    if finder == "landmarker":
        assert summary["poses_upside_down_refused"] > 0  # the bottle was posed, and refused


@pytest.mark.parametrize("server_name", ["gcs_server", "s3_server"])
def test_remote_lectures_in_and_out(inputs, model_dir, server_name, request, tmp_path):
    """Lectures read from and every output written to a real object store on loopback (GCS emulator, moto)."""
    from poseact.common import storage

    server = request.getfixturevalue(server_name)
    with server.activated():
        prefix = server.url(f"label-{tmp_path.name}")
        uri = storage.join(prefix, "in", "small.mp4")
        storage.upload_atomic(inputs["small"], uri)
        out = storage.join(prefix, "out")
        run = label.run(["--input", storage.join(prefix, "in"), "--model", model_dir, "--output", out,
                         "--overlay", *FLAGS])
        assert run["videos_labelled"] == 1 and run["videos_failed"] == 0
        key = label.video_key(uri)
        for name in ("segments.parquet", "tracks.parquet", "summary.json", "timeline.png", "overlay.mp4", "done.json",
                     "report.html"):
            assert storage.exists(storage.join(out, "lectures", key, name)), name
        assert b"small.mp4" in storage.read_bytes(storage.join(out, "report.html"))
        with storage.local_copy(storage.join(out, "tracks.parquet")) as path:
            tracks = _table(path)
        assert list(tracks.video) == [uri, uri]  # the two students of the small lecture
        work = storage.join(out, ".work")
        assert not storage.exists(work) or not storage.list_files(work)  # landmark scratch files removed
