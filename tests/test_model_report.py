"""The model folder's report: metrics, per-class table, plots inline, training and data summaries."""

from __future__ import annotations

import json
import re

import pytest

from poseact.learn import model_report

PNG = b"\x89PNG\r\n\x1a\nfake"
METRICS = {
    "model": "paper", "classes": ["raise", "<b>read</b>"], "epochs_run": 12, "steps_run": 48, "train_seconds": 9.5,
    "train": {"n": 20, "accuracy": 0.9, "macro_f1": 0.88},
    "val": {"n": 4, "accuracy": 0.75, "macro_f1": 0.7},
    "test": {"n": 6, "accuracy": 0.8333, "macro_f1": 0.8, "confusion_matrix": [[3, 0], [1, 2]],
             "per_class": {"raise": {"precision": 0.75, "recall": 1.0, "f1": 0.8571, "support": 3},
                           "<b>read</b>": {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}}},
    "kfold": {"k": 3, "folds": [{"n": 10}, {"n": 10}, {"n": 10}], "accuracy": {"mean": 0.8, "std": 0.05},
              "macro_f1": {"mean": 0.78, "std": 0.04}},
}
CARD = {"hparams": {"model": "paper", "learning_rate": 0.001, "batch_size": 8, "epochs": 100},
        "training_data": {"dir": "/shards", "train_clips": 20, "val_clips": 4, "test_clips": 6, "groups": 7},
        "max_frames": 48, "fps": 15.0, "normalization_version": 3}
DATA = {"clips_in": 31, "clips_written": 30, "clips_failed": 1, "frames_kept": 1440, "detection_rate": 0.97,
        "pose_model": {"name": "full-offline"}, "per_class": {"raise": {"written": 15, "failed": 1},
                                                              "<b>read</b>": {"written": 15, "failed": 0}}}


def test_page_has_metrics_per_class_plots_training_and_data():
    html = model_report.model_page(METRICS, CARD, DATA, PNG, PNG)
    rows = re.findall(r"<tr><td>(train|val|test)</td><td class=num>(\d+)</td>", html)
    assert rows == [("train", "20"), ("val", "4"), ("test", "6")]
    assert "3-fold (mean ± sd)" in html and "0.8 ± 0.05" in html
    assert "<h2>Per class (test split)</h2>" in html and "0.8571" in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "30 of 31 (1 failed" in html and "full-offline" in html and "97% of frames" in html
    assert "&lt;b&gt;read&lt;/b&gt;" in html and "<b>read</b>" not in html
    assert "<td>epochs run</td><td>12</td>" in html and "<td>batch size</td><td>8</td>" in html


def test_without_a_test_split_the_validation_split_is_shown():
    metrics = {**METRICS, "test": {"n": 0}}
    html = model_report.model_page(metrics, CARD, None, None, None)
    assert "<h2>Per class (val split)</h2>" in html and "<img" not in html


def test_report_is_written_into_the_model_folder(tmp_path):
    model, shards = tmp_path / "model", tmp_path / "shards"
    model.mkdir()
    shards.mkdir()
    with pytest.raises(FileNotFoundError, match="metrics.json, model_card.json"):
        model_report.write_model_report(str(model))
    (model / "metrics.json").write_text(json.dumps(METRICS))
    (model / "model_card.json").write_text(json.dumps(CARD))
    (model / "curves.png").write_bytes(PNG)
    (shards / "summary.json").write_text(json.dumps(DATA))
    uri = model_report.write_model_report(str(model), str(shards))
    html = (model / "report.html").read_text()
    assert uri == str(model / "report.html") and html.count("data:image/png") == 1 and "full-offline" in html
