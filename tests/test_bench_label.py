"""`poseact bench label`'s own measurements (figures only; speed itself is a benchmark's output, never a test's)."""

import math

from pipelines import bench_label
from poseact.pose import pose_model


def test_landmark_model_ms_times_the_whole_and_the_pruned_graph():
    figures = bench_label.landmark_model_ms(str(pose_model.resolve("lite").path), runs=2)
    assert set(figures) == {"whole_graph", "pruned", "speedup"}
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    assert math.isclose(figures["speedup"], figures["whole_graph"] / figures["pruned"])
