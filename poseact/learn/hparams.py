"""Training hyper-parameters: one frozen dataclass, defaults from the paper, one CLI flag per field.

The paper (section 3.2-3.3) fixes the LSTM width (128), the dropout rate (0.6), the optimiser (Adam),
the loss (categorical cross-entropy), early stopping on validation loss (patience 3), plateau
learning-rate reduction (factor 0.5, patience 2, floor 1e-6), batch size 32 and at most 100 epochs.
It does not state the convolution widths, kernel size, dense width, L2 factor or learning rate; the
defaults here for those are ordinary choices, marked "not in the paper" below.

Two training schedules (`--schedule`):

- `steps` (default): the paper's callbacks, but warm-up and patience are counted in optimiser steps and
  converted to epochs with steps_per_epoch = ceil(n_train / batch_size) (`resolve_schedule`). The
  paper's epoch counts assume many steps per epoch; with the paper's own data size (about 120 clips,
  batch 32: 2-4 steps per epoch) patience 2-3 epochs is 4-12 steps. On 90 real landmark sequences
  (63 training clips) the paper's callbacks halved the learning rate 4 times and stopped after 28
  steps at 0.73 *train* accuracy; Adam at 1e-3 moves each weight by about 1e-3 per step, so the model
  needs a few hundred steps, not a few epochs, before a plateau means anything. On large data (e.g.
  EduNet, about 170 steps per epoch) the step counts round up to 1-2 epochs and the paper's epoch
  patience (3 and 2) wins: there the schedule is the paper's plus a 2-epoch warm-up.
- `paper`: exactly the paper's callbacks (early stopping patience 3 from the first epoch, learning
  rate x0.5 after 2 epochs on a plateau, floor 1e-6, batch 32, 100 epochs); the step fields are
  ignored.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

MODEL_CHOICES = ("paper", "tcn")
SCHEDULE_CHOICES = ("steps", "paper")
PAPER_EPOCHS = 100  # the paper's epoch budget; `epochs=None` means this under --schedule paper


@dataclasses.dataclass(frozen=True)
class HParams:
    """Every hyper-parameter of a training run.

    Attributes:
        model: Architecture name, one of `MODEL_CHOICES` ("paper": the paper's CNN-LSTM; "tcn": a
            masked temporal convolution network).
        conv_filters: Paper model: filters of each TimeDistributed Conv1D block (not in the paper).
        kernel_size: Paper model: Conv1D kernel size over the landmark axis (not in the paper).
        pool_size: Paper model: MaxPooling1D size after each Conv1D (not in the paper).
        lstm_units: Paper model: LSTM units (paper: 128).
        dense_units: Paper model: units of the L2-regularised Dense layer (not in the paper).
        l2: L2 factor on the paper model's Dense kernel and the TCN's convolution kernels (not in
            the paper).
        dropout: Paper model: dropout rate before the output layer (paper: 0.6).
        tcn_embed_units: TCN: width of the per-frame landmark embedding.
        tcn_filters: TCN: filters of every temporal convolution.
        tcn_kernel_size: TCN: kernel size over time.
        tcn_dilations: TCN: dilation of each residual block (receptive field grows with their sum).
        tcn_dropout: TCN: dropout rate inside blocks and before the output layer.
        learning_rate: Adam's initial learning rate (not in the paper; Keras' default 1e-3 learns).
        batch_size: Examples per batch (paper: 32).
        epochs: Maximum epochs, or None for the schedule's own: 100 (the paper's) under `paper`;
            under `steps` 100, raised so that the run may take `min_steps` optimiser steps.
        schedule: When the callbacks act, one of `SCHEDULE_CHOICES` (see the module docstring).
        early_stopping_patience: Epochs without improvement before stopping (paper: 3); under `steps`
            a floor for `early_stopping_patience_steps` converted to epochs.
        early_stopping_monitor: Metric watched by early stopping and plateau reduction (paper:
            validation loss).
        early_stopping_start_epoch: Epochs before early stopping starts watching (Keras'
            `start_from_epoch`; paper: 0). Under `steps` a floor for `warmup_steps` in epochs.
        restore_best_weights: Keep the weights of the best monitored epoch when stopping.
        lr_factor: Learning-rate multiplier on a plateau (paper: 0.5).
        lr_patience: Epochs without improvement before reducing the learning rate (paper: 2); under
            `steps` a floor for `lr_patience_steps` converted to epochs.
        min_lr: Learning-rate floor (paper: 1e-6).
        warmup_steps: `steps` schedule: optimiser steps before early stopping and learning-rate
            reduction start watching. The paper model fits our noisy kinematic set (paper-size, 3 steps
            per epoch) in about 150 steps; 200 leaves a margin (not in the paper).
        early_stopping_patience_steps: `steps` schedule: steps without improvement before stopping
            (60: 20-30 epochs of a paper-size set, whose 12-18 validation clips make a noisy loss).
        lr_patience_steps: `steps` schedule: steps without improvement before reducing the learning
            rate; shorter than the stopping patience, as in the paper (2 < 3), so that a plateau is
            first met with a smaller rate.
        min_steps: `steps` schedule with `epochs=None`: the epoch budget is raised to
            ceil(min_steps / steps_per_epoch) when 100 epochs give fewer steps (twice the warm-up:
            room to improve after it before patience runs out).
        seed: Seed for weights, shuffling and augmentation.
        augment: Apply `poseact.learn.augment` to training batches (the paper does not augment).
        rotation_deg: Augmentation: maximum in-plane rotation, degrees either way.
        scale: Augmentation: maximum relative scale change (0.1 means a factor in [0.9, 1.1]).
        translate: Augmentation: maximum shift of x and y, in shoulder widths.
        time_warp: Augmentation: maximum relative speed change, overall and locally within a clip.
        frame_drop: Augmentation: maximum fraction of real frames dropped.
        mirror_prob: Augmentation: probability of a left/right mirror.
    """

    model: str = "paper"
    conv_filters: tuple[int, ...] = (64, 128)
    kernel_size: int = 3
    pool_size: int = 2
    lstm_units: int = 128
    dense_units: int = 64
    l2: float = 1e-3
    dropout: float = 0.6
    tcn_embed_units: int = 64
    tcn_filters: int = 64
    tcn_kernel_size: int = 3
    tcn_dilations: tuple[int, ...] = (1, 2, 4, 8)
    tcn_dropout: float = 0.3
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int | None = None
    schedule: str = "steps"
    early_stopping_patience: int = 3
    early_stopping_monitor: str = "val_loss"
    early_stopping_start_epoch: int = 0
    restore_best_weights: bool = True
    lr_factor: float = 0.5
    lr_patience: int = 2
    min_lr: float = 1e-6
    warmup_steps: int = 200
    early_stopping_patience_steps: int = 60
    lr_patience_steps: int = 40
    min_steps: int = 400
    seed: int = 0
    augment: bool = False
    rotation_deg: float = 10.0
    scale: float = 0.1
    translate: float = 0.05
    time_warp: float = 0.2
    frame_drop: float = 0.1
    mirror_prob: float = 0.5

    def __post_init__(self) -> None:
        """Coerce sequences to int tuples and reject values no run could use.

        Coercion lets `HParams(**json.load(...))` round-trip `to_dict()` (JSON has lists only); the
        checks make a typo fail at parse time rather than mid-training.
        """
        for name in ("conv_filters", "tcn_dilations"):
            # frozen: the dataclass' own __setattr__ refuses, object's does not.
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.model not in MODEL_CHOICES:
            raise ValueError(f"unknown model {self.model!r}; choices: {', '.join(MODEL_CHOICES)}")
        for name in ("conv_filters", "tcn_dilations"):
            values = getattr(self, name)
            if not values or any(v < 1 for v in values):
                raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {values!r}")
        for name in ("dropout", "tcn_dropout", "frame_drop", "time_warp", "scale"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.schedule not in SCHEDULE_CHOICES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choices: {', '.join(SCHEDULE_CHOICES)}")
        if self.batch_size < 1 or (self.epochs is not None and self.epochs < 1):
            raise ValueError(f"batch_size and epochs must be >= 1, got {self.batch_size} and {self.epochs}")
        for name in ("early_stopping_start_epoch", "warmup_steps", "early_stopping_patience_steps",
                     "lr_patience_steps", "min_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.mirror_prob <= 1.0:
            raise ValueError(f"mirror_prob must be in [0, 1], got {self.mirror_prob}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (tuples become lists), for run summaries and model cards."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The callbacks' settings in epochs for one training set: what a run actually uses.

    Attributes:
        name: The schedule, one of `SCHEDULE_CHOICES`.
        train_clips: Training examples it was resolved for.
        batch_size: Examples per optimiser step.
        steps_per_epoch: Optimiser steps per epoch, ceil(train_clips / batch_size).
        epochs: Maximum epochs.
        early_stopping_start_epoch: Epochs before early stopping watches (Keras' `start_from_epoch`).
        early_stopping_patience: Epochs without improvement before stopping.
        lr_start_epoch: Epochs before learning-rate reduction watches.
        lr_patience: Epochs without improvement before the learning rate is reduced.
    """

    name: str
    train_clips: int
    batch_size: int
    steps_per_epoch: int
    epochs: int
    early_stopping_start_epoch: int
    early_stopping_patience: int
    lr_start_epoch: int
    lr_patience: int

    def to_dict(self) -> dict[str, Any]:
        """The fields plus their values in optimiser steps, for metrics.json and the model card."""
        in_steps = {"max_steps": "epochs", "early_stopping_start_step": "early_stopping_start_epoch",
                    "early_stopping_patience_steps": "early_stopping_patience", "lr_start_step": "lr_start_epoch",
                    "lr_patience_steps": "lr_patience"}
        steps = {key: getattr(self, name) * self.steps_per_epoch for key, name in in_steps.items()}
        return {**dataclasses.asdict(self), **steps}


