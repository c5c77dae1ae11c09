"""The committed schema: keys, round trip through tfx-bsl and TFXIO, and clear errors."""

import numpy as np
import pytest
import tensorflow as tf

from poseact.data import schema


def _row(i, T):
    rng = np.random.default_rng(i)
    return {
        schema.CLIP_ID: f"clip{i}", schema.URI: f"/v/{i}.mp4", schema.LABEL: "write", schema.LABEL_ID: 1,
        schema.GROUP: "s1", schema.SPLIT: "train", schema.WIDTH: 640, schema.HEIGHT: 480,
        schema.SOURCE_FPS: 30.0, schema.FPS: 15.0, schema.NUM_FRAMES: T,
        schema.NORMALIZATION_VERSION: "v1", schema.TIMESTAMPS_MS: np.arange(T) * 66.5,
        schema.DETECTED: np.ones(T, np.int64), schema.LANDMARKS: rng.random((T, 33, 5)),
        schema.WORLD_LANDMARKS: rng.random((T, 33, 3)), schema.POSE: rng.random((48, 24, 3)),
        schema.FRAME_MASK: np.ones(48, np.int64),
    }


def test_keys_match_committed_schema():
    keys = {v for k, v in vars(schema).items() if k.isupper() and isinstance(v, str) and k != "SCHEMA_RESOURCE"}
    assert keys == set(schema.feature_types())
    assert schema.max_frames() == 48
    assert schema.fixed_shape(schema.POSE) == (48, 24, 3)


def test_round_trip_through_tfrecord_and_tfxio(tmp_path):
    rows = [_row(i, T) for i, T in enumerate([3, 7, 5])]
    path = str(tmp_path / "x.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for data in schema.encode(rows):
            writer.write(data)
    back = schema.read_examples(path)
    assert back[schema.CLIP_ID][:, 0].tolist() == [b"clip0", b"clip1", b"clip2"]
    assert back[schema.POSE].shape == (3, 48, 24, 3)
    np.testing.assert_allclose(back[schema.POSE][1], rows[1][schema.POSE], rtol=1e-6)
    np.testing.assert_allclose(back[schema.LANDMARKS][1].reshape(7, 33, 5), rows[1][schema.LANDMARKS], rtol=1e-6)
    assert back[schema.TIMESTAMPS_MS][2].shape == (5,)
    batch = schema.decode(schema.encode(rows[:1]))
    assert batch.num_rows == 1 and batch.schema.names == list(schema.feature_types())


def test_rows_must_match_schema():
    row = _row(0, 2)
    del row[schema.POSE]
    row["extra"] = 1
    with pytest.raises(ValueError, match=r"missing \['pose'\], unknown \['extra'\]"):
        schema.encode([row])


def test_bad_schema_path_is_named(tmp_path):
    bad = tmp_path / "bad.pbtxt"
    bad.write_text("feature { nme: 'x' }")
    with pytest.raises(ValueError, match="bad.pbtxt"):
        schema.load_schema(str(bad))
    with pytest.raises(ValueError, match="missing.pbtxt"):
        schema.load_schema(str(tmp_path / "missing.pbtxt"))


def test_schema_hash_is_stable():
    assert schema.schema_hash() == schema.schema_hash(schema.load_schema())
    assert len(schema.schema_hash()) == 16
