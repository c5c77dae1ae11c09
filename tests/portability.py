"""Build the jobs' pipelines for other runners without running them: Dataflow dry runs, portable protos.

`PIPELINE_BUILDERS` maps a job to a function that adds that job's steps to a pipeline, reading and
writing nothing; every check in tests/test_launch.py runs over all of them, so a new job is one entry.
The builders use made-up remote URIs: nothing is read while a graph is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.portable_runner import PortableRunner

BUCKET = "gs://poseact-bucket"
# What a portable runner (Flink, Spark, Beam's job service) executes itself; everything else must be a
# composite that it may expand, or a step that runs in the Python SDK environment.
RUNNER_PRIMITIVES = frozenset({
    common_urns.primitives.IMPULSE.urn,
    common_urns.primitives.GROUP_BY_KEY.urn,
    common_urns.primitives.FLATTEN.urn,
})
SDK_PRIMITIVES = frozenset({
    common_urns.primitives.PAR_DO.urn,
    common_urns.primitives.ASSIGN_WINDOWS.urn,
})

# Pipeline requirements that the portable runners we document (Flink, Spark) meet.
PORTABLE_REQUIREMENTS = frozenset({common_urns.requirements.REQUIRES_STATEFUL_PROCESSING.urn})

Builder = Callable[[beam.Pipeline], None]


def build_extract(pipeline: beam.Pipeline) -> None:
    """The extraction job's steps on three clips, as `poseact extract` builds them."""
    from pipelines import clipjob, extract  # noqa: PLC0415
    from poseact.data.extraction import ExtractConfig  # noqa: PLC0415
    from poseact.data.manifest import ClipSpec  # noqa: PLC0415
    from poseact.pose.landmarker import PoseConfig  # noqa: PLC0415
    from poseact.pose.video import VideoLimits  # noqa: PLC0415

    specs = [ClipSpec(f"{BUCKET}/clips/{i}.mp4", "still", f"g{i}", "train") for i in range(3)]
    config = ExtractConfig(fps=15.0, limits=VideoLimits(max_duration_s=600.0, max_pixels=10**7), max_frames=48)
    fn = extract.ExtractClipFn("/launcher/models/full.task", "full", PoseConfig(), config, ["still"],
                               model_sha256="0" * 64)
    clipjob.build_pipeline(pipeline, specs, fn, f"{BUCKET}/shards", 1, {"classes": ["still"]})


def build_label(pipeline: beam.Pipeline) -> None:
    """The labelling job's steps on two lectures, as `poseact label` builds them."""
    from pipelines import label, sinks  # noqa: PLC0415

    args = label.build_parser().parse_args(
        ["--input", f"{BUCKET}/lectures/*.mp4", "--model", f"{BUCKET}/model", "--output", f"{BUCKET}/labels"])
    options = label._options(args, {"fps": 15.0, "max_frames": 48})
    uris = [f"{BUCKET}/lectures/{i}.mp4" for i in range(2)]
    out = (
        pipeline
        | "Videos" >> beam.Create(uris)
        | "Label" >> label.LabelVideos(args.model, "/launcher/models/full.task", "full", args.output,
                                       ["read", "write"], "model@0", options, {u: "0" for u in uris}, None)
    )
    _ = out["errors"] | "WriteErrors" >> sinks.WriteJsonLines(f"{args.output}/errors.jsonl", "uri")


PIPELINE_BUILDERS: dict[str, Builder] = {"extract": build_extract, "label": build_label}


@dataclasses.dataclass
class DataflowJob:
    """What `DataflowRunner` would submit.

    Attributes:
        proto: The portable pipeline staged for the service (Runner v2).
        environment: The job's `Environment` message: worker pool, container images, experiments and the
            pipeline options sent to the service.
    """

    proto: beam_runner_api_pb2.Pipeline
    environment: object


def dataflow_dry_run(build: Builder, beam_args: list[str]) -> DataflowJob:
    """Build the Dataflow job for `build`'s steps with `--dry_run=True`: no credentials, no network."""
    from apache_beam.runners.dataflow.internal import apiclient  # noqa: PLC0415

    pipeline = beam.Pipeline(options=PipelineOptions([*beam_args, "--dry_run=True"]))
    build(pipeline)
    job = pipeline.run().job
    # The service-side description is made while submitting; build it from the same inputs offline.
    environment = apiclient.Environment(
        packages=[], options=job.options, environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url=f"{BUCKET}/staging/pipeline.pb", proto_pipeline=job.proto_pipeline,
    ).proto
    return DataflowJob(job.proto_pipeline, environment)


def portable_proto(build: Builder, beam_args: list[str]) -> beam_runner_api_pb2.Pipeline:
    """The pipeline proto that `PortableRunner` would submit to a job server for `build`'s steps."""
    options = PipelineOptions(beam_args)
    pipeline = beam.Pipeline(options=options)
    build(pipeline)
    return PortableRunner.get_proto_pipeline(pipeline, options)


def non_portable_steps(proto: beam_runner_api_pb2.Pipeline) -> list[str]:
    """Leaf steps that neither the runner nor the Python SDK environment can execute, with why."""
    problems = []
    for transform in proto.components.transforms.values():
        if transform.subtransforms:
            continue
        urn = transform.spec.urn
        if urn in RUNNER_PRIMITIVES:
            continue
        if urn not in SDK_PRIMITIVES:
            problems.append(f"{transform.unique_name}: {urn or 'no URN'} is not a portable primitive")
        elif transform.environment_id not in proto.components.environments:
            problems.append(f"{transform.unique_name}: {urn} has no SDK environment")
    return problems


def sdk_environments(proto: beam_runner_api_pb2.Pipeline) -> dict[str, beam_runner_api_pb2.Environment]:
    """The environments that some step of the pipeline runs in."""
    used = {t.environment_id for t in proto.components.transforms.values() if t.environment_id}
    return {env_id: proto.components.environments[env_id] for env_id in sorted(used)}
