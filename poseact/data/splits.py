"""Deterministic train/val/test assignment, stratified by class and grouped by subject or session.

No group ever appears in two splits. Splits given in the manifest are kept (and checked for leaks);
the rest are assigned group by group: within each class (a group counts for its most common label),
groups are ordered by a seeded hash and dealt to the split whose share of that class lags furthest
behind its target fraction. The hash makes the result independent of input order and stable when
clips are added to other groups.
"""

from __future__ import annotations

import collections
import hashlib

from poseact.data.manifest import ClipSpec, ManifestError

SPLITS = ("train", "val", "test")


def _key(seed: int, group: str) -> str:
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def assign_splits(
    specs: list[ClipSpec], *, val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0
) -> list[ClipSpec]:
    """Return `specs` with every `split` filled in.

    Args:
        specs: Clips; `group` identifies subjects or sessions.
        val_fraction: Target share of each class's groups in `val`.
        test_fraction: Target share in `test`.
        seed: Changes the assignment deterministically.

    Raises:
        ManifestError: A group has clips with different explicit splits, or fractions are invalid.
    """
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ManifestError(f"invalid split fractions val={val_fraction} test={test_fraction}")
    targets = {"train": 1 - val_fraction - test_fraction, "val": val_fraction, "test": test_fraction}
    fixed: dict[str, str] = {}
    for spec in specs:
        if spec.split:
            if fixed.setdefault(spec.group, spec.split) != spec.split:
                raise ManifestError(
                    f"group {spec.group!r} is given two splits ({fixed[spec.group]}, {spec.split}): that leaks"
                )
    labels: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for spec in specs:
        labels[spec.group][spec.label] += 1
    by_class: dict[str, list[str]] = collections.defaultdict(list)
    for group, counts in labels.items():
        by_class[min(counts, key=lambda label: (-counts[label], label))].append(group)
    chosen = dict(fixed)
    for label in sorted(by_class):
        groups = sorted(by_class[label], key=lambda g: _key(seed, g))
        done = collections.Counter(fixed[g] for g in groups if g in fixed)
        for group in groups:
            if group in chosen:
                continue
            total = sum(done.values()) + 1
            split = max(SPLITS, key=lambda s: (targets[s] * total - done[s], -SPLITS.index(s)))
            chosen[group] = split
            done[split] += 1
    return [ClipSpec(s.uri, s.label, s.group, chosen[s.group]) for s in specs]
