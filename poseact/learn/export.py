"""Model exports (.keras, SavedModel, TFLite), the model card, and loading with compatibility checks.

Loading never unpickles: `.keras` files are read with `safe_mode=True` (no Lambda layers, only
registered poseact layers) and the card is JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

import numpy as np

from poseact.data import schema
from poseact.data.normalize import NORMALIZATION_VERSION

CARD = "model_card.json"
KERAS_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"
TFLITE_FILE = "model.tflite"


class IncompatibleModelError(ValueError):
    """The model was trained on data of another schema or normalisation."""


def export_all(model, out_dir: str, card: dict[str, Any]) -> dict[str, str]:
    """Write `model.keras`, `saved_model/` (serving signature), `model.tflite` and `model_card.json`."""
    import tensorflow as tf  # noqa: PLC0415

    from poseact.learn.models import export_signature  # noqa: PLC0415

    os.makedirs(out_dir, exist_ok=True)
    paths = {"keras": os.path.join(out_dir, KERAS_FILE), "saved_model": os.path.join(out_dir, SAVED_MODEL_DIR),
             "tflite": os.path.join(out_dir, TFLITE_FILE), "card": os.path.join(out_dir, CARD)}
    model.save(paths["keras"])
    shutil.rmtree(paths["saved_model"], ignore_errors=True)
    model.export(paths["saved_model"], input_signature=export_signature(), verbose=False)
    with tempfile.TemporaryDirectory(prefix="poseact-tflite-") as tmp:
        # A fixed batch of 1 lets the LSTM lower to TFLite builtins (see poseact.learn.models).
        model.export(tmp, input_signature=export_signature(batch_size=1), verbose=False)
        tflite = tf.lite.TFLiteConverter.from_saved_model(tmp).convert()
    with open(paths["tflite"], "wb") as handle:
        handle.write(tflite)
    with open(paths["card"], "w") as handle:
        json.dump(card, handle, indent=2, sort_keys=True)
    return paths


def read_card(model_dir: str) -> dict[str, Any]:
    """The model card of a model folder."""
    with open(os.path.join(model_dir, CARD)) as handle:
        return json.load(handle)


def check_compatible(card: dict[str, Any], schema_hash: str | None = None, normalization: str | None = None) -> None:
    """Refuse data whose schema or normalisation differs from the model's.

    Raises:
        IncompatibleModelError: With both versions in the message.
    """
    schema_hash = schema_hash or schema.schema_hash()
    normalization = normalization or NORMALIZATION_VERSION
    if card.get("schema_hash") != schema_hash:
        raise IncompatibleModelError(
            f"model expects schema {card.get('schema_hash')}, the data has {schema_hash}: retrain or re-extract"
        )
    if card.get("normalization_version") != normalization:
        raise IncompatibleModelError(
            f"model expects normalisation {card.get('normalization_version')!r}, the data has {normalization!r}"
        )


def load_model(model_dir: str, schema_hash: str | None = None, normalization: str | None = None):
    """Load `model.keras` safely after checking the card against the data's versions.

    Returns:
        (keras model, card).
    """
    import keras  # noqa: PLC0415

    import poseact.learn.models  # noqa: F401, PLC0415  (registers poseact layers for safe loading)

    card = read_card(model_dir)
    check_compatible(card, schema_hash, normalization)
    model = keras.models.load_model(os.path.join(model_dir, KERAS_FILE), safe_mode=True)
    return model, card


class TFLiteClassifier:
    """Runs `model.tflite` (batch 1) over arrays of clips."""

    def __init__(self, path: str) -> None:
        import tensorflow as tf  # noqa: PLC0415

        self._interpreter = tf.lite.Interpreter(model_path=path)
        self._interpreter.allocate_tensors()
        self._inputs = {d["name"]: d["index"] for d in self._interpreter.get_input_details()}
        self._output = self._interpreter.get_output_details()[0]["index"]

    def _index(self, key: str) -> int:
        return next(i for name, i in self._inputs.items() if key in name)

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities (N, classes)."""
        pose_index, mask_index = self._index(schema.POSE), self._index(schema.FRAME_MASK)
        out = []
        for pose, mask in zip(inputs[schema.POSE], inputs[schema.FRAME_MASK]):
            self._interpreter.set_tensor(pose_index, pose[None].astype(np.float32))
            self._interpreter.set_tensor(mask_index, mask[None].astype(np.float32))
            self._interpreter.invoke()
            out.append(self._interpreter.get_tensor(self._output)[0])
        return np.asarray(out)
