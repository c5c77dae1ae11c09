"""Skip a test where a model from a registry cannot be had here (neither the CDN nor npm reachable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from poseact.people import finder_model

T = TypeVar("T")


def resolved_or_skip(resolve: Callable[[], T], what: str) -> T:
    """`resolve()`, or a skip naming `what` when it raises `FinderModelError`: nothing to test with."""
    try:
        return resolve()
    except finder_model.FinderModelError as err:
        pytest.skip(f"{what} cannot be fetched here: {err}")
