"""Load extraction shards for training: TFXIO with the committed schema, checked before use."""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath

import numpy as np

from poseact.common import storage
from poseact.data import schema
from poseact.data.normalize import NORMALIZATION_VERSION


@dataclasses.dataclass
class ClipSet:
    """Clips of one or more splits as arrays (N clips).

    Attributes:
        pose: (N, max_frames, 24, 3) float32 model input.
        frame_mask: (N, max_frames) float32.
        label_id: (N,) int64.
        group: (N,) str subject or session.
        clip_id: (N,) str.
        split: (N,) str.
    """

    pose: np.ndarray
    frame_mask: np.ndarray
    label_id: np.ndarray
    group: np.ndarray
    clip_id: np.ndarray
    split: np.ndarray

    def __len__(self) -> int:
        return int(self.label_id.shape[0])

    def subset(self, index: np.ndarray) -> ClipSet:
        """The clips at `index`."""
        return ClipSet(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    def inputs(self) -> dict[str, np.ndarray]:
        """The models' input dict."""
        return {schema.POSE: self.pose, schema.FRAME_MASK: self.frame_mask}


def _strings(column: np.ndarray) -> np.ndarray:
    return np.array([v.decode() for v in column[:, 0]])


def load_shards(data_dir: str) -> tuple[ClipSet, list[str]]:
    """Read every shard of an extraction output folder.

    Args:
        data_dir: Folder written by `poseact extract` or `poseact import`.

    Returns:
        All clips (every split) and the class names.

    Raises:
        ValueError: No shards, a schema different from the committed one, or examples made with another
            normalisation version; the message says what to do.
    """
    written = schema.load_schema(storage.join(data_dir, "schema.pbtxt")) if storage.is_local(data_dir) else None
    if written is not None and schema.schema_hash(written) != schema.schema_hash():
        raise ValueError(f"{data_dir}/schema.pbtxt differs from this poseact's schema: re-extract the data")
    classes = json.loads(storage.read_bytes(storage.join(data_dir, "classes.json")))
    files = [f for f in storage.list_files(data_dir) if f.endswith(".tfrecord")]
    files = [f for f in files if os.path.getsize(f) > 0] if storage.is_local(data_dir) else files
    if not files:
        raise ValueError(f"no non-empty .tfrecord shards in {data_dir}")
    ex = schema.read_examples(files)
    versions = {v.decode() for v in ex[schema.NORMALIZATION_VERSION][:, 0]}
    if versions != {NORMALIZATION_VERSION}:
        raise ValueError(f"shards were normalised with {sorted(versions)}, this poseact uses "
                         f"{NORMALIZATION_VERSION}: re-extract the data")
    clips = ClipSet(
        pose=ex[schema.POSE].astype(np.float32),
        frame_mask=ex[schema.FRAME_MASK].astype(np.float32),
        label_id=ex[schema.LABEL_ID][:, 0].astype(np.int64),
        group=_strings(ex[schema.GROUP]),
        clip_id=_strings(ex[schema.CLIP_ID]),
        split=_strings(ex[schema.SPLIT]),
    )
    # Independent of shard layout and of where the data lives (clip ids hash full paths), so a moved
    # copy of the same data trains the same way.
    names = [posixpath.basename(uri.decode()) for uri in ex[schema.URI][:, 0]]
    order = sorted(range(len(names)), key=lambda i: (clips.group[i], names[i], clips.clip_id[i]))
    return clips.subset(np.asarray(order, dtype=np.int64)), classes
