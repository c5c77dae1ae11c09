"""`report.html` of a model folder written by `poseact train`: metrics, curves, confusion, the per-class
table and a summary of the data it was trained on, in one self-contained page (`poseact.common.html_page`)."""

from __future__ import annotations

import json
from typing import Any

from poseact.common import storage
from poseact.common.html_page import Raw, esc, image, page, table

REPORT = "report.html"
_SPLITS = ("train", "val", "test")
_HPARAMS = ("model", "learning_rate", "batch_size", "epochs", "augment", "seed")


def _metrics_table(metrics: dict[str, Any]) -> Raw:
    rows = [(s, metrics[s].get("n", 0), metrics[s].get("accuracy"), metrics[s].get("macro_f1"))
            for s in _SPLITS if s in metrics]
    if "kfold" in metrics:
        kf = metrics["kfold"]
        rows.append((f"{kf['k']}-fold (mean ± sd)", sum(f.get("n", 0) for f in kf.get("folds", [])),
                     f"{kf['accuracy']['mean']} ± {kf['accuracy']['std']}", f"{kf['macro_f1']['mean']} ± {kf['macro_f1']['std']}"))
    return table(("split", "clips", "accuracy", "macro-F1"), rows, cls="metrics", numeric=(1, 2, 3))


def _per_class(metrics: dict[str, Any], split: str) -> Raw:
    per_class = metrics.get(split, {}).get("per_class", {})
    rows = [(name, v.get("precision"), v.get("recall"), v.get("f1"), v.get("support")) for name, v in per_class.items()]
    return table(("class", "precision", "recall", "F1", "clips"), rows, cls="per-class", numeric=(1, 2, 3, 4))


def _training(metrics: dict[str, Any], card: dict[str, Any]) -> Raw:
    hp = card.get("hparams", {})
    rows = [("epochs run", metrics.get("epochs_run")), ("optimiser steps", metrics.get("steps_run", "")),
            ("training time", f"{metrics.get('train_seconds', 0)} s"),
            *((name.replace("_", " "), hp[name]) for name in _HPARAMS if name in hp)]
    if metrics.get("schedule"):
        rows.append(("schedule", ", ".join(f"{k} {v}" for k, v in sorted(metrics["schedule"].items()))))
    rows += [("frames per clip", card.get("max_frames")), ("frames per second", card.get("fps")),
             ("normalisation", card.get("normalization_version"))]
    return table(None, [r for r in rows if r[1] not in (None, "")], cls="facts")


def _data(card: dict[str, Any], data: dict[str, Any] | None) -> Raw:
    used = card.get("training_data", {})
    rows = [("shards", used.get("dir", "")), ("clips (train / val / test)",
            " / ".join(str(used.get(f"{s}_clips", 0)) for s in _SPLITS)), ("groups (subjects or sessions)", used.get("groups"))]
    if data:
        pose = data.get("pose_model") or {}
        rows += [("clips extracted", f"{data.get('clips_written')} of {data.get('clips_in')} "
                                     f"({data.get('clips_failed')} failed: errors.jsonl of the shards)"),
                 ("frames kept", data.get("frames_kept")), ("pose model", pose.get("name", "none (imported landmarks)")),
                 ("pose found in", f"{100 * data['detection_rate']:.0f}% of frames" if "detection_rate" in data else None)]
    facts = table(None, [r for r in rows if r[1] is not None], cls="facts")
    if not data or not data.get("per_class"):
        return facts
    per_class = table(("class", "clips written", "clips failed"),
                      [(k, v.get("written", 0), v.get("failed", 0)) for k, v in data["per_class"].items()],
                      cls="data-per-class", numeric=(1, 2))
    return Raw(facts + per_class)


def model_page(metrics: dict[str, Any], card: dict[str, Any], data: dict[str, Any] | None,
               curves_png: bytes | None, confusion_png: bytes | None) -> str:
    """The model folder's page.

    Args:
        metrics: `metrics.json`.
        card: `model_card.json`.
        data: The shards' `summary.json`, or None if it cannot be read.
        curves_png: `curves.png` bytes, if any.
        confusion_png: `confusion.png` bytes, if any.
    """
    shown = "test" if metrics.get("test", {}).get("n") else "val"
    body = ["<h2>Metrics</h2>", _metrics_table(metrics), f"<h2>Per class ({esc(shown)} split)</h2>",
            _per_class(metrics, shown)]
    if confusion_png:
        body += [f"<h2>Confusion ({esc(shown)} split)</h2>", image(confusion_png, "image/png", "confusion matrix", "plot")]
    if curves_png:
        body += ["<h2>Loss and accuracy per epoch</h2>", image(curves_png, "image/png", "training curves", "plot")]
    body += ["<h2>Training</h2>", _training(metrics, card), "<h2>Data</h2>", _data(card, data)]
    test = metrics.get(shown, {})
    return page(f"{metrics.get('model', 'model')}: model report", f"Model report: {metrics.get('model', '')}",
                f"classes {', '.join(metrics.get('classes', []))}; {shown} accuracy {test.get('accuracy')}, "
                f"macro-F1 {test.get('macro_f1')} (n={test.get('n', 0)})", body)


def _read(uri: str) -> bytes | None:
    return storage.read_bytes(uri) if storage.exists(uri) else None


def write_model_report(out_dir: str, data_dir: str | None = None) -> str:
    """Write `out_dir/report.html` from the folder's metrics, card and plots (and the shards' summary).

    Returns:
        The report's URI.

    Raises:
        FileNotFoundError: `out_dir` has no metrics.json or model_card.json (not a trained model folder).
    """
    found = {name: _read(storage.join(out_dir, name)) for name in ("metrics.json", "model_card.json")}
    missing = [name for name, data in found.items() if data is None]
    if missing:
        raise FileNotFoundError(f"{out_dir} has no {', '.join(missing)}: not a folder written by `poseact train`")
    data = _read(storage.join(data_dir, "summary.json")) if data_dir else None
    html = model_page(json.loads(found["metrics.json"]), json.loads(found["model_card.json"]),
                      json.loads(data) if data else None, _read(storage.join(out_dir, "curves.png")),
                      _read(storage.join(out_dir, "confusion.png")))
    uri = storage.join(out_dir, REPORT)
    storage.write_atomic(uri, html.encode())
    return uri
