"""Deterministic, atomic sinks shared by the pipelines.

Beam's `WriteToTFRecord` orders records by bundle, so the bytes of a shard change from run to run.
These sinks group records by shard, sort them by key and write each file whole (temporary file, then
rename or single upload), so the same input always gives byte-identical files and a crash never leaves
half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

from pipelines import routing
from poseact.common import storage


def shard_name(prefix: str, index: int, count: int) -> str:
    """`{prefix}-{index:05d}-of-{count:05d}.tfrecord`."""
    return f"{prefix}-{index:05d}-of-{count:05d}.tfrecord"


def shard_of(key: str, count: int) -> int:
    """Stable shard index of a record key."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % count


def _write_tfrecord(item: tuple[tuple[str, int], Iterable[Any]], output: str, count: int) -> str:
    import tensorflow as tf  # noqa: PLC0415 (TFRecord framing and CRCs)

    (prefix, index), records = item
    ordered = sorted((r for r in records if r is not None), key=lambda kv: kv[0])
    uri = storage.join(output, shard_name(prefix, index, count))
    fd, tmp = tempfile.mkstemp(suffix=".tfrecord", prefix="poseact-")
    os.close(fd)
    try:
        with tf.io.TFRecordWriter(tmp) as writer:
            for _, data in ordered:
                writer.write(data)
        storage.upload_atomic(tmp, uri)
    finally:
        os.unlink(tmp)
    return uri


class WriteShards(beam.PTransform):
    """Write `(prefix, key, bytes)` records to `output/{prefix}-NNNNN-of-MMMMM.tfrecord`.

    Every shard of every prefix in `prefixes` is written, empty ones too, so the file list is fixed.
    Returns a PCollection of the written URIs.
    """

    def __init__(self, output: str, prefixes: Iterable[str], num_shards: int) -> None:
        super().__init__()
        self._output = output
        self._prefixes = sorted(prefixes)
        self._count = num_shards

    def expand(self, records):
        count = self._count
        keyed = records | "KeyByShard" >> beam.Map(lambda r: ((r[0], shard_of(r[1], count)), (r[1], r[2])))
        every = [(p, i) for p in self._prefixes for i in range(count)]
        empty = records.pipeline | "AllShards" >> beam.Create([(k, None) for k in every])
        return (
            (keyed, empty)
            | "Merge" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.Map(_write_tfrecord, self._output, count)
        )


def _write_jsonl(items: list[dict[str, Any]], uri: str, sort_key: str) -> str:
    rows = sorted(items, key=lambda r: (str(r.get(sort_key, "")), json.dumps(r, sort_keys=True)))
    storage.write_atomic(uri, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode())
    return uri


class WriteJsonLines(beam.PTransform):
    """Write all elements (dicts) to one sorted JSON Lines file, an empty file when there are none."""

    def __init__(self, uri: str, sort_key: str) -> None:
        super().__init__()
        self._uri = uri
        self._sort_key = sort_key

    def expand(self, rows):
        return (
            rows
            | "Collect" >> routing.CollectAll()
            | "Write" >> beam.Map(_write_jsonl, self._uri, self._sort_key)
        )


def write_json(uri: str, value: Any) -> str:
    """Write a JSON document atomically, keys sorted (same value, same bytes)."""
    storage.write_atomic(uri, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())
    return uri
