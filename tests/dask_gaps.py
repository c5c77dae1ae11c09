"""Minimal reproductions of what Beam's DaskRunner (2.77, experimental) does not carry.

    .venv/bin/python -m tests.dask_gaps [gap_name ...]   # a 2-worker local cluster; prints each gap

Each `gap_*` function runs a tiny pipeline on the cluster and returns `(reproduced, what was seen)`.
The workaround for each lives in the pipelines (pipelines/routing.py, launch/dask.sh) and is tested in
tests/test_dask_runner.py; when a Beam upgrade makes a gap disappear here, its workaround can go.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from collections.abc import Callable

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.bench_dask import DASK_RUNNER, close_runner_clients, local_cluster


def _options(address: str, *extra: str) -> PipelineOptions:
    return PipelineOptions([f"--runner={DASK_RUNNER}", f"--dask_client_address={address}", *extra])


def _dump(path: str) -> Callable:
    def write(value):
        with open(path, "w") as handle:
            json.dump(sorted(value, key=repr) if isinstance(value, list) else value, handle)
        return path
    return write


class _Parity(beam.DoFn):
    def process(self, x):
        yield x if x % 2 == 0 else beam.pvalue.TaggedOutput("odd", x)


class _Touch(beam.DoFn):
    """Leaves one file per setup() and per element processed, to count calls across processes."""

    def __init__(self, folder: str) -> None:
        self._folder = folder

    def setup(self):
        open(os.path.join(self._folder, f"setup-{uuid.uuid4().hex}"), "w").close()

    def process(self, x):
        open(os.path.join(self._folder, f"process-{uuid.uuid4().hex}"), "w").close()
        yield x


def _load(path: str):
    with open(path) as handle:
        return json.load(handle)


def _load_text(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _count(folder: str, prefix: str) -> int:
    return sum(name.startswith(prefix) for name in os.listdir(folder))


def gap_tagged_outputs(address: str, tmp: str) -> tuple[bool, str]:
    """A consumer of one tagged output receives every output of the ParDo."""
    path = os.path.join(tmp, "odd.json")
    with beam.Pipeline(options=_options(address)) as p:
        out = p | beam.Create(range(6)) | beam.ParDo(_Parity()).with_outputs("odd", main="even")
        _ = out.odd | beam.combiners.ToList() | beam.Map(_dump(path))
    got = _load(path)
    return got != [1, 3, 5], f"the 'odd' output of 0..5 held {got}"


def gap_last_leaf_only(address: str, tmp: str) -> tuple[bool, str]:
    """Only the last-applied step and what it depends on run; other branches are silently skipped."""
    first, second = os.path.join(tmp, "first.json"), os.path.join(tmp, "second.json")
    with beam.Pipeline(options=_options(address)) as p:
        numbers = p | beam.Create(range(3))
        _ = numbers | "First" >> beam.combiners.ToList() | "WriteFirst" >> beam.Map(_dump(first))
        _ = numbers | "Second" >> beam.combiners.ToList() | "WriteSecond" >> beam.Map(_dump(second))
    seen = f"first branch written: {os.path.exists(first)}, second: {os.path.exists(second)}"
    return not os.path.exists(first), seen


def gap_side_input_recompute(address: str, tmp: str) -> tuple[bool, str]:
    """A side input (here CombineGlobally's, inside ToList) recomputes its upstream steps again."""
    folder = tempfile.mkdtemp(dir=tmp)
    with beam.Pipeline(options=_options(address)) as p:
        touched = p | beam.Create(range(4)) | beam.ParDo(_Touch(folder))
        grouped = touched | beam.Map(lambda x: (x % 2, x)) | beam.GroupByKey() | "Keys" >> beam.Map(lambda kv: kv[0])
        listed = touched | beam.combiners.ToList() | "Length" >> beam.Map(len)
        _ = (grouped, listed) | beam.Flatten() | "Last" >> beam.Map(lambda x: x)
    calls = _count(folder, "process")
    return calls > 4, f"process() ran {calls} times for 4 elements"


def gap_no_parallelism(address: str, tmp: str) -> tuple[bool, str]:
    """Create puts up to 128 elements in one partition and Reshuffle does nothing: one worker does all."""
    path = os.path.join(tmp, "pids.json")
    with beam.Pipeline(options=_options(address)) as p:
        _ = (p | beam.Create(range(8)) | beam.Reshuffle() | beam.Map(lambda _: os.getpid())
             | beam.combiners.ToList() | beam.Map(_dump(path)))
    pids = set(_load(path))
    return len(pids) == 1, f"8 elements after Reshuffle ran in {len(pids)} worker process(es)"


def gap_setup_per_bundle(address: str, tmp: str) -> tuple[bool, str]:
    """DoFn.setup() and teardown() run once per Dask partition, not once per worker."""
    folder = tempfile.mkdtemp(dir=tmp)
    with beam.Pipeline(options=_options(address, "--dask_partition_size=1")) as p:
        _ = p | beam.Create(range(6)) | beam.ParDo(_Touch(folder))
    setups = _count(folder, "setup")
    return setups > 2, f"setup() ran {setups} times for 6 partitions on 2 workers"


def gap_metrics(address: str, tmp: str) -> tuple[bool, str]:
    """PipelineResult.metrics() is not implemented (counters in DoFns are dropped)."""
    pipeline = beam.Pipeline(options=_options(address))
    _ = pipeline | beam.Create([1]) | beam.Map(lambda x: x)
    result = pipeline.run()
    result.wait_until_finish()
    try:
        result.metrics()
    except NotImplementedError as err:
        return True, f"metrics() raised NotImplementedError({err})"
    return False, "metrics() answered"


def gap_client_left_open(address: str, tmp: str) -> tuple[bool, str]:
    """The runner opens a Dask client per run and never closes it."""
    close_runner_clients()
    with beam.Pipeline(options=_options(address)) as p:
        _ = p | beam.Create([1]) | beam.Map(lambda x: x)
    left = close_runner_clients()
    return left > 0, f"{left} client(s) still open after the run"


def gap_text_sink(address: str, tmp: str) -> tuple[bool, str]:
    """Beam's own file sink (WriteToText), even alone, runs its set-up step once per side-input read."""
    folder = tempfile.mkdtemp(dir=tmp)
    with beam.Pipeline(options=_options(address)) as p:
        _ = p | beam.Create(["a", "b", "c"]) | beam.io.WriteToText(os.path.join(folder, "lines"), num_shards=1,
                                                                    shard_name_template="")
    names = sorted(os.listdir(folder))
    leftovers = [name for name in names if name.startswith("beam-temp")]
    got = sorted(_load_text(os.path.join(folder, "lines")).split()) if "lines" in names else None
    return bool(leftovers) or got != ["a", "b", "c"], f"file held {got}; {len(leftovers)} temporary folders left behind"


class _Buffer(beam.DoFn):
    """Holds every element of a bundle and emits them from finish_bundle, as BatchElements does."""

    def start_bundle(self):
        self._held = []

    def process(self, x):
        self._held.append(x)

    def finish_bundle(self):
        for x in self._held:
            yield beam.utils.windowed_value.WindowedValue(x, 0, [beam.transforms.window.GlobalWindow()])


def gap_finish_bundle_output(address: str, tmp: str) -> tuple[bool, str]:
    """Elements a DoFn emits from finish_bundle() are dropped."""
    path = os.path.join(tmp, "buffered.json")
    with beam.Pipeline(options=_options(address)) as p:
        _ = p | beam.Create(range(5)) | beam.ParDo(_Buffer()) | beam.combiners.ToList() | beam.Map(_dump(path))
    got = _load(path)
    return got != [0, 1, 2, 3, 4], f"0..4 through a finish_bundle DoFn gave {got}"


class _Twice:
    factor = 2


class _Doubler(ModelHandler):
    def load_model(self):
        return _Twice()  # RunInference keeps models in Shared, which needs weak references

    def run_inference(self, batch, model, inference_args=None):
        return [PredictionResult(x, model.factor * x) for x in batch]


def gap_run_inference(address: str, tmp: str) -> tuple[bool, str]:
    """RunInference batches with BatchElements, whose last batch of a bundle leaves from finish_bundle."""
    path = os.path.join(tmp, "inferred.json")
    with beam.Pipeline(options=_options(address)) as p:
        _ = (p | beam.Create(range(5)) | RunInference(_Doubler()) | beam.Map(lambda r: r.inference)
             | beam.combiners.ToList() | beam.Map(_dump(path)))
    got = _load(path)
    return got != [0, 2, 4, 6, 8], f"RunInference on 0..4 (model: x2) gave {got}"


GAPS = [gap_tagged_outputs, gap_last_leaf_only, gap_side_input_recompute, gap_no_parallelism,
        gap_setup_per_bundle, gap_metrics, gap_client_left_open, gap_text_sink, gap_finish_bundle_output,
        gap_run_inference]


def main(argv: list[str] | None = None) -> int:
    """Run the reproductions named in `argv` (default: all) on a fresh 2-worker local cluster; print each."""
    names = set(sys.argv[1:] if argv is None else argv)
    with local_cluster(2) as address, tempfile.TemporaryDirectory() as tmp:
        for gap in (g for g in GAPS if not names or g.__name__ in names):
            try:
                reproduced, seen = gap(address, tmp)
            except Exception as err:  # noqa: BLE001 (a failing pipeline is a finding too)
                reproduced, seen = True, f"the pipeline failed: {type(err).__name__}: {str(err)[:300]}"
            close_runner_clients()
            print(f"{'GAP ' if reproduced else 'ok  '} {gap.__name__}: {gap.__doc__.splitlines()[0]}\n"
                  f"      seen: {seen}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
