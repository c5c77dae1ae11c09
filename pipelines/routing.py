"""Multi-output ParDos, global collects, ordered final writes and reshuffles that every runner carries.

Beam's own idioms for these (`ParDo(...).with_outputs(...)`, `combiners.ToList()`, `util.WaitOn`) rely
on per-output routing and side inputs. Beam's experimental DaskRunner (2.77) has neither: a consumer of
one tagged output receives every output of the ParDo, and a side input is recomputed, with all of its
upstream steps, inside each task that reads it. It also runs only the last step of the graph and what
that step depends on, and its Reshuffle does nothing. The transforms here use only ParDo, Create,
Flatten and GroupByKey on single-output steps, which every runner executes faithfully, so a pipeline
built from them gives the same result on all of them (tests/test_dask_runner.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam

_SEED = 0  # marks CollectAll's seed element; real elements travel as (_ITEM, value)
_ITEM = 1


class _PairOutputs(beam.DoFn):
    """Runs a wrapped DoFn and emits each output as a `(tag, value)` pair; `tag` is None for main."""

    def __init__(self, fn: beam.DoFn) -> None:
        self._fn = fn

    def setup(self) -> None:
        self._fn.setup()

    def start_bundle(self) -> None:
        self._fn.start_bundle()

    def process(self, element: Any) -> Iterator[tuple[str | None, Any]]:
        for out in self._fn.process(element) or ():
            if isinstance(out, beam.pvalue.TaggedOutput):
                yield out.tag, out.value
            else:
                yield None, out

    def finish_bundle(self) -> None:
        # Outputs of finish_bundle need a window; none of our DoFns emit any, so refuse rather than drop.
        if self._fn.finish_bundle():
            raise ValueError(f"{type(self._fn).__name__}.finish_bundle() emitted output; TaggedParDo cannot route it")

    def teardown(self) -> None:
        self._fn.teardown()


class Outputs(dict):
    """PCollections by tag; also readable as attributes (`out.errors`), as `with_outputs` results are."""

    def __getattr__(self, name: str) -> beam.PCollection:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class TaggedParDo(beam.PTransform):
    """`ParDo(fn).with_outputs(*tags, main=main)` as a dict of PCollections, tag routing done in the graph.

    The DoFn is written as usual (`yield value` for the main output, `yield TaggedOutput(tag, value)` for
    the others); its `process` may take only the element (no side inputs, timestamps or windows). Its
    outputs travel as `(tag, value)` pairs in one PCollection and one Filter per tag splits them.

    Returns:
        `Outputs`: `{main: PCollection, tag: PCollection, ...}`, entries also readable as attributes, so
        that it replaces `beam.ParDo(fn).with_outputs(*tags, main=main)` as it stands.

    Raises:
        ValueError: At run time, when the DoFn emits a tag not declared here.
    """

    def __init__(self, fn: beam.DoFn, *tags: str, main: str = "main") -> None:
        super().__init__()
        self._fn = fn
        self._tags = tags
        self._main = main

    def expand(self, pcoll):
        declared = frozenset(self._tags)

        def check(pair: tuple[str | None, Any]) -> tuple[str | None, Any]:
            if pair[0] is not None and pair[0] not in declared:
                raise ValueError(f"undeclared output tag {pair[0]!r}; declare it in TaggedParDo(fn, ...)")
            return pair

        pairs = pcoll | "Run" >> beam.ParDo(_PairOutputs(self._fn)) | "CheckTags" >> beam.Map(check)
        outputs = Outputs()
        for name, tag in ((self._main, None), *((t, t) for t in self._tags)):
            outputs[name] = (
                pairs
                | f"Keep[{name}]" >> beam.Filter(lambda pair, tag=tag: pair[0] == tag)
                | f"Value[{name}]" >> beam.Map(lambda pair: pair[1])
            )
        return outputs


def _items(group: tuple[Any, Iterable[tuple[int, Any]]]) -> list[Any]:
    return [value for kind, value in group[1] if kind == _ITEM]


class CollectAll(beam.PTransform):
    """All elements as one list, in no particular order: exactly one output, `[]` for an empty input.

    Like `combiners.ToList()`, but without the side input that `CombineGlobally` uses for its default
    value: a seed element joins the input in one GroupByKey, so an empty input still yields one group.
    """

    def expand(self, pcoll):
        seed = pcoll.pipeline | "Seed" >> beam.Create([(None, (_SEED, None))])
        items = pcoll | "Key" >> beam.Map(lambda value: (None, (_ITEM, value)))
        return (items, seed) | "Merge" >> beam.Flatten() | "Group" >> beam.GroupByKey() | "Items" >> beam.Map(_items)


def _only_value(parts: list[tuple[bool, Any]]) -> Any:
    values = [value for is_value, value in parts if is_value]
    if len(values) != 1:
        raise ValueError(f"After expects exactly one element before it, got {len(values)}")
    return values[0]


class After(beam.PTransform):
    """Pass on the input's single element once every PCollection in `waits` is complete.

    Used to write a completion marker (e.g. summary.json) last. Unlike `transforms.util.WaitOn` it takes
    no side input: the waited-on elements join the value in one `CollectAll`.
    """

    def __init__(self, *waits: beam.PCollection) -> None:
        super().__init__()
        self._waits = waits

    def expand(self, pcoll):
        parts = [pcoll | "Value" >> beam.Map(lambda value: (True, value))]
        parts += [wait | f"Wait{i}" >> beam.Map(lambda _: (False, None)) for i, wait in enumerate(self._waits)]
        return parts | "Merge" >> beam.Flatten() | "Collect" >> CollectAll() | "Unwrap" >> beam.Map(_only_value)


def _slot(key: Any, slots: int) -> int:
    return int(hashlib.sha256(repr(key).encode()).hexdigest(), 16) % slots


class Spread(beam.PTransform):
    """`beam.Reshuffle()` that also spreads work on runners where Reshuffle does nothing.

    The DaskRunner keeps a PCollection in the partitions it was made in (its Reshuffle is a no-op), so
    everything one element fans out into stays in one task on one worker: all chunks of one lecture, say.
    Here elements go to `slots` groups by a stable hash of `key_fn(element)` and are grouped together
    with one seed per slot; the seeds come from a `Create` of their own, so on Dask the grouping has at
    least as many partitions as that Create (one per seed with `--dask_partition_size=1`), and the
    groups land in different tasks; `slots` bounds the parallelism there. A Reshuffle follows, so that
    runners with a working one (Dataflow, Flink) still spread element by element rather than slot by
    slot. Elements come out in no particular order.
    """

    def __init__(self, key_fn: Callable[[Any], Any], slots: int = 64) -> None:
        super().__init__()
        if slots < 1:
            raise ValueError(f"Spread needs at least one slot, got {slots}")
        self._key_fn = key_fn
        self._slots = slots

    def expand(self, pcoll):
        key_fn, slots = self._key_fn, self._slots
        seeds = pcoll.pipeline | "Seeds" >> beam.Create([(i, (_SEED, None)) for i in range(slots)])
        keyed = pcoll | "Slot" >> beam.Map(lambda value: (_slot(key_fn(value), slots), (_ITEM, value)))
        return ((keyed, seeds) | "Merge" >> beam.Flatten() | "Group" >> beam.GroupByKey()
                | "Items" >> beam.FlatMap(_items) | "Reshuffle" >> beam.Reshuffle())
