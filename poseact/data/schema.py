"""The fixed example schema (`schemas/poseact.pbtxt`): keys, loading, Arrow batches, tf.Example coding.

Examples are built as Arrow record batches and encoded with tfx-bsl, and read back with tfx-bsl's
TFXIO using the same committed schema: there is no second, hand-written parser.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa

SCHEMA_RESOURCE = "poseact.pbtxt"

# Feature keys (checked against the .pbtxt by tests).
CLIP_ID = "clip_id"
URI = "uri"
LABEL = "label"
LABEL_ID = "label_id"
GROUP = "group"
SPLIT = "split"
WIDTH = "width"
HEIGHT = "height"
SOURCE_FPS = "source_fps"
FPS = "fps"
NUM_FRAMES = "num_frames"
NORMALIZATION_VERSION = "normalization_version"
TIMESTAMPS_MS = "timestamps_ms"
DETECTED = "detected"
LANDMARKS = "landmarks"
WORLD_LANDMARKS = "world_landmarks"
POSE = "pose"
FRAME_MASK = "frame_mask"

SPLITS = ("train", "val", "test")


@functools.lru_cache(maxsize=None)
def load_schema(path: str | None = None):
    """Parse the committed schema (or the one at `path`).

    Raises:
        ValueError: The file is missing or not a valid TFMD schema; the message names it.
    """
    from google.protobuf import text_format  # noqa: PLC0415
    from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: PLC0415

    try:
        if path is None:
            text = (resources.files("schemas") / SCHEMA_RESOURCE).read_text()
            path = f"schemas/{SCHEMA_RESOURCE}"
        else:
            with open(path) as handle:
                text = handle.read()
        return text_format.Parse(text, schema_pb2.Schema())
    except (OSError, text_format.ParseError) as err:
        raise ValueError(f"cannot load the example schema {path}: {err}") from err


def schema_text(schema=None) -> str:
    """Canonical text of a schema (comments and layout removed)."""
    from google.protobuf import text_format  # noqa: PLC0415

    return text_format.MessageToString(schema or load_schema())


def schema_hash(schema=None) -> str:
    """Short digest of the canonical schema, recorded in summaries and model cards."""
    return hashlib.sha256(schema_text(schema).encode()).hexdigest()[:16]


def feature_types(schema=None) -> dict[str, str]:
    """Feature name to `INT`, `FLOAT` or `BYTES`."""
    from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: PLC0415

    return {f.name: schema_pb2.FeatureType.Name(f.type) for f in (schema or load_schema()).feature}


def fixed_shape(name: str, schema=None) -> tuple[int, ...]:
    """The `shape` of a fixed-shape feature."""
    for feature in (schema or load_schema()).feature:
        if feature.name == name and feature.HasField("shape"):
            return tuple(d.size for d in feature.shape.dim)
    raise KeyError(f"{name} has no fixed shape in the schema")


def max_frames(schema=None) -> int:
    """MAX_FRAMES: the time length of the model input, fixed by the schema."""
    return fixed_shape(POSE, schema)[0]


_ARROW = {"INT": pa.int64(), "FLOAT": pa.float32(), "BYTES": pa.binary()}


def _values(value: Any, kind: str) -> list:
    if kind == "BYTES":
        items = value if isinstance(value, (list, tuple)) else [value]
        return [v.encode() if isinstance(v, str) else bytes(v) for v in items]
    return np.asarray(value).reshape(-1).tolist()


def to_record_batch(rows: Sequence[dict[str, Any]], schema=None) -> pa.RecordBatch:
    """Arrow batch of list columns, one row per example, in the schema's feature order.

    Raises:
        ValueError: A row lacks a schema feature or has one the schema does not know.
    """
    types = feature_types(schema)
    for row in rows:
        missing, extra = set(types) - set(row), set(row) - set(types)
        if missing or extra:
            raise ValueError(f"row does not match the schema: missing {sorted(missing)}, unknown {sorted(extra)}")
    arrays = [
        pa.array([_values(row[name], kind) for row in rows], type=pa.list_(_ARROW[kind]))
        for name, kind in types.items()
    ]
    return pa.RecordBatch.from_arrays(arrays, names=list(types))


def encode(rows: Sequence[dict[str, Any]], schema=None) -> list[bytes]:
    """Serialized tf.Examples for rows, via tfx-bsl's encoder, in canonical byte order.

    A tf.Example's features are a protobuf map, whose serialized order differs between processes; the
    encoder's output is therefore re-serialized deterministically (keys sorted), so that the same rows
    always give the same bytes, whichever worker encoded them.
    """
    from tensorflow.core.example import example_pb2  # noqa: PLC0415
    from tfx_bsl.public.tfxio import RecordBatchToExamplesEncoder  # noqa: PLC0415

    schema = schema or load_schema()
    encoded = RecordBatchToExamplesEncoder(schema).encode(to_record_batch(rows, schema))
    return [example_pb2.Example.FromString(data).SerializeToString(deterministic=True) for data in encoded]


def decode(serialized: Sequence[bytes], schema=None) -> pa.RecordBatch:
    """Arrow batch of serialized tf.Examples, typed by the schema (tfx-bsl decoder)."""
    from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder  # noqa: PLC0415

    schema = schema or load_schema()
    return ExamplesToRecordBatchDecoder(schema.SerializeToString()).DecodeBatch(list(serialized))


def tfxio(file_pattern: str | Sequence[str], schema=None):
    """TFXIO over TFRecord shards of poseact examples."""
    from tfx_bsl.public.tfxio import TFExampleRecord  # noqa: PLC0415

    return TFExampleRecord(
        file_pattern=file_pattern, schema=schema or load_schema(), telemetry_descriptors=["poseact"]
    )


def read_examples(file_pattern: str | Sequence[str], schema=None) -> dict[str, Any]:
    """Read every example of the shards through TFXIO's TensorFlow dataset (the training reader).

    Returns:
        Feature name to values: fixed-shape features as one dense array (N, *shape); variable-length
        ones as a list of N 1-D arrays. Examples keep the order of the files.
    """
    import tensorflow as tf  # noqa: PLC0415
    from tfx_bsl.public.tfxio import TensorFlowDatasetOptions  # noqa: PLC0415

    dataset = tfxio(file_pattern, schema).TensorFlowDataset(
        TensorFlowDatasetOptions(batch_size=256, shuffle=False, num_epochs=1, drop_final_batch=False)
    )
    dense: dict[str, list[np.ndarray]] = {}
    ragged: dict[str, list[np.ndarray]] = {}
    for batch in dataset:
        for name, tensor in batch.items():
            if isinstance(tensor, tf.SparseTensor):
                rows = tf.RaggedTensor.from_sparse(tensor)
                ragged.setdefault(name, []).extend(r.numpy() for r in rows)
            else:
                dense.setdefault(name, []).append(tensor.numpy())
    out: dict[str, Any] = {name: np.concatenate(parts) for name, parts in dense.items()}
    out.update(ragged)
    return out
