"""`poseact train`: fit a model on extraction shards, evaluate it honestly, plot and export it.

    poseact train --data SHARDS_DIR --output MODEL_DIR [--model paper|tcn] [--folds K] [--schedule steps|paper]
        [hyper-parameters]

Honest evaluation: the test split comes from extraction, grouped by subject or session, and is never
seen in training or early stopping. `--folds K` adds grouped, stratified K-fold over all clips and
reports mean and standard deviation.

`--schedule steps` (default) holds early stopping and learning-rate reduction off for the first
`--warmup-steps` optimiser steps and counts their patience in steps, so that a paper-size set (2-4
steps per epoch) is not stopped after a few dozen steps; `--schedule paper` is the paper's callbacks
exactly (`poseact.learn.hparams`). metrics.json and the model card record the epochs and steps used.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from typing import Any

import numpy as np

from poseact.common import arguments
from poseact.data import schema
from poseact.data.normalize import NORMALIZATION_VERSION
from poseact.data.training_data import ClipSet, load_shards
from poseact.learn import evaluate, export, hparams, plots
from poseact.pose.landmarks import MODEL_LANDMARKS

_LOG = logging.getLogger(__name__)


def _batches(clips: ClipSet, num_classes: int, hp: hparams.HParams):
    """Training input: arrays, or a PyDataset that augments every epoch anew."""
    import keras  # noqa: PLC0415

    from poseact.learn.augment import augment_batch  # noqa: PLC0415

    labels = keras.utils.to_categorical(clips.label_id, num_classes)
    if not hp.augment:
        return clips.inputs(), labels
    rng = np.random.default_rng(hp.seed)

    class Augmented(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self._order = np.arange(len(clips))

        def __len__(self) -> int:
            return int(np.ceil(len(clips) / hp.batch_size))

        def on_epoch_end(self) -> None:
            self._order = rng.permutation(len(clips))

        def __getitem__(self, index: int):
            take = self._order[index * hp.batch_size:(index + 1) * hp.batch_size]
            pose, mask = augment_batch(clips.pose[take], clips.frame_mask[take], rng, hp)
            return {schema.POSE: pose, schema.FRAME_MASK: mask.astype(np.float32)}, labels[take]

    return Augmented(), None


def _plateau_callback(keras, monitor: str, hp: hparams.HParams, schedule: hparams.Schedule):
    """ReduceLROnPlateau that, like EarlyStopping's `start_from_epoch`, ignores the warm-up epochs.

    Keras' own has no start epoch: on a paper-size set its patience of 2 epochs (4-8 steps) halved the
    rate 4 times before the model had fit anything.
    """

    class WarmReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch >= schedule.lr_start_epoch:
                super().on_epoch_end(epoch, logs)
            elif logs is not None:  # keep the history's learning-rate column whole
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    return WarmReduceLROnPlateau(monitor=monitor, factor=hp.lr_factor, patience=schedule.lr_patience,
                                 min_lr=hp.min_lr)


def _callbacks(keras, monitor: str, hp: hparams.HParams, schedule: hparams.Schedule) -> list:
    """Early stopping and plateau reduction with the schedule's epoch counts."""
    return [
        keras.callbacks.EarlyStopping(monitor=monitor, patience=schedule.early_stopping_patience,
                                      restore_best_weights=hp.restore_best_weights,
                                      start_from_epoch=schedule.early_stopping_start_epoch),
        _plateau_callback(keras, monitor, hp, schedule),
    ]


