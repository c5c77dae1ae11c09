"""The reports in a real headless browser (Chromium): they render, show what they should, and a name from
the inputs injects nothing. Skipped where no Chromium is installed (`apt-get install chromium`)."""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from poseact.demo import clips as demo
from poseact.label import lecture_report, snapshots
from poseact.label.segments import Segment
from poseact.learn import model_report
from poseact.learn import plots as report
from tests import browser

pytestmark = pytest.mark.skipif(browser.find() is None, reason="no Chromium installed (apt-get install chromium)")
REPO = Path(__file__).resolve().parents[1]
DOCS_SHOT = REPO / "docs" / "lecture_report.png"
EVIL = '<script>document.title="pwned"</script><img src=x onerror="document.body.remove()">'


class _Elements(html.parser.HTMLParser):
    """Tags, classes and attributes of a document, for DOM checks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.found if t == tag and (cls is None or cls in a.get("class", "").split())]


def _parse(document: str) -> _Elements:
    parser = _Elements()
    parser.feed(document)
    return parser


def _rendered(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"no screenshot at {path}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _assert_not_blank(rgb: np.ndarray) -> None:
    colours = len(np.unique(rgb.reshape(-1, 3)[::7], axis=0))
    background = np.all(rgb == rgb[-1, -1], axis=2).mean()
    assert colours > 200 and background < 0.9 and rgb.std() > 20, (colours, background, rgb.std())
    header = np.median(rgb[5:50, 5:400].reshape(-1, 3), axis=0)  # most of it is bar, some is its text
    assert np.abs(header - (0x23, 0x39, 0x5D)).max() < 12, header  # the page's header bar was drawn


def _pictures() -> lecture_report.Pictures:
    photos = demo.person_photos()
    astronaut, hopper = photos["astronaut"], cv2.resize(photos["hopper"], (512, 512))
    frame = np.concatenate([astronaut, hopper], axis=1)
    people = {0: [0, 0, 512, 512, 148, 33, 304, 189], 1: [512, 0, 1024, 512, 640, 40, 900, 300]}
    raise_ = Segment(0, 2.0, 6.0, "hand_raise", 0.9)
    return lecture_report.Pictures(
        {p: snapshots.thumbnail(frame, people[p][:4], people, blur_faces=True) for p in people},
        [(raise_, 4.0, snapshots.snapshot(frame, people[0][:4], people, blur_faces=True))], "blurred")


def write_lecture_page(folder: Path, video: str) -> Path:
    """A lecture report with two people, real (blurred) photos, a hand raise and an overlay link."""
    segs = [Segment(0, 0.0, 2.0, "writing", 0.8), Segment(0, 2.0, 6.0, "hand_raise", 0.9),
            Segment(0, 6.0, 20.0, "reading", 0.7), Segment(1, 0.0, 12.0, "writing", 0.85),
            Segment(1, 12.0, 20.0, "unknown", 0.4)]
    summary = {"video": video, "key": "k", "model": "rules@1", "classes": ["hand_raise", "writing", "reading", "other"],
               "duration_s": 20.0, "width": 1024, "height": 512, "fps": 15.0, "persons": 2, "segments": len(segs),
               "people_per_frame": {"mean": 2.0, "max": 2}, "options": {"windows": {"fps": 15.0}},
               "per_person": {"0": {"hand_raises": 1, "seconds_writing": 2.0, "seconds_reading": 14.0},
                              "1": {"hand_raises": 0, "seconds_writing": 12.0, "seconds_reading": 0.0}}}
    tracks = [{"person": p, "first_s": 0.0, "last_s": 19.9, "frames": 300} for p in (0, 1)]
    path = folder / "report.html"
    path.write_text(lecture_report.lecture_page(summary, segs, tracks, _pictures(), overlay="overlay.mp4"))
    return path


def test_lecture_report_renders_people_pictures_and_timelines(tmp_path):
    page = write_lecture_page(tmp_path, f"/videos/{EVIL}.mp4")
    shot = _rendered(browser.screenshot(page, tmp_path / "lecture.png"))
    _assert_not_blank(shot)
    suit = (shot[..., 0] > 180) & (shot[..., 1] > 60) & (shot[..., 1] < 150) & (shot[..., 2] < 90)
    assert suit.sum() > 500  # the astronaut's orange suit: the inline thumbnail was decoded and drawn
    document = browser.dom(page)
    found = _parse(document)
    assert len(found.all("section", "card")) == 2
    pictures = found.all("img")
    assert len(pictures) == 3 and all(p["src"].startswith("data:image/jpeg;base64,") for p in pictures)
    assert len(found.all("svg", "strip")) == 4  # the overview's two rows and one per person card
    assert {a["data-action"] for a in found.all("rect")} == {"writing", "hand_raise", "reading", "unknown"}
    assert [a["href"] for a in found.all("a") if a.get("id") == "overlay"] == ["overlay.mp4"]
    # The hostile video name is text in the document: no script element, no injected image, title unchanged.
    assert not found.all("script") and not [p for p in pictures if p["src"] == "x"]
    assert EVIL in "".join(found.text) and "pwned" not in re.search(r"<title>(.*?)</title>", document).group(1).split("report")[-1]


def test_model_report_renders_metrics_and_plots(tmp_path):
    history = {"loss": [1.1, 0.8, 0.5], "val_loss": [1.2, 0.9, 0.7], "accuracy": [0.4, 0.6, 0.8],
               "val_accuracy": [0.3, 0.5, 0.7]}
    report.plot_curves(history, str(tmp_path / "curves.png"), "paper")
    report.plot_confusion([[3, 1], [0, 4]], ["raise", "read"], str(tmp_path / "confusion.png"), "test")
    metrics = {"model": "paper", "classes": ["raise", "read"], "epochs_run": 3, "train_seconds": 1.0,
               "train": {"n": 10, "accuracy": 0.8, "macro_f1": 0.79},
               "test": {"n": 8, "accuracy": 0.875, "macro_f1": 0.87,
                        "per_class": {"raise": {"precision": 1.0, "recall": 0.75, "f1": 0.857, "support": 4},
                                      "read": {"precision": 0.8, "recall": 1.0, "f1": 0.889, "support": 4}}}}
    page = tmp_path / "report.html"
    page.write_text(model_report.model_page(metrics, {"training_data": {"train_clips": 10, "test_clips": 8}}, None,
                                            (tmp_path / "curves.png").read_bytes(),
                                            (tmp_path / "confusion.png").read_bytes()))
    _assert_not_blank(_rendered(browser.screenshot(page, tmp_path / "model.png", height=1200)))
    found = _parse(browser.dom(page))
    assert len(found.all("img", "plot")) == 2 and len(found.all("table", "per-class")) == 1
    assert "0.875" in "".join(found.text)


@pytest.mark.slow
def test_a_labelled_lecture_in_the_browser(tmp_path, monkeypatch):
    """`poseact label` on the demo lecture with --blur-faces, its pages in the browser; the screenshot is the
    README's (written to docs/ when POSEACT_UPDATE_DOCS=1)."""
    from pipelines import label

    monkeypatch.chdir(tmp_path)  # relative paths: the page shows `lectures/demo_lecture.mp4`
    lecture = Path("lectures") / "demo_lecture.mp4"
    lecture.parent.mkdir()
    demo.make_demo_lecture(str(lecture), seconds=20.0, students=4, seed=0)
    out = tmp_path / "labels"
    run = label.run(["--input", str(lecture), "--model", "rules", "--output", str(out), "--blur-faces",
                     "--no-progress"])
    assert run["videos_labelled"] == 1
    index = _parse(browser.dom(out / "report.html"))
    links = [a["href"] for a in index.all("a", "lecture")]
    assert len(links) == 1
    page = out / links[0]
    found = _parse(browser.dom(page))
    cards = found.all("section", "card")
    assert len(cards) == run["persons_total"] >= 3
    assert len([p for p in found.all("img", "thumb")]) == len(cards)  # a (blurred) picture of everyone
    shot = browser.screenshot(page, tmp_path / "lecture.png", width=1000, height=1250)
    _assert_not_blank(_rendered(shot))
    if os.environ.get("POSEACT_UPDATE_DOCS") == "1":
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        small = cv2.resize(cv2.imread(str(shot)), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(DOCS_SHOT), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
