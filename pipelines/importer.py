"""Import: landmark sequences made elsewhere (NumPy or CSV) into the same shards as extraction.

    poseact import --input MANIFEST_OR_CLASS_DIR --output DIR [--source-fps 30] [--width W --height H]

The same normalisation, split logic, sinks and dead letters as `poseact extract`; bad arrays (wrong
shape, NaNs, empty) become dead letters with stage `load`.
"""

from __future__ import annotations

from typing import Any

from pipelines import flags
from pipelines.clipjob import ClipFn, ConvertClips, run_job
from pipelines.options import import_parser as build_parser
from poseact.data.extraction import ClipStats, ExtractConfig, import_clip
from poseact.data.landmark_files import LANDMARK_EXTENSIONS
from poseact.data.manifest import ClipSpec
from poseact.data.schema import max_frames


class ImportClipFn(ClipFn):
    """Load, check and normalise one landmark file."""

    def __init__(self, config: ExtractConfig, source_fps: float, width: int, height: int,
                 classes: list[str], progress_dir: str | None = None) -> None:
        super().__init__("import", classes, progress_dir)
        self._config = config
        self._source_fps = source_fps
        self._size = (width, height)

    def convert(self, spec: ClipSpec, label_id: int) -> tuple[dict[str, Any], ClipStats]:
        width, height = self._size
        return import_clip(spec, label_id, self._config, source_fps=self._source_fps, width=width, height=height)


class ImportLandmarks(ConvertClips):
    """Landmark-file specs in; `examples`, `errors` and `stats` PCollections out."""


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the import; returns the summary (also in `OUTPUT/summary.json`)."""
    args, beam_args = flags.parse(build_parser(), argv)
    if args.source_fps <= 0 or args.width <= 0 or args.height <= 0:
        raise ValueError("--source-fps, --width and --height must be positive")
    config = ExtractConfig(fps=args.fps or None, max_frames=max_frames())

    def make_fn(classes, progress_dir):
        return ImportClipFn(config, args.source_fps, args.width, args.height, classes, progress_dir)

    static = {"fps": min(config.fps or args.source_fps, args.source_fps), "source_fps": args.source_fps,
              "pose_model": None}
    return run_job(args, beam_args, LANDMARK_EXTENSIONS, make_fn, static, "import")
