"""pipelines/routing.py on the DirectRunner (tests/test_dask_runner.py runs the same on Dask)."""

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import routing


class Parity(beam.DoFn):
    """Evens on the main output, odds on `odd`, every element's square on `square`; counts setups."""

    def setup(self):
        self.ready = True

    def process(self, x):
        assert self.ready, "setup() was not called through the wrapper"
        if x % 2:
            yield beam.pvalue.TaggedOutput("odd", x)
        else:
            yield x
        yield beam.pvalue.TaggedOutput("square", x * x)


def test_tagged_pardo_routes_each_output_to_its_own_collection():
    with BeamTestPipeline() as p:
        out = p | beam.Create(range(5)) | routing.TaggedParDo(Parity(), "odd", "square", main="even")
        assert sorted(out) == ["even", "odd", "square"] and out.odd is out["odd"]
        assert_that(out["even"], equal_to([0, 2, 4]), label="Even")
        assert_that(out["odd"], equal_to([1, 3]), label="Odd")
        assert_that(out["square"], equal_to([0, 1, 4, 9, 16]), label="Square")


def test_tagged_pardo_refuses_an_undeclared_tag():
    with pytest.raises(Exception, match="undeclared output tag 'square'"), BeamTestPipeline() as p:
        _ = p | beam.Create([1]) | routing.TaggedParDo(Parity(), "odd")


def test_collect_all_gives_one_list_even_for_no_input():
    with BeamTestPipeline() as p:
        some = p | "Some" >> beam.Create([3, 1, 2]) | "CollectSome" >> routing.CollectAll()
        none = p | "None" >> beam.Create([]) | "CollectNone" >> routing.CollectAll()
        assert_that(some | "SortSome" >> beam.Map(sorted), equal_to([[1, 2, 3]]), label="CheckSome")
        assert_that(none, equal_to([[]]), label="CheckNone")


def test_collect_all_keeps_none_elements():
    with BeamTestPipeline() as p:
        got = p | beam.Create([None, None]) | routing.CollectAll()
        assert_that(got, equal_to([[None, None]]))


def test_after_passes_the_value_on_and_needs_exactly_one():
    with BeamTestPipeline() as p:
        waits = p | "Waits" >> beam.Create(["a", "b"])
        value = p | "Value" >> beam.Create([{"k": 1}]) | routing.After(waits)
        assert_that(value, equal_to([{"k": 1}]))
    with pytest.raises(Exception, match="exactly one element before it, got 2"), BeamTestPipeline() as p:
        _ = p | beam.Create([1, 2]) | routing.After()


def test_spread_passes_every_element_once():
    with BeamTestPipeline() as p:
        got = p | beam.Create(list(range(20)) + [3]) | routing.Spread(lambda x: x, slots=4)
        assert_that(got, equal_to(list(range(20)) + [3]))
    with pytest.raises(ValueError, match="at least one slot"):
        routing.Spread(lambda x: x, slots=0)