def fit(train: ClipSet, val: ClipSet, num_classes: int, hp: hparams.HParams, log_dir: str | None = None):
    """Train one model with the paper's callbacks, timed by `hp.schedule`.

    Args:
        train: Training clips.
        val: Clips watched by early stopping and plateau reduction (training loss if empty).
        num_classes: Output classes.
        hp: Hyper-parameters.
        log_dir: TensorBoard folder, or None.

    Returns:
        (model, history dict, seconds, the schedule resolved for `len(train)` clips).
    """
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    from poseact.learn.models import build_model, compile_model  # noqa: PLC0415

    keras.utils.set_random_seed(hp.seed)
    tf.config.experimental.enable_op_determinism()
    schedule = hparams.resolve_schedule(hp, len(train))
    if schedule.early_stopping_start_epoch >= schedule.epochs:
        _LOG.warning("%d epochs end before the %d-epoch warm-up: early stopping and learning-rate reduction "
                     "never act", schedule.epochs, schedule.early_stopping_start_epoch)
    model = compile_model(build_model(hp.model, num_classes, hp), hp)
    monitor = hp.early_stopping_monitor if len(val) else hp.early_stopping_monitor.replace("val_", "")
    callbacks = _callbacks(keras, monitor, hp, schedule)
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=log_dir))
    x, y = _batches(train, num_classes, hp)
    validation = (val.inputs(), keras.utils.to_categorical(val.label_id, num_classes)) if len(val) else None
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=hp.batch_size if y is not None else None, epochs=schedule.epochs,
                        validation_data=validation, callbacks=callbacks, shuffle=True, verbose=2)
    history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return model, history, time.perf_counter() - start, schedule


def predict(model, clips: ClipSet) -> np.ndarray:
    """Class indices predicted for clips (empty for an empty set)."""
    if not len(clips):
        return np.zeros((0,), np.int64)
    return np.argmax(model.predict(clips.inputs(), verbose=0), axis=-1)


def _splits(clips: ClipSet) -> dict[str, ClipSet]:
    return {name: clips.subset(np.flatnonzero(clips.split == name)) for name in schema.SPLITS}


def k_fold(clips: ClipSet, classes: list[str], hp: hparams.HParams, k: int, fps: float = 15.0) -> dict[str, Any]:
    """Grouped, stratified K-fold over all clips; inside each fold a grouped fifth of the training part
    is held out for early stopping. Each fold also gives its per-class F1, and with a `down` class the model's and the
    rules' reading of "is the head down?" on its test rows (`evaluate.down_against_rest`)."""
    rules_read = evaluate.rules_actions(clips.pose, clips.frame_mask, fps) if evaluate.DOWN in classes else None
    folds = []
    for index, (train_idx, test_idx) in enumerate(evaluate.grouped_stratified_folds(clips.label_id, clips.group, k, hp.seed)):
        part = clips.subset(train_idx)
        inner = evaluate.grouped_stratified_folds(part.label_id, part.group, min(5, len(set(part.group))), hp.seed)
        fit_idx, val_idx = inner[0]
        model, history, _, schedule = fit(part.subset(fit_idx), part.subset(val_idx), len(classes), hp)
        test = clips.subset(test_idx)
        predicted = predict(model, test)
        result = evaluate.classification_metrics(test.label_id, predicted, classes)
        epochs = len(history["loss"])
        fold = {"fold": index, "epochs": epochs, "steps": epochs * schedule.steps_per_epoch,
                **{m: result[m] for m in ("n", "accuracy", "macro_f1")},
                "f1": {name: row["f1"] for name, row in result["per_class"].items()}}
        if rules_read is not None:
            down = evaluate.down_against_rest(test.label_id, predicted, [rules_read[i] for i in test_idx], classes)
            fold.update(down_model_right=down.get("model_right"), down_rules_right=down.get("rules_right"))
        folds.append(fold)
    metrics = ["accuracy", "macro_f1"] + (["down_model_right", "down_rules_right"] if rules_read is not None else [])
    summary = {m: {"mean": round(float(np.mean([f[m] for f in folds if f.get(m) is not None])), 4),
                   "std": round(float(np.std([f[m] for f in folds if f.get(m) is not None])), 4)} for m in metrics}
    summary["f1"] = {name: {"mean": round(float(np.mean([f["f1"][name] for f in folds])), 4),
                            "std": round(float(np.std([f["f1"][name] for f in folds])), 4)} for name in classes}
    return {"k": k, "folds": folds, **summary}


