"""Which runner a job runs on, and Dataflow dry runs: what `extract`, `import` and `label` share.

Beam's default `DirectRunner` (`SwitchingDirectRunner`) first tries the Prism runner, which downloads a
binary from GitHub on first use; offline that fails after a long exception text and Beam falls back to
the in-process runner anyway. So when no runner (or `DirectRunner`) is asked for, jobs run on the
in-process runner directly (`InProcessRunner`): the same engine, no download attempt. Any other
`--runner` is used as given; the runner is still never chosen by a transform.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, StandardOptions, TestOptions
from apache_beam.runners.runner import PipelineRunner

# Runners whose workers run on this machine (progress markers are visible, bars start at once).
LOCAL_RUNNERS = (None, "DirectRunner", "direct", "SwitchingDirectRunner", "BundleBasedDirectRunner",
                 "InProcessRunner")
# What `--runner` values mean "the default in-process runner" (replaced by `InProcessRunner`).
_DEFAULT_RUNNERS = (None, "DirectRunner", "direct")


class InProcessRunner(PipelineRunner):
    """Beam's in-process batch runner (the FnApiRunner that `DirectRunner` falls back to), without the
    Prism attempt. `--direct_num_workers` and `--direct_running_mode` apply as with `DirectRunner`."""

    def run_pipeline(self, pipeline: beam.Pipeline, options: PipelineOptions):
        from apache_beam.portability.api import beam_provision_api_pb2  # noqa: PLC0415
        from apache_beam.runners.portability.fn_api_runner import fn_runner  # noqa: PLC0415
        from apache_beam.runners.portability.portable_runner import JobServiceHandle  # noqa: PLC0415

        # As DirectRunner does: workers (also in multi_processing mode) see the pipeline options.
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return fn_runner.FnApiRunner(provision_info=provision).run_pipeline(pipeline, options)


def pipeline_options(beam_args: list[str]) -> PipelineOptions:
    """Beam's options from the command's leftover arguments (main session never pickled: code ships as
    the installed package)."""
    options = PipelineOptions(beam_args)
    options.view_as(SetupOptions).save_main_session = False
    return options


# A second worker process costs about 13 s more start-up than the one in-process worker (TensorFlow and MediaPipe
# imported again; docs/speed.md), and labels about 1 s of a class's video per second per core: it pays when it gets at
# least 30 s of video.
SECONDS_PER_WORKER = 30.0


def with_local_workers(beam_args: list[str], video_seconds: float, cpus: int | None = None) -> list[str]:
    """`beam_args`, plus enough DirectRunner worker processes to keep this machine's cores busy on `video_seconds`.

    Only where the job runs here and no `--direct_num_workers` was given: one worker process per
    `SECONDS_PER_WORKER` of video, at most one per core (`multi_processing`); one worker in-process otherwise.
    """
    if not is_local(pipeline_options(beam_args)) or any(a.startswith("--direct_num_workers") for a in beam_args):
        return list(beam_args)
    workers = min(cpus or os.cpu_count() or 1, int(video_seconds // SECONDS_PER_WORKER))
    if workers <= 1:
        return list(beam_args)
    mode = [] if any(a.startswith("--direct_running_mode") for a in beam_args) else [
        "--direct_running_mode=multi_processing"]
    return [*beam_args, f"--direct_num_workers={workers}", *mode]


def direct_workers(beam_args: list[str]) -> int:
    """The DirectRunner worker processes `beam_args` ask for (1 when none)."""
    from apache_beam.options.pipeline_options import DirectOptions  # noqa: PLC0415

    workers = pipeline_options(beam_args).view_as(DirectOptions).direct_num_workers
    return max(1, os.cpu_count() or 1) if workers == 0 else max(1, int(workers or 1))  # Beam: 0 is every core


def runner_name(options: PipelineOptions) -> str:
    """The runner a job runs on, as recorded in summaries."""
    runner = options.view_as(StandardOptions).runner
    return "InProcessRunner" if runner in _DEFAULT_RUNNERS else str(runner)


def is_local(options: PipelineOptions) -> bool:
    """Whether the workers run on this machine (they can drop progress markers here)."""
    return options.view_as(StandardOptions).runner in LOCAL_RUNNERS


def is_dry_run(options: PipelineOptions) -> bool:
    """Whether `--dry_run=True` asks for a Dataflow job to be built and not submitted.

    Then the commands touch neither the output folder nor the bucket.

    Raises:
        ValueError: `--dry_run` with a runner other than Dataflow's (which would run the job for real).
    """
    if not options.view_as(TestOptions).dry_run:
        return False
    runner = options.view_as(StandardOptions).runner
    if runner not in ("DataflowRunner", "dataflow"):
        raise ValueError(f"--dry_run=True builds a Dataflow job without submitting it; the runner here is "
                         f"{runner or 'the default in-process runner'}, which would run the job: add "
                         "--runner=DataflowRunner (e.g. through launch/dataflow.sh)")
    return True


def make_pipeline(options: PipelineOptions) -> beam.Pipeline:
    """A pipeline on the runner the options ask for, the in-process one by default."""
    if options.view_as(StandardOptions).runner in _DEFAULT_RUNNERS:
        return beam.Pipeline(runner=InProcessRunner(), options=options)
    return beam.Pipeline(options=options)


def dry_run_summary(result: Any, options: PipelineOptions, **counts: Any) -> dict[str, Any]:
    """What a dry run built: the runner, the job's name and its number of steps, and `counts`.

    Args:
        result: What `pipeline.run()` returned (Dataflow's dry run keeps the job it built on it).
        options: The job's options.
        **counts: Inputs of the job (e.g. `clips_in=3`).
    """
    from apache_beam.options.pipeline_options import GoogleCloudOptions  # noqa: PLC0415

    job = getattr(result, "job", None)
    proto = getattr(job, "proto_pipeline", None)
    steps = sum(1 for t in proto.components.transforms.values() if not t.subtransforms) if proto else None
    return {"dry_run": True, "runner": runner_name(options), **counts,
            "job_name": options.view_as(GoogleCloudOptions).job_name, "steps": steps}