def steps_per_epoch(train_clips: int, batch_size: int) -> int:
    """Optimiser steps in one epoch: the last, partial batch is a step too.

    Raises:
        ValueError: No training clips or a batch size below 1.
    """
    if train_clips < 1 or batch_size < 1:
        raise ValueError(f"need train_clips >= 1 and batch_size >= 1, got {train_clips} and {batch_size}")
    return math.ceil(train_clips / batch_size)


def steps_to_epochs(steps: int, per_epoch: int) -> int:
    """Whole epochs that hold at least `steps` optimiser steps (callbacks only act at epoch ends)."""
    return math.ceil(steps / per_epoch)


def resolve_schedule(hp: HParams, train_clips: int) -> Schedule:
    """The callbacks' epoch counts for a training set of `train_clips` examples.

    Under `paper` the epoch fields are used as they are. Under `steps` each step count becomes epochs
    and the epoch field of the same name is a floor, so on large data, where a few steps are a
    fraction of an epoch, the paper's epoch patience still holds.

    Args:
        hp: Hyper-parameters.
        train_clips: Examples in the training set (after any K-fold or validation hold-out).

    Returns:
        The schedule in epochs.

    Raises:
        ValueError: No training clips.
    """
    per_epoch = steps_per_epoch(train_clips, hp.batch_size)
    common = {"name": hp.schedule, "train_clips": train_clips, "batch_size": hp.batch_size,
              "steps_per_epoch": per_epoch}
    if hp.schedule == "paper":
        return Schedule(**common, epochs=hp.epochs or PAPER_EPOCHS,
                        early_stopping_start_epoch=hp.early_stopping_start_epoch,
                        early_stopping_patience=hp.early_stopping_patience, lr_start_epoch=0,
                        lr_patience=hp.lr_patience)
    warmup = steps_to_epochs(hp.warmup_steps, per_epoch)
    return Schedule(
        **common,
        epochs=hp.epochs or max(PAPER_EPOCHS, steps_to_epochs(hp.min_steps, per_epoch)),
        early_stopping_start_epoch=max(hp.early_stopping_start_epoch, warmup),
        early_stopping_patience=max(hp.early_stopping_patience,
                                    steps_to_epochs(hp.early_stopping_patience_steps, per_epoch)),
        lr_start_epoch=warmup,
        lr_patience=max(hp.lr_patience, steps_to_epochs(hp.lr_patience_steps, per_epoch)),
    )