def run(data_dir: str, out_dir: str, hp: hparams.HParams, folds: int = 0) -> dict[str, Any]:
    """Train, evaluate, plot and export; returns the metrics (also in `out_dir/metrics.json`)."""
    clips, classes = load_shards(data_dir)
    parts = _splits(clips)
    if not len(parts["train"]):
        raise ValueError(f"{data_dir} has no training clips")
    os.makedirs(out_dir, exist_ok=True)
    model, history, seconds, schedule = fit(parts["train"], parts["val"], len(classes), hp,
                                            os.path.join(out_dir, "logs"))
    epochs_run = len(history["loss"])
    metrics: dict[str, Any] = {
        "model": hp.model, "classes": classes, "epochs_run": epochs_run,
        "steps_run": epochs_run * schedule.steps_per_epoch, "schedule": schedule.to_dict(),
        "train_seconds": round(seconds, 2),
        "sequences_per_second": round(len(parts["train"]) * len(history["loss"]) / seconds, 1),
        "history": history,
    }
    for name, part in parts.items():
        predicted = predict(model, part)
        metrics[name] = evaluate.classification_metrics(part.label_id, predicted, classes)
        if evaluate.DOWN in classes and len(part):
            # Beside the model, the rules' reading of the same rows (head-box sets: is the head down?).
            rules_read = evaluate.rules_actions(part.pose, part.frame_mask, _fps(data_dir) or 15.0)
            metrics[name]["down_against_rest"] = evaluate.down_against_rest(part.label_id, predicted, rules_read,
                                                                            classes)
    if folds:
        metrics["kfold"] = k_fold(clips, classes, hp, folds, _fps(data_dir) or 15.0)
    shown = "test" if len(parts["test"]) else "val"
    plots.plot_curves(history, os.path.join(out_dir, "curves.png"), f"{hp.model}: loss and accuracy")
    plots.plot_confusion(metrics[shown]["confusion_matrix"], classes, os.path.join(out_dir, "confusion.png"),
                          f"{hp.model}: {shown} split")
    card = {
        "classes": classes, "landmark_indices": list(MODEL_LANDMARKS), "max_frames": schema.max_frames(),
        "fps": _fps(data_dir), "normalization_version": NORMALIZATION_VERSION, "schema_hash": schema.schema_hash(),
        "model": hp.model, "hparams": dataclasses.asdict(hp), "schedule": metrics["schedule"],
        "training_data": {"dir": data_dir, **{f"{n}_clips": len(p) for n, p in parts.items()},
                          "groups": len(set(clips.group.tolist()))},
        "metrics": {n: {m: metrics[n].get(m) for m in ("accuracy", "macro_f1")} for n in schema.SPLITS},
    }
    export.export_all(model, out_dir, card)
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    from poseact.learn import model_report  # noqa: PLC0415

    model_report.write_model_report(out_dir, data_dir)  # report.html: metrics, plots and data on one page
    return metrics


def _fps(data_dir: str) -> float | None:
    from poseact.common import storage  # noqa: PLC0415

    path = storage.join(data_dir, "summary.json")
    return json.loads(storage.read_bytes(path)).get("fps") if storage.exists(path) else None


def main(argv: list[str] | None = None) -> int:
    """Entry of `poseact train`."""
    parser = arguments.Parser(prog="poseact train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="folder of shards from poseact extract or import")
    parser.add_argument("--output", required=True, help="model folder")
    parser.add_argument("--folds", type=int, default=0, help="also run grouped stratified K-fold")
    hparams.add_flags(parser)
    args = parser.parse_args(argv)
    metrics = run(args.data, args.output, hparams.from_args(args), args.folds)
    lines = [f"{split}: accuracy {metrics[split].get('accuracy')} macro-F1 {metrics[split].get('macro_f1')} "
             f"(n={metrics[split]['n']})" for split in schema.SPLITS]
    if "kfold" in metrics:
        kf = metrics["kfold"]
        lines.append(f"{kf['k']}-fold: accuracy {kf['accuracy']['mean']} ± {kf['accuracy']['std']}, "
                     f"macro-F1 {kf['macro_f1']['mean']} ± {kf['macro_f1']['std']}")
    sched = metrics["schedule"]
    lines.append(f"schedule {sched['name']}: {metrics['epochs_run']} of at most {sched['epochs']} epochs, "
                 f"{metrics['steps_run']} steps ({sched['steps_per_epoch']} per epoch); early stopping from "
                 f"epoch {sched['early_stopping_start_epoch']} (patience {sched['early_stopping_patience']}), "
                 f"learning-rate reduction from epoch {sched['lr_start_epoch']} (patience {sched['lr_patience']})")
    print("\n".join(lines))
    print(f"metrics: {os.path.join(args.output, 'metrics.json')}; plots: curves.png, confusion.png; "
          f"model: model.keras, saved_model/, model.tflite, model_card.json in {args.output}")
    return 0
