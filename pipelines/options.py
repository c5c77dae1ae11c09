"""The flags of each pipeline command, built with no heavy import.

`poseact extract|import|label --help` parses with these alone, so help comes in a fraction of a second and with
no line of Beam, TensorFlow or MediaPipe output; the pipelines import their parser from here.
"""

from __future__ import annotations

import argparse

from poseact.common import arguments

# The default path. Each chunk's first detection pass runs the classroom finder (docs/people.md): where it finds a
# class (`poseact.people.tracker.CLASS_SIZE` boxes), it finds and our own landmark runner follows the students,
# restarting a lost one from the finder's box (MediaPipe's landmarker re-finds a lost person by their face only, which
# students seen from behind or bent over a book do not show). On real classroom frames it finds 0.66 of the students
# where MediaPipe's landmarker path finds 0.23. Where it finds fewer people, MediaPipe's landmarker finds them (by their
# faces) and follows each one (`tasks`), as `--exact` does: on the real seated hand raise the classroom path's raised
# wrist stays at visibility 0.49 against the rules' 0.5 and the raise is missed, and on the real two-people clip it
# follows a phantom on the clasped hands.
FAST_POSE_MODEL = "full"
FAST_POSE_EVERY = 1
FINDER = "auto"
# A class is 20-60 students. A tracked person costs a follower (the `roi` follower: a few KiB beside the chunk's one
# landmark model; `tasks`: a MediaPipe landmarker, about 30 MB) and their landmarks (33 x 5 floats a frame).
MAX_PEOPLE = 60
# In a class, a person-pose costs about 15 ms of the full landmark model on one core here, nearly all of it the model
# itself (docs/speed.md); 40 students posed on every frame at 15 fps are 600 poses, 9 core-seconds, per video second.
# Posed on every 8th frame, 75 poses a second, a class of 40 fits 2 cores in real time; and the demo lecture's
# students, followed as a class is (`--finder classroom`), posed on every 8th frame still read hand_raise / reading /
# writing 0.95 / 0.99 / 1.00 against its script (every frame: 1.00 / 1.00 / 1.00; every 10th: 0.90 / 0.98 / 0.97).
# The lite model halves the cost but read those raises at 0.42 (every 7th frame).
POSES_PER_SECOND = 75.0


def add_common_flags(parser: argparse.ArgumentParser, input_required: bool = True) -> None:
    """Flags every clip job has."""
    parser.add_argument("--input", required=input_required, help="manifest (.csv/.jsonl) or folder of class folders")
    parser.add_argument("--output", required=True, help="output folder (local path, gs://, s3://, ...)")
    parser.add_argument("--fps", type=float, default=15.0, help="sample frames to this rate (0 keeps all)")
    parser.add_argument("--classes", default="", help="comma-separated allowed labels (default: all seen)")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0, help="split assignment seed")
    parser.add_argument("--num-shards", type=int, default=1, help="shards per split")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar for local runs")


def extract_parser() -> argparse.ArgumentParser:
    """Flags of `poseact extract` (everything else goes to Beam's PipelineOptions)."""
    parser = arguments.Parser(prog="poseact extract", description="Clips in, normalised landmark sequences out, as "
                              "TFRecord shards with a fixed schema (Beam).")
    add_common_flags(parser, input_required=False)
    boxes = parser.add_argument_group("annotated boxes (instead of --input; docs/annotated-boxes.md)")
    boxes.add_argument("--boxes", help="a YOLO folder, a Pascal VOC folder, or an AVA-style .csv beside its videos: each "
                                       "box's person becomes a sequence labelled with the box's class")
    boxes.add_argument("--box-part", choices=("body", "head"), default="body",
                       help="what the boxes hold: a person (their head in its upper half) or a head")
    boxes.add_argument("--box-format", choices=("auto", "yolo", "voc", "ava"), default="auto",
                       help="the format of --boxes (default: recognised from what it holds)")
    boxes.add_argument("--group-frames", type=int, default=10,
                       help="frames of one recording whose numbers lie in one block of this many share a split")
    parser.add_argument("--pose-model", default="full", help="lite, full, heavy, a .task path or a URL")
    parser.add_argument("--num-poses", type=int, default=2, help="people detected per frame before choosing one")
    parser.add_argument("--max-duration", type=float, default=600.0, help="reject clips longer than this (s)")
    parser.add_argument("--max-pixels", type=int, default=4096 * 2160, help="reject larger frames")
    return parser


def import_parser() -> argparse.ArgumentParser:
    """Flags of `poseact import`."""
    parser = arguments.Parser(prog="poseact import", description="Landmark files made elsewhere (.npy/.csv) in, the "
                              "same shards as extraction out (Beam).")
    add_common_flags(parser)
    parser.add_argument("--source-fps", type=float, default=30.0, help="frame rate the landmarks were taken at")
    parser.add_argument("--width", type=int, default=1, help="frame width of the source video (aspect only)")
    parser.add_argument("--height", type=int, default=1, help="frame height of the source video")
    return parser


