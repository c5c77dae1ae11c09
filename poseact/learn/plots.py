"""Pictures of training and of labelled lectures: loss and accuracy curves, confusion matrices, action
timelines (matplotlib, no display)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from poseact.common import storage

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from poseact.label.segments import Segment

_OTHER_COLOUR = "lightgrey"  # the unknown label, and any action that is not a class


def _pyplot():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def plot_curves(history: dict[str, list[float]], path: str, title: str = "") -> None:
    """Loss and accuracy per epoch, train and validation side by side (like the paper's figure 4)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(matrix: list[list[int]], classes: list[str], path: str, title: str = "") -> None:
    """Confusion matrix with counts, rows true and columns predicted."""
    plt = _pyplot()
    values = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    ax.imshow(values, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = values.max() if values.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, str(values[i, j]), ha="center", va="center",
                    color="white" if values[i, j] > peak / 2 else "black")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _class_colours(classes: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """A fixed colour per class from its position, so one class looks the same in every picture."""
    import matplotlib  # noqa: PLC0415

    palette = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"].colors
    return {name: tuple(palette[i % len(palette)]) for i, name in enumerate(classes)}


def _draw_rows(ax, segments: Sequence[Segment], people: list[int], colours: dict, scale: float) -> None:
    """One row of bars per person, one `broken_barh` per (person, action), in a fixed order."""
    row = {person: i for i, person in enumerate(people)}
    bars: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for s in sorted(segments, key=lambda s: (s.person, s.start_s, s.end_s, s.action)):
        bars.setdefault((s.person, s.action), []).append((s.start_s / scale, (s.end_s - s.start_s) / scale))
    for (person, action), ranges in sorted(bars.items()):
        ax.broken_barh(ranges, (row[person] - 0.4, 0.8), facecolors=colours.get(action, _OTHER_COLOUR))
    ax.set_yticks(range(len(people)), [f"person {p}" for p in people])
    ax.set_ylim(len(people) - 0.5, -0.5)  # first person at the top


def _legend_handles(segments: Sequence[Segment], colours: dict) -> list:
    """Every class (present or not, so colours read the same across lectures), then other labels seen."""
    from matplotlib.patches import Patch  # noqa: PLC0415

    others = sorted({s.action for s in segments} - set(colours))
    return ([Patch(facecolor=c, label=name) for name, c in colours.items()]
            + [Patch(facecolor=_OTHER_COLOUR, label=name) for name in others])


def _timeline_figure(segments: Sequence[Segment], classes: Sequence[str], duration_s: float,
                     title: str = "") -> Figure:
    """The timeline figure of `plot_timeline`, not yet saved (the caller closes it)."""
    plt = _pyplot()
    people = sorted({s.person for s in segments})
    scale, unit = (60.0, "min") if duration_s > 600 else (1.0, "s")
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.45 * max(len(people), 1)), layout="constrained")
    span = max(duration_s, max((s.end_s for s in segments), default=0.0)) / scale
    ax.set_xlim(0, span or 1)
    ax.set_xlabel(f"time ({unit})")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if not people:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "nobody tracked", ha="center", va="center", transform=ax.transAxes)
        return fig
    colours = _class_colours(classes)
    _draw_rows(ax, segments, people, colours, scale)
    fig.legend(handles=_legend_handles(segments, colours), loc="outside right upper")
    return fig


def plot_timeline(segments: Sequence[Segment], classes: Sequence[str], duration_s: float, path: str,
                  title: str = "") -> str:
    """Who did what when: one row per person, bars coloured by action.

    Rows are sorted by person id and labelled 'person N'; each class has a fixed colour from its position
    in `classes`, the unknown label (and anything else that is not a class) is grey. The x axis is in
    seconds, or minutes when `duration_s` is over 600. With no segments the picture says 'nobody tracked'.
    The same input gives the same PNG bytes (no software version in the metadata).

    Args:
        segments: Segments of any number of people, e.g. from `poseact.label.segments.to_segments`.
        classes: Class names in the model's output order.
        duration_s: Length of the lecture in seconds (the axis extends further if a segment does).
        path: Local path or fsspec URI of the PNG, written atomically.
        title: Figure title.

    Returns:
        `path`.
    """
    plt = _pyplot()
    fig = _timeline_figure(segments, classes, duration_s, title)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)
    storage.write_atomic(path, buffer.getvalue())
    return path
