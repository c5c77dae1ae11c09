"""The classifiers the label pipeline runs in `RunInference`: a trained Keras model, or the pose rules.

Both take the same inputs: (max_frames, 24, 5) arrays, the normalised pose with the frame mask as a fourth
channel and the person's hand motion per frame as a fifth (RunInference passes one array per element; the
model takes them apart; a trained model reads the pose and the mask, the rules all three).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

with warnings.catch_warnings():
    # tensorflow_hub (imported by Beam's TF model handler) warns that pkg_resources is deprecated.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    from apache_beam.ml.inference.tensorflow_inference import TFModelHandlerNumpy

from poseact.common import storage
from poseact.label import rules
from poseact.learn import export


class PoseModelHandler(TFModelHandlerNumpy):
    """Beam's TensorFlow model handler, loading our `.keras` model with its card checked."""

    def __init__(self, model_dir: str, max_batch_size: int = 64) -> None:
        super().__init__(model_uri=storage.join(model_dir, export.KERAS_FILE), inference_fn=_infer,
                         min_batch_size=1, max_batch_size=max_batch_size)
        self._model_dir = model_dir

    def load_model(self):
        """The checked Keras model (copied first when the folder is remote)."""
        if storage.is_local(self._model_dir):
            return export.load_model(self._model_dir)[0]
        local = tempfile.mkdtemp(prefix="poseact-model-")
        for name in (export.KERAS_FILE, export.CARD):
            with storage.local_copy(storage.join(self._model_dir, name)) as path:
                shutil.copy(path, os.path.join(local, name))
        return export.load_model(local)[0]


def _infer(model, batch, inference_args, model_id=None) -> Iterable[PredictionResult]:
    x = np.stack(batch).astype(np.float32)
    probs = model({"pose": x[..., :3], "frame_mask": x[:, :, 0, 3]}, training=False)
    probs = np.asarray(probs)
    return [PredictionResult(example, inference, model_id) for example, inference in zip(batch, probs)]


class _Rules:
    """What `RulesModelHandler.load_model` returns (Beam keeps a weak reference to the model: no str)."""

    id = rules.MODEL_ID


class RulesModelHandler(ModelHandler):
    """`poseact.label.rules` as a model: each window's rule features (`rules.FEATURES`), turned into class scores
    per person when the video finishes (the head-down rule needs the person's own baseline)."""

    def __init__(self, fps: float = rules.FPS) -> None:
        super().__init__()
        self._fps = fps

    def load_model(self) -> _Rules:
        """Nothing to load: the rules are code."""
        return _Rules()

    def run_inference(self, batch: Sequence[np.ndarray], model: _Rules,
                      inference_args: dict[str, Any] | None = None) -> Iterable[PredictionResult]:
        """Rule features of each window in `batch`."""
        features = rules.batch_features(np.stack(batch), self._fps) if len(batch) else []
        return [PredictionResult(example, row, model.id) for example, row in zip(batch, features)]

    def get_metrics_namespace(self) -> str:
        """Beam metrics of this handler go under `RunInferenceRules`."""
        return "RunInferenceRules"


def read_card(model: str) -> dict[str, Any]:
    """The card of `--model`: the rules' own, or a model folder's `model_card.json` (checked).

    Raises:
        ValueError: Not a model folder, or an unknown rules version.
        poseact.learn.export.IncompatibleModelError: The model's schema or normalisation differs from this code's.
    """
    if rules.is_rules(model):
        return rules.card()
    uri = storage.join(model, export.CARD)
    if not storage.exists(uri):
        raise ValueError(f"{model!r} is not a model folder: no {export.CARD} (make one with `poseact train`, "
                         "or use --model rules)")
    card = json.loads(storage.read_bytes(uri))
    export.check_compatible(card)
    return card


def model_id(model: str, card: dict[str, Any]) -> str:
    """`rules@VERSION`, or `<architecture>@<first 12 hex of the .keras file's SHA-256>`."""
    import hashlib  # noqa: PLC0415

    if rules.is_rules(model):
        return rules.MODEL_ID
    digest = hashlib.sha256(storage.read_bytes(storage.join(model, export.KERAS_FILE))).hexdigest()
    return f"{card.get('model', 'model')}@{digest[:12]}"


def handler(model: str, fps: float) -> ModelHandler:
    """The model handler for `--model`."""
    return RulesModelHandler(fps) if rules.is_rules(model) else PoseModelHandler(model)
