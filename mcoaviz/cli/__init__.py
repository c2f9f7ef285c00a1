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

# Each subcommand's NAME and HELP, so that `mcoaviz --help` and a run of one subcommand import
# only what they use (the others pull in the report, the TUI, the simulator...); the modules
# stay the source: tests/cli/test_main.py holds this table to their NAME and HELP.
SUMMARIES: dict[str, tuple[str, str]] = {
    "mcoaviz.cli.analyse": ("analyse", "Reconstruct binding caches, binding update lists and per-CoA "
                            "traffic; list findings."),
    "mcoaviz.cli.decode": ("decode", "List the Mobility Header messages of a capture (-V details, --json "
                           "records)."),
    "mcoaviz.cli.export": ("export", "Export messages, bindings, BULs, traffic and findings as JSON or CSV."),
    "mcoaviz.cli.report": ("report", "Write a self-contained HTML timeline report (bindings, traffic, "
                           "ladder, latencies, findings)."),
    "mcoaviz.cli.check": ("check", "Check a capture against draft-05 / RFC 5648 rules; findings grouped "
                          "like Expert Info."),
    "mcoaviz.cli.explain": ("explain", "Explain how each binding of one home address was read: steps, "
                            "frames, rules, interpretations."),
    "mcoaviz.cli.rules": ("rules", "List the conformance rules (codes, severities, sections); --markdown "
                          "writes docs/rules.md."),
    "mcoaviz.cli.simulate": ("simulate", "Simulate an MCoA scenario into a pcapng capture with its ground "
                             "truth (NAME.truth.json)."),
    "mcoaviz.cli.tui": ("tui", "Browse a capture's binding state over time in a terminal UI (Textual)."),
    "mcoaviz.cli.live": ("live", "Capture from interfaces (dumpcap) and show binding state live, or export "
                         "it (--no-tui)."),
}


def build_parser(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser, dict[str, object]]:
    """The parser and the subcommand modules by name.

    Without ``argv`` every subcommand module is imported and its arguments added. With ``argv``
    (what ``main`` parses) only the subcommand it names is: the others are listed by ``--help``
    from ``SUMMARIES`` but never imported, which keeps a command's start-up to what it uses.
    """
    parser = argparse.ArgumentParser(
        prog="mcoaviz",
        description="Analyse Mobile IPv6 Multiple Care-of Addresses Registration (MCoA) in captures.",
    )
    from mcoaviz import __version__

    parser.add_argument("--version", action="version", version=f"mcoaviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else _chosen(argv)
    handlers: dict[str, object] = {}
    for module_name in SUBCOMMANDS:
        name, text = SUMMARIES[module_name]
        if argv is not None and name != chosen:
            sub.add_parser(name, help=text, description=text)
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        handlers[module.NAME] = module
    return parser, handlers


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first argument that is not an option (the top-level
    options, --help and --version, take no value)."""
    for arg in argv:
        if arg == "--":
            continue
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser(sys.argv[1:] if argv is None else argv)
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
        if argv is None and args.command in QUICK_EXIT:
            _spare_the_final_collection()
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
        from mcoaviz.engine.scratch import SpoolError

        if isinstance(exc, SpoolError):  # a temporary file of the analysis (TMPDIR full)
            print(f"mcoaviz {args.command}: {exc}", file=sys.stderr)
            return 2
        print(f"mcoaviz {args.command}: error: cannot write the output: {exc.strerror or exc}",
              file=sys.stderr)
        return 2


# Commands whose process may end without the interpreter's final garbage collection: they hold
# no file or other resource that only a finaliser would release, and the collection would visit
# every object still alive (a million at the end of `decode` on a home agent's capture, ~0.1 s).
QUICK_EXIT = frozenset({"decode"})


def _spare_the_final_collection() -> None:
    """The process ends now (``main`` was called as the program, without ``argv``): freeze the
    survivors so that the collection at interpreter exit does not visit them one by one; they
    are still freed as the interpreter tears down its modules."""
    import gc

    gc.freeze()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush of what is still buffered
    cannot fail a second time (the recipe of the Python signal docs for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
