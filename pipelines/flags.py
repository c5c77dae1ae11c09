"""Command-line flags: poseact's own, the rest for Beam, and a typo in either is an error before any work.

Beam's `PipelineOptions` only logs "Unparseable argument" for a flag it does not know and drops it, so a
misspelled `--fsp 5` used to run at the default fps. Here every argument that neither the command's parser
nor any registered Beam pipeline option knows stops the command, with the nearest known flag suggested.
"""

from __future__ import annotations

import argparse
import functools

from poseact.common.arguments import flag_of, hint, long_flags


@functools.lru_cache(maxsize=1)
def beam_flags() -> frozenset[str]:
    """Every `--flag` of Beam's registered pipeline options (all runners', Dask's included when installed)."""
    from apache_beam.options.pipeline_options import PipelineOptions  # noqa: PLC0415

    try:  # Dask's options live in its runner module; register them when Dask is installed.
        import apache_beam.runners.dask.dask_runner  # noqa: F401, PLC0415
    except ImportError:
        pass
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    seen: set[type] = set()
    pending = list(PipelineOptions.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)  # noqa: SLF001 (Beam registers options only this way)
        except argparse.ArgumentError:
            pass  # an option two classes both declare: already registered
    return frozenset(flag for flag in parser._option_string_actions if flag.startswith("--"))  # noqa: SLF001


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """Parse poseact's flags; return them and the arguments meant for Beam.

    Raises:
        SystemExit: (through `parser.error`, exit status 2) an argument neither poseact nor Beam knows,
            naming the closest known flag.
    """
    args, rest = parser.parse_known_args(argv)
    known_beam = beam_flags()
    ours = long_flags(parser)
    for arg in rest:
        flag = flag_of(arg)
        if flag is None:
            # A value after a Beam flag given as `--flag value`: Beam's own parser takes it.
            if rest.index(arg) > 0 and flag_of(rest[rest.index(arg) - 1]) in known_beam:
                continue
            parser.error(f"unexpected argument {arg!r}")
        if flag in known_beam:
            continue
        parser.error(f"unknown flag {flag}"
                     + hint(flag, ours, known_beam, " (see --help; Beam pipeline options are also accepted)"))
    return args, rest
