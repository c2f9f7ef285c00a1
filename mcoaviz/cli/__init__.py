"""The `mcoaviz` command: one module per subcommand, each with ``add_parser`` and ``run``.

A subcommand module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Exit codes: 0 fine, 1 findings at/above --fail-on, 2 cannot read / usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order is the order shown by --help.
SUBCOMMANDS: tuple[str, ...] = (
    "mcoaviz.cli.analyse",
    "mcoaviz.cli.decode",
    "mcoaviz.cli.export",
    "mcoaviz.cli.report",
    "mcoaviz.cli.check",
    "mcoaviz.cli.rules",
    "mcoaviz.cli.simulate",
    "mcoaviz.cli.tui",
    "mcoaviz.cli.live",
)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="mcoaviz",
        description="Analyse Mobile IPv6 Multiple Care-of Addresses Registration (MCoA) in captures.",
    )
    from mcoaviz import __version__

    parser.add_argument("--version", action="version", version=f"mcoaviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers: dict[str, object] = {}
    for name in SUBCOMMANDS:
        module = importlib.import_module(name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        handlers[module.NAME] = module
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(handlers[args.command].run(args))  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
