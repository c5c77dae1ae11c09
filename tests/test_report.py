"""poseact.learn.plots.plot_timeline: PNG written (locally and through fsspec), one row per person, same bytes twice."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from poseact.common import storage
from poseact.label.segments import UNKNOWN, Segment
from poseact.learn import plots as report

CLASSES = ("raising_hand", "writing", "reading")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has right after its signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def people(*ids: int) -> list[Segment]:
    segments = []
    for person in ids:
        segments += [Segment(person, 0.0, 4.5, "writing", 0.9), Segment(person, 4.5, 6.0, UNKNOWN, 0.4),
                     Segment(person, 6.0, 9.0, "raising_hand", 0.8)]
    return segments


@pytest.fixture
def figure():
    """Build the timeline figure directly (closed after the test) to inspect rows and bars."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    made = []

    def build(*args, **kwargs):
        made.append(report._timeline_figure(*args, **kwargs))
        return made[-1]

    yield build
    for fig in made:
        plt.close(fig)


def test_timeline_png_is_written_and_returns_its_path(tmp_path):
    path = str(tmp_path / "out" / "timeline.png")
    assert report.plot_timeline(people(3, 1), CLASSES, 12.0, path, "lecture") == path
    width, height = png_size(open(path, "rb").read())
    assert width > 200 and height > 100


def test_timeline_has_one_row_per_person_sorted(figure):
    ax = figure(people(12, 3, 5), CLASSES, 12.0).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["person 3", "person 5", "person 12"]
    assert len(ax.collections) == 3 * 3  # one broken_barh per (person, action)


def test_timeline_grows_taller_with_each_person(tmp_path):
    heights = []
    for ids in ((1,), (1, 2, 3)):
        path = str(tmp_path / f"{len(ids)}.png")
        report.plot_timeline(people(*ids), CLASSES, 12.0, path)
        heights.append(png_size(open(path, "rb").read())[1])
    assert heights[1] > heights[0]


def test_timeline_colour_is_fixed_per_class_and_unknown_is_grey(figure):
    def colour_at(segments):
        """Bar colour keyed by where the bar starts on the x axis."""
        ax = figure(segments, CLASSES, 12.0).axes[0]
        return {float(c.get_paths()[0].vertices[:, 0].min()): tuple(np.round(c.get_facecolor()[0], 6))
                for c in ax.collections}

    reading_alone = colour_at([Segment(0, 0.0, 2.0, "reading", 0.9)])
    with_others = colour_at([Segment(0, 0.0, 2.0, "writing", 0.9), Segment(0, 2.0, 4.0, "reading", 0.9),
                             Segment(0, 4.0, 5.0, UNKNOWN, 0.3)])
    assert with_others[2.0] == reading_alone[0.0] != with_others[0.0]
    grey = with_others[4.0]
    assert grey[0] == grey[1] == grey[2]


def test_timeline_legend_names_every_class_and_unknown(figure):
    fig = figure(people(1), CLASSES, 12.0)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [*CLASSES, UNKNOWN]


def test_timeline_axis_in_minutes_for_long_lectures(figure):
    segments = [Segment(0, 0.0, 1200.0, "writing", 0.9)]
    long_ax = figure(segments, CLASSES, 1800.0).axes[0]
    assert "min" in long_ax.get_xlabel()
    assert long_ax.get_xlim() == (0.0, 30.0)
    short_ax = figure(segments[:0], CLASSES, 600.0).axes[0]
    assert short_ax.get_xlabel() == "time (s)" and short_ax.get_xlim() == (0.0, 600.0)


def test_timeline_is_byte_identical_when_written_twice(tmp_path):
    paths = [str(tmp_path / name) for name in ("a.png", "b.png")]
    for path in paths:
        report.plot_timeline(people(2, 1), CLASSES, 12.0, path, "same")
    first, second = (open(p, "rb").read() for p in paths)
    assert first == second
    assert b"Software" not in first


def test_timeline_with_no_segments_says_nobody_tracked(tmp_path, figure):
    ax = figure([], CLASSES, 60.0).axes[0]
    assert [t.get_text() for t in ax.texts] == ["nobody tracked"]
    assert not ax.collections
    path = report.plot_timeline([], CLASSES, 60.0, str(tmp_path / "empty.png"))
    png_size(open(path, "rb").read())


def test_timeline_writes_to_an_fsspec_uri():
    uri = "memory://poseact-test-report/timeline.png"
    try:
        report.plot_timeline(people(1), CLASSES, 12.0, uri)
        png_size(storage.read_bytes(uri))
    finally:
        fs, path = storage.filesystem(uri)
        fs.rm(path)
