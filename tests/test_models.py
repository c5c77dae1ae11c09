"""Models: the paper's exact stack, the TCN, the registry, safe `.keras` round trips, a tiny fit, flags."""

import argparse
import dataclasses

import keras
import numpy as np
import pytest

from poseact.data import schema
from poseact.learn.hparams import MODEL_CHOICES, HParams, add_flags, flag_name, from_args
from poseact.learn.models import (
    MAX_FRAMES,
    MODEL_BUILDERS,
    FoldedTimeDistributed,
    build_model,
    build_paper_model,
    compile_model,
    export_signature,
)
from poseact.pose.landmarks import MODEL_LANDMARKS, PoseLandmark

# conv 3*3*64+64 = 640; conv 3*64*128+128 = 24,704; LSTM 4*(128*(6*128+128)+128) = 459,264;
# dense 128*64+64 = 8,256; output 64*3+3 = 195.
PAPER_PARAMS_3_CLASSES = 493_059
WRIST = MODEL_LANDMARKS.index(PoseLandmark.RIGHT_WRIST)


def _batch(n=4, seed=0, lengths=(48, 30, 12, 1)):
    rng = np.random.default_rng(seed)
    pose = rng.normal(size=(n, MAX_FRAMES, 24, 3)).astype(np.float32)
    mask = np.zeros((n, MAX_FRAMES), np.float32)
    for i in range(n):
        length = lengths[i % len(lengths)]
        mask[i, :length] = 1
        pose[i, length:] = 0
    return {"pose": pose, "frame_mask": mask}


# --- hyper-parameters and flags ---------------------------------------------------------------


def test_registry_matches_flag_choices():
    assert tuple(MODEL_BUILDERS) == MODEL_CHOICES


def test_paper_defaults():
    hp = HParams()
    assert (hp.model, hp.lstm_units, hp.dropout, hp.batch_size) == ("paper", 128, 0.6, 32)
    stopping = (hp.early_stopping_patience, hp.early_stopping_monitor, hp.restore_best_weights)
    assert stopping == (3, "val_loss", True) and hp.early_stopping_start_epoch == 0
    assert (hp.lr_factor, hp.lr_patience, hp.min_lr) == (0.5, 2, 1e-6)
    # The default schedule counts warm-up and patience in steps (tests/test_train_schedule.py); the
    # paper's epochs are one flag away.
    assert hp.schedule == "steps" and hp.epochs is None
    assert HParams(schedule="paper").schedule == "paper"


def test_every_field_has_a_flag_and_defaults_round_trip():
    parser = argparse.ArgumentParser()
    add_flags(parser)
    options = {opt for action in parser._actions for opt in action.option_strings}
    for field in dataclasses.fields(HParams):
        assert flag_name(field.name) in options
    assert from_args(parser.parse_args([])) == HParams()


def test_non_default_values_round_trip():
    changed = HParams(
        model="tcn", conv_filters=(8, 16, 32), kernel_size=5, pool_size=3, lstm_units=7, dense_units=9,
        l2=0.5, dropout=0.1, tcn_embed_units=11, tcn_filters=13, tcn_kernel_size=5, tcn_dilations=(1, 3),
        tcn_dropout=0.2, learning_rate=0.01, batch_size=4, epochs=2, schedule="paper", early_stopping_patience=9,
        early_stopping_monitor="val_accuracy", early_stopping_start_epoch=4, restore_best_weights=False,
        lr_factor=0.1, lr_patience=5, min_lr=1e-5, warmup_steps=7, early_stopping_patience_steps=8,
        lr_patience_steps=6, min_steps=11, seed=42, augment=True, rotation_deg=3.0, scale=0.2,
        translate=0.3, time_warp=0.4, frame_drop=0.25, mirror_prob=1.0,
    )
    defaults = HParams()
    assert all(getattr(changed, f.name) != getattr(defaults, f.name) for f in dataclasses.fields(HParams))
    argv = []
    for field in dataclasses.fields(HParams):
        value = getattr(changed, field.name)
        if isinstance(value, bool):
            argv.append(flag_name(field.name) if value else "--no-" + field.name.replace("_", "-"))
        else:
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            argv += [flag_name(field.name), text]
    parser = argparse.ArgumentParser()
    add_flags(parser)
    assert from_args(parser.parse_args(argv)) == changed
    assert HParams(**changed.to_dict()) == changed  # JSON-style lists come back as tuples


def test_bad_values_rejected():
    with pytest.raises(ValueError, match="choices"):
        HParams(model="resnet")
    with pytest.raises(ValueError):
        HParams(dropout=1.0)
    with pytest.raises(ValueError):
        HParams(conv_filters=())
    parser = argparse.ArgumentParser()
    add_flags(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--conv-filters", "a,b"])


# --- architecture -------------------------------------------------------------------------


def test_max_frames_matches_schema():
    assert (MAX_FRAMES, 24, 3) == schema.fixed_shape(schema.POSE)


def test_unknown_model_lists_choices():
    with pytest.raises(ValueError, match="paper, tcn"):
        build_model("resnet", 3, HParams())


def test_paper_model_has_the_papers_stack():
    model = build_paper_model(3, HParams())
    stack = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    td = keras.layers.TimeDistributed
    expected = [(td, keras.layers.Conv1D), (td, keras.layers.MaxPooling1D)] * 2 + [(td, keras.layers.Flatten)]
    for layer, (outer, inner) in zip(stack, expected):
        assert isinstance(layer, outer) and isinstance(layer.layer, inner), layer.name
    assert [layer.layer.filters for layer in stack[0:4:2]] == [64, 128]
    assert all(layer.layer.kernel_size == (3,) and layer.layer.padding == "same" for layer in stack[0:4:2])
    assert all(layer.layer.activation.__name__ == "relu" for layer in stack[0:4:2])
    assert all(layer.layer.pool_size == (2,) for layer in stack[1:4:2])
    lstm, dense, dropout, output = stack[5:]
    assert isinstance(lstm, keras.layers.LSTM) and lstm.units == 128
    assert isinstance(dense, keras.layers.Dense) and dense.activation.__name__ == "relu"
    assert isinstance(dense.kernel_regularizer, keras.regularizers.L2)
    assert dense.kernel_regularizer.l2 == pytest.approx(1e-3)
    assert isinstance(dropout, keras.layers.Dropout) and dropout.rate == 0.6
    assert isinstance(output, keras.layers.Dense) and output.units == 3
    assert output.activation.__name__ == "softmax"
    assert len(stack) == 9
    assert model.count_params() == PAPER_PARAMS_3_CLASSES


def test_folded_time_distributed_matches_keras():
    # Same weights through Keras' own (per-frame loop) TimeDistributed give the same activations.
    model = build_paper_model(3, HParams())
    x = _batch()["pose"]
    for layer in [layer for layer in model.layers if isinstance(layer, FoldedTimeDistributed)]:
        expected = keras.layers.TimeDistributed(layer.layer)(x)
        x = layer(x)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(expected), atol=1e-6
        )


