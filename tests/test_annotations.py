"""poseact.data.annotations: YOLO folders (data.yaml or classes.txt, split folders), repeated frames kept once."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from poseact.data.annotations import AnnotationError, frame_key, read_yolo
from tests.classroom_frames import CCTV


def _image(path: Path, width: int = 200, height: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width, 3), 128, np.uint8))


def test_frame_key_drops_roboflow_decorations():
    assert frame_key("a/40_jpg.rf.0123abcd.jpg") == frame_key("b/40.rf.ffee99.jpg") == "40"
    assert frame_key("x/lecture_07.png") == "lecture_07"


def test_split_folders_names_and_a_frame_repeated_across_splits(tmp_path):
    (tmp_path / "data.yaml").write_text("nc: 2\nnames: ['down', 'up']\n")
    for split, name in (("train", "7_jpg.rf.aa"), ("valid", "7.rf.bb"), ("valid", "8.rf.cc")):
        _image(tmp_path / split / "images" / f"{name}.jpg")
        (tmp_path / split / "labels").mkdir(parents=True, exist_ok=True)
        (tmp_path / split / "labels" / f"{name}.txt").write_text("1 0.5 0.5 0.1 0.2\n0 0.25 0.5 0.1 0.2\n")
    frames = read_yolo(tmp_path)
    assert [f.key for f in frames] == ["7", "8"]  # frame 7 once, from the first split in path order
    assert frames[0].path.endswith("train/images/7_jpg.rf.aa.jpg")
    assert frames[0].labels == ("up", "down")
    assert np.allclose(frames[0].boxes[0], [90, 40, 110, 60])


def test_classes_txt_and_an_image_without_labels(tmp_path):
    (tmp_path / "classes.txt").write_text("reading\nwriting\n")
    _image(tmp_path / "images" / "a.png")
    frames = read_yolo(tmp_path)
    assert len(frames) == 1 and frames[0].boxes.shape == (0, 4) and frames[0].labels == ()


@pytest.mark.parametrize("line, message", [("5 0.5 0.5 0.1 0.1", "class 5 has no name"),
                                           ("0 0.5 0.5", "expected `class cx cy w h`"),
                                           ("zero 0.5 0.5 0.1 0.1", "expected `class cx cy w h`")])
def test_malformed_label_lines_are_clear_errors(tmp_path, line, message):
    (tmp_path / "classes.txt").write_text("down\n")
    _image(tmp_path / "images" / "a.jpg")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text(line + "\n")
    with pytest.raises(AnnotationError, match=message):
        read_yolo(tmp_path)


def test_no_names_or_no_images(tmp_path):
    with pytest.raises(AnnotationError, match="no data.yaml or classes.txt"):
        read_yolo(tmp_path)
    (tmp_path / "classes.txt").write_text("down\n")
    with pytest.raises(AnnotationError, match="no images/"):
        read_yolo(tmp_path)


@pytest.mark.skipif(not CCTV.exists(), reason="no ../shared/data/classroom_cctv")
def test_classroom_cctv_has_60_distinct_frames_of_head_boxes():
    frames = read_yolo(CCTV)
    assert len(frames) == 60 and len({f.key for f in frames}) == 60
    widths = np.concatenate([f.boxes[:, 2] - f.boxes[:, 0] for f in frames])
    assert widths.min() >= 20 and widths.max() <= 93
    assert {label for f in frames for label in f.labels} == {"down", "lookaround", "phone", "up"}


def test_bad_rows_are_kept_with_their_reason_when_asked(tmp_path):
    from poseact.data.annotations import BadRow

    (tmp_path / "classes.txt").write_text("up\n")
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.1 0.2\n7 0.5 0.5 0.1 0.2\nzero\n0 0.5 0.5 0 0.2\n")
    bad: list = []
    frames = read_yolo(tmp_path, bad)
    assert frames[0].labels == ("up",)
    assert [(b.line, b.reason.split(" ")[0]) for b in bad] == [(2, "class"), (3, "expected"), (4, "an")]
    assert all(isinstance(b, BadRow) and b.source.endswith("a.txt") for b in bad)


def _voc(path: Path, image: str, objects: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><filename>{image}</filename><size><width>200</width><height>100</height></size>"
                    f"{objects}</annotation>")


def test_voc_folder(tmp_path):
    from poseact.data.annotations import detect_format, read_boxes

    _image(tmp_path / "JPEGImages" / "lecture_0012.jpg")
    box = "<object><name>{}</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>50</xmax><ymax>90</ymax></bndbox></object>"
    _voc(tmp_path / "Annotations" / "lecture_0012.xml", "lecture_0012.jpg",
         box.format("writing") + box.format("") + "<object><name>reading</name></object>")
    _voc(tmp_path / "Annotations" / "gone.xml", "gone.jpg", box.format("up"))
    (tmp_path / "Annotations" / "broken.xml").write_text("<annotation>")
    bad: list = []
    assert detect_format(tmp_path) == "voc"
    fmt, frames = read_boxes(tmp_path, "auto", bad)
    assert fmt == "voc" and [f.key for f in frames] == ["lecture_0012"] and frames[0].labels == ("writing",)
    assert np.allclose(frames[0].boxes, [[10, 20, 50, 90]]) and frames[0].recording == "lecture_"
    assert sorted(b.reason.split(":")[0] for b in bad) == ["not XML", "object 2", "object 3",
                                                           "the image 'gone.jpg' it names is not there"]


def test_ava_csv_beside_its_videos(tmp_path):
    from poseact.data.annotations import BoxedImage, read_ava, recording_group
    from poseact.demo.media import write_video

    (tmp_path / "videos").mkdir()
    write_video(str(tmp_path / "videos" / "class1.mp4"), (np.zeros((90, 160, 3), np.uint8) for _ in range(30)), 10.0)
    (tmp_path / "classes.txt").write_text("hand_raise\nwriting\n")
    (tmp_path / "boxes.csv").write_text(
        "class1,1.0,0.1,0.2,0.5,0.9,1,0\n"     # a raise, named by classes.txt (AVA's ids start at 1)
        "class1,1.0,0.5,0.2,0.9,0.9,writing,1\n"
        "class1,2.0,0.1,0.2,0.5,0.9,2,0\n"
        "class1,x,0.1,0.2,0.5,0.9,1,0\n"       # no timestamp
        "class1,2.0,0.5,0.2,0.4,0.9,1,1\n"     # x2 < x1
        "class1,2.0,0.1,0.2,0.5,0.9,9,0\n"     # no such action
        "nothere,1.0,0.1,0.2,0.5,0.9,1,0\n")   # no such video
    bad: list = []
    frames = read_ava(tmp_path / "boxes.csv", bad)
    assert [(f.key, f.labels, f.time_s) for f in frames] == [("class1@1", ("hand_raise", "writing"), 1.0),
                                                              ("class1@2", ("writing",), 2.0)]
    assert np.allclose(frames[0].boxes[0], [16, 18, 80, 81])
    assert [b.line for b in bad] == [4, 5, 6, 7]
    # A video's instants share one split group: windows a second apart overlap.
    assert recording_group(frames[0], 10) == recording_group(frames[1], 10) == "video:class1"
    still = BoxedImage("x/108.jpg", "108", 10, 10, np.zeros((0, 4), np.float32), (), recording="")
    assert recording_group(still, 10) == "frames:#10"


def test_formats_are_recognised(tmp_path):
    from poseact.data.annotations import detect_format

    (tmp_path / "yolo" / "images").mkdir(parents=True)
    (tmp_path / "yolo" / "data.yaml").write_text("names: [a]\n")
    (tmp_path / "x.csv").write_text("")
    assert detect_format(tmp_path / "yolo") == "yolo" and detect_format(tmp_path / "x.csv") == "ava"
    with pytest.raises(AnnotationError, match="--box-format"):
        detect_format(tmp_path / "nothing")


def test_an_unreadable_image_makes_each_of_its_boxes_a_bad_row(tmp_path):
    (tmp_path / "classes.txt").write_text("up\n")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "broken.txt").write_text("0 0.5 0.5 0.1 0.2\n\n0 0.2 0.5 0.1 0.2\n")
    _image(tmp_path / "images" / "fine.png")
    bad: list = []
    frames = read_yolo(tmp_path, bad)
    assert [f.key for f in frames] == ["fine"]
    assert [(b.line, "not readable" in b.reason) for b in bad] == [(1, True), (3, True)]
    with pytest.raises(AnnotationError, match="not a readable image"):
        read_yolo(tmp_path)
