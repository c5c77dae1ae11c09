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
