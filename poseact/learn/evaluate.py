"""Classification metrics (scikit-learn) and grouped, stratified K-fold splits."""

from __future__ import annotations

from typing import Any

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(range(len(classes)))
    if len(y_true) == 0:
        return {"n": 0}
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
        "per_class": {
            name: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                   "support": int(s)}
            for name, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def grouped_stratified_folds(
    labels: np.ndarray, groups: np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K (train, test) index pairs; no group is in both parts of a fold, classes stay balanced.

    Raises:
        ValueError: Fewer groups than folds.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    if len(set(groups.tolist())) < k:
        raise ValueError(f"--folds {k} needs at least {k} groups; the data has {len(set(groups.tolist()))}")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(np.sort(a), np.sort(b)) for a, b in splitter.split(np.zeros(len(labels)), labels, groups)]


# Head-box sets (classroom_cctv) label a head `down` (bent over a book or a desk) against `up` and `lookaround`; the
# rules have no such class, but read a head bent down as reading or writing (`poseact.label.rules.head_down`). So
# both are judged on one question: is the head down?
DOWN = "down"
NOT_DOWN = ("up", "lookaround")


def rules_actions(pose: np.ndarray, frame_mask: np.ndarray, fps: float) -> list[str]:
    """The rules' action for each row (its own person; no hand motion, as on a still), from the model inputs."""
    from poseact.label import rules  # noqa: PLC0415

    count, frames = frame_mask.shape
    batch = np.concatenate([pose, np.broadcast_to(frame_mask[:, :, None, None], (count, frames, pose.shape[2], 1)),
                            np.full((count, frames, pose.shape[2], 1), np.nan, np.float32)], axis=-1)
    features = rules.batch_features(batch.astype(np.float32), fps)
    return [rules.CLASSES[int(np.argmax(rules.person_scores(features[i:i + 1], [0.0])[0]))] for i in range(count)]


def down_against_rest(label_id: np.ndarray, predicted: np.ndarray, rules_read: list[str],
                      classes: list[str]) -> dict[str, Any] | None:
    """On rows labelled `down`, `up` or `lookaround`: how often the model, and the rules, get "is the head down?"
    right (the model: predicts `down` exactly when the label is; the rules: read reading or writing exactly then).
    None without a `down` class."""
    if DOWN not in classes:
        return None
    names = np.array(classes)[label_id]
    judged = np.isin(names, (DOWN, *NOT_DOWN))
    if not judged.any():
        return {"n": 0}
    truth = names[judged] == DOWN
    model = np.array(classes)[predicted][judged] == DOWN
    rules_down = np.isin(np.array(rules_read)[judged], ("reading", "writing"))
    return {"n": int(judged.sum()), "model_right": round(float(np.mean(model == truth)), 4),
            "rules_right": round(float(np.mean(rules_down == truth)), 4),
            "share_down": round(float(np.mean(truth)), 4)}