def label_parser() -> argparse.ArgumentParser:
    """Flags of `poseact label` (everything else goes to Beam's PipelineOptions)."""
    parser = arguments.Parser(prog="poseact label", description="Lecture videos in, per-person action segments out, "
                              "with a report per lecture (Beam).")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", help="glob, folder, list file (.txt/.csv/.jsonl) or video; local, gs://, s3://")
    source.add_argument("--watch", help="keep labelling new videos that land under this prefix")
    parser.add_argument("--model", required=True,
                        help="model folder written by `poseact train`, or `rules` (pose rules, no training: "
                             "hand_raise, writing, reading, other)")
    parser.add_argument("--output", required=True, help="output folder (local path, gs://, s3://, ...)")
    parser.add_argument("--pose-model", default=None,
                        help=f"lite, full, heavy, a .task path or a URL (default: {FAST_POSE_MODEL}; --exact: full)")
    parser.add_argument("--pose-every", type=int, default=None,
                        help=f"pose every K-th sampled frame, the rest interpolated (default: {FAST_POSE_EVERY}; --exact: 1)")
    parser.add_argument("--follower", choices=("roi", "tasks"), default=None,
                        help="what poses each person: roi (our landmark runner on a crop that follows the person) "
                             "or tasks (a MediaPipe landmarker per person) (default: roi where the classroom finder "
                             "finds, tasks where the landmarker does; --exact: tasks)")
    parser.add_argument("--poses-per-second", type=float, default=None,
                        help="in a class (where the classroom finder finds), pose at most about this many "
                             "person-poses per video second: each student is posed less often, the frames between "
                             f"interpolated (default: "
                             f"{POSES_PER_SECOND:g}; 0: no cap; --exact: no cap)")
    parser.add_argument("--hold-still", action="store_true",
                        help="reuse a person's last pose while their crop has not changed, and a detection tile's "
                             "people while the tile has not (faster; not with --exact)")
    parser.add_argument("--exact", action="store_true",
                        help="the reference path: every sampled frame posed with the full model by MediaPipe's landmarker")
    parser.add_argument("--chunk-seconds", type=float, default=60.0, help="video seconds per parallel chunk")
    parser.add_argument("--balance-workers", type=int, default=None,
                        help="cut each video into a multiple of this many equal chunks, so that this many workers "
                             "finish together (labels then depend on it, as on any chunking; default: the worker "
                             "processes poseact starts here when no --direct_num_workers is given, one per 30 s of "
                             "video up to one per core; else 1: chunks of --chunk-seconds)")
    parser.add_argument("--stride", type=float, default=None,
                        help="seconds between window starts (default: the model's; 1 for trained models, 0.5 for rules)")
    parser.add_argument("--min-detected", type=float, default=0.5, help="least fraction of a window's frames with the person")
    parser.add_argument("--smooth", type=int, default=None,
                        help="windows in the moving average of class scores (default: the model's; 3, rules 1)")
    parser.add_argument("--threshold", type=float, default=0.5, help="below this smoothed score the label is 'unknown'")
    parser.add_argument("--min-segment", type=float, default=0.0, help="shorter segments merge into a neighbour (s)")
    parser.add_argument("--grid", default="auto",
                        help="--finder landmarker: detection tiles COLSxROWS (1x1: whole frame only), or auto: a "
                             "pyramid of grids down to --min-head")
    parser.add_argument("--min-head", type=float, default=None,
                        help="the smallest head width (pixels) that detection looks for (sizes the tiles; default: "
                             "20 where the classroom finder finds, 24 where the landmarker does)")
    parser.add_argument("--detect-every", type=float, default=2.0, help="seconds between person-detection passes")
    parser.add_argument("--max-people", type=int, default=MAX_PEOPLE, help="most people tracked at once")
    parser.add_argument("--finder", choices=("auto", "classroom", "landmarker"), default=None,
                        help="what finds people: classroom (a COCO person detector on tiles; students from any side), "
                             "landmarker (MediaPipe's pose landmarker on tiles; finds faces), or auto: classroom where "
                             "it finds a class of 12 or more, else landmarker (default: auto; --exact: landmarker)")
    parser.add_argument("--find-heads", action="store_true",
                        help="in a class, also run the head finder (FaceBoxes) on each detection pass and pose every "
                             "head nobody is posed on: more students found on a frame, but more persons on no student "
                             "and about twice the ids per student over a video (docs/people.md)")
    parser.add_argument("--max-duration", type=float, default=6 * 3600.0, help="reject longer videos (s)")
    parser.add_argument("--overlay", action="store_true", help="also write an annotated overlay.mp4 per video")
    parser.add_argument("--blur-faces", action="store_true",
                        help="blur every face (located from the pose's face landmarks) in report pictures and overlay.mp4")
    parser.add_argument("--no-images", action="store_true",
                        help="no picture of a person anywhere (report: tables and timelines only; not with --overlay)")
    parser.add_argument("--force", action="store_true", help="relabel videos already done with the same options")
    parser.add_argument("--videos-per-job", type=int, default=0,
                        help="run the videos in Beam jobs of this many (0: one job); a killed run loses one job")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar for local runs")
    parser.add_argument("--poll", type=float, default=10.0, help="watch mode: seconds between listings")
    parser.add_argument("--max-idle", type=float, default=0.0, help="watch mode: stop after this many idle seconds (0: never)")
    return parser


PARSERS = {"extract": extract_parser, "import": import_parser, "label": label_parser}
