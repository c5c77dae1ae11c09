"""poseact.data.annotations: YOLO folders (data.yaml or classes.txt, split folders), repeated frames kept once."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from poseact.data.annotations import AnnotationError, frame_key, read_yolo

CCTV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "classroom_cctv"


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
