"""Command-line parsing where a misspelled flag is an error that names the nearest flag.

argparse on Python 3.11 answers `--epocs 5` with "unrecognized arguments" and no hint (the suggestion
came only in 3.14), and Beam's options drop what they do not know. Every poseact command parses through
`Parser`, so a typo stops it before any work with `unknown flag --epocs; did you mean --epochs?`.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable, Sequence


def flag_of(arg: str) -> str | None:
    """The `--flag` part of `--flag` or `--flag=value`; None for anything else."""
    return arg.split("=", 1)[0] if arg.startswith("--") else None


def hint(flag: str, ours: Iterable[str], others: Iterable[str] = (), fallback: str = " (see --help)") -> str:
    """The tail of an unknown-flag message: the closest of `ours` (else of `others`, held to a closer match,
    since those are many and mostly unrelated), or `fallback`."""
    close = difflib.get_close_matches(flag, sorted(ours), n=1, cutoff=0.6) or difflib.get_close_matches(
        flag, sorted(others), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else fallback


def long_flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every `--flag` a parser knows."""
    return [flag for flag in parser._option_string_actions if flag.startswith("--")]  # noqa: SLF001


class Parser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose `parse_args` names the nearest known flag for an unknown one."""

    def parse_args(self, args: Sequence[str] | None = None, namespace=None):  # noqa: ANN001, ANN201 (argparse's own)
        # Unknown flags first: `--labls x` should say "did you mean --labels?", not "--labels is required".
        known = long_flags(self)
        for arg in list(sys.argv[1:] if args is None else args):
            if arg == "--":
                break
            flag = flag_of(arg)
            if flag and not any(k.startswith(flag) for k in known if self.allow_abbrev or k == flag):
                self.error(f"unknown flag {flag}{hint(flag, known)}")
        parsed, rest = self.parse_known_args(args, namespace)
        for arg in rest:
            flag = flag_of(arg)
            if flag is None:
                self.error(f"unexpected argument {arg!r}")
            self.error(f"unknown flag {flag}{hint(flag, long_flags(self))}")
        return parsed


__all__ = ["Parser", "flag_of", "hint", "long_flags"]
