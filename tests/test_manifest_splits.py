"""Manifest parsing, class folders, and grouped stratified splits."""

import collections
import json

import pytest

from poseact.data.manifest import ClipSpec, ManifestError, class_names, read_clips
from poseact.data.splits import assign_splits


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_csv_manifest_resolves_relative_uris(tmp_path):
    src = _write(tmp_path / "m.csv", "uri,label,group,split\na.mp4,write,s1,\n/abs/b.mp4,read,,test\n")
    specs = read_clips(src)
    assert specs == [
        ClipSpec("/abs/b.mp4", "read", "/abs/b.mp4", "test"),
        ClipSpec(str(tmp_path / "a.mp4"), "write", "s1", ""),
    ]


def test_jsonl_manifest(tmp_path):
    rows = [{"uri": "gs://b/x.mp4", "label": "raise"}, {"uri": "s3://b/y.mp4", "label": "read", "group": 7}]
    src = _write(tmp_path / "m.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    specs = read_clips(src)
    assert [s.uri for s in specs] == ["gs://b/x.mp4", "s3://b/y.mp4"]
    assert specs[1].group == "7"


@pytest.mark.parametrize(
    "text, message",
    [
        ("path,label\na.mp4,x\n", r"missing column\(s\) \['uri'\]"),
        ("uri,label\na.mp4,\n", "empty label"),
        ("uri,label\na.mp4,x\na.mp4,y\n", "appears 2 times"),
        ("uri,label,split\na.mp4,x,holdout\n", "split 'holdout'"),
        ("uri,label\n", "no rows"),
    ],
)
def test_bad_manifests_fail_before_work(tmp_path, text, message):
    with pytest.raises(ManifestError, match=message):
        read_clips(_write(tmp_path / "m.csv", text))


def test_unknown_label_with_class_list(tmp_path):
    src = _write(tmp_path / "m.csv", "uri,label\na.mp4,write\nb.mp4,dance\n")
    with pytest.raises(ManifestError, match="unknown label 'dance'"):
        read_clips(src, classes=["write", "read"])


def test_bad_jsonl_line(tmp_path):
    with pytest.raises(ManifestError, match="line 2 is not JSON"):
        read_clips(_write(tmp_path / "m.jsonl", '{"uri": "a", "label": "x"}\n{oops\n'))


def test_missing_input():
    with pytest.raises(ManifestError, match="does not exist"):
        read_clips("/no/such/manifest.csv")


def test_class_folders(tmp_path):
    for label, name in [("write", "1.mp4"), ("read", "2.avi"), ("read", "notes.txt")]:
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / name).write_bytes(b"x")
    specs = read_clips(str(tmp_path))
    assert [(s.label, s.uri.endswith(("1.mp4", "2.avi"))) for s in specs] == [("read", True), ("write", True)]
    assert class_names(specs) == ["read", "write"]
    with pytest.raises(ManifestError, match="not a known class"):
        read_clips(str(tmp_path), classes=["write"])


def _specs(groups_per_class=10, clips_per_group=3):
    return [
        ClipSpec(f"/c/{label}/{g}/{i}.mp4", label, f"{label}-{g}")
        for label in ("raise", "write", "read")
        for g in range(groups_per_class)
        for i in range(clips_per_group)
    ]


def test_splits_never_leak_groups_and_are_stratified():
    out = assign_splits(_specs(), val_fraction=0.2, test_fraction=0.2, seed=3)
    split_of = collections.defaultdict(set)
    for s in out:
        split_of[s.group].add(s.split)
    assert all(len(v) == 1 for v in split_of.values())
    per = collections.Counter((s.label, s.split) for s in out)
    for label in ("raise", "write", "read"):
        assert per[(label, "train")] == 18 and per[(label, "val")] == 6 and per[(label, "test")] == 6


def test_splits_deterministic_and_order_independent():
    specs = _specs()
    a = assign_splits(specs, seed=1)
    b = assign_splits(list(reversed(specs)), seed=1)
    assert sorted(a) == sorted(b)
    assert sorted(a) != sorted(assign_splits(specs, seed=2))


def test_shared_subject_across_classes_stays_in_one_split():
    specs = [ClipSpec(f"/{label}/{s}.mp4", label, f"subject{s}") for s in range(6) for label in ("a", "b")]
    out = assign_splits(specs)
    for s in range(6):
        assert len({c.split for c in out if c.group == f"subject{s}"}) == 1


def test_explicit_splits_kept_and_conflicts_rejected():
    specs = _specs(4, 1)
    fixed = [ClipSpec(s.uri, s.label, s.group, "test") if s.group == "raise-0" else s for s in specs]
    assert [s.split for s in assign_splits(fixed) if s.group == "raise-0"] == ["test"]
    clash = [ClipSpec("/a.mp4", "x", "g", "train"), ClipSpec("/b.mp4", "x", "g", "test")]
    with pytest.raises(ManifestError, match="leaks"):
        assign_splits(clash)


def test_read_uris_from_globs_folders_and_lists(tmp_path):
    from poseact.data.manifest import read_uris

    (tmp_path / "a").mkdir()
    for name in ("a/x.mp4", "a/y.MKV", "a/notes.txt", "z.mp4"):
        (tmp_path / name).write_bytes(b"v")
    assert read_uris(str(tmp_path / "a")) == [str(tmp_path / "a" / "x.mp4"), str(tmp_path / "a" / "y.MKV")]
    assert read_uris(str(tmp_path / "*.mp4")) == [str(tmp_path / "z.mp4")]
    assert read_uris(str(tmp_path / "z.mp4")) == [str(tmp_path / "z.mp4")]
    (tmp_path / "list.txt").write_text("# lectures\na/x.mp4\nmissing.mp4\n\n")
    assert read_uris(str(tmp_path / "list.txt")) == [str(tmp_path / "a" / "x.mp4"), str(tmp_path / "missing.mp4")]
    (tmp_path / "list.csv").write_text("uri,room\nz.mp4,101\n")
    assert read_uris(str(tmp_path / "list.csv")) == [str(tmp_path / "z.mp4")]
    for bad, message in (("nope/*.mp4", "matches no video"), ("absent", "does not exist"),
                         ("a/notes.txt", "lists no video")):
        with pytest.raises(ManifestError, match=message):
            if bad == "a/notes.txt":
                (tmp_path / bad).write_text("\n")
            read_uris(str(tmp_path / bad))
    (tmp_path / "bad.csv").write_text("path\nz.mp4\n")
    with pytest.raises(ManifestError, match="no 'uri' column"):
        read_uris(str(tmp_path / "bad.csv"))
