"""The lecture report and the index of lectures: what each shows, escaping, privacy settings."""

from __future__ import annotations

import re

from poseact.label import lecture_report
from poseact.label.lecture_report import Pictures
from poseact.label.segments import Segment

EVIL = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def lecture(video: str = "/data/lecture 1.mp4", key: str = "lecture_1-0123abcd") -> dict:
    """A lecture's summary.json, as `pipelines.label_outputs.write_lecture` writes it."""
    return {"video": video, "key": key, "model": "rules@1", "classes": ["hand_raise", "writing", "reading", "other"],
            "duration_s": 90.0, "width": 1280, "height": 720, "fps": 30.0, "chunks": 2, "persons": 2, "frames": 1350,
            "people_per_frame": {"mean": 1.9, "max": 2}, "segments": 4, "tracks_merged_as_duplicates": 3,
            "jumps_refused": 1, "poses_upside_down_refused": 7,
            "per_person": {"0": {"hand_raises": 2, "seconds_writing": 30.0, "seconds_reading": 0.0},
                           "1": {"hand_raises": 0, "seconds_writing": 0.0, "seconds_reading": 75.5}},
            "options": {"windows": {"fps": 15.0}}}


SEGMENTS = [Segment(0, 0.0, 10.0, "hand_raise", 0.9), Segment(0, 10.0, 40.0, "writing", 0.8),
            Segment(0, 50.0, 55.0, "hand_raise", 0.7), Segment(1, 0.0, 75.5, "reading", 0.95)]
TRACKS = [{"person": 0, "first_s": 0.0, "last_s": 89.9, "frames": 1350},
          {"person": 1, "first_s": 2.0, "last_s": 80.0, "frames_seen": 1170}]


def test_lecture_page_shows_every_person_with_pictures_and_figures():
    pictures = Pictures({0: JPEG, 1: JPEG}, [(SEGMENTS[0], 5.0, JPEG)], "blurred")
    html = lecture_report.lecture_page(lecture(), SEGMENTS, TRACKS, pictures, overlay="overlay.mp4")
    assert html.count('class="card"') == 2 and 'id="person-0"' in html and 'id="person-1"' in html
    assert html.count('src="data:image/jpeg;base64,') == 3  # two thumbnails, one snapshot
    assert "1 more hand raise(s) without a snapshot" in html  # two raises, one snapshot
    assert '<a id="overlay" href="overlay.mp4">' in html and "rules@1" in html
    # Person 1: 75.5 s reading, seen in 1170 frames at 15 frames/s = 78 s.
    assert re.search(r"<td class=num>0</td><td class=num>0\.0 s</td><td class=num>1:15</td><td class=num>1:18</td>", html)
    assert html.count('data-action="hand_raise"') == 4  # overview and person strips
    assert "blurred (--blur-faces)" in html
    assert ("3 tracks merged as duplicates (two tracks on one body), 1 poses refused as jumps to another person, "
            "7 poses refused as upside down") in html


def test_no_images_means_no_picture_of_anyone():
    html = lecture_report.lecture_page(lecture(), SEGMENTS, TRACKS, Pictures({}, [], "none"))
    assert "<img" not in html and "base64" not in html and "overlay" not in html
    assert "No pictures of people (--no-images)" in html


def test_names_from_the_inputs_are_only_text():
    summary = lecture(video=f"gs://b/{EVIL}.mp4", key="evil-1")
    segs = [Segment(0, 0.0, 5.0, EVIL, 0.5)]  # an action name no class has: grey, and escaped too
    html = lecture_report.lecture_page(summary, segs, TRACKS[:1], Pictures({}, [], "plain"))
    index = lecture_report.index_page([summary], [{"uri": EVIL, "stage": "read", "reason": EVIL}])
    for page in (html, index):
        assert "<script" not in page and "<img src=x" not in page
        assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in page
        assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_index_links_each_lecture_and_lists_failures():
    first, second = lecture(), lecture(video="/data/b.mp4", key="b-99")
    index = lecture_report.index_page([second, first], [{"uri": "/data/c.mp4", "stage": "decode", "reason": "corrupt"}])
    links = re.findall(r'<a class="lecture" href="([^"]+)">([^<]+)</a>', index)
    assert links == [("lectures/b-99/report.html", "b.mp4"), ("lectures/lecture_1-0123abcd/report.html", "lecture 1.mp4")]
    assert "<h2>Failed videos</h2>" in index and "corrupt" in index and "2 lecture(s) labelled, 1 failed" in index
    # Hand raises and seconds summed over people.
    assert "<td class=num>2</td><td class=num>2</td><td class=num>30.0 s</td><td class=num>1:15</td>" in index
    assert "No lecture is labelled here yet" in lecture_report.index_page([], [])