def flag_name(field_name: str) -> str:
    """`--kebab-case` flag of a field (`lr_factor` -> `--lr-factor`)."""
    return "--" + field_name.replace("_", "-")


def _int_tuple(text: str) -> tuple[int, ...]:
    """Parse "64,128" (spaces allowed) into (64, 128)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints, got {text!r}") from err


# Fields whose default is None cannot give their flag a type; fields with a fixed set of values.
_OPTIONAL_TYPES = {"epochs": int}
_CHOICES = {"model": MODEL_CHOICES, "schedule": SCHEDULE_CHOICES}
_HELP = {
    "schedule": "steps: warm-up and patience counted in optimiser steps (see --warmup-steps); "
                "paper: the paper's callbacks exactly, counted in epochs",
    "epochs": "maximum epochs; default 100, raised under --schedule steps to allow --min-steps steps",
}


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per `HParams` field, typed by its default, defaulting to it.

    Tuples are comma-separated ints (`--conv-filters 32,64`); booleans are pairs
    (`--augment` / `--no-augment`).
    """
    group = parser.add_argument_group("hyper-parameters")
    for field in dataclasses.fields(HParams):
        default = field.default
        help_text = f"{_HELP.get(field.name, '')} (default: {default})".lstrip()
        if isinstance(default, bool):
            # BooleanOptionalAction gives --x/--no-x; checked before int because bool is an int.
            group.add_argument(
                flag_name(field.name), dest=field.name, action=argparse.BooleanOptionalAction,
                default=default, help=help_text,
            )
        elif isinstance(default, tuple):
            group.add_argument(
                flag_name(field.name), dest=field.name, type=_int_tuple, default=default,
                metavar="N,N,...", help=help_text,
            )
        elif field.name in _CHOICES:
            group.add_argument(
                flag_name(field.name), dest=field.name, choices=_CHOICES[field.name], default=default,
                help=help_text,
            )
        else:
            group.add_argument(
                flag_name(field.name), dest=field.name, type=_OPTIONAL_TYPES.get(field.name, type(default)),
                default=default, help=help_text,
            )


def from_args(args: argparse.Namespace) -> HParams:
    """`HParams` from parsed flags (fields missing from `args` keep their defaults)."""
    names = {field.name for field in dataclasses.fields(HParams)}
    return HParams(**{k: v for k, v in vars(args).items() if k in names})
