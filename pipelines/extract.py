"""Extraction: clip URIs in, normalised landmark sequences out as schema-fixed TFRecord shards.

    poseact extract --input MANIFEST_OR_CLASS_DIR --output DIR [Beam pipeline options]

Outputs in DIR: `{train,val,test}-NNNNN-of-MMMMM.tfrecord`, `schema.pbtxt`, `classes.json`,
`errors.jsonl` (one dead letter per failed clip) and `summary.json`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from apache_beam.metrics import Metrics

from pipelines import flags
from pipelines.clipjob import ClipFn, ConvertClips, run_job
from pipelines.options import extract_parser as build_parser
from poseact.data.extraction import ClipStats, ExtractConfig, extract_clip
from poseact.data.manifest import VIDEO_EXTENSIONS, ClipSpec
from poseact.data.schema import max_frames
from poseact.pose import pose_model
from poseact.pose.landmarker import PoseConfig, PoseLandmarkerModel
from poseact.pose.video import VideoLimits

_LOG = logging.getLogger(__name__)


class ExtractClipFn(ClipFn):
    """Decode, pose and normalise one clip; the pose model is loaded once per worker in `setup()`."""

    def __init__(self, model_path: str, model_spec: str, pose_config: PoseConfig, config: ExtractConfig,
                 classes: list[str], progress_dir: str | None = None, model_sha256: str = "") -> None:
        super().__init__("extract", classes, progress_dir)
        self._model_path = model_path
        self._model_spec = model_spec
        self._model_sha256 = model_sha256
        self._pose_config = pose_config
        self._config = config
        self._load_ms = Metrics.distribution("extract", "model_load_ms")

    def setup(self) -> None:
        super().setup()
        start = time.perf_counter()
        # A remote worker resolves the model from its own cache (the container's) and checks it is the same.
        path = pose_model.resolve_for_worker(self._model_path, self._model_spec, self._model_sha256)
        self._model = PoseLandmarkerModel(str(path), self._pose_config)
        self._load_ms.update(int(1000 * (time.perf_counter() - start)))

    def convert(self, spec: ClipSpec, label_id: int) -> tuple[dict[str, Any], ClipStats]:
        return extract_clip(spec, label_id, self._model, self._config)


class ExtractClips(ConvertClips):
    """Clip specs in; `examples`, `errors` and `stats` PCollections out (see `ConvertClips`)."""


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run extraction; returns the summary (also written to `OUTPUT/summary.json`).

    Raises:
        poseact.data.manifest.ManifestError: The input list is unusable (before any work starts).
        poseact.pose.pose_model.PoseModelError: No pose model could be obtained.
    """
    parser = build_parser()
    args, beam_args = flags.parse(parser, argv)
    if bool(args.boxes) == bool(args.input):
        parser.error("give --input (clips) or --boxes (annotated frames), one of them")
    if args.boxes:
        from pipelines import boxes  # noqa: PLC0415

        return boxes.run(args, beam_args)
    config = ExtractConfig(
        fps=args.fps or None,
        limits=VideoLimits(max_duration_s=args.max_duration, max_pixels=args.max_pixels),
        max_frames=max_frames(),
    )
    model = pose_model.resolve(args.pose_model)
    _LOG.info("Using %s", model.describe())

    def make_fn(classes, progress_dir):
        return ExtractClipFn(str(model.path), args.pose_model, PoseConfig(num_poses=args.num_poses), config,
                             classes, progress_dir, model_sha256=model.sha256)

    static = {"fps": config.fps, "num_poses": args.num_poses,
              "pose_model": {"name": model.name, "sha256": model.sha256}}
    return run_job(args, beam_args, VIDEO_EXTENSIONS, make_fn, static, "extract")

