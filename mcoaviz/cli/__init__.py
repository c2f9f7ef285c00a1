"""The `mcoaviz` command: one module per subcommand, each with ``add_parser`` and ``run``.

A subcommand module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Exit codes: 0 fine, 1 findings at/above --fail-on, 2 cannot read / usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Order is the order shown by --help.
SUBCOMMANDS: tuple[str, ...] = (
    "mcoaviz.cli.analyse",
    "mcoaviz.cli.decode",
    "mcoaviz.cli.export",
    "mcoaviz.cli.report",
    "mcoaviz.cli.check",
    "mcoaviz.cli.explain",
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (exit 2) and --help: a status, as from any command
        return exc.code if isinstance(exc.code, int) else 2
    if not args.command:
        parser.print_help()
        return 2
    try:
        status = int(handlers[args.command].run(args))  # type: ignore[attr-defined]
        sys.stdout.flush()  # a write error (a full disk) shows here, not as a traceback at exit
        return status
    except KeyboardInterrupt:
        print(f"mcoaviz {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        sys.stderr.close()
        return 0
    except OSError as exc:  # stdout on a full disk or a failing device (`> /dev/full`)
        _silence_stdout()
        print(f"mcoaviz {args.command}: error: cannot write the output: {exc.strerror or exc}",
              file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush of what is still buffered
    cannot fail a second time (the recipe of the Python signal docs for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