def test_paper_model_lstm_skips_padding():
    # The LSTM is masked: whatever sits in the padding frames, a clip's prediction is the same, and a
    # short clip is not forgotten behind max_frames - T steps of zeros.
    model = build_paper_model(3, HParams())
    batch = _batch()
    noisy = batch["pose"].copy()
    padding = batch["frame_mask"] == 0
    noisy[padding] = np.random.default_rng(1).normal(size=noisy[padding].shape)
    np.testing.assert_allclose(
        model.predict(batch, verbose=0), model.predict({**batch, "pose": noisy}, verbose=0), atol=1e-6
    )


@pytest.mark.parametrize("name", MODEL_CHOICES)
def test_models_predict_probabilities(name):
    model = build_model(name, 5, HParams())
    probs = model.predict(_batch(n=6), verbose=0)
    assert probs.shape == (6, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # The schema's int64 mask is accepted too (Keras casts it to the float32 input).
    batch = _batch(n=6)
    ints = {**batch, "frame_mask": batch["frame_mask"].astype(np.int64)}
    np.testing.assert_allclose(model.predict(ints, verbose=0), probs, rtol=1e-6)


def test_tcn_ignores_padding_content():
    model = build_model("tcn", 3, HParams())
    batch = _batch()
    noisy = {**batch, "pose": batch["pose"] + (1 - batch["frame_mask"])[:, :, None, None] * 5.0}
    np.testing.assert_allclose(model.predict(batch, verbose=0), model.predict(noisy, verbose=0), atol=1e-6)


@pytest.mark.parametrize("name", MODEL_CHOICES)
def test_keras_file_round_trip_in_safe_mode(name, tmp_path):
    model = build_model(name, 3, HParams())
    batch = _batch()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(batch, verbose=0), model.predict(batch, verbose=0))


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
@pytest.mark.parametrize("name", MODEL_CHOICES)
def test_batch_one_export_converts_to_builtin_tflite(name, tmp_path):
    # The export recipe documented in poseact.learn.models: fixed batch 1, builtin TFLite ops only.
    import tensorflow as tf

    model = build_model(name, 3, HParams())
    model.export(str(tmp_path / "saved"), input_signature=export_signature(batch_size=1), verbose=False)
    blob = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved")).convert()
    runner = tf.lite.Interpreter(model_content=blob).get_signature_runner()
    batch = _batch()
    expected = model.predict(batch, verbose=0)
    for i in range(len(expected)):
        (probs,) = runner(**{key: value[i : i + 1] for key, value in batch.items()}).values()
        np.testing.assert_allclose(probs[0], expected[i], atol=1e-5)


# --- learning -----------------------------------------------------------------------------


def _toy_problem(n=60, seed=0):
    """3 classes told apart only by the right wrist's motion: rising, falling, still; noisy body."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    pose = rng.normal(scale=0.1, size=(n, MAX_FRAMES, 24, 3)).astype(np.float32)
    pose[..., 2] = 1.0
    mask = np.zeros((n, MAX_FRAMES), np.float32)
    for i, label in enumerate(labels):
        length = int(rng.integers(24, MAX_FRAMES + 1))
        direction = (-1.0, 1.0, 0.0)[label]  # y grows downwards: -1 is a raise
        pose[i, :length, WRIST, 1] = direction * 3.0 * np.linspace(0.0, 1.0, length)
        pose[i, :length, WRIST, 1] += rng.normal(scale=0.1, size=length)
        pose[i, length:] = 0
        mask[i, :length] = 1
    return {"pose": pose, "frame_mask": mask}, keras.utils.to_categorical(labels, 3)


@pytest.mark.parametrize("name", MODEL_CHOICES)
def test_tiny_fit_learns_a_separable_problem(name):
    keras.utils.set_random_seed(0)
    # A higher learning rate and smaller batches than the defaults, so that 8 epochs suffice.
    hp = HParams(model=name, learning_rate=3e-3, batch_size=15)
    x, y = _toy_problem()
    x_val, y_val = _toy_problem(seed=1)
    model = compile_model(build_model(name, 3, hp), hp)
    history = model.fit(
        x, y, batch_size=hp.batch_size, epochs=8, validation_data=(x_val, y_val), verbose=0
    )
    # Best epoch, as early stopping with restore_best_weights keeps: one noisy epoch must not fail it.
    assert max(history.history["val_accuracy"]) >= 0.9  # chance is 1/3
