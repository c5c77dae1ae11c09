"""Training hyper-parameters: one frozen dataclass, defaults from the paper, one CLI flag per field.

The paper (section 3.2-3.3) fixes the LSTM width (128), the dropout rate (0.6), the optimiser (Adam),
the loss (categorical cross-entropy), early stopping on validation loss (patience 3), plateau
learning-rate reduction (factor 0.5, patience 2, floor 1e-6), batch size 32 and at most 100 epochs.
It does not state the convolution widths, kernel size, dense width, L2 factor or learning rate; the
defaults here for those are ordinary choices, marked "not in the paper" below.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

MODEL_CHOICES = ("paper", "tcn")


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
        epochs: Maximum epochs (paper: 100).
        early_stopping_patience: Epochs without improvement before stopping (paper: 3).
        early_stopping_monitor: Metric watched by early stopping and plateau reduction (paper:
            validation loss).
        early_stopping_start_epoch: Epochs before early stopping starts watching (Keras'
            `start_from_epoch`). The paper watches from the first epoch; on small data the validation
            loss of the first few epochs is noise, and patience 3 then stopped the TCN after 4 epochs
            at chance in every K-fold fold. A 10-epoch warm-up keeps patience 3 afterwards.
        restore_best_weights: Keep the weights of the best monitored epoch when stopping.
        lr_factor: Learning-rate multiplier on a plateau (paper: 0.5).
        lr_patience: Epochs without improvement before reducing the learning rate (paper: 2).
        min_lr: Learning-rate floor (paper: 1e-6).
        seed: Seed for weights, shuffling and augmentation.
        augment: Apply `poseact.augment` to training batches (the paper does not augment).
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
    epochs: int = 100
    early_stopping_patience: int = 3
    early_stopping_monitor: str = "val_loss"
    early_stopping_start_epoch: int = 10
    restore_best_weights: bool = True
    lr_factor: float = 0.5
    lr_patience: int = 2
    min_lr: float = 1e-6
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
        if self.early_stopping_start_epoch < 0:
            start = self.early_stopping_start_epoch
            raise ValueError(f"early_stopping_start_epoch must be >= 0, got {start}")
        if not 0.0 <= self.mirror_prob <= 1.0:
            raise ValueError(f"mirror_prob must be in [0, 1], got {self.mirror_prob}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (tuples become lists), for run summaries and model cards."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def flag_name(field_name: str) -> str:
    """`--kebab-case` flag of a field (`lr_factor` -> `--lr-factor`)."""
    return "--" + field_name.replace("_", "-")


def _int_tuple(text: str) -> tuple[int, ...]:
    """Parse "64,128" (spaces allowed) into (64, 128)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints, got {text!r}") from err


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per `HParams` field, typed by its default, defaulting to it.

    Tuples are comma-separated ints (`--conv-filters 32,64`); booleans are pairs
    (`--augment` / `--no-augment`).
    """
    group = parser.add_argument_group("hyper-parameters")
    for field in dataclasses.fields(HParams):
        default = field.default
        help_text = f"(default: {default})"
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
        elif field.name == "model":
            group.add_argument(
                flag_name(field.name), dest=field.name, choices=MODEL_CHOICES, default=default,
                help=help_text,
            )
        else:
            group.add_argument(
                flag_name(field.name), dest=field.name, type=type(default), default=default,
                help=help_text,
            )


def from_args(args: argparse.Namespace) -> HParams:
    """`HParams` from parsed flags (fields missing from `args` keep their defaults)."""
    names = {field.name for field in dataclasses.fields(HParams)}
    return HParams(**{k: v for k, v in vars(args).items() if k in names})
