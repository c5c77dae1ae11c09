"""Keras models over normalised pose sequences: the paper's CNN-LSTM and a masked temporal CNN.

Inputs. Every model takes the same dict, so training, evaluation and export code never branch on the
architecture:
    `pose`: (batch, max_frames, 24, 3) float32, landmarks 1-24 as x, y, visibility
        (`poseact.data.normalize`);
    `frame_mask`: (batch, max_frames) float32, 1 for real frames and 0 for the zero padding at the end.
        Integer masks (the schema stores int64) are cast by Keras when calling the model from Python;
        exported SavedModel and TFLite signatures take float32.
Output: (batch, num_classes) softmax probabilities.

The paper model passes `frame_mask` to its LSTM as a Keras mask, so the LSTM steps over padding: the
layer stack is the paper's, but a clip shorter than max_frames is not followed by up to 47 steps of
zeros before the LSTM's final state is read. Without the mask, the paper model stalled at 67% train
accuracy on our kinematic test set (an LSTM must carry the clip through the padding); with it, it
reached 100% on unseen subjects. The TCN uses the mask for its pooling.

Export (checked with TF 2.21 / Keras 3.15). `model.export(dir)` writes a SavedModel for both models.
TFLite conversion (`tf.lite.TFLiteConverter.from_saved_model(dir)`) with builtin ops only:
    - tcn: works with the default dynamic-batch export.
    - paper: fails with a dynamic batch. Keras' LSTM runs as a `while` loop over a TensorList whose
      element shape (batch, units) is then not static, and the converter cannot lower it ("Lowering
      tensor list ops is failed"). Export with a fixed batch, `model.export(dir,
      input_signature=export_signature(batch_size=1))`, and it converts to builtins (a WHILE op).
      The alternative, `converter.target_spec.supported_ops = [TFLITE_BUILTINS, SELECT_TF_OPS]` (with
      `converter._experimental_lower_tensor_list_ops = False`), converts a dynamic batch but needs the
      Flex delegate at run time, which `tf.lite.Interpreter` in this environment does not link.
So export TFLite models with `export_signature(batch_size=1)`: both models then use builtins only and
take `pose` (1, 48, 24, 3) and `frame_mask` (1, 48) float32 (the paper model keeps the unused mask).

Saving. No `Lambda` layers: the TCN's few tensor operations and the paper model's
`FoldedTimeDistributed` are small registered layers (`package="poseact"`), so `.keras` files load with
`keras.models.load_model(path, safe_mode=True)` once this module has been imported.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers, ops

from poseact.data.schema import FRAME_MASK, POSE
from poseact.learn.hparams import HParams

MAX_FRAMES = 48  # Fixed by schemas/poseact.pbtxt (`pose` is (48, 24, 3)); a test checks they agree.
NUM_LANDMARKS = 24
CHANNELS = 3
# Large enough to lose every max against real activations, small enough to stay finite in float32.
_MASKED_OUT = 1e9


@keras.saving.register_keras_serializable(package="poseact")
class PoseFrameFeatures(layers.Layer):
    """Per-frame feature vector: positions plus x, y velocities, zero on padding frames.

    Call args:
        inputs: `[pose, frame_mask]`, (B, T, V, C) and (B, T).

    Returns:
        (B, T, V * (C + 2)): x, y, visibility then dx, dy of every landmark. The velocity of the first
        frame, and of any frame next to padding, is 0 rather than a jump to or from the zeros.
    """

    def call(self, inputs):
        pose, mask = inputs
        mask = ops.cast(mask, pose.dtype)
        xy = pose[..., :2]
        # Backward difference, with frame 0 as its own predecessor so its velocity is zero.
        previous_xy = ops.concatenate([xy[:, :1], xy[:, :-1]], axis=1)
        previous_mask = ops.concatenate([mask[:, :1], mask[:, :-1]], axis=1)
        both_real = (mask * previous_mask)[:, :, None, None]
        velocity = (xy - previous_xy) * both_real
        features = ops.concatenate([pose, velocity], axis=-1) * mask[:, :, None, None]
        _, frames, landmarks, channels = features.shape
        return ops.reshape(features, (-1, frames, landmarks * channels))


@keras.saving.register_keras_serializable(package="poseact")
class ApplyFrameMask(layers.Layer):
    """Zero the features of padding frames: `[x (B, T, F), mask (B, T)] -> x * mask`.

    Convolutions with `same` padding spread activations into the padding frames; re-zeroing them after
    every block keeps the clip's length from leaking into later layers except through the mask.
    """

    def call(self, inputs):
        x, mask = inputs
        return x * ops.cast(mask, x.dtype)[:, :, None]


@keras.saving.register_keras_serializable(package="poseact")
class MaskedGlobalPooling1D(layers.Layer):
    """Average or maximum over the real frames only: `[x (B, T, F), mask (B, T)] -> (B, F)`.

    Args:
        mode: "avg" or "max". A clip without real frames pools to zeros.
    """

    def __init__(self, mode: str = "avg", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("avg", "max"):
            raise ValueError(f"mode must be 'avg' or 'max', got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        x, mask = inputs
        weights = ops.cast(mask, x.dtype)[:, :, None]
        count = ops.sum(weights, axis=1)
        if self.mode == "avg":
            # max(count, 1): an all-padding clip divides 0 by 1, not by 0.
            return ops.sum(x * weights, axis=1) / ops.maximum(count, 1.0)
        # Padding frames are pushed far below any real activation, so they never win the max.
        pooled = ops.max(x - (1.0 - weights) * _MASKED_OUT, axis=1)
        return pooled * ops.cast(count > 0, x.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="poseact")
class FoldedTimeDistributed(layers.TimeDistributed):
    """`TimeDistributed` that folds time into the batch: one call of the wrapped layer, not T.

    Keras 3's `TimeDistributed` unrolls a Python loop over a static time axis, calling the wrapped
    layer once per frame (48 Conv1D ops per layer in the graph): slow to trace, export and convert.
    Reshaping (B, T, ...) to (B * T, ...) and back is what tf.keras 2 did, and gives the same result
    with the same weights, since the wrapped layers here act on each example independently.
    """

    def call(self, inputs, training=None, mask=None):
        if mask is not None:  # Per-step masks need the wrapped layer's own masking: keep Keras' way.
            return super().call(inputs, training=training, mask=mask)
        kwargs = {"training": training} if self.layer._call_has_training_arg else {}
        frames = inputs.shape[1] if inputs.shape[1] is not None else ops.shape(inputs)[1]
        outputs = self.layer.call(ops.reshape(inputs, (-1, *inputs.shape[2:])), **kwargs)
        return ops.reshape(outputs, (-1, frames, *outputs.shape[1:]))


def model_inputs(
    max_frames: int = MAX_FRAMES, num_landmarks: int = NUM_LANDMARKS, channels: int = CHANNELS
) -> dict[str, keras.KerasTensor]:
    """The shared dict of inputs, `{"pose": (T, V, C) float32, "frame_mask": (T,) float32}`."""
    return {
        POSE: keras.Input((max_frames, num_landmarks, channels), dtype="float32", name=POSE),
        FRAME_MASK: keras.Input((max_frames,), dtype="float32", name=FRAME_MASK),
    }


def export_signature(
    batch_size: int | None = None,
    max_frames: int = MAX_FRAMES,
    num_landmarks: int = NUM_LANDMARKS,
    channels: int = CHANNELS,
) -> list[dict]:
    """`input_signature` for `model.export`: the shared dict of float32 `tf.TensorSpec`s.

    Args:
        batch_size: Fixed batch size, or None for any. Use 1 for TFLite (see the module docstring).
        max_frames: Frames per clip.
        num_landmarks: Landmarks per frame.
        channels: Channels per landmark.
    """
    import tensorflow as tf  # noqa: PLC0415  (only export needs TensorFlow itself)

    return [
        {
            POSE: tf.TensorSpec((batch_size, max_frames, num_landmarks, channels), tf.float32, name=POSE),
            FRAME_MASK: tf.TensorSpec((batch_size, max_frames), tf.float32, name=FRAME_MASK),
        }
    ]


def build_paper_model(
    num_classes: int,
    hp: HParams,
    max_frames: int = MAX_FRAMES,
    num_landmarks: int = NUM_LANDMARKS,
    channels: int = CHANNELS,
) -> keras.Model:
    """The paper's CNN-LSTM (section 3.2), layer for layer.

    Stack: per frame, for each of `hp.conv_filters`, TimeDistributed(Conv1D(f, kernel_size, relu,
    same)) over the landmark axis then TimeDistributed(MaxPooling1D(pool_size)); TimeDistributed
    (Flatten); LSTM(lstm_units); Dense(dense_units, relu, L2(l2)); Dropout(dropout); Dense(num_classes,
    softmax). `frame_mask` masks the LSTM's padding steps (see the module docstring). The TimeDistributed
    wrappers are `FoldedTimeDistributed`, a faster equivalent of Keras 3's.

    Args:
        num_classes: Output classes.
        hp: Hyper-parameters (conv_filters, kernel_size, pool_size, lstm_units, dense_units, l2,
            dropout).
        max_frames: Frames per clip.
        num_landmarks: Landmarks per frame.
        channels: Channels per landmark.

    Returns:
        An uncompiled model named "paper_cnn_lstm".
    """
    inputs = model_inputs(max_frames, num_landmarks, channels)
    x = inputs[POSE]
    for block, filters in enumerate(hp.conv_filters, start=1):
        conv = layers.Conv1D(filters, hp.kernel_size, activation="relu", padding="same")
        x = FoldedTimeDistributed(conv, name=f"frame_conv_{block}")(x)
        x = FoldedTimeDistributed(layers.MaxPooling1D(hp.pool_size), name=f"frame_pool_{block}")(x)
    x = FoldedTimeDistributed(layers.Flatten(), name="frame_flatten")(x)
    # The LSTM skips padding frames (a mask is not a layer, so the stack is unchanged): with zeros
    # after the clip, its final state would otherwise come from up to max_frames - T steps of padding.
    x = layers.LSTM(hp.lstm_units, name="lstm")(x, mask=ops.greater(inputs[FRAME_MASK], 0.5))
    x = layers.Dense(
        hp.dense_units, activation="relu", kernel_regularizer=keras.regularizers.L2(hp.l2), name="dense"
    )(x)
    x = layers.Dropout(hp.dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper_cnn_lstm")


def _residual_block(x, mask, filters: int, hp: HParams, dilation: int, index: int):
    """Conv1D over time (dilated) -> LayerNorm -> ReLU -> Dropout, masked, plus a skip connection."""
    regularizer = keras.regularizers.L2(hp.l2)
    y = layers.Conv1D(
        filters, hp.tcn_kernel_size, padding="same", dilation_rate=dilation,
        kernel_regularizer=regularizer, name=f"tcn_conv_{index}",
    )(x)
    # LayerNorm, not BatchNorm: batch statistics would mix in the padding frames.
    y = layers.LayerNormalization(name=f"tcn_norm_{index}")(y)
    y = layers.Activation("relu", name=f"tcn_relu_{index}")(y)
    # SpatialDropout drops whole channels: neighbouring frames are too correlated for plain dropout.
    y = layers.SpatialDropout1D(hp.tcn_dropout, name=f"tcn_dropout_{index}")(y)
    y = ApplyFrameMask(name=f"tcn_mask_{index}")([y, mask])
    if x.shape[-1] != filters:
        x = layers.Conv1D(filters, 1, name=f"tcn_skip_{index}")(x)
    return layers.Add(name=f"tcn_add_{index}")([x, y])


def build_tcn_model(
    num_classes: int,
    hp: HParams,
    max_frames: int = MAX_FRAMES,
    num_landmarks: int = NUM_LANDMARKS,
    channels: int = CHANNELS,
) -> keras.Model:
    """A masked temporal convolution network, our stronger alternative to the paper's model.

    Why: with ~100 clips an LSTM over 768 features per frame is large (most of the paper model's
    parameters) and reads padding as motion. Here each frame's 24 landmarks and their velocities are
    embedded by one shared Dense layer, residual dilated Conv1D blocks look at growing windows of time
    (kernel 3, dilations 1, 2, 4, 8: 31 frames), and real frames only are pooled (average and max, as
    a hand raise may be brief).

    Stack: PoseFrameFeatures([pose, mask]) -> Dense(tcn_embed_units, relu) per frame -> mask ->
    for each dilation: residual [Conv1D(tcn_filters, tcn_kernel_size, dilation) -> LayerNorm -> ReLU ->
    SpatialDropout1D -> mask] -> concat(masked avg pool, masked max pool) -> Dropout(tcn_dropout) ->
    Dense(num_classes, softmax).

    Args:
        num_classes: Output classes.
        hp: Hyper-parameters (tcn_*, l2).
        max_frames: Frames per clip.
        num_landmarks: Landmarks per frame.
        channels: Channels per landmark.

    Returns:
        An uncompiled model named "tcn".
    """
    inputs = model_inputs(max_frames, num_landmarks, channels)
    mask = inputs[FRAME_MASK]
    x = PoseFrameFeatures(name="frame_features")([inputs[POSE], mask])
    x = layers.Dense(hp.tcn_embed_units, activation="relu", name="frame_embed")(x)
    x = ApplyFrameMask(name="embed_mask")([x, mask])
    for index, dilation in enumerate(hp.tcn_dilations, start=1):
        x = _residual_block(x, mask, hp.tcn_filters, hp, dilation, index)
    pooled = layers.Concatenate(name="pool")(
        [
            MaskedGlobalPooling1D("avg", name="pool_avg")([x, mask]),
            MaskedGlobalPooling1D("max", name="pool_max")([x, mask]),
        ]
    )
    x = layers.Dropout(hp.tcn_dropout, name="dropout")(pooled)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="tcn")


ModelBuilder = Callable[..., keras.Model]
# Keys must equal `hparams.MODEL_CHOICES` (the flag's choices); a test checks it.
MODEL_BUILDERS: dict[str, ModelBuilder] = {"paper": build_paper_model, "tcn": build_tcn_model}


def build_model(
    name: str,
    num_classes: int,
    hp: HParams,
    *,
    max_frames: int = MAX_FRAMES,
    num_landmarks: int = NUM_LANDMARKS,
    channels: int = CHANNELS,
) -> keras.Model:
    """Build a registered model by name (`MODEL_BUILDERS`).

    Raises:
        ValueError: Unknown name (the message lists the choices) or fewer than 2 classes.
    """
    if name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {name!r}; choices: {', '.join(MODEL_BUILDERS)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return MODEL_BUILDERS[name](num_classes, hp, max_frames, num_landmarks, channels)


def compile_model(model: keras.Model, hp: HParams) -> keras.Model:
    """Compile as the paper trains: Adam(hp.learning_rate), categorical cross-entropy, accuracy.

    Labels are therefore one-hot (batch, num_classes).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model
